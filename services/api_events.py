"""Outreach events posted through the JSON API, idempotent by `Idempotency-Key`.

The first request with a key records the event (through `services.enrolments.record_event`, so it
goes through the sync engine like any other) and remembers which event it made; the same key again
with the same request answers that event and records nothing; the same key with a different request
is a conflict (the client reused a key by mistake). Keys are per team. Example::

    posted = post_event(user, enrolment, {"kind": "reply", "body": "Keen"}, key="crm-sync-7781")
    posted.replayed      # False the first time, True for every retry with that key
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from core import db
from models import ApiIdempotencyKey, Enrolment, OutreachEvent, User, team_query
from services.enrolments import record_event
from services.people_edits import RECORDABLE


class KeyConflict(Exception):
    """The key was used for another request, or its first request is still being recorded."""


@dataclass
class Posted:
    event: OutreachEvent
    replayed: bool = False


def _fingerprint(enrolment_id: int, data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps({"enrolment": enrolment_id, **data}, sort_keys=True,
                                     default=str).encode()).hexdigest()


def _replay(row: ApiIdempotencyKey, fingerprint: str) -> Posted:
    if row.fingerprint != fingerprint:
        raise KeyConflict("This Idempotency-Key was already used for a different request.")
    event = (db.session.scalars(team_query(OutreachEvent, row.team_id).where(OutreachEvent.id == row.event_id))
             .first() if row.event_id else None)
    if event is None:
        raise KeyConflict("The first request with this Idempotency-Key is still being recorded; retry shortly.")
    return Posted(event, replayed=True)


def post_event(user: User, enrolment: Enrolment, data: dict[str, Any], key: str | None = None) -> Posted:
    """Record `data` ({kind, body, message_id}) for an enrolment of the user's team."""
    assert enrolment.team_id == user.team_id
    kind = data["kind"]
    extra = {"message_id": data["message_id"]} if data.get("message_id") else None
    if key is None:
        return Posted(record_event(enrolment, kind, channel=RECORDABLE[kind][1], body=data.get("body"),
                                   data=extra, created_by_id=user.id))
    fingerprint = _fingerprint(enrolment.id, data)
    row = db.session.scalars(team_query(ApiIdempotencyKey, user.team_id)
                             .where(ApiIdempotencyKey.key == key)).first()
    if row is not None:
        return _replay(row, fingerprint)
    row = ApiIdempotencyKey(team_id=user.team_id, key=key, fingerprint=fingerprint)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:   # the same key in a concurrent request: that one records the event
        db.session.rollback()
        row = db.session.scalars(team_query(ApiIdempotencyKey, user.team_id)
                                 .where(ApiIdempotencyKey.key == key)).one()
        return _replay(row, fingerprint)
    # The key row commits with the event (record_event's one transaction); its event id right after.
    event = record_event(enrolment, kind, channel=RECORDABLE[kind][1], body=data.get("body"), data=extra,
                         created_by_id=user.id)
    row.event_id = event.id
    db.session.commit()
    return Posted(event)
