"""What the sync runner does with an intent whose run failed (services/push/runner.py maps each
provider error to one of these): reschedule it through RQ's scheduler, count the attempt and park
it at its ceiling, or park it at once with the reason the user sees. Every park writes an audit row.

Ceilings: outages (and unexpected errors) park after SYNC_MAX_ATTEMPTS attempts; a CRM that keeps
answering 429 after SYNC_MAX_RATE_LIMITED 429s (higher: being rate-limited now and then is normal).
Both count in `SyncIntent.attempts`; the 429s also in `SyncIntent.rate_limited`, which their ceiling
goes by. Our own rate budget's pacing is rescheduled without counting."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import update

from core import db
from models import AuditEntry, Connection, SyncIntent, utcnow
from providers.errors import ProviderError, RateLimited
from services import background
from sync import retry

log = logging.getLogger("shoal.sync")

AUTH_PREFIX = "auth: "               # parked because of the connection's credentials
CONNECTION_PREFIX = "connection: "   # parked because the connection is off; both resume on reconnect


def reschedule(intent_id: int, delay: float, reason: str | None, *, count: bool,
               rate_limited: bool = False) -> str:
    """Queue the intent again in `delay` seconds (its row says when, RQ's scheduler holds the job);
    `count` = this was a failed attempt, `rate_limited` = one the CRM answered 429. Returns "queued"."""
    db.session.rollback()
    values = {"state": "queued", "next_attempt_at": utcnow() + timedelta(seconds=delay)}
    if reason is not None:
        values["reason"] = reason
    if count:
        values["attempts"] = SyncIntent.attempts + 1
    if rate_limited:
        values["rate_limited"] = SyncIntent.rate_limited + 1
    db.session.execute(update(SyncIntent).where(SyncIntent.id == intent_id).values(**values))
    db.session.commit()
    enqueue(intent_id, delay)
    return "queued"


def enqueue(intent_id: int, delay: float) -> None:
    """Schedule the intent's job (job id = the intent's) without touching its row."""
    try:
        background.push(intent_id, delay)
    except Exception:   # Redis down: the row says when, the sweeper re-enqueues it
        log.warning("could not schedule intent %s; the sweeper will", intent_id, exc_info=True)


def audit_failure(intent_id: int, exc: ProviderError, result: str) -> None:
    """Audit a failure outside an operation (the lookup); the executor audits its own."""
    if getattr(exc, "audited", False):
        return
    db.session.rollback()
    intent = db.session.get(SyncIntent, intent_id)
    db.session.add(AuditEntry(team_id=intent.team_id, connection_id=intent.connection_id, intent_id=intent.id,
                              person_id=intent.person_id, operation="lookup", rule="rule 2: match before create",
                              record_type=intent.record_type, result=result,
                              summary=f"{exc.__class__.__name__}: {exc.message or exc}"[:1000]))
    db.session.commit()


def failed_attempt(intent_id: int, reason: str, *, immediate: bool = False) -> str:
    """An outage (or a bug): retried after a jittered backoff (`immediate`: at once), parked once
    SYNC_MAX_ATTEMPTS attempts have failed."""
    db.session.rollback()
    intent = db.session.get(SyncIntent, intent_id)
    cfg = current_app.config
    attempt = intent.attempts + 1
    if attempt >= int(cfg.get("SYNC_MAX_ATTEMPTS", retry.MAX_ATTEMPTS)):
        intent.attempts = attempt
        db.session.commit()
        return park(intent_id, f"gave up after {attempt} attempts: {reason}")
    delay = 0.0 if immediate else retry.backoff(attempt, base=float(cfg.get("SYNC_BACKOFF_BASE", 2.0)),
                                                cap=float(cfg.get("SYNC_BACKOFF_CAP", 600.0)))
    return reschedule(intent_id, delay, f"retrying (attempt {attempt}): {reason}", count=True)


def crm_rate_limited(intent_id: int, exc: RateLimited) -> str:
    """A 429 from the CRM counts as an attempt, and the intent parks at its own, higher ceiling
    (SYNC_MAX_RATE_LIMITED) of 429s alone: a busy CRM is normal, but one that answers 429 forever
    would otherwise keep the intent queued forever. The retry comes after Retry-After, not our backoff."""
    db.session.rollback()
    intent = db.session.get(SyncIntent, intent_id)
    attempt, limited = intent.attempts + 1, intent.rate_limited + 1
    if limited >= int(current_app.config["SYNC_MAX_RATE_LIMITED"]):
        intent.attempts, intent.rate_limited = attempt, limited
        db.session.commit()
        return park(intent_id, f"the CRM kept answering 429 (rate limited) after {limited} attempts: its "
                     "budget may be shared with another integration; lower this connection's rate budget "
                     "or retry later")
    return reschedule(intent_id, max(exc.retry_after, 0.05),
                      f"rate limited (attempt {attempt}): {exc.message}", count=True, rate_limited=True)


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
    intent.state, intent.reason, intent.next_attempt_at = "parked", reason[:2000], None
    db.session.add(AuditEntry(team_id=intent.team_id, connection_id=intent.connection_id, intent_id=intent.id,
                              person_id=intent.person_id, operation="park", record_type=intent.record_type,
                              result="failed", summary=reason[:1000]))
    db.session.commit()
    return "parked"
