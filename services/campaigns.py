"""Campaigns: creation from the web form (name, type, "Sync as", "Add to CRM when", sync options)
and the member list with each member's latest sync intent.

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
from models import Campaign, Enrolment, Person, SyncIntent, User, team_query
from providers import get_provider
from providers.base import Provider
from providers.errors import NotSupported
from services.connections import active_connection
from services.crm_options import cached, provider_options
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


class CampaignForm(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = fields.String(load_default="outreach", validate=validate.OneOf(list(CAMPAIGN_TYPES)))
    sync_as = fields.String(load_default="none", validate=validate.Length(max=40))
    add_when = fields.String(load_default="added", validate=validate.OneOf(TRIGGERS))


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


def create_campaign(user: User, form: Mapping[str, Any]) -> Campaign:
    """Validate the form against the active CRM and create the campaign. ValidationError: nothing written.

    `form` may be a MultiDict (tags and lists come from multi-selects once the CRM's pick-lists are
    loaded); values are checked against those pick-lists when they are cached."""
    raw = _clean(form)
    data = CampaignForm().load({k: raw[k] for k in ("name", "type", "sync_as", "add_when") if k in raw})
    choices = crm_choices(user.team_id)
    sync_as, options, override = data["sync_as"], {}, {}
    if sync_as != "none":
        if choices.spec is None:
            raise ValidationError({"sync_as": ["Connect a CRM on the Integrations page before syncing a campaign."]})
        crm = choices.provider.display_name  # type: ignore[union-attr]
        validate_sync_as(choices.spec, sync_as, crm)
        override = sync_override_schema(choices.spec, crm).load({f"add_{sync_as}": data["add_when"]})
        opts: dict[str, Any] = {}
        for key, _label in choices.option_inputs:
            if key in ("tags", "lists"):
                if many_values(form, key):
                    opts[key] = many_values(form, key)
            elif key in raw:
                opts[key] = raw[key]
        conn = active_connection(user.team_id)
        known = provider_options(crm, sync_as, cached(conn.id, sync_as) if conn else None)
        try:
            options = sync_options_schema(choices.spec, sync_as, known).load(opts)
        except ValidationError as exc:
            raise ValidationError(exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages})
        options = {k: v for k, v in options.items() if v not in (None, [], "")}
    campaign = Campaign(team_id=user.team_id, owner_id=user.id, name=data["name"], type=data["type"],
                        sync_as=sync_as, sync_options=options, sync_override=override)
    db.session.add(campaign)
    db.session.commit()
    return campaign


def get_campaign(team_id: int, campaign_id: int) -> Campaign | None:
    return db.session.scalars(team_query(Campaign, team_id).where(Campaign.id == campaign_id)).first()


def list_campaigns(team_id: int) -> list[tuple[Campaign, int]]:
    """The team's campaigns, newest first, each with its member count."""
    counts = (select(Enrolment.campaign_id, func.count().label("n")).where(Enrolment.team_id == team_id)
              .group_by(Enrolment.campaign_id).subquery())
    rows = db.session.execute(team_query(Campaign, team_id).add_columns(func.coalesce(counts.c.n, 0))
                              .outerjoin(counts, counts.c.campaign_id == Campaign.id)
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
