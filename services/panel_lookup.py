"""The panel's live CRM reads, made by a worker and cached per connection (the web process never
calls a CRM): is this person already in the CRM (as which record type, which id, off-limits?),
which companies does the CRM hold under names like theirs, and what fields (with types and
options) each record type has.

Each read is one cache entry in Redis, `shoal:panel:<kind>:<connection id>:<key>`, kept for a TTL
(config PANEL_LOOKUP_TTL, default 10 min; errors 30 s). `cached()` answers from it or queues the
read once (a `:loading` flag with NX) and returns None: the panel shows a fragment that polls
itself until the entry is there, and a second visit within the TTL renders it at once. What a
job must read (an email, a LinkedIn URL, a company name) waits in Redis beside the flag, so
personal data never travels in job arguments. Keys are hashes of what was asked."""
from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, Callable

from flask import current_app

from core import db, get_redis
from models import Connection
from providers import get_provider
from providers.base import Capability, Provider
from providers.errors import ProviderError
from services.outage import error_text
from services import background
from services.push.context import build_adapter

log = logging.getLogger("shoal.panel")

KINDS = ("match", "company", "fields")
ERROR_TTL = 30
LOADING_TTL = 60
# Each read makes a few calls in a row; let them wait for the shared budget a little longer.
MAX_WAIT = 20.0


def _ttl() -> int:
    return int(current_app.config.get("PANEL_LOOKUP_TTL", 600))


def _redis_key(kind: str, connection_id: int, key: str) -> str:
    return f"shoal:panel:{kind}:{connection_id}:{key}"


def digest(*parts: Any) -> str:
    text = "\x1f".join("" if p is None else str(p).strip().lower() for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cached(kind: str, conn: Connection, query: dict[str, Any], *, refresh: bool = False) -> dict[str, Any] | None:
    """The cached answer for `query` on this connection, or None after making sure one read of it
    is queued (at most one at a time per key)."""
    assert kind in KINDS
    key = digest(kind, *(query.get(k) for k in sorted(query)))
    redis = get_redis()
    rk = _redis_key(kind, conn.id, key)
    if refresh:
        redis.delete(rk)
    else:
        raw = redis.get(rk)
        if raw:
            return json.loads(raw)
    if redis.set(rk + ":loading", json.dumps(query), nx=True, ex=LOADING_TTL):
        background.run(f"panel_{kind}", conn.id, key, queue="interactive",
                       job_id=f"panel_{kind}-{conn.id}-{key}")
    return None


def peek(kind: str, conn: Connection, query: dict[str, Any]) -> dict[str, Any] | None:
    """The cached answer, without queueing anything (the bench's and the preview's read)."""
    raw = get_redis().get(_redis_key(kind, conn.id, digest(kind, *(query.get(k) for k in sorted(query)))))
    return json.loads(raw) if raw else None


def run(kind: str, connection_id: int, key: str) -> dict[str, Any] | None:
    """The worker side: read what was asked from the CRM and cache the answer (or the error)."""
    redis = get_redis()
    rk = _redis_key(kind, connection_id, key)
    raw = redis.get(rk + ":loading")
    conn = db.session.get(Connection, connection_id)
    if raw is None or conn is None or not conn.active:
        redis.delete(rk + ":loading")
        return None
    query = json.loads(raw)
    out: dict[str, Any]
    try:
        provider_cls = get_provider(conn.provider_key)
        adapter = build_adapter(conn, provider_cls, max_wait=MAX_WAIT)
        out = {"error": None, **READERS[kind](provider_cls, adapter, query)}
    except ProviderError as exc:
        log.info("panel %s read failed on connection %s: %s", kind, connection_id, exc)
        out = {"error": error_text(exc)}   # our words (issue #10), never a class name
    redis.set(rk, json.dumps(out), ex=ERROR_TTL if out["error"] else _ttl())
    redis.delete(rk + ":loading")
    return out


# -- the reads --------------------------------------------------------------------------------------

def read_match(provider_cls: type[Provider], adapter: Provider, query: dict[str, Any]) -> dict[str, Any]:
    """Every record type the person is found as (email, then LinkedIn URL), with off-limits."""
    matches = []
    if not provider_cls.supports(Capability.FIND) or not (query.get("email") or query.get("linkedin_url")):
        return {"matches": matches}
    for rt in provider_cls.record_types:
        rec = adapter.find_person(rt.key, email=query.get("email") or None,
                                  linkedin_url=query.get("linkedin_url") or None)
        if rec is None:
            continue
        row = {"record_type": rt.key, "label": rt.label, "remote_id": rec.remote_id,
               "off_limits": False, "reason": None}
        if provider_cls.supports(Capability.OFF_LIMITS):
            verdict = adapter.off_limits(rt.key, rec.remote_id)
            row.update(off_limits=verdict.blocked, reason=verdict.reason)
        matches.append(row)
    return {"matches": matches}


def read_companies(provider_cls: type[Provider], adapter: Provider, query: dict[str, Any]) -> dict[str, Any]:
    if not provider_cls.supports(Capability.COMPANY_SEARCH) or not query.get("name"):
        return {"companies": []}
    rows = adapter.search_companies(str(query["name"]))
    return {"companies": [{"id": c.id, "name": c.name, "details": {k: v for k, v in c.details.items()
                                                                   if isinstance(v, (str, int, float))}}
                          for c in rows[:20]]}


def read_fields(provider_cls: type[Provider], adapter: Provider, query: dict[str, Any]) -> dict[str, Any]:
    if not provider_cls.supports(Capability.FIELDS):
        return {"fields": []}
    defs = adapter.list_fields(str(query["record_type"]))
    return {"fields": [{"key": f.key, "label": f.label, "type": f.type, "required": f.required,
                        "custom": f.custom, "options": [[o.id, o.label] for o in f.options]} for f in defs]}


READERS: dict[str, Callable[[type[Provider], Provider, dict[str, Any]], dict[str, Any]]] = {
    "match": read_match, "company": read_companies, "fields": read_fields,
}
