"""Pick-lists for a campaign's sync options (jobs, tags, lists, statuses), read from the team's CRM.

A web request never calls the CRM: the create-campaign form asks `options_for`, which answers from
a short-lived Redis cache or queues the `load_crm_options` task (once, on the interactive
queue) and returns None; the form's fragment polls until the options are there. A CRM error is
cached briefly too, so the form falls back to text inputs with the reason instead of spinning.

Cached shape: {"jobs": [[id, label], ...], "tags": [...], "lists": [...], "statuses": [...],
"error": None | "message"}; a key is absent when the CRM doesn't offer that area."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from core import db, get_redis
from models import Connection, SettingsLayer
from providers import get_provider
from providers.base import Capability
from providers.errors import ProviderError
from services.outage import error_text
from services import background
from sync.schemas import ProviderOptions, filter_jobs

CACHE_SECONDS = 600
ERROR_CACHE_SECONDS = 30
LOADING_SECONDS = 60


def _key(connection_id: int, record_type: str) -> str:
    return f"shoal:crm-options:{connection_id}:{record_type}"


def cached(connection_id: int, record_type: str) -> dict[str, Any] | None:
    raw = get_redis().get(_key(connection_id, record_type))
    return json.loads(raw) if raw else None


def forget(connection_id: int, record_type: str) -> None:
    """Drop the cached options so the next `options_for` reads the CRM again ("Refresh")."""
    get_redis().delete(_key(connection_id, record_type))


def options_for(conn: Connection, record_type: str) -> dict[str, Any] | None:
    """The cached options, or None after making sure a load is queued (at most one at a time)."""
    found = cached(conn.id, record_type)
    if found is not None:
        return found
    if get_redis().set(_key(conn.id, record_type) + ":loading", "1", nx=True, ex=LOADING_SECONDS):
        background.run("load_crm_options", conn.id, record_type,
                       job_id=f"crm_options-{conn.id}-{record_type}")
    return None


def _whitelist(conn: Connection) -> list[str] | None:
    layer = db.session.scalars(select(SettingsLayer).where(
        SettingsLayer.team_id == conn.team_id, SettingsLayer.user_id.is_(None),
        SettingsLayer.provider_key == conn.provider_key)).first()
    value = (layer.values or {}).get("job_status_whitelist") if layer else None
    return list(value) if value else None


def load(connection_id: int, record_type: str) -> dict[str, Any]:
    """Read the pick-lists from the CRM (in a worker) and cache them."""
    from services.push.context import build_adapter

    conn = db.session.get(Connection, connection_id)
    if conn is None or not conn.active:
        return {}
    out: dict[str, Any] = {"error": None}
    try:
        provider_cls = get_provider(conn.provider_key)
        adapter = build_adapter(conn, provider_cls)
        if provider_cls.supports(Capability.JOBS):
            whitelist = _whitelist(conn)
            out["jobs"] = [[j.id, j.title + (f" · {j.company}" if j.company else "")]
                           for j in filter_jobs(adapter.list_jobs(whitelist), whitelist)]
        if provider_cls.supports(Capability.TAGS):
            out["tags"] = [[t.id, t.name] for t in adapter.list_tags(record_type)]
        if provider_cls.supports(Capability.LISTS):
            out["lists"] = [[x.id, x.name] for x in adapter.list_lists(record_type)]
        if provider_cls.supports(Capability.STATUSES):
            out["statuses"] = [[s.id, s.name] for s in adapter.list_statuses(record_type)]
    except ProviderError as exc:
        out = {"error": error_text(exc)}   # our words (issue #10), never a class name
    ttl = ERROR_CACHE_SECONDS if out["error"] else CACHE_SECONDS
    redis = get_redis()
    redis.set(_key(connection_id, record_type), json.dumps(out), ex=ttl)
    redis.delete(_key(connection_id, record_type) + ":loading")
    return out


def provider_options(crm_name: str, record_type: str, found: dict[str, Any] | None) -> ProviderOptions:
    """What the sync engine's schema checks values against; unknown areas are only type-checked."""
    if not found or found.get("error"):
        return ProviderOptions(crm_name)

    def ids(area: str) -> list[str] | None:
        return [str(i) for i, _label in found[area]] if area in found else None

    def per_type(area: str) -> dict[str, list[str]] | None:
        values = ids(area)
        return {record_type: values} if values is not None else None

    return ProviderOptions(crm_name, jobs=ids("jobs"), tags=per_type("tags"), lists=per_type("lists"),
                           statuses=per_type("statuses"))
