"""Campaigns: creation from the create dialog (name, type, "Sync as", sync options, Sync Override),
the same sync settings edited afterwards (they apply to future pushes; members already in the CRM
can be re-synced), archive / delete, and the member list with each member's latest sync intent.

The Sync Override defaults to "team": no override is stored and the team's (or the adding user's)
"Add <record type> to CRM" applies, as the article says ("Changing this will override the current
team-wide setting ... only to that particular campaign").

An admin can also lock those areas for recruiters (services.campaign_locks).

What a campaign may ask of the CRM is checked against the team's active provider with the sync
engine's own schemas (`sync.schemas`): a record type it has, a trigger, and only the target areas
(job, tags, lists, status) its adapter declares. With no CRM connected a campaign can only be
"Don't sync"."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, select

from core import db
from models import Campaign, CrmLink, Enrolment, Person, SyncIntent, User, team_query, utcnow
from providers import get_provider
from providers.base import Provider
from providers.errors import NotSupported
from services.campaign_locks import parse_locks
from services.connections import active_connection
from services.crm_options import cached, provider_options
from services.enrolments import record_event
from services.outreach.steps import delete_sequence
from sync.ops import humanize
from sync.schemas import sync_options_schema, sync_override_schema, validate_sync_as
from sync.settings import TRIGGER_LABELS
from sync.types import TRIGGERS, ProviderSpec

CAMPAIGN_TYPES = {"outreach": "Outreach sequence", "email": "Email only", "linkedin": "LinkedIn only",
                  "sourcing": "Sourcing list (no outreach)"}
# Sync option inputs in form order, with the capability that makes each one available.
OPTION_INPUTS = (("job_id", "jobs", "Job / pipeline id"), ("job_status", "jobs", "Status on the job"),
                 ("tags", "tags", "Tags (comma separated)"), ("lists", "lists", "Lists (comma separated ids)"),
                 ("status", "statuses", "Record status"))

# With the CRM's pick-lists loaded: the area of the cached options each input picks from, and its label.
PICK_AREAS = {"job_id": "jobs", "tags": "tags", "lists": "lists", "status": "statuses"}
PICK_LABELS = {"job_id": "Add to job", "tags": "Tags", "lists": "Lists", "status": "Status"}
OPTION_LABELS = {"job_id": "Job", "job_status": "Status on the job", "tags": "Tags", "lists": "Lists",
                 "status": "Status"}


TEAM_SETTING = "team"
MAX_OPTION_VALUES, MAX_OPTION_CHARS = 50, 100


class CampaignForm(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = fields.String(load_default="outreach", validate=validate.OneOf(list(CAMPAIGN_TYPES)))
    sync_as = fields.String(load_default="none", validate=validate.Length(max=40))
    # "team" = no override: the team's (or the adding user's) setting applies.
    add_when = fields.String(load_default=TEAM_SETTING, validate=validate.OneOf((TEAM_SETTING, *TRIGGERS)))


@dataclass(frozen=True)
class CrmChoices:
    """What the create form offers for the team's active CRM (none connected: only "Don't sync")."""
    provider: type[Provider] | None
    spec: ProviderSpec | None
    record_types: tuple[tuple[str, str], ...]
    option_inputs: tuple[tuple[str, str], ...]
    triggers: tuple[tuple[str, str], ...] = tuple(TRIGGER_LABELS.items())


def crm_choices(team_id: int) -> CrmChoices:
    conn = active_connection(team_id)
    provider = None
    if conn is not None:
        try:
            provider = get_provider(conn.provider_key)
        except NotSupported:
            provider = None
    if provider is None:
        return CrmChoices(None, None, (), ())
    spec = ProviderSpec.from_provider(provider)
    inputs = tuple((key, label) for key, cap, label in OPTION_INPUTS if spec.supports(cap))
    return CrmChoices(provider, spec, tuple((rt.key, rt.label) for rt in provider.record_types), inputs)


def _clean(form: Mapping[str, Any]) -> dict[str, str]:
    return {k: v.strip() for k, v in form.items() if isinstance(v, str) and v.strip()}


def many_values(form: Mapping[str, Any], key: str) -> list[str]:
    """A multi-select's values, or a comma-separated text input's (the fallback without pick-lists)."""
    values = form.getlist(key) if hasattr(form, "getlist") else [form.get(key) or ""]
    return [p.strip() for v in values if isinstance(v, str) for p in v.split(",") if p.strip()]


def _sync_settings(user: User, form: Mapping[str, Any], data: dict[str, Any]) -> tuple[str, dict, dict]:
    """(sync_as, sync options, sync override) from a create or edit form, checked against the team's
    CRM with the sync engine's schemas. Raises ValidationError {field: [messages]}."""
    raw = _clean(form)
    choices = crm_choices(user.team_id)
    sync_as, options, override = data["sync_as"], {}, {}
    if sync_as == "none":
        return sync_as, options, override
    if choices.spec is None:
        raise ValidationError({"sync_as": ["Connect a CRM on the Integrations page before syncing a campaign."]})
    crm = choices.provider.display_name  # type: ignore[union-attr]
    validate_sync_as(choices.spec, sync_as, crm)
    if data["add_when"] != TEAM_SETTING:
        try:
            override = sync_override_schema(choices.spec, crm).load({f"add_{sync_as}": data["add_when"]})
        except ValidationError as exc:
            raise ValidationError({"add_when": [m for v in _as_dict(exc.messages).values() for m in v]})
    opts: dict[str, Any] = {}
    for key, _label in choices.option_inputs:
        if key in ("tags", "lists"):
            if many_values(form, key):
                opts[key] = many_values(form, key)
        elif key in raw:
            opts[key] = raw[key]
    # Ids typed by hand (the CRM's pick-lists not loaded) are only type-checked by the schema: bound them.
    too_long = {k: [f"At most {MAX_OPTION_VALUES} values of at most {MAX_OPTION_CHARS} characters each."]
                for k, v in opts.items() if len(v if isinstance(v, list) else [v]) > MAX_OPTION_VALUES
                or any(len(x) > MAX_OPTION_CHARS for x in (v if isinstance(v, list) else [v]))}
    if too_long:
        raise ValidationError(too_long)
    conn = active_connection(user.team_id)
    known = provider_options(crm, sync_as, cached(conn.id, sync_as) if conn else None)
    try:
        options = sync_options_schema(choices.spec, sync_as, known).load(opts)
    except ValidationError as exc:
        raise ValidationError(_as_dict(exc.messages))
    return sync_as, {k: v for k, v in options.items() if v not in (None, [], "")}, override


def _as_dict(messages: Any) -> dict[str, Any]:
    return messages if isinstance(messages, dict) else {"_schema": messages}


def create_campaign(user: User, form: Mapping[str, Any]) -> Campaign:
    """Validate the form against the active CRM and create the campaign. ValidationError: nothing written.

    `form` may be a MultiDict (tags and lists come from multi-selects once the CRM's pick-lists are
    loaded); values are checked against those pick-lists when they are cached."""
    raw = _clean(form)
    data = CampaignForm().load({k: raw[k] for k in ("name", "type", "sync_as", "add_when") if k in raw})
    sync_as, options, override = _sync_settings(user, form, data)
    campaign = Campaign(team_id=user.team_id, owner_id=user.id, name=data["name"], type=data["type"],
                        sync_as=sync_as, sync_options=options, sync_override=override)
    db.session.add(campaign)
    db.session.commit()
    return campaign


class SyncSettingsForm(Schema):
    sync_as = fields.String(load_default="none", validate=validate.Length(max=40))
    add_when = fields.String(load_default=TEAM_SETTING, validate=validate.OneOf((TEAM_SETTING, *TRIGGERS)))


def update_sync_settings(user: User, campaign: Campaign, form: Mapping[str, Any]) -> Campaign:
    """Change a campaign's Sync as, sync options and Sync Override. They apply to pushes from now on
    (every push reads the campaign when it runs); nothing is written on a ValidationError."""
    raw = _clean(form)
    data = SyncSettingsForm().load({k: raw[k] for k in ("sync_as", "add_when") if k in raw})
    locks = parse_locks(form, campaign.sync_locks) if user.is_admin else list(campaign.sync_locks or [])
    campaign.sync_as, campaign.sync_options, campaign.sync_override = _sync_settings(user, form, data)
    campaign.sync_locks = locks
    db.session.commit()
    return campaign


def team_trigger_label(user: User, sync_as: str) -> str | None:
    """What "Use the team's setting" means now for this record type, in words ("When they reply"):
    the team's value, or Shoal's default."""
    from services.settings import resolved, scope_for

    scope = scope_for(user.team_id, None)
    if scope is None or sync_as in ("", "none"):
        return None
    value = resolved(scope).values.get(f"add_{sync_as}")
    return TRIGGER_LABELS.get(value.value) if value is not None else None


def describe_options(campaign: Campaign) -> list[tuple[str, str]]:
    """The campaign's sync options in words: [("Job", "Data Engineer · Acme"), ("Tags", "Python,
    London")], with the CRM's names from the cached pick-lists (ids only until they are loaded)."""
    conn = active_connection(campaign.team_id)
    found = cached(conn.id, campaign.sync_as) if conn is not None else None
    out = []
    for key, value in (campaign.sync_options or {}).items():
        names = dict((str(i), n) for i, n in (found or {}).get(PICK_AREAS.get(key, ""), []) or [])
        values = value if isinstance(value, list) else [value]
        out.append((OPTION_LABELS.get(key) or humanize(key),
                    ", ".join(names.get(str(v), str(v)) for v in values)))
    return out


def add_when(campaign: Campaign) -> str:
    """The campaign's Sync Override for its record type, or "team" when there is none."""
    return (campaign.sync_override or {}).get(f"add_{campaign.sync_as}") or TEAM_SETTING


def synced_members(campaign: Campaign) -> list[Enrolment]:
    """Members already linked to a record in the team's CRM (their record was written with the
    settings of the time: the campaign page offers to re-sync them after a change)."""
    conn = active_connection(campaign.team_id)
    if conn is None:
        return []
    linked = select(CrmLink.person_id).where(CrmLink.connection_id == conn.id, CrmLink.team_id == campaign.team_id)
    return list(db.session.scalars(team_query(Enrolment, campaign.team_id).where(
        Enrolment.campaign_id == campaign.id, Enrolment.person_id.in_(linked)).order_by(Enrolment.id)))


def resync(user: User, campaign: Campaign) -> int:
    """Push every synced member again with the campaign's current settings (one "resync" event each,
    through the outbox like any other event). Returns how many were queued."""
    members = synced_members(campaign)
    for enrolment in members:
        record_event(enrolment, "resync", created_by_id=user.id)
    return len(members)


def set_archived(campaign: Campaign, archived: bool) -> None:
    """Archive (hidden from the list and the extension, no new members; people and history stay) or restore."""
    campaign.archived_at = utcnow() if archived else None
    db.session.commit()


def delete_campaign(campaign: Campaign) -> bool:
    """Delete a campaign nobody was added to. False (nothing deleted) when it has members: their
    history stays, and archiving is the way to put it away."""
    has_members = db.session.scalar(select(func.count()).select_from(Enrolment).where(
        Enrolment.campaign_id == campaign.id))
    if has_members:
        return False
    delete_sequence(campaign)   # its steps (nobody had them: runs belong to members)
    db.session.delete(campaign)
    db.session.commit()
    return True


def sync_summary(team_id: int, campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """{campaign id: {state: members whose latest sync is in it}} for the campaign list's badges."""
    if not campaign_ids:
        return {}
    latest = (select(func.max(SyncIntent.id).label("id")).join(Enrolment, Enrolment.id == SyncIntent.enrolment_id)
              .where(SyncIntent.team_id == team_id, Enrolment.campaign_id.in_(campaign_ids))
              .group_by(SyncIntent.enrolment_id).subquery())
    rows = db.session.execute(select(Enrolment.campaign_id, SyncIntent.state, func.count())
                              .join(SyncIntent, SyncIntent.enrolment_id == Enrolment.id)
                              .where(SyncIntent.id.in_(select(latest.c.id)))
                              .group_by(Enrolment.campaign_id, SyncIntent.state)).all()
    out: dict[int, dict[str, int]] = {}
    for campaign_id, state, n in rows:
        out.setdefault(campaign_id, {})[str(state.value if hasattr(state, "value") else state)] = n
    return out


def get_campaign(team_id: int, campaign_id: int) -> Campaign | None:
    return db.session.scalars(team_query(Campaign, team_id).where(Campaign.id == campaign_id)).first()


def list_campaigns(team_id: int, archived: bool = False) -> list[tuple[Campaign, int]]:
    """The team's current (or archived) campaigns, newest first, each with its member count."""
    counts = (select(Enrolment.campaign_id, func.count().label("n")).where(Enrolment.team_id == team_id)
              .group_by(Enrolment.campaign_id).subquery())
    rows = db.session.execute(team_query(Campaign, team_id).add_columns(func.coalesce(counts.c.n, 0))
                              .outerjoin(counts, counts.c.campaign_id == Campaign.id)
                              .where(Campaign.archived_at.is_not(None) if archived else Campaign.archived_at.is_(None))
                              .order_by(Campaign.created_at.desc(), Campaign.id.desc())).all()
    return [(c, n) for c, n in rows]


MEMBER_LIMIT = 500


def members(campaign: Campaign) -> list[tuple[Enrolment, Person, SyncIntent | None]]:
    """Enrolments (newest first, at most MEMBER_LIMIT) with their person and latest sync intent."""
    rows = db.session.execute(team_query(Enrolment, campaign.team_id).add_columns(Person)
                              .join(Person, Person.id == Enrolment.person_id)
                              .where(Enrolment.campaign_id == campaign.id)
                              .order_by(Enrolment.created_at.desc(), Enrolment.id.desc()).limit(MEMBER_LIMIT)).all()
    ids = [e.id for e, _p in rows]
    latest: dict[int, SyncIntent] = {}
    if ids:
        for intent in db.session.scalars(team_query(SyncIntent, campaign.team_id)
                                         .where(SyncIntent.enrolment_id.in_(ids)).order_by(SyncIntent.id)):
            latest[intent.enrolment_id] = intent   # ascending ids: the last one wins
    return [(e, p, latest.get(e.id)) for e, p in rows]
