"""Handing intents to the queue (DESIGN §2): `dispatch` enqueues one job per intent, `sweep`
re-enqueues intents that got lost (Redis restarted, a worker died).

The intent row is the source of truth: when the queue is unreachable the row stays `pending` and
the next sweep picks it up. Queue details stay behind `services.background`."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Iterable

from flask import current_app
from sqlalchemy import Select, select, update

from core import db
from models import IntentState, SyncIntent, utcnow
from services import background

log = logging.getLogger("shoal.push")

_OPEN = (IntentState.PENDING, IntentState.QUEUED)


def _push_each(intent_ids: list[int], delay: float | None = None) -> list[int]:
    """Hand each intent to the queue; the ids that could not be (Redis down), for the sweeper."""
    failed = []
    for intent_id in intent_ids:
        try:
            background.push(intent_id, delay)
        except Exception:  # Redis down: the row is the source of truth, the sweeper retries
            log.warning("could not enqueue intent %s; the sweeper will retry", intent_id, exc_info=True)
            failed.append(intent_id)
    return failed


def dispatch(intent_ids: Iterable[int], delay: float | None = None) -> int:
    """Enqueue a job per intent (job id derived from the intent). Returns how many were enqueued.

    If Redis is unreachable the intents stay `pending` and the sweeper picks them up later."""
    ids = list(intent_ids)
    failed = set(_push_each(ids, delay))   # a sweep with Redis down fails thousands: no list scans
    pushed = [i for i in ids if i not in failed]
    if pushed:
        db.session.execute(update(SyncIntent).where(SyncIntent.id.in_(pushed), SyncIntent.state.in_(_OPEN))
                           .values(state=IntentState.QUEUED, enqueued_at=utcnow()))
    db.session.commit()
    return len(pushed)


def dispatch_marked(intent_ids: Iterable[int]) -> int:
    """`dispatch` for intents committed already marked `queued` (services.enrolments): enqueue
    each, and write again only those that could not be enqueued (back to `pending`). A panel Add
    thus costs no UPDATE and no second commit. An intent left `queued` by a crash between the
    commit and the enqueue is swept like any other (the sweep asks Redis, not the state)."""
    ids = list(intent_ids)
    failed = _push_each(ids)
    if failed:
        db.session.execute(update(SyncIntent).where(SyncIntent.id.in_(failed), SyncIntent.state == IntentState.QUEUED)
                           .values(state=IntentState.PENDING, enqueued_at=None))
        db.session.commit()
    return len(ids) - len(failed)


def dispatch_many(intent_ids: list[int]) -> int:
    """`dispatch` for thousands of intents (a bulk add): pipelined enqueues and one UPDATE, instead of
    a round trip and an UPDATE per intent. Redis unreachable: they stay pending for the sweeper."""
    if not intent_ids:
        return 0
    try:
        background.push_many(intent_ids)
    except Exception:  # Redis down: the rows are the source of truth, the sweeper retries
        log.warning("could not enqueue %d intents; the sweeper will retry", len(intent_ids), exc_info=True)
        return 0
    db.session.execute(update(SyncIntent).where(SyncIntent.id.in_(intent_ids), SyncIntent.state.in_(_OPEN))
                       .values(state=IntentState.QUEUED, enqueued_at=utcnow()))
    db.session.commit()
    return len(intent_ids)


def sweep_query(older_than: float) -> Select:
    """The sweep's one query: open intents untouched for `older_than` seconds and not due later.
    It goes by the index on `state` (bench/scale.py shows the plan with a million settled rows)."""
    now = utcnow()
    return select(SyncIntent.id).where(
        SyncIntent.state.in_((*_OPEN, IntentState.RUNNING)),
        SyncIntent.updated_at <= now - timedelta(seconds=older_than),
        (SyncIntent.next_attempt_at.is_(None)) | (SyncIntent.next_attempt_at <= now))


def sweep(older_than: float | None = None) -> int:
    """Re-enqueue intents stuck in pending/queued/running past the timeout (Redis lost, worker died).

    An intent whose job is still waiting in Redis (queued, scheduled) is not stuck, only behind a
    backlog: re-enqueueing it would add a duplicate job per intent on every sweep. With Redis
    unreachable nothing counts as waiting and dispatch() leaves the intents for the next sweep."""
    seconds = older_than if older_than is not None else current_app.config["SWEEP_AFTER_SECONDS"]
    stuck = db.session.scalars(sweep_query(seconds)).all()
    try:
        waiting = background.waiting_pushes(stuck) if stuck else set()
    except Exception:   # Redis down
        log.warning("could not read job states for the sweep", exc_info=True)
        waiting = set()
    stuck = [i for i in stuck if i not in waiting]
    if stuck:
        db.session.execute(update(SyncIntent).where(SyncIntent.id.in_(stuck)).values(state=IntentState.PENDING))
        db.session.commit()
    return dispatch(stuck)
