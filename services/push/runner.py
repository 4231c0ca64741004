"""The sync runtime (DESIGN §2, §5): one intent in, CRM writes out, every outcome recorded.

`run_intent(id)` claims the intent (an atomic pending|queued → running update, so a duplicated job
or a second worker does nothing), holds a short per-person lock (two intents of one person never
race to create the record), plans in two phases with the pure planner, applies the writes through
`services.push.executor`, and settles the intent: synced | skipped | waiting | parked. A push that
creates or links the record back-fills the notes waiting for it before its own (`services.push.backfill`).

Failures, by type (providers.errors): the policy is `sync.retry.decide`, applied by
`services.push.failures.failed`:
- Unavailable (5xx, timeout): an outage, shown on the connection and the intent (services.outage,
  cleared by the next answer); retried via RQ's scheduler after `sync.retry.backoff` (jittered,
  capped); parked after SYNC_MAX_ATTEMPTS.
- RateLimited: re-enqueued for after Retry-After, never slept on. A CRM 429 counts as an attempt,
  parked after SYNC_MAX_RATE_LIMITED; our own budget's pacing (the next slot) never counts.
- AuthError: parked ("auth: …") and the connection goes needs_attention at once;
  `resume_parked(connection_id)` re-dispatches them after a reconnect.
- Rejected / NotSupported: parked with the CRM's message, shown where the user acted.
- NotFound (record deleted in the CRM): the link is dropped and the intent runs again at once.
Nothing is dropped silently: parked intents keep their reason and `retry_intent` re-queues one.
"""
from __future__ import annotations

import logging
from typing import Iterable

from flask import current_app
from redis.exceptions import LockError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from crypto import CredentialsKeyMissing
from core import db, get_redis
from models import Connection, CrmLink, SyncIntent, utcnow
from providers.errors import ProviderError
from services.push.dispatch import dispatch
from services.push import backfill
from services.push.context import build_adapter, load_context
from services.outage import mark_reachable
from services.push.executor import AuditedFailure, Executor
from services.push.failures import AUTH_PREFIX, CONNECTION_PREFIX, enqueue, failed, park
from services.push.lookup import crm_state
from sync import planner
from sync.types import BLOCKED, NOTE, PUSH, REFUSED, SKIPPED, WAIT, IntentState

log = logging.getLogger("shoal.sync")



def run_intent(intent_id: int) -> str:
    """Process one intent. Returns its state afterwards (or "gone"/its state if nothing to do).
    Rows are not expired on commit inside the job (re-reading each after every commit was ~10
    queries per push); on the way out all are, so the caller's session reads fresh data."""
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        return _run(intent_id)
    finally:
        session.expire_on_commit = expire
        session.expire_all()


# Every push runs these three: each is built once (building a statement costs more than running
# its cached compiled form), and the two writes are table-level (the ORM's paths cost twice as much).
_INTENTS = SyncIntent.__table__
# The intent and its connection in one query, fresh even if the caller's session holds them.
_LOAD = (select(SyncIntent, Connection).join(Connection, Connection.id == SyncIntent.connection_id)
         .where(SyncIntent.id == bindparam("intent_id")).execution_options(populate_existing=True))
# The claim: atomic, so of two jobs for one intent only one gets a row count of 1.
_CLAIM = (_INTENTS.update().where(_INTENTS.c.id == bindparam("intent_id"),
                                  _INTENTS.c.state.in_((IntentState.PENDING, IntentState.QUEUED)))
          .values(state=IntentState.RUNNING, updated_at=bindparam("now")))
_SETTLE = (_INTENTS.update().where(_INTENTS.c.id == bindparam("intent_id"))
           .values(state=bindparam("new_state"), reason=bindparam("new_reason"), next_attempt_at=None,
                   record_type=bindparam("new_record_type")))


def _run(intent_id: int) -> str:
    row = db.session.execute(_LOAD, {"intent_id": intent_id}).first()
    if row is None:
        return "gone"
    intent = row[0]
    if intent.state not in (IntentState.PENDING, IntentState.QUEUED):
        return intent.state   # final, waiting, or being run by another worker right now
    cfg = current_app.config
    lock = get_redis().lock(f"shoal:sync-lock:conn{intent.connection_id}:person{intent.person_id}",
                            timeout=float(cfg.get("SYNC_LOCK_SECONDS", 60)), blocking=False)
    if not lock.acquire():
        # Another intent of this person is running: come back shortly, leave the row alone.
        enqueue(intent_id, float(cfg.get("SYNC_LOCK_RETRY_DELAY", 1.0)))
        return intent.state
    try:
        now = utcnow()
        claimed = db.session.execute(_CLAIM, {"intent_id": intent_id, "now": now}).rowcount
        db.session.commit()
        if not claimed:
            return db.session.scalar(select(SyncIntent.state).where(SyncIntent.id == intent_id))
        set_committed_value(intent, "state", IntentState.RUNNING)   # the claim is ours: no need to read it back
        set_committed_value(intent, "updated_at", now)
        return _run_claimed(intent)
    finally:
        try:
            lock.release()
        except LockError:   # expired, or lost with a Redis flush: nothing left to release
            log.info("person lock for intent %s had already expired", intent_id)


def _run_claimed(intent: SyncIntent) -> str:
    try:
        return _process(intent)
    except AuditedFailure as exc:   # an operation's CRM call failed (the executor audited it)
        db.session.rollback()
        return failed(intent.id, exc.error, audited=True)
    except Exception as exc:   # typed CRM errors, and bugs: the failure policy decides, nothing is lost
        db.session.rollback()
        if not isinstance(exc, (ProviderError, CredentialsKeyMissing)):
            log.exception("intent %s failed unexpectedly", intent.id)
        return failed(intent.id, exc)


def _process(intent: SyncIntent) -> str:
    conn = db.session.get(Connection, intent.connection_id)
    if conn.status == "needs_attention":
        return park(intent.id, AUTH_PREFIX + (conn.last_error or "the connection needs attention"))
    if conn.status != "connected" or not conn.active:
        return park(intent.id, CONNECTION_PREFIX + f"the {conn.provider_key} connection is {conn.status}")
    ctx = load_context(intent)
    key = intent.idempotency_key
    crm = ctx.provider_cls.display_name
    first = planner.plan(ctx.event, ctx.settings, ctx.person, ctx.target, None,
                         capabilities=ctx.capabilities, intent_key=key, crm_name=crm)
    db.session.commit()   # nothing held open across the CRM calls below
    if not first.needs_lookup:   # skip / wait / refuse: no CRM call at all
        executor = Executor(ctx, None)
        executor.apply(first.operations)
        final = _settle(executor, first)
        if ctx.event.kind == "manual_update":   # an edit may have filled a waiting push's fields
            _wake_waiting(intent)
        return final
    adapter = build_adapter(conn, ctx.provider_cls)
    lookup = first.operations[0]
    state = crm_state(ctx, adapter, lookup.record_type or ctx.target.record_type, lookup.params)
    mark_reachable(conn)   # the CRM answered: an outage recorded on the connection is over
    second = planner.plan(ctx.event, ctx.settings, ctx.person, ctx.target, state,
                          capabilities=ctx.capabilities, intent_key=key, crm_name=crm)
    executor = Executor(ctx, adapter)
    executor.remote_id = state.remote_id
    if not state.linked_before:   # the lookup found no CrmLink row (or dropped a dead one)
        executor.unlinked = state.record_type
    # Rule 5: notes waiting for this record go before the trigger's own note (event order). Without
    # a back-fill they aren't read here (None: `_wake_waiting` reads them if it needs them).
    waiting = None
    if second.backfill:
        waiting = backfill.waiting_intents(intent) if ctx.has_waiting else []
    ops, filled = backfill.with_waiting_notes(ctx, second, waiting or [], state.remote_id)
    executor.apply(ops)
    backfill.mark_backfilled(filled, intent.id)
    final = _settle(executor, second)
    if final == IntentState.WAITING and not state.linked_before and _linked(intent):
        # The record appeared while we looked (another intent of this person created it):
        # go again now instead of waiting for a back-fill that already ran.
        _requeue([intent.id])
        return IntentState.QUEUED
    if (second.backfill and final == IntentState.SYNCED) or ctx.event.kind == "manual_update":
        _wake_waiting(intent, waiting, filled)
    return final


def _settle(executor: Executor, plan) -> str:
    state = {PUSH: IntentState.SYNCED, NOTE: IntentState.SYNCED, WAIT: IntentState.WAITING, REFUSED: IntentState.WAITING, SKIPPED: IntentState.SKIPPED,
             BLOCKED: IntentState.SKIPPED}.get(plan.outcome, IntentState.SKIPPED)
    intent = executor.ctx.intent
    record_type = plan.record_type or intent.record_type
    db.session.execute(_SETTLE, {"intent_id": intent.id, "new_state": state, "new_reason": plan.reason or None,
                                 "new_record_type": record_type})
    db.session.commit()
    for name, value in (("state", state), ("reason", plan.reason or None), ("next_attempt_at", None),
                        ("record_type", record_type)):
        set_committed_value(intent, name, value)   # the row as written, without reading it back
    return state


def _linked(intent: SyncIntent) -> bool:
    return db.session.scalars(select(CrmLink.id).where(
        CrmLink.person_id == intent.person_id, CrmLink.connection_id == intent.connection_id)).first() is not None


def _wake_waiting(intent: SyncIntent, waiting: list[backfill.Waiting] | None = None,
                  filled: Iterable[SyncIntent] = ()) -> None:
    """Re-run this person's waiting intents (pushes waiting for mandatory fields, notes the
    back-fill didn't cover) in the order they happened. `waiting`: the rows the back-fill already
    read (no second query); `filled`: the intents it just synced, left alone."""
    if waiting is None:
        waiting = backfill.waiting_intents(intent)
    done = {row.id for row in filled}
    _requeue([w.intent.id for w in waiting if w.intent.id not in done])


def _requeue(ids: list[int]) -> None:
    if not ids:
        return
    db.session.execute(update(SyncIntent).where(SyncIntent.id.in_(ids))
                       .values(state=IntentState.PENDING, next_attempt_at=None))
    db.session.commit()
    dispatch(ids)


# -- user actions ----------------------------------------------------------------------------------

def resume_parked(connection_id: int) -> int:
    """After a successful reconnect: re-dispatch every intent parked because of the connection."""
    ids = db.session.scalars(select(SyncIntent.id).where(
        SyncIntent.connection_id == connection_id, SyncIntent.state == IntentState.PARKED,
        SyncIntent.reason.like(AUTH_PREFIX + "%") | SyncIntent.reason.like(CONNECTION_PREFIX + "%"))
        .order_by(SyncIntent.id)).all()
    if ids:
        db.session.execute(update(SyncIntent).where(SyncIntent.id.in_(ids))
                           .values(state=IntentState.PENDING, attempts=0, rate_limited=0, reason=None))
        db.session.commit()
        dispatch(ids)
    return len(ids)


def retry_intent(intent_id: int, team_id: int) -> bool:
    """The "Retry" button on a parked intent (team-scoped). False if not found or not parked."""
    intent = db.session.scalars(select(SyncIntent).where(
        SyncIntent.id == intent_id, SyncIntent.team_id == team_id)).first()
    if intent is None or intent.state != IntentState.PARKED:
        return False
    intent.state, intent.reason, intent.next_attempt_at = IntentState.PENDING, None, None
    intent.attempts = intent.rate_limited = 0
    db.session.commit()
    dispatch([intent_id])
    return True


def retry_many(intent_ids: Iterable[int], team_id: int) -> int:
    """"Retry all" on sync health: `retry_intent` for every one of these that is parked in the team."""
    ids = db.session.scalars(select(SyncIntent.id).where(
        SyncIntent.id.in_(list(intent_ids)), SyncIntent.team_id == team_id,
        SyncIntent.state == IntentState.PARKED).order_by(SyncIntent.id)).all()
    if ids:
        db.session.execute(update(SyncIntent).where(SyncIntent.id.in_(ids)).values(
            state=IntentState.PENDING, reason=None, next_attempt_at=None, attempts=0, rate_limited=0))
        db.session.commit()
        dispatch(list(ids))
    return len(ids)
