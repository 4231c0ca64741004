"""Everything one sync intent needs, loaded from the DB and turned into `sync.types` values, plus
the adapter built for its connection (budgeted session, token refresh persisted encrypted).

Credentials are decrypted here, in the worker, and live only inside the adapter object."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from flask import current_app
from sqlalchemy import Select, and_, bindparam, exists, or_, select, update

from crypto import decrypt_credentials, encrypt_credentials
from core import db, get_redis
from models import (Campaign, Connection, CvFile, Enrolment, OutreachEvent, Person, SettingsLayer, SyncIntent,
                    utcnow)
from providers import get_provider
from providers.base import Provider
from services.crm_hosts import adapter_options
from services.rate_budget import DEFAULT_MAX_WAIT, BudgetedSession, RateBudget, pace_for
from sync import planner
from sync.settings import definitions_for, resolve, unlocked_person_choices
from sync.types import EventInfo, IntentState, PersonInfo, ProviderSpec, ResolvedSettings, Target

PERSON_FIELDS = ("first_name", "last_name", "email", "phone", "title", "company", "location", "linkedin_url")


@dataclass
class IntentContext:
    intent: SyncIntent
    connection: Connection
    provider_cls: type[Provider]
    spec: ProviderSpec
    settings: ResolvedSettings
    event: EventInfo
    person: PersonInfo
    target: Target
    # Whether the person had other intents `waiting` on this connection when the run began. Stable
    # for the run: an intent only becomes waiting while it runs, under the person lock we hold.
    has_waiting: bool = True
    # Whose settings these are: (the enrolling user, the campaign). A back-filled note of another
    # enrolment is made under that enrolment's own settings (services.push.backfill).
    settings_source: tuple[int | None, int | None] = (None, None)

    @property
    def capabilities(self) -> frozenset[str]:
        return self.spec.capabilities


def load_context(intent: SyncIntent) -> IntentContext:
    """Read the intent's connection, person, event, enrolment, campaign and settings layers.

    Every row is read by id from the intent, and each is checked to belong to the intent's team.
    Two queries: the rows (one outer-joined select) and the settings layers."""
    team_id = intent.team_id
    conn = _owned(Connection, intent.connection_id, team_id)   # usually already in the session
    person_row, event_row, enrolment, campaign, has_waiting = _rows(intent)
    provider_cls = get_provider(conn.provider_key)
    spec = provider_spec(provider_cls)

    # A person's own value for an area the campaign locks is ignored, even one stored before the lock.
    person_options, person_override = unlocked_person_choices(
        campaign.sync_locks if campaign else None, enrolment.sync_options if enrolment else None,
        (enrolment.sync_override or {}) if enrolment else {})
    settings = resolve_settings(team_id, enrolment.added_by_id if enrolment else None, spec,
                                (campaign.sync_override or {}) if campaign else {}, person_override)
    target = planner.resolve_target(
        campaign.sync_as if campaign else "none", (campaign.sync_options or {}) if campaign else {},
        enrolment.sync_as if enrolment else None, person_options, spec.record_types)
    event = event_info(event_row)
    person = PersonInfo(**{k: getattr(person_row, k) for k in PERSON_FIELDS},
                        extra=dict(person_row.extra or {}), cv_available=person_row.cv_available)
    source = (enrolment.added_by_id if enrolment else None, campaign.id if campaign else None)
    return IntentContext(intent, conn, provider_cls, spec, settings, event, person, target, has_waiting, source)


# The columns the context needs, per table (plain rows: loading four ORM entities per push cost
# more than the query itself).
_COLUMNS = {
    "person": ("id",) + PERSON_FIELDS + ("extra",),
    "event": ("id", "kind", "occurred_at", "body", "channel", "data"),
    "enrolment": ("id", "added_by_id", "sync_as", "sync_options", "sync_override", "campaign_id"),
    "campaign": ("id", "sync_as", "sync_options", "sync_override", "sync_locks"),
}


def _rows_statement() -> Select:
    """Built once: constructing this five-way select costs more than running it (SQLAlchemy caches
    the compiled form, but not the Python construction). Parameters: person, event, enrolment,
    connection, intent and team ids."""
    team = bindparam("team_id")
    tables = {"person": Person.__table__, "event": OutreachEvent.__table__, "enrolment": Enrolment.__table__,
              "campaign": Campaign.__table__}
    p, e, n, c = tables.values()
    waiting = exists().where(SyncIntent.person_id == bindparam("person_id"),
                             SyncIntent.connection_id == bindparam("connection_id"), SyncIntent.team_id == team,
                             SyncIntent.state == IntentState.WAITING, SyncIntent.id != bindparam("intent_id"))
    # Rule 6: a CV Shoal holds for the person (services.cvs) is uploaded with the push.
    cv = exists().where(CvFile.person_id == bindparam("person_id"), CvFile.team_id == team)
    columns = [tables[t].c[name].label(f"{t}_{name}") for t, names in _COLUMNS.items() for name in names]
    return (select(*columns, waiting.label("has_waiting"), cv.label("has_cv")).select_from(p)
            .outerjoin(e, and_(e.c.id == bindparam("event_id"), e.c.team_id == team))
            .outerjoin(n, and_(n.c.id == bindparam("enrolment_id"), n.c.team_id == team))
            .outerjoin(c, and_(c.c.id == n.c.campaign_id, c.c.team_id == team))
            .where(p.c.id == bindparam("person_id"), p.c.team_id == team))


_ROWS = _rows_statement()


def _part(row: Any, table: str) -> SimpleNamespace | None:
    values = {name: row[f"{table}_{name}"] for name in _COLUMNS[table]}
    return SimpleNamespace(**values) if values["id"] is not None else None


def _rows(intent: SyncIntent) -> tuple[Any, Any, Any, Any, bool]:
    """Person, event, enrolment and campaign (each the columns the context needs, or None) and
    "has other waiting intents", in one query. Each join is also on the team, so a row of another
    team comes back as missing (LookupError), exactly like a deleted one. The waiting flag spares
    most pushes the back-fill's own query."""
    row = db.session.execute(_ROWS, {
        "team_id": intent.team_id, "person_id": intent.person_id, "event_id": intent.event_id,
        "enrolment_id": intent.enrolment_id, "connection_id": intent.connection_id,
        "intent_id": intent.id}).mappings().first()
    if row is None:
        raise LookupError(f"Person {intent.person_id} is missing")
    person, event, enrolment, campaign = (_part(row, t) for t in _COLUMNS)
    person.cv_available = bool(row["has_cv"])
    if intent.event_id and event is None:
        raise LookupError(f"OutreachEvent {intent.event_id} is missing")
    if intent.enrolment_id and enrolment is None:
        raise LookupError(f"Enrolment {intent.enrolment_id} is missing")
    if enrolment is not None and campaign is None:
        raise LookupError(f"Campaign {enrolment.campaign_id} is missing")
    return person, event, enrolment, campaign, bool(row["has_waiting"])


def resolve_settings(team_id: int, user_id: int | None, spec: ProviderSpec,
                     campaign_override: dict[str, Any] | None = None,
                     person_override: dict[str, Any] | None = None, *,
                     layers: tuple[SettingsLayer | None, SettingsLayer | None] | None = None) -> ResolvedSettings:
    """Every setting of the CRM with the layer it came from: provider defaults → team → the user's
    personal defaults → the campaign's sync override → the person's own override from the panel
    (Enrolment.sync_override), honouring the team's locks. The one resolver the worker, the panel
    and the settings pages share, so they can't drift apart. `layers`: `settings_layers()`'s
    answer when the caller resolves twice in one request (the panel: before and after the
    person's own override), so the database is read once."""
    team_layer, user_layer = layers if layers is not None else settings_layers(team_id, user_id, spec.key)
    layers: dict[str, Any] = {"team": team_layer.values if team_layer else {},
                              "user": user_layer.values if user_layer else {},
                              "campaign": campaign_override or {},
                              "person": person_override or {}}
    return resolve(settings_definitions(spec), layers, team_layer.locks if team_layer else ())


@lru_cache(maxsize=32)
def provider_spec(provider_cls: type[Provider]) -> ProviderSpec:
    # A registered adapter class is fixed for the life of the process.
    return ProviderSpec.from_provider(provider_cls)


@lru_cache(maxsize=32)
def settings_definitions(spec: ProviderSpec) -> dict:
    # A pure function of the provider's spec; computed once per worker, not once per intent.
    return definitions_for(spec)


def _owned(model: type, row_id: int, team_id: int) -> Any:
    row = db.session.get(model, row_id)
    if row is None or row.team_id != team_id:
        raise LookupError(f"{model.__name__} {row_id} is missing")
    return row


# With user_id None, `user_id = NULL` matches nothing: the same statement reads the team layer alone.
_LAYERS = select(SettingsLayer).where(
    SettingsLayer.team_id == bindparam("team_id"), SettingsLayer.provider_key == bindparam("provider_key"),
    or_(SettingsLayer.user_id.is_(None), SettingsLayer.user_id == bindparam("user_id")))


def settings_layers(team_id: int, user_id: int | None, provider_key: str) -> tuple[SettingsLayer | None, SettingsLayer | None]:
    """The team's layer and the user's personal layer for this provider, in one query."""
    rows = db.session.scalars(_LAYERS, {"team_id": team_id, "provider_key": provider_key,
                                        "user_id": user_id}).all()
    team = next((r for r in rows if r.user_id is None), None)
    user = next((r for r in rows if r.user_id is not None), None)
    return team, user


def event_info(row: Any) -> EventInfo:
    """An OutreachEvent (row or the context's plain columns) as the planner's EventInfo (the
    runner's back-fill reads waiting intents' events with it too, so a back-filled note is built
    exactly as its own run's)."""
    if row is None:   # an intent without an event is a plain push (e.g. re-sync from the panel)
        return EventInfo(kind="added", occurred_at=utcnow())
    return EventInfo(kind=row.kind, occurred_at=row.occurred_at, event_id=row.id, body=row.body,
                     channel=row.channel, data=dict(row.data or {}))


def build_adapter(conn: Connection, provider_cls: type[Provider], max_wait: float | None = None) -> Provider:
    """The adapter for one connection, its HTTP drawing on the connection's shared rate budget.
    `max_wait`: seconds a call may wait for its slot (default RATE_BUDGET_MAX_WAIT); a job that
    must make several calls in a row against a slow budget (settings options) passes more."""
    cfg = current_app.config
    pace = pace_for(provider_cls, conn.rate_limit_per_minute, float(cfg.get("RATE_BUDGET_WINDOW_SECONDS", 60)))
    if max_wait is None:
        max_wait = float(cfg.get("RATE_BUDGET_MAX_WAIT", DEFAULT_MAX_WAIT))
    budget = RateBudget(get_redis(), conn.id, pace, max_wait=max_wait)
    # The adapter guards this session (providers/http.py: the CRM's hosts only, no redirects) and
    # mounts the process's shared connection pool for the allow-list.
    session = BudgetedSession(budget, read_timeout=cfg.get("SYNC_HTTP_TIMEOUT"))
    connection_id = conn.id

    def persist(new_credentials: dict[str, Any]) -> None:
        # A refreshed token must survive this job, or the next one starts from a dead token.
        db.session.execute(update(Connection).where(Connection.id == connection_id)
                           .values(credentials_encrypted=encrypt_credentials(new_credentials)))
        db.session.commit()

    return provider_cls(conn.base_url, decrypt_credentials(conn.credentials_encrypted),
                        session=session, on_credentials_changed=persist, **adapter_options(provider_cls))
