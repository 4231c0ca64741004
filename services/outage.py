"""A CRM outage, shown where people look (issue #10): on the connection ("CATS unreachable since
09:12 UTC: the request timed out") and on the pushes waiting for it ("Waiting: CATS is
unreachable, retrying in ~40 s") instead of a bare "Queued".

An outage is a call that got no usable answer (providers.errors.Unavailable: a timeout, a refused
connection, a 5xx). It is recorded on the connection by the sync runner and the connection check,
and cleared by the next call that gets an answer. It is not a connection status: the syncs keep
retrying on their own, whereas needs_attention is for what only an admin can fix (credentials,
a refused host). The reason is always ours, never the remote's body or an exception's class name.
"""
from __future__ import annotations

import re
from datetime import datetime

import requests
from sqlalchemy import update

from core import db
from models import Connection, SyncIntent, utcnow
from providers.errors import (AuthError, HostNotAllowed, NotFound, NotSupported, ProviderError, RateLimited,
                              Rejected, Unavailable)

# How a retried intent's reason names an outage ("retrying (attempt 2): CATS is unreachable (…)"):
# the members' status finds it there and shows "Waiting: CATS is unreachable, retrying in ~N s".
UNREACHABLE = re.compile(r"(?:^|: )(\S[^:]*? is unreachable) \(")


def our_reason(exc: Unavailable) -> str:
    """Why the CRM gave no usable answer, in our words."""
    cause = exc.__cause__
    if exc.status:
        return f"it answered HTTP {exc.status}"
    if isinstance(cause, requests.Timeout) or "timed out" in (exc.message or ""):
        return "the request timed out"
    if isinstance(cause, requests.ConnectionError) or "could not connect" in (exc.message or ""):
        return "the connection failed"
    return "its answer could not be used"


def error_text(exc: ProviderError) -> str:
    """A provider error as the audit trail and the intent show it: our label, then the message
    the HTTP layer composed (ours, or a CRM's JSON error message, trimmed: providers/http.py);
    never an exception's class name."""
    if isinstance(exc, Unavailable):
        return f"CRM unreachable: {our_reason(exc)}"
    if isinstance(exc, RateLimited):
        return "rate limited" + (" by the CRM" if exc.status else " (this connection's budget)")
    label = ("refused host" if isinstance(exc, HostNotAllowed) else "credentials refused" if isinstance(exc, AuthError)
             else "not found in the CRM" if isinstance(exc, NotFound)
             else "not supported" if isinstance(exc, NotSupported)
             else "refused by the CRM" if isinstance(exc, Rejected) else "CRM error")
    return f"{label}: {exc.message}" if exc.message else label


def unreachable_message(crm_name: str, exc: Unavailable) -> str:
    """What a retried intent's reason says of the outage (`UNREACHABLE` finds it again)."""
    return f"{crm_name} is unreachable ({our_reason(exc)})"


def mark_unreachable(connection_id: int, reason: str) -> None:
    """Record the outage (its start is kept while it lasts; the reason is the latest)."""
    db.session.execute(update(Connection).where(Connection.id == connection_id, Connection.unreachable_since.is_(None))
                       .values(unreachable_since=utcnow()))
    db.session.execute(update(Connection).where(Connection.id == connection_id)
                       .values(unreachable_reason=reason[:300]))
    db.session.commit()


def mark_reachable(connection: Connection) -> None:
    """A call got an answer: the outage is over. One write, and only when there was one."""
    if connection.unreachable_since is None:
        return
    db.session.execute(update(Connection).where(Connection.id == connection.id)
                       .values(unreachable_since=None, unreachable_reason=None))
    db.session.commit()
    connection.unreachable_since = connection.unreachable_reason = None


def waiting_text(intent: SyncIntent, now: datetime | None = None) -> str | None:
    """"<CRM> is unreachable, retrying in ~N s" for a queued intent retrying after an outage."""
    found = UNREACHABLE.search(intent.reason or "")
    if intent.state != "queued" or found is None:
        return None
    text = found.group(1)
    if intent.next_attempt_at is None:
        return f"{text}, retrying shortly"
    seconds = int((intent.next_attempt_at - (now or utcnow())).total_seconds())
    return f"{text}, retrying in ~{seconds} s" if seconds > 0 else f"{text}, retrying now"
