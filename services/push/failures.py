"""Applying the failure policy to an intent whose run failed. `failed(intent_id, exc)` maps the
exception to a kind, asks the pure policy (`sync.retry.decide`: backoff, ceilings, park, needs
attention) and carries the answer out: reschedule through RQ's scheduler (the row says when),
count the attempt / the CRM's 429, park with the reason the user sees (every park writes an audit
row), or mark the connection "needs attention". Nothing here decides; the operator's knobs
(SYNC_MAX_ATTEMPTS, SYNC_MAX_RATE_LIMITED, SYNC_BACKOFF_*) become a `RetryPolicy`."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from core import db
from models import AuditEntry, Connection, SyncIntent, utcnow
from sync.types import IntentState
from crypto import CredentialsKeyMissing
from providers import get_provider
from providers.errors import AuthError, NotFound, NotSupported, ProviderError, RateLimited, Rejected, Unavailable
from services import background
from services.outage import error_text, mark_unreachable, our_reason, unreachable_message
from sync import retry

log = logging.getLogger("shoal.sync")

AUTH_PREFIX = "auth: "               # parked because of the connection's credentials
CONNECTION_PREFIX = "connection: "   # parked because the connection is off; both resume on reconnect


def reschedule(intent_id: int, delay: float, reason: str | None, *, count: bool,
               rate_limited: bool = False) -> str:
    """Queue the intent again in `delay` seconds (its row says when, RQ's scheduler holds the job);
    `count` = this was a failed attempt, `rate_limited` = one the CRM answered 429. Returns "queued"."""
    db.session.rollback()
    values = {"state": IntentState.QUEUED, "next_attempt_at": utcnow() + timedelta(seconds=delay)}
    if reason is not None:
        values["reason"] = reason
    if count:
        values["attempts"] = SyncIntent.attempts + 1
    if rate_limited:
        values["rate_limited"] = SyncIntent.rate_limited + 1
    db.session.execute(update(SyncIntent).where(SyncIntent.id == intent_id).values(**values))
    db.session.commit()
    enqueue(intent_id, delay)
    return IntentState.QUEUED


def enqueue(intent_id: int, delay: float) -> None:
    """Schedule the intent's job (job id = the intent's) without touching its row."""
    try:
        background.push(intent_id, delay)
    except Exception:   # Redis down: the row says when, the sweeper re-enqueues it
        log.warning("could not schedule intent %s; the sweeper will", intent_id, exc_info=True)


def audit_failure(intent_id: int, exc: ProviderError, result: str) -> None:
    """Audit a failure outside an operation (the lookup); the executor audits its own."""
    db.session.rollback()
    intent = db.session.get(SyncIntent, intent_id)
    db.session.add(AuditEntry(team_id=intent.team_id, connection_id=intent.connection_id, intent_id=intent.id,
                              person_id=intent.person_id, operation="lookup", rule="rule 2: match before create",
                              record_type=intent.record_type, result=result,
                              summary=error_text(exc)[:1000]))
    db.session.commit()


def policy() -> retry.RetryPolicy:
    cfg = current_app.config
    return retry.RetryPolicy(
        max_attempts=int(cfg.get("SYNC_MAX_ATTEMPTS", retry.MAX_ATTEMPTS)),
        max_rate_limited=int(cfg.get("SYNC_MAX_RATE_LIMITED", retry.MAX_RATE_LIMITED)),
        base_delay=float(cfg.get("SYNC_BACKOFF_BASE", retry.BASE_DELAY)),
        max_delay=float(cfg.get("SYNC_BACKOFF_CAP", retry.MAX_DELAY)))


def kind_of(exc: BaseException) -> str:
    """The failure kind sync.retry.decide knows for an exception a push raised."""
    if isinstance(exc, RateLimited):
        # The CRM said so (a status): an attempt; our own budget's pacing is not.
        return "rate_limited" if exc.status is not None else "paced"
    if isinstance(exc, (AuthError, CredentialsKeyMissing)):
        return "auth"
    for types, kind in ((Unavailable, "unavailable"), (NotFound, "not_found"), (Rejected, "rejected"),
                        (NotSupported, "not_supported")):
        if isinstance(exc, types):
            return kind
    return "internal"


def message_of(exc: BaseException) -> str:
    """The reason recorded on the intent (the CRM's message, with its field errors), in our words
    around it: never an exception's class name (services.outage.error_text)."""
    if isinstance(exc, (Unavailable, NotFound)):
        return error_text(exc)
    if isinstance(exc, ProviderError):
        fields = getattr(exc, "field_errors", None) or {}
        detail = "; ".join(f"{k}: {v}" for k, v in fields.items())
        return f"{exc.message or exc}" + (f" ({detail})" if detail else "")
    if isinstance(exc, CredentialsKeyMissing):
        return str(exc)
    return "an internal error (logged on the server)"


def _outage(intent: SyncIntent, exc: Unavailable) -> str:
    """Record the outage on the connection; the intent's reason names the CRM ("CATS is
    unreachable (the request timed out)"), which the members' status shows as "Waiting: …"."""
    key = db.session.scalar(select(Connection.provider_key).where(Connection.id == intent.connection_id))
    try:
        crm = get_provider(key).display_name
    except NotSupported:
        crm = key
    mark_unreachable(intent.connection_id, our_reason(exc))
    return unreachable_message(crm, exc)


def failed(intent_id: int, exc: BaseException, *, audited: bool = False) -> str:
    """Apply the failure policy (sync.retry.decide) to a run that raised `exc`; returns the state.
    `audited`: the executor already wrote the failure's audit row (an operation's CRM call failed)."""
    db.session.rollback()
    intent = db.session.get(SyncIntent, intent_id)
    kind = kind_of(exc)
    if kind in ("rate_limited", "unavailable", "not_found") and isinstance(exc, ProviderError) and not audited:
        audit_failure(intent_id, exc, "retry")
        intent = db.session.get(SyncIntent, intent_id)
    message = _outage(intent, exc) if isinstance(exc, Unavailable) else message_of(exc)
    intent = db.session.get(SyncIntent, intent_id)
    d = retry.decide(kind, attempts=intent.attempts, rate_limited=intent.rate_limited,
                     retry_after=getattr(exc, "retry_after", None), message=message, policy=policy())
    if d.action in (retry.RETRY, retry.RELINK):
        return reschedule(intent_id, d.delay or 0.0, d.reason, count=d.count_attempt,
                          rate_limited=d.count_rate_limited)
    if d.action == retry.NEEDS_ATTENTION:
        return auth_failed(intent_id, d.reason)
    if d.count_attempt or d.count_rate_limited:
        intent.attempts += int(d.count_attempt)
        intent.rate_limited += int(d.count_rate_limited)
        db.session.commit()
    return park(intent_id, d.reason)


def auth_failed(intent_id: int, message: str) -> str:
    """The CRM refused the credentials: the connection needs attention at once, the intent parks."""
    db.session.rollback()
    intent = db.session.get(SyncIntent, intent_id)
    db.session.execute(update(Connection).where(Connection.id == intent.connection_id)
                       .values(status="needs_attention", last_error=message[:1000], last_checked_at=utcnow()))
    db.session.commit()
    return park(intent_id, AUTH_PREFIX + message)


def park(intent_id: int, reason: str) -> str:
    """Stop retrying; the reason is shown where the user acted, and `retry_intent` re-queues it."""
    db.session.rollback()
    intent = db.session.get(SyncIntent, intent_id)
    intent.state, intent.reason, intent.next_attempt_at = IntentState.PARKED, reason[:2000], None
    db.session.add(AuditEntry(team_id=intent.team_id, connection_id=intent.connection_id, intent_id=intent.id,
                              person_id=intent.person_id, operation="park", record_type=intent.record_type,
                              result="failed", summary=reason[:1000]))
    db.session.commit()
    return IntentState.PARKED
