"""Enrolments and outreach events: the domain transactions that start every push (DESIGN §2).

`enrol` adds a captured person to a campaign; `record_event` records what happened in outreach
(a reply, an email sent, an edit). Each also tells the outreach sequence (a reply stops it). Each writes the enrolment / event and one sync intent per active
connection in ONE database transaction, then hands the intents to `services.push.dispatch`. The
intent only says "this event happened, process it for this connection"; what it means for the CRM
(create, update, note, wait, nothing) is the planner's decision when the push runs."""
from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import select

from core import db
from models import Campaign, Connection, Enrolment, IntentState, OutreachEvent, Person, SyncIntent, User, utcnow
from services.connections import active_connection
from services.outreach import state as outreach_state
from services.people import fill_blanks, find_or_create_person
from services.push.dispatch import dispatch_marked


def enrol(user: User, campaign: Campaign, profile: dict[str, Any], *, sync_as: str | None = None,
          sync_options: dict[str, Any] | None = None, sync_override: dict[str, Any] | None = None,
          on_person: Callable[[Person], None] | None = None,
          person: Person | None = None, connection: Connection | None = None,
          queued: list[SyncIntent] | None = None) -> tuple[Enrolment, bool]:
    """Add a captured person (or a `person` Shoal already has, its blanks then filled from `profile`
    as find-or-create would) to a campaign. Returns (enrolment, created).

    `sync_as`, `sync_options` and `sync_override` are the person's own choices (None = the
    campaign's). `on_person(person)` runs inside the transaction, before the push is queued, so
    what it sets on the person (the panel's CRM field values, a chosen company) is what the worker
    reads. Adding someone already in the campaign changes nothing else and queues nothing
    (idempotent); `on_person` still runs, and the caller decides what an edit means. `connection`:
    the team's active connection if the caller has just read it (None: read here). `queued`, if
    given, receives the intents this call committed (the panel shows them without reading them back)."""
    assert campaign.team_id == user.team_id and (person is None or person.team_id == user.team_id)
    # Read before the first write: SQLite holds its one write lock from there to the commit.
    conn = connection if connection is not None else active_connection(user.team_id)
    assert conn is None or conn.team_id == user.team_id
    if person is None:
        person = find_or_create_person(user.team_id, profile)
    else:
        fill_blanks(person, profile)
    if on_person is not None:
        on_person(person)
    if person.id is not None:
        # Someone Shoal already has may be in the campaign already (this read flushes on_person's edits).
        enrolment = db.session.scalars(select(Enrolment).where(
            Enrolment.campaign_id == campaign.id, Enrolment.person_id == person.id)).first()
        if enrolment is not None:
            db.session.commit()
            return enrolment, False
    # A new person can't be; they and their enrolment go in one flush. Holding `person` also keeps
    # them loaded for the caller (the panel shows them) rather than in the session's weak map.
    enrolment = Enrolment(team_id=user.team_id, campaign_id=campaign.id, person=person,
                          added_by_id=user.id, sync_as=sync_as, sync_options=sync_options,
                          sync_override=sync_override)
    db.session.add(enrolment)
    db.session.flush()
    _event, intents = _record(enrolment, "added", conn, created_by_id=user.id)
    _commit_and_dispatch(intents)
    if queued is not None:
        queued.extend(intents)
    return enrolment, True


def record_event(enrolment: Enrolment, kind: str, *, channel: str | None = None, body: str | None = None,
                 data: dict[str, Any] | None = None, created_by_id: int | None = None) -> OutreachEvent:
    """Record an outreach event (reply, email sent, manual edit, ...) and queue its processing."""
    if kind not in OutreachEvent.KINDS:
        raise ValueError(f"unknown outreach event {kind!r}")
    event, intents = _record(enrolment, kind, active_connection(enrolment.team_id), channel=channel, body=body,
                             data=data, created_by_id=created_by_id)
    _commit_and_dispatch(intents)
    return event


def _commit_and_dispatch(intents: list[SyncIntent]) -> None:
    db.session.flush()
    ids = [i.id for i in intents]      # read before the commit expires them (no reload after)
    db.session.commit()
    dispatch_marked(ids)


def _record(enrolment: Enrolment, kind: str, conn: Connection | None,
            **kw: Any) -> tuple[OutreachEvent, list[SyncIntent]]:
    event = OutreachEvent(team_id=enrolment.team_id, enrolment_id=enrolment.id,
                          person_id=enrolment.person_id, kind=kind, data=kw.pop("data", None) or {}, **kw)
    db.session.add(event)
    db.session.flush()
    # Every event passes here, whoever recorded it: a reply, opt-out or bounce stops the person's
    # sequence, an "added" starts it (services/outreach/state.py).
    outreach_state.on_event(enrolment, event)
    if conn is None:
        return event, []
    # Committed as `queued` with the event: the enqueue right after the commit (dispatch_marked)
    # then needs no second write unless it fails.
    intent = SyncIntent(team_id=event.team_id, connection_id=conn.id, person_id=event.person_id,
                        enrolment_id=enrolment.id, event=event, state=IntentState.QUEUED,
                        enqueued_at=utcnow(), idempotency_key=f"evt{event.id}-conn{conn.id}")
    db.session.add(intent)
    return event, [intent]
