"""The Integration settings pages' service: what to show for the team's active CRM, where each value
comes from, and saving a team or personal layer atomically after the CRM's own schema checked it.

Values are resolved exactly as the sync runtime does (`services.push.context` reads the layers,
`sync.settings.resolve` layers them), so what a page shows is what a push will use.

What the CRM offers (fields, statuses, note types, job statuses) is never read in a web request:
`options_for` answers from a Redis cache or queues the `load_settings_options` task once and
returns None; `load_options` runs in the worker. A CRM error is cached briefly so the page can say
so and still let admins edit the settings that need no options.

Cached shape: {"error": None | str, "job_statuses": [[id, label]] | absent,
"types": {record type: {"fields": [[key, label]], "filterable": [...], "note_types": [...],
"statuses": [...]}}}; an area is absent when the CRM doesn't offer it."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from marshmallow import ValidationError

from core import db, get_redis
from models import Connection, SettingsLayer
from providers import get_provider
from providers.base import Capability, Provider
from providers.errors import NotSupported, ProviderError
from services.outage import error_text
from services import background
from services.connections import active_connection
from services.push.context import settings_definitions, settings_layers
from sync.schemas import ProviderOptions, settings_schema, validate_locks
from sync.settings import SettingDef, resolve
from sync.types import ProviderSpec, ResolvedSettings

CACHE_SECONDS = 600
ERROR_CACHE_SECONDS = 30
LOADING_SECONDS = 60
OPTIONS_MAX_WAIT = 5.0

# Setting types whose values are ids the CRM hands out: editable only once its options are loaded.
NEEDS_OPTIONS = frozenset({"field_list", "field_modes", "status", "note_mapping", "field_mapping", "job_statuses"})
# Team policy, not taste: what users may tag or must fill, how data lands in the CRM, compliance.
ADMIN_ONLY = frozenset({"block_off_limits", "displayed_fields", "mandatory_fields", "field_mapping",
                        "note_mapping", "filterable_fields", "job_status_whitelist"})


@dataclass
class Scope:
    """One settings page: the team's active connection, its CRM and the layer being edited
    (`user_id` None = the team layer)."""
    connection: Connection
    provider: type[Provider]
    spec: ProviderSpec
    team_id: int
    user_id: int | None

    @property
    def crm(self) -> str:
        return self.provider.display_name

    def record_label(self, record_type: str | None) -> str:
        return self.provider.record_type(record_type).label if record_type else ""

    def definitions(self) -> dict[str, SettingDef]:
        """The settings of this CRM editable on this page (personal pages drop admin-only ones)."""
        defs = settings_definitions(self.spec)
        if self.user_id is None:
            return dict(defs)
        return {k: d for k, d in defs.items() if d.name not in ADMIN_ONLY}


def scope_for(team_id: int, user_id: int | None) -> Scope | None:
    """The page's scope, or None when the team has no active CRM connection."""
    conn = active_connection(team_id)
    if conn is None:
        return None
    try:
        provider = get_provider(conn.provider_key)
    except NotSupported:     # a CRM no longer enabled on this server: nothing to set for it
        return None
    return Scope(conn, provider, ProviderSpec.from_provider(provider), team_id, user_id)


def layers(scope: Scope, user_id: int | None = None) -> tuple[SettingsLayer | None, SettingsLayer | None]:
    """(team layer, personal layer of `user_id` or of the scope's user), the runtime's own query."""
    return settings_layers(scope.team_id, user_id if user_id is not None else scope.user_id, scope.provider.key)


def resolved(scope: Scope, user_id: int | None = None) -> ResolvedSettings:
    """Every setting of the CRM with its layer, as the sync runtime resolves them for `user_id`
    (default: the scope's user; for the team page, the team layer alone)."""
    team, mine = layers(scope, user_id)
    values = {"team": team.values if team else {}, "user": mine.values if mine else {}}
    return resolve(settings_definitions(scope.spec), values, team.locks if team else ())


def inherited(scope: Scope) -> ResolvedSettings:
    """What each setting resolves to without the page's own layer: Shoal's defaults under the team
    page, the team's values (and defaults) under a personal page. A row left at this value keeps
    inheriting when saved, so a later change below it still reaches it."""
    team, _ = layers(scope)
    values = {"team": team.values if team and scope.user_id is not None else {}}
    return resolve(settings_definitions(scope.spec), values, ())


# -- options from the CRM ------------------------------------------------------------------------

def _key(connection_id: int) -> str:
    return f"shoal:settings-options:{connection_id}"


def cached_options(connection_id: int) -> dict[str, Any] | None:
    raw = get_redis().get(_key(connection_id))
    return json.loads(raw) if raw else None


def options_for(conn: Connection, *, refresh: bool = False) -> dict[str, Any] | None:
    """The cached options, or None after making sure one load is queued. `refresh` drops the cache."""
    redis = get_redis()
    if refresh:
        redis.delete(_key(conn.id))
    found = None if refresh else cached_options(conn.id)
    if found is not None:
        return found
    if redis.set(_key(conn.id) + ":loading", "1", nx=True, ex=LOADING_SECONDS):
        background.run("load_settings_options", conn.id, job_id=f"settings_options-{conn.id}")
    return None


def load_options(connection_id: int) -> dict[str, Any]:
    """Read what the CRM offers through its adapter (in a worker) and cache it."""
    from services.push.context import build_adapter

    conn = db.session.get(Connection, connection_id)
    if conn is None or not conn.active:
        get_redis().delete(_key(connection_id) + ":loading")
        return {}
    out: dict[str, Any] = {"error": None, "types": {}}
    try:
        provider = get_provider(conn.provider_key)
        # A handful of reads in a row: pace them within the shared budget rather than give up after
        # the burst (a 60/min CRM allows one call per second), still bounded so the job ends.
        adapter = build_adapter(conn, provider, max_wait=OPTIONS_MAX_WAIT)
        for rt in provider.record_types:
            per: dict[str, Any] = {}
            if provider.supports(Capability.FIELDS):
                defs = adapter.list_fields(rt.key)
                per["fields"] = [[f.key, f.label] for f in defs]
                per["filterable"] = [[f.key, f.label] for f in defs if f.filterable]
            if provider.supports(Capability.NOTE_TYPES):
                per["note_types"] = [[t.id, t.name] for t in adapter.list_note_types(rt.key)]
            if provider.supports(Capability.STATUSES):
                per["statuses"] = [[s.id, s.name] for s in adapter.list_statuses(rt.key)]
            out["types"][rt.key] = per
        if provider.supports(Capability.JOBS):
            out["job_statuses"] = [[s.id, s.name] for s in adapter.list_job_statuses()]
    except ProviderError as exc:
        out = {"error": error_text(exc), "types": {}}   # our words (issue #10), never a class name
    redis = get_redis()
    redis.set(_key(connection_id), json.dumps(out), ex=ERROR_CACHE_SECONDS if out["error"] else CACHE_SECONDS)
    redis.delete(_key(connection_id) + ":loading")
    return out


def usable(found: Mapping[str, Any] | None) -> bool:
    return bool(found) and not found.get("error")  # type: ignore[union-attr]


def provider_options(scope: Scope, found: Mapping[str, Any] | None) -> ProviderOptions:
    """What the CRM's settings schema checks values against (None lists when not loaded)."""
    if not usable(found):
        return ProviderOptions(scope.crm)
    types: Mapping[str, Any] = found["types"]  # type: ignore[index]

    def per_type(area: str) -> dict[str, list[str]] | None:
        if not any(area in t for t in types.values()):
            return None
        return {rt: [str(i) for i, _ in t.get(area, [])] for rt, t in types.items()}

    jobs = found.get("job_statuses")  # type: ignore[union-attr]
    return ProviderOptions(scope.crm, fields=per_type("fields"), filterable=per_type("filterable"),
                           statuses=per_type("statuses"), note_types=per_type("note_types"),
                           job_statuses=[str(i) for i, _ in jobs] if jobs is not None else None)


# -- saving --------------------------------------------------------------------------------------

def save(scope: Scope, submitted: Mapping[str, Any], shown: Iterable[str], locks: Iterable[str] | None,
         found: Mapping[str, Any] | None) -> SettingsLayer:
    """Replace the page's layer values for the `shown` keys with `submitted` (a missing key or None =
    inherit), and for the team page its locks on those keys. Keys not shown are kept as they were.

    Raises ValidationError {key: [messages]} and writes nothing if any key is unknown, unsupported
    by this CRM, admin-only on a personal page, locked by the admin, or not a value the CRM offers."""
    shown = list(dict.fromkeys(shown))
    current, loaded, new_locks = _checked(scope, submitted, shown, locks, found)
    layer = current
    if layer is None:
        layer = SettingsLayer(team_id=scope.team_id, user_id=scope.user_id, provider_key=scope.provider.key,
                              values={}, locks=[])
        db.session.add(layer)
    values = {k: v for k, v in (layer.values or {}).items() if k not in shown}
    values.update({k: v for k, v in loaded.items() if v is not None})
    layer.values = values   # a new dict, so the JSON column is seen as changed
    if scope.user_id is None and locks is not None:
        layer.locks = new_locks
    db.session.commit()
    return layer


def validate(scope: Scope, submitted: Mapping[str, Any], key: str, found: Mapping[str, Any] | None) -> list[str]:
    """What `save` would say about one setting as submitted, writing nothing (inline validation as
    the user leaves the field: the same checks, so a value it accepts, save accepts)."""
    try:
        _checked(scope, submitted, [key], None, found)
    except ValidationError as exc:
        return _as_dict(exc.messages).get(key, [])
    return []


def _checked(scope: Scope, submitted: Mapping[str, Any], shown: list[str], locks: Iterable[str] | None,
             found: Mapping[str, Any] | None) -> tuple[SettingsLayer | None, dict[str, Any], list[str]]:
    """save's checks: (the layer to write, the loaded values, the new locks) or ValidationError."""
    defs, all_defs = scope.definitions(), settings_definitions(scope.spec)
    team, mine = layers(scope)
    team_locks = set(team.locks if team else ())
    current = team if scope.user_id is None else mine
    stored = dict(current.values or {}) if current else {}
    errors: dict[str, list[str]] = {}
    for key in shown:
        d = all_defs.get(key)
        # An option-backed value left as it was was checked when it was saved: an expired options
        # cache mustn't make the rest of the page unsaveable.
        unchanged = submitted.get(key) == stored.get(key)
        if d is not None and key not in defs:
            errors[key] = ["Only an admin can set this, on the team's settings page."]
        elif d is not None and scope.user_id is not None and key in team_locks and submitted.get(key) is not None:
            errors[key] = ["Locked by your admin: the team's value applies."]
        elif (d is not None and d.type in NEEDS_OPTIONS and submitted.get(key) is not None and not unchanged
              and not usable(found)):
            errors[key] = [f"Can't check this against {scope.crm} right now: refresh the options from {scope.crm}."]
    payload = {k: submitted.get(k) for k in shown if k not in errors}
    try:
        loaded = settings_schema(scope.spec, provider_options(scope, found)).load(payload)
    except ValidationError as exc:
        errors.update({k: _messages(v) for k, v in _as_dict(exc.messages).items()})
        loaded = {}
    new_locks: list[str] = []
    if scope.user_id is None and locks is not None:
        try:
            new_locks = validate_locks(scope.spec, [k for k in team_locks if k not in shown] + list(locks))
        except ValidationError as exc:
            errors.update({k: _messages(v) for k, v in _as_dict(exc.messages).items()})
    if errors:
        raise ValidationError(errors)
    return current, loaded, new_locks


def _as_dict(messages: Any) -> dict[str, Any]:
    return messages if isinstance(messages, dict) else {"_schema": messages}


def _messages(v: Any) -> list[str]:
    """Flatten marshmallow's nested messages (list items, dict keys/values) into sentences."""
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return [m for x in v for m in _messages(x)]
    if isinstance(v, dict):
        # List positions and marshmallow's "key"/"value" markers mean nothing to an admin; entry names do.
        return [m if isinstance(k, int) or k in ("key", "value") else f"{k}: {m}"
                for k, x in v.items() for m in _messages(x)]
    return [str(v)]
