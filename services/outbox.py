"""The outbox (DESIGN §2): enrolment, outreach event and sync intents in one transaction, then a
dispatcher that enqueues one RQ job per intent, and a sweeper for intents that got lost.

The intent only says "this event happened, process it for this connection"; what it means for
the CRM (create, update, note, wait, nothing) is the sync planner's decision when the job runs."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Iterable

from flask import current_app
from sqlalchemy import select, update

from extensions import db, get_redis
from models import Campaign, Connection, Enrolment, OutreachEvent, SyncIntent, User, utcnow
from services.people import find_or_create_person

log = logging.getLogger("shoal.outbox")


def active_connection(team_id: int) -> Connection | None:
    return db.session.scalars(select(Connection).where(
        Connection.team_id == team_id, Connection.active.is_(True))).first()


def _intents_for(event: OutreachEvent, enrolment_id: int | None) -> list[SyncIntent]:
    conn = active_connection(event.team_id)
    if conn is None:
        return []
    intent = SyncIntent(team_id=event.team_id, connection_id=conn.id, person_id=event.person_id,
                        enrolment_id=enrolment_id, event=event,
                        idempotency_key=f"evt{event.id}-conn{conn.id}")
    db.session.add(intent)
    return [intent]


def enrol(user: User, campaign: Campaign, profile: dict[str, Any], *, sync_as: str | None = None,
          sync_options: dict[str, Any] | None = None) -> tuple[Enrolment, bool]:
    """Add a captured person to a campaign. Returns (enrolment, created).

    Adding someone already in the campaign changes nothing and queues nothing (idempotent)."""
    assert campaign.team_id == user.team_id
    person = find_or_create_person(user.team_id, profile)
    db.session.flush()
    enrolment = db.session.scalars(select(Enrolment).where(
        Enrolment.campaign_id == campaign.id, Enrolment.person_id == person.id)).first()
    if enrolment is not None:
        db.session.commit()
        return enrolment, False
    enrolment = Enrolment(team_id=user.team_id, campaign_id=campaign.id, person_id=person.id,
                          added_by_id=user.id, sync_as=sync_as, sync_options=sync_options)
    db.session.add(enrolment)
    db.session.flush()
    intents = _record(enrolment, "added", created_by_id=user.id)
    db.session.commit()
    dispatch([i.id for i in intents])
    return enrolment, True


def record_event(enrolment: Enrolment, kind: str, *, channel: str | None = None, body: str | None = None,
                 data: dict[str, Any] | None = None, created_by_id: int | None = None) -> OutreachEvent:
    """Record an outreach event (reply, email sent, manual edit, ...) and queue its processing."""
    if kind not in OutreachEvent.KINDS:
        raise ValueError(f"unknown outreach event {kind!r}")
    intents = _record(enrolment, kind, channel=channel, body=body, data=data, created_by_id=created_by_id)
    db.session.commit()
    dispatch([i.id for i in intents])
    return intents[0].event if intents else db.session.scalars(
        select(OutreachEvent).where(OutreachEvent.enrolment_id == enrolment.id)
        .order_by(OutreachEvent.id.desc())).first()


def _record(enrolment: Enrolment, kind: str, **kw: Any) -> list[SyncIntent]:
    event = OutreachEvent(team_id=enrolment.team_id, enrolment_id=enrolment.id,
                          person_id=enrolment.person_id, kind=kind, data=kw.pop("data", None) or {}, **kw)
    db.session.add(event)
    db.session.flush()
    return _intents_for(event, enrolment.id)


def dispatch(intent_ids: Iterable[int], delay: float | None = None) -> int:
    """Enqueue a job per intent (job id derived from the intent). Returns how many were enqueued.

    If Redis is unreachable the intents stay `pending` and the sweeper picks them up later."""
    from jobs import enqueue_intent

    n = 0
    for intent_id in intent_ids:
        try:
            enqueue_intent(intent_id, delay)
        except Exception:  # Redis down: the row is the source of truth, the sweeper retries
            log.warning("could not enqueue intent %s; the sweeper will retry", intent_id, exc_info=True)
            continue
        db.session.execute(update(SyncIntent).where(SyncIntent.id == intent_id,
                                                    SyncIntent.state.in_(("pending", "queued")))
                           .values(state="queued", enqueued_at=utcnow()))
        n += 1
    db.session.commit()
    return n


def sweep(older_than: float | None = None) -> int:
    """Re-enqueue intents stuck in pending/queued/running past the timeout (Redis lost, worker died).

    An intent whose job is still waiting in Redis (queued, scheduled) is not stuck, only behind a
    backlog: re-enqueueing it would add a duplicate job per intent on every sweep."""
    seconds = older_than if older_than is not None else current_app.config["SWEEP_AFTER_SECONDS"]
    cutoff = utcnow() - timedelta(seconds=seconds)
    now = utcnow()
    stuck = db.session.scalars(select(SyncIntent.id).where(
        SyncIntent.state.in_(("pending", "queued", "running")), SyncIntent.updated_at <= cutoff,
        (SyncIntent.next_attempt_at.is_(None)) | (SyncIntent.next_attempt_at <= now))).all()
    waiting = _jobs_waiting(stuck)
    stuck = [i for i in stuck if i not in waiting]
    if stuck:
        db.session.execute(update(SyncIntent).where(SyncIntent.id.in_(stuck)).values(state="pending"))
        db.session.commit()
    return dispatch(stuck)


def _jobs_waiting(intent_ids: list[int]) -> set[int]:
    """The intents whose RQ job is still queued or scheduled (one pipelined round trip). A job
    `started` long ago belongs to a worker that died, so it doesn't count; with Redis unreachable
    nothing counts and dispatch() leaves the intents for the next sweep."""
    if not intent_ids:
        return set()
    from rq.job import Job

    from jobs import intent_job_id

    try:
        with get_redis().pipeline(transaction=False) as pipe:
            for intent_id in intent_ids:
                pipe.hget(Job.key_for(intent_job_id(intent_id)), "status")
            statuses = pipe.execute()
    except Exception:   # Redis down
        log.warning("could not read job states for the sweep", exc_info=True)
        return set()
    return {i for i, status in zip(intent_ids, statuses) if status in (b"queued", b"scheduled", b"deferred")}
