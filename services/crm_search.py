"""Searching the team's CRM by the fields the admin made filterable ("Filterable Fields", per record
type), and adding what was found to a campaign.

The web process never calls the CRM: `start` validates the filters against the team's setting and
queues one search job (the `crm_search` task) unless the same search is already cached; the results
fragment polls `result` until the worker has stored the page. A search's id is a hash of the
connection, record type, filters and page cursor, so the same search by anyone in the team reuses
the cached page for CACHE_SECONDS and two clicks queue one job.

Stored shape (Redis, JSON): {"team_id", "connection_id", "record_type", "filters", "cursor",
"state": "running" | "done" | "error", "error", "items": [{"remote_id", "fields"}],
"next_cursor", "total"}."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping

from marshmallow import ValidationError
from sqlalchemy import select

from core import db, get_redis
from models import Campaign, Connection, CrmLink, User
from providers import get_provider
from providers.base import Capability, Provider
from providers.errors import ProviderError
from services.outage import error_text
from services import background
from services.connections import active_connection
from services.enrolments import enrol
from services.people import PersonConflict, find_or_create_person
from services.push.context import build_adapter, provider_spec, resolve_settings
from services.settings import cached_options
from sync.fields import FIELD_LABELS
from sync.ops import humanize

CACHE_SECONDS = 600
ERROR_SECONDS = 30
RUNNING_SECONDS = 120
MAX_VALUE = 200
# The fields a result row shows, in order, when the CRM returned them.
KEY_FIELDS = ("email", "phone", "title", "company", "location")
PROFILE_KEYS = ("first_name", "last_name", "email", "phone", "title", "company", "location", "linkedin_url")
STANDARD_LABELS = {**FIELD_LABELS, "status": "Status"}


@dataclass(frozen=True)
class SearchScope:
    connection: Connection
    provider: type[Provider]
    # record type key → [(field key, label)] the admin made filterable, in their order
    filterable: dict[str, list[tuple[str, str]]]

    @property
    def crm(self) -> str:
        return self.provider.display_name

    def record_label(self, key: str) -> str:
        return self.provider.record_type(key).label


def scope_for(user: User) -> SearchScope | None:
    """What this user may search: None when no CRM is connected or it can't search. A record type
    with no Filterable Fields chosen is left out (the page says where the admin chooses them)."""
    conn = active_connection(user.team_id)
    if conn is None:
        return None
    provider = get_provider(conn.provider_key)
    if not provider.supports(Capability.SEARCH):
        return None
    resolved = resolve_settings(user.team_id, user.id, provider_spec(provider))
    labels = _labels(conn.id)
    filterable: dict[str, list[tuple[str, str]]] = {}
    for rt in provider.record_types:
        chosen = resolved.values.get(f"filterable_fields.{rt.key}")
        keys = list(chosen.value or []) if chosen is not None else []
        if keys:
            filterable[rt.key] = [(k, labels.get(rt.key, {}).get(k) or _label(k)) for k in keys]
    return SearchScope(conn, provider, filterable)


def _labels(connection_id: int) -> dict[str, dict[str, str]]:
    """Field labels from the settings page's cached CRM options, where loaded."""
    found = cached_options(connection_id) or {}
    return {rt: {str(k): str(label) for k, label in per.get("fields", [])}
            for rt, per in (found.get("types") or {}).items()}


def _label(key: str) -> str:
    return STANDARD_LABELS.get(key) or humanize(key.removeprefix("custom:"))


def search_id(connection_id: int, record_type: str, filters: Mapping[str, str], cursor: str | None) -> str:
    raw = json.dumps([connection_id, record_type, sorted(filters.items()), cursor or ""])
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _key(sid: str) -> str:
    return f"shoal:crm-search:{sid}"


def read_filters(scope: SearchScope, form: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """(record type, {field: value}) from the search form. ValidationError names the field."""
    record_type = (form.get("record_type") or "").strip()
    if record_type not in scope.filterable:
        raise ValidationError({"record_type": ["Choose what to search for."]})
    filters: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for key, label in scope.filterable[record_type]:
        value = (form.get(f"f-{key}") or "").strip()
        if len(value) > MAX_VALUE:
            errors[f"f-{key}"] = [f"{label}: at most {MAX_VALUE} characters."]
        elif value:
            filters[key] = value
    if errors:
        raise ValidationError(errors)
    if not filters:
        raise ValidationError({"_schema": ["Fill in at least one field to search by."]})
    return record_type, filters


def start(scope: SearchScope, team_id: int, record_type: str, filters: dict[str, str],
          cursor: str | None = None) -> str:
    """Queue the search unless it is cached or already running; return its id."""
    sid = search_id(scope.connection.id, record_type, filters, cursor)
    entry = {"team_id": team_id, "connection_id": scope.connection.id, "record_type": record_type,
             "filters": filters, "cursor": cursor, "state": "running"}
    if get_redis().set(_key(sid), json.dumps(entry), nx=True, ex=RUNNING_SECONDS):
        background.run("crm_search", scope.connection.id, sid, queue="interactive", job_id=f"crm_search-{sid}")
    return sid


def result(team_id: int, sid: str) -> dict[str, Any] | None:
    """The stored search, if it exists and belongs to this team."""
    if not sid.isalnum() or len(sid) > 64:
        return None
    raw = get_redis().get(_key(sid))
    entry = json.loads(raw) if raw else None
    return entry if entry and entry.get("team_id") == team_id else None


def run(connection_id: int, sid: str) -> str:
    """Run one stored search against the CRM (in a worker) and store its page."""
    redis = get_redis()
    raw = redis.get(_key(sid))
    conn = db.session.get(Connection, connection_id)
    if raw is None or conn is None:
        return "gone"
    entry = json.loads(raw)
    try:
        provider = get_provider(conn.provider_key)
        adapter = build_adapter(conn, provider)
        page = adapter.search(entry["record_type"], entry["filters"], entry.get("cursor"))
    except ProviderError as exc:
        entry.update(state="error", error=error_text(exc))   # our words (issue #10), never a class name
        redis.set(_key(sid), json.dumps(entry), ex=ERROR_SECONDS)
        return "error"
    entry.update(state="done", next_cursor=page.next_cursor, total=page.total, items=[
        {"remote_id": r.remote_id, "fields": {k: v for k, v in r.fields.items() if isinstance(v, (str, int, float))}}
        for r in page.items])
    redis.set(_key(sid), json.dumps(entry), ex=CACHE_SECONDS)
    return "done"


def add_to_campaign(user: User, campaign: Campaign, entry: dict[str, Any],
                    remote_ids: list[str]) -> tuple[int, int, list[str]]:
    """Enrol the chosen results in `campaign`, each person linked first to the record it came from,
    so the push updates that record instead of looking for (or creating) another. A person already
    linked to another record of that type keeps their link. A result whose email is one person's and
    LinkedIn URL another's is left out, said why. Returns (added, already members, refusals)."""
    items = {i["remote_id"]: i for i in entry.get("items") or []}
    added = already = 0
    refused: list[str] = []
    for rid in dict.fromkeys(remote_ids):
        item = items.get(rid)
        if item is None:
            continue
        f = item["fields"]
        profile = {k: str(f[k])[:500] for k in PROFILE_KEYS if f.get(k)}
        profile.setdefault("first_name", str(f.get("last_name") or rid))
        try:
            person = find_or_create_person(user.team_id, profile)
        except PersonConflict as exc:   # raised before this row wrote anything
            refused.append(f"{profile.get('first_name', '')} {profile.get('last_name', '')}".strip() + ": "
                           + exc.messages["email"][0])
            continue
        db.session.flush()
        linked = db.session.scalars(select(CrmLink).where(
            CrmLink.person_id == person.id, CrmLink.connection_id == entry["connection_id"],
            CrmLink.record_type == entry["record_type"])).first()
        if linked is None:
            db.session.add(CrmLink(team_id=user.team_id, person_id=person.id, connection_id=entry["connection_id"],
                                   record_type=entry["record_type"], remote_id=rid))
        db.session.commit()
        _enrolment, created = enrol(user, campaign, profile)
        added, already = added + created, already + (not created)
    return added, already, refused
