"""What a user does to a person from the campaign and person pages: record that an outreach
activity happened (a reply, a call, ...) and edit the person's details. Both go through the outbox
(`services.enrolments.record_event`), so each is one OutreachEvent + its SyncIntent in one transaction,
and the sync planner decides what it means for the CRM (DESIGN §5 rules 1, 4, 5, 8).

Also the read side of the person page: their campaigns, CRM links and a timeline of events with the
sync intents they caused. Every query is scoped to the caller's team."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import or_

from core import db, get_redis
from models import (Campaign, Connection, CrmLink, Enrolment, OutreachEvent, Person, SyncIntent, User,
                    team_query)
from services.enrolments import record_event
from services.people import PROFILE_FIELDS, linkedin_key

log = logging.getLogger("shoal.people")

# What a user may record by hand, in menu order: kind → (label, channel the note names).
# "added" is the enrolment itself and "manual_update" is the edit form, so neither is offered here.
RECORDABLE: dict[str, tuple[str, str | None]] = {
    "reply": ("Replied", None),
    "interested": ("Interested", None),
    "not_interested": ("Not interested", None),
    "opted_out": ("Opted out", None),
    "bounced": ("Email bounced", "email"),
    "email_sent": ("Email sent", "email"),
    "linkedin_sent": ("LinkedIn message sent", "linkedin"),
    "call": ("Call", "phone"),
}

# A double-submitted form carries the same token twice; the first claim wins for this long.
SUBMISSION_TTL = 24 * 3600


@dataclass
class Recorded:
    """The outcome of `record_activity`: the event (None if a twin submit is still being
    recorded), its intent (None with no CRM connected), and whether this was a repeat submit."""
    event: OutreachEvent | None
    intent: SyncIntent | None
    duplicate: bool = False


@dataclass
class EditResult:
    changed: dict[str, Any] = field(default_factory=dict)
    event: OutreachEvent | None = None
    intent: SyncIntent | None = None


def get_person(team_id: int, person_id: int) -> Person | None:
    return db.session.scalars(team_query(Person, team_id).where(Person.id == person_id)).first()


def get_enrolment(team_id: int, enrolment_id: int) -> Enrolment | None:
    return db.session.scalars(team_query(Enrolment, team_id).where(Enrolment.id == enrolment_id)).first()


def intent_for(event: OutreachEvent) -> SyncIntent | None:
    return db.session.scalars(team_query(SyncIntent, event.team_id).where(SyncIntent.event_id == event.id)
                              .order_by(SyncIntent.id.desc())).first()


def _submission_key(team_id: int, token: str) -> str:
    return f"shoal:submission:team{team_id}:{token}"


def _claim(key: str) -> tuple[bool | None, str | None]:
    """(True, None) if this submit is the first; (False, what the first stored) for a twin;
    (None, None) if Redis can't be reached."""
    try:
        redis = get_redis()
        if redis.set(key, "pending", nx=True, ex=SUBMISSION_TTL):
            return True, None
        raw = redis.get(key)
    except Exception:
        log.warning("could not claim submission key %s", key, exc_info=True)
        return None, None
    return False, raw.decode() if isinstance(raw, bytes) else raw


def _release(key: str) -> None:
    try:
        get_redis().delete(key)
    except Exception:
        log.warning("could not release submission key %s", key, exc_info=True)


def record_activity(user: User, enrolment: Enrolment, kind: str, note: str | None,
                    submission: str | None) -> Recorded:
    """Record one outreach activity for an enrolment of the user's team and queue its sync.

    `submission` is the form's one-time token: the same token twice (a double click, a resent
    form) records nothing new and returns the first event, so a reply is never two CRM notes.
    The claim is an atomic Redis SET NX; if Redis is down the event is recorded anyway (losing
    the user's action would be worse than the small chance of a twin)."""
    if kind not in RECORDABLE:
        raise ValueError(f"{kind!r} can't be recorded by hand")
    assert enrolment.team_id == user.team_id
    key = _submission_key(user.team_id, submission) if submission else None
    if key is not None:
        claimed, seen = _claim(key)
        if claimed is None:   # Redis unreachable: record without the double-submit guard
            key = None
        elif not claimed:
            event = None
            if seen and seen.isdigit():
                event = db.session.scalars(team_query(OutreachEvent, user.team_id)
                                           .where(OutreachEvent.id == int(seen))).first()
            return Recorded(event, intent_for(event) if event else None, duplicate=True)
    _label, channel = RECORDABLE[kind]
    try:
        event = record_event(enrolment, kind, channel=channel, body=(note or "").strip() or None,
                             created_by_id=user.id)
    except Exception:
        # Nothing was recorded: free the token so resending the same form is not taken for a twin.
        if key is not None:
            _release(key)
        raise
    if key is not None:
        try:
            get_redis().set(key, str(event.id), ex=SUBMISSION_TTL)
        except Exception:
            log.warning("could not store submission %s", submission, exc_info=True)
    return Recorded(event, intent_for(event))


def latest_enrolment(person: Person) -> Enrolment | None:
    """The person's most recent enrolment, preferring one that syncs: an edit carried by a
    "don't sync" campaign would never reach the CRM record an older campaign created."""
    rows = db.session.execute(team_query(Enrolment, person.team_id).add_columns(Campaign.sync_as)
                              .join(Campaign, (Campaign.id == Enrolment.campaign_id)
                                    & (Campaign.team_id == person.team_id))
                              .where(Enrolment.person_id == person.id)
                              .order_by(Enrolment.created_at.desc(), Enrolment.id.desc())).all()
    syncing = [e for e, campaign_sync_as in rows if (e.sync_as or campaign_sync_as) != "none"]
    return (syncing or [e for e, _s in rows] or [None])[0]


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    """The form's values as the Person columns hold them: blank → None (last_name → "")."""
    out: dict[str, Any] = {}
    for name in PROFILE_FIELDS:
        value = values.get(name)
        value = value.strip() if isinstance(value, str) else value
        if name == "email" and value:
            value = value.lower()
        out[name] = value or ("" if name == "last_name" else None)
    return out


def _conflicts(person: Person, new: dict[str, Any]) -> dict[str, list[str]]:
    """People are deduplicated per team on email and LinkedIn URL: an edit may not make two alike."""
    errors: dict[str, list[str]] = {}
    key = linkedin_key(new.get("linkedin_url"))
    conds = []
    if new.get("email") and new["email"] != person.email:
        conds.append(Person.email == new["email"])
    if key and key != person.linkedin_key:
        conds.append(Person.linkedin_key == key)
    if not conds:
        return errors
    for other in db.session.scalars(team_query(Person, person.team_id)
                                    .where(Person.id != person.id, or_(*conds)).limit(5)):
        if new.get("email") and other.email == new["email"]:
            errors["email"] = [f"{other.full_name} in your team already has this email."]
        if key and other.linkedin_key == key:
            errors["linkedin_url"] = [f"{other.full_name} in your team already has this LinkedIn profile."]
    return errors


def edit_person(user: User, person: Person, values: dict[str, Any]) -> EditResult:
    """Save validated details and record ONE `manual_update` event (on the person's most recent
    enrolment, see `latest_enrolment`) whose `data` holds only the changed fields, in the same transaction.

    The planner sends those fields only when "Sync manual contact updates" is on (rule 8). Either
    way the runtime wakes this person's intents waiting on mandatory fields once the edit is
    processed (`services.push.runner._wake_waiting`), so a push that waited for a phone number
    goes as soon as it is filled (rule 4). Raises ValidationError on a duplicate email/LinkedIn."""
    assert person.team_id == user.team_id
    new = _normalised(values)
    errors = _conflicts(person, new)
    if errors:
        raise ValidationError(errors)
    changed = {k: v for k, v in new.items() if (getattr(person, k) or None) != (v or None)}
    if not changed:
        return EditResult()
    for name, value in changed.items():
        setattr(person, name, value)
    if "linkedin_url" in changed:
        person.linkedin_key = linkedin_key(changed["linkedin_url"])
    enrolment = latest_enrolment(person)
    if enrolment is None:   # in no campaign: nothing can sync, but the edit is still kept
        db.session.commit()
        return EditResult(changed)
    event = record_event(enrolment, "manual_update", data=changed, created_by_id=user.id)
    return EditResult(changed, event, intent_for(event))


# -- the person page -------------------------------------------------------------------------------

def person_campaigns(person: Person) -> list[tuple[Enrolment, Campaign]]:
    rows = db.session.execute(team_query(Enrolment, person.team_id).add_columns(Campaign)
                              .join(Campaign, (Campaign.id == Enrolment.campaign_id)
                                    & (Campaign.team_id == person.team_id))
                              .where(Enrolment.person_id == person.id)
                              .order_by(Enrolment.created_at.desc(), Enrolment.id.desc())).all()
    return [(e, c) for e, c in rows]


def person_links(person: Person) -> list[tuple[CrmLink, Connection]]:
    rows = db.session.execute(team_query(CrmLink, person.team_id).add_columns(Connection)
                              .join(Connection, (Connection.id == CrmLink.connection_id)
                                    & (Connection.team_id == person.team_id))
                              .where(CrmLink.person_id == person.id).order_by(CrmLink.id)).all()
    return [(link, conn) for link, conn in rows]


TIMELINE_LIMIT = 200


def timeline(person: Person) -> list[tuple[OutreachEvent, Campaign | None, list[SyncIntent]]]:
    """The person's events, newest first (at most TIMELINE_LIMIT), each with its campaign and the
    sync intents it caused (one per connection that was active when it happened)."""
    events = db.session.scalars(team_query(OutreachEvent, person.team_id)
                                .where(OutreachEvent.person_id == person.id)
                                .order_by(OutreachEvent.occurred_at.desc(), OutreachEvent.id.desc())
                                .limit(TIMELINE_LIMIT)).all()
    ids = [e.id for e in events]
    by_event: dict[int, list[SyncIntent]] = {}
    if ids:
        for intent in db.session.scalars(team_query(SyncIntent, person.team_id)
                                         .where(SyncIntent.event_id.in_(ids)).order_by(SyncIntent.id)):
            by_event.setdefault(intent.event_id, []).append(intent)
    campaigns = {e.id: c for e, c in person_campaigns(person)}
    return [(e, campaigns.get(e.enrolment_id), by_event.get(e.id, [])) for e in events]

