"""Everything the panel shows and checks for one person, campaign and "Sync as", in one place: the
record type the person will be synced as, the settings in force for them (with their own Sync
Override), the grey arrow's options, the Displayed / Mandatory Fields with the person's values,
the company decision, and which mandatory fields are still empty.

The extras fragment, the preview and Add all build it the same way (`build`), so what the panel
offers, what the preview says and what Add stores can't disagree; the worker resolves the same
layers (services.push.context). Nothing here calls a CRM: the CRM's choices, fields and companies
come from caches filled by workers (services.crm_options, services.panel_lookup); while one is
loading the panel polls, and Add refuses values it cannot check yet rather than store them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from flask import g, has_request_context
from marshmallow import ValidationError

from core import db
from models import Campaign, Connection, Person, User
from providers import get_provider
from providers.base import Capability, Provider
from providers.errors import NotSupported
from services import panel_fields as pf
from services import panel_lookup, panel_options
from services.connections import active_connection
from services.panel_company import CompanyDecision, decide
from services.people import PROFILE_FIELDS, PersonConflict, find_person
from services.push.context import provider_spec, resolve_settings, settings_layers
from sync.fields import missing_mandatory, outgoing_fields
from sync.planner import resolve_target
from sync.types import PersonInfo, ProviderSpec, ResolvedSettings, Target


@dataclass
class Extras:
    """What the panel sent beyond the profile. None = that part wasn't shown (inherit / keep)."""
    options: dict[str, Any] | None = None      # {"job_id", "job_status", "tags", "lists", "status", "add_when"}
    fields: dict[str, Any] | None = None       # {CRM field key: raw value(s)}
    company_choice: str | None = None          # the CRM company name the recruiter picked


@dataclass
class PanelState:
    user: User
    campaign: Campaign
    profile: dict[str, Any]
    conn: Connection | None = None
    provider: type[Provider] | None = None
    spec: ProviderSpec | None = None
    person: Person | None = None
    record_type: str | None = None
    target: Target | None = None
    settings: ResolvedSettings | None = None
    options: panel_options.OptionsView | None = None
    person_options: dict[str, Any] | None = None
    person_override: dict[str, Any] | None = None
    field_defs: list[dict[str, Any]] | None = None
    fields: list[pf.PanelField] = field(default_factory=list)
    field_values: dict[str, Any] = field(default_factory=dict)   # parsed from the form
    extra: dict[str, Any] = field(default_factory=dict)          # the person's extra after this form
    company: CompanyDecision | None = None
    company_loading: bool = False
    company_info: bool = False
    company_warning: bool = False
    missing: tuple[str, ...] = ()
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def crm(self) -> str:
        return self.provider.display_name if self.provider else "the CRM"

    @property
    def labels(self) -> dict[str, str]:
        return {**{f.key: f.label for f in self.fields}, **pf.labels(self.field_defs)}

    @property
    def missing_labels(self) -> list[str]:
        return pf.missing_labels(self.missing, self.labels)

    @property
    def trigger(self) -> str:
        return self.settings.trigger(self.record_type) if self.settings and self.record_type else "never"

    @property
    def loading(self) -> bool:
        return bool(self.record_type) and (
            (self.options is not None and self.options.loading and bool(self.options.areas))
            or (self.field_defs is None and bool(self.fields)) or self.company_loading)

    def person_info(self) -> PersonInfo:
        """Our values as the worker will read them: the stored person's, blanks filled from the
        profile (as `find_or_create_person` does), a chosen company, and the CRM field values."""
        values = {k: (getattr(self.person, k, None) if self.person else None) or self.profile.get(k)
                  for k in PROFILE_FIELDS}
        if self.company and self.company.chosen and self.company.exact:
            values["company"] = self.company.exact["name"]
        return PersonInfo(**values, extra=dict(self.extra))


def known_person(team_id: int, profile: Mapping[str, Any]) -> Person | None:
    """The team's Person this profile would be deduplicated onto (email or LinkedIn URL), if any.
    For showing only: when the email and the LinkedIn URL are two people's, the email's is shown
    (Add and Preview refuse that profile, `build(strict=True)`)."""
    try:
        return find_person(team_id, profile)
    except PersonConflict as conflict:
        return conflict.by_email


def provider_for(team_id: int) -> tuple[Connection | None, type[Provider] | None]:
    """(the team's active connection, its provider class): (None, None) with no CRM, and (conn,
    None) for a provider disabled in config (the panel still works, without "Sync as"). Read once
    per web request: the card, its match, the options and Add each ask, and no panel route
    changes the connection."""
    memo = g.get("shoal_panel_provider") if has_request_context() else None
    if memo is not None and memo[0] == team_id:
        return memo[1], memo[2]
    conn, provider = active_connection(team_id), None
    if conn is not None:
        try:
            provider = get_provider(conn.provider_key)
        except NotSupported:
            pass
    if has_request_context():
        g.shoal_panel_provider = (team_id, conn, provider)
    return conn, provider


def build(user: User, campaign: Campaign, profile: dict[str, Any], sync_as: str | None, extras: Extras,
          *, strict: bool, view: bool = True) -> PanelState:
    """The panel's state for these inputs. `strict` (Preview, Add): a bad value raises
    ValidationError naming the field; otherwise (rendering) errors are kept in `.errors`.
    `view=False` (Add, which shows none of it): the chosen options are checked but the grey
    arrow's choices (every job, tag and list of the CRM) are not laid out (`.options` stays None)."""
    assert campaign.team_id == user.team_id
    st = PanelState(user, campaign, dict(profile))
    st.conn, st.provider = provider_for(user.team_id)
    # Strict: the profile's email and LinkedIn URL must be one person's (PersonConflict, before any write).
    st.person = find_person(user.team_id, profile) if strict else known_person(user.team_id, profile)
    st.extra = dict(st.person.extra or {}) if st.person else {}
    if st.conn is None or st.provider is None:
        return st
    st.spec = spec = provider_spec(st.provider)
    st.record_type = resolve_target(campaign.sync_as, {}, sync_as, None, spec.record_types).record_type
    layers = settings_layers(user.team_id, user.id, spec.key)
    base = resolve_settings(user.team_id, user.id, spec, campaign.sync_override or {}, layers=layers)
    rt = st.record_type
    if rt is not None:
        _options(st, base, extras, strict, view)
    st.settings = resolve_settings(user.team_id, user.id, spec, campaign.sync_override or {}, st.person_override,
                                   layers=layers)
    st.target = resolve_target(campaign.sync_as, campaign.sync_options or {}, sync_as, st.person_options,
                               spec.record_types)
    if rt is not None:
        _fields(st, extras, strict)
    _company(st, extras, strict)
    if rt is not None and st.trigger != "never":
        st.missing = missing_mandatory(outgoing_fields(st.person_info(), st.settings, rt), st.settings, rt)
    return st


def _fail(st: PanelState, exc: ValidationError, strict: bool) -> None:
    if strict:
        raise exc
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    for key, value in messages.items():
        st.errors.setdefault(str(key), []).extend(value if isinstance(value, list) else [str(value)])


def _options(st: PanelState, base: ResolvedSettings, extras: Extras, strict: bool, view: bool) -> None:
    assert st.conn and st.spec and st.record_type
    submitted = extras.options
    if submitted is not None:
        try:
            st.person_options, st.person_override = panel_options.parse(
                submitted, conn=st.conn, spec=st.spec, crm=st.crm, campaign=st.campaign,
                record_type=st.record_type, settings=base)
        except ValidationError as exc:
            _fail(st, exc, strict)
    if not view:
        return
    shown = dict(st.person_options or {})
    if submitted is not None and st.errors:   # show what they chose, even if it was refused
        shown = {k: v for k, v in submitted.items() if k != "add_when"}
    st.options = panel_options.view(st.conn, st.spec, st.campaign, st.record_type, base, shown)
    if st.person_override:
        st.options = panel_options.with_trigger(st.options, st.person_override[f"add_{st.record_type}"])


def _fields(st: PanelState, extras: Extras, strict: bool) -> None:
    assert st.conn and st.settings and st.record_type and st.provider
    displayed, mandatory = pf.field_keys(st.settings, st.record_type)
    if not any(k not in PROFILE_FIELDS for k in displayed + mandatory):
        st.field_defs = []
    elif st.provider.supports(Capability.FIELDS):
        found = panel_lookup.cached("fields", st.conn, {"record_type": st.record_type})
        st.field_defs = None if found is None else list(found.get("fields") or [])
    else:
        st.field_defs = []
    st.fields = pf.panel_fields(st.field_defs, st.settings, st.record_type, st.extra)
    submitted = {k: v for k, v in (extras.fields or {}).items()}
    if not submitted:
        return
    if st.field_defs is None and any(pf.coerce(pf.PanelField(k, k, "text", (), False, None), v) is not None
                                     for k, v in submitted.items() if k in {f.key for f in st.fields}):
        _fail(st, ValidationError({k: [f"{st.crm}'s field list is still loading; try again in a moment."]
                                   for k in submitted}), strict)
        return
    try:
        st.field_values = pf.parse_values(st.fields, submitted)
    except ValidationError as exc:
        _fail(st, exc, strict)
        st.field_values = {}
    st.extra, _changed = pf.merge_extra(st.extra, st.field_values)
    st.fields = pf.panel_fields(st.field_defs, st.settings, st.record_type, st.extra)


def _company(st: PanelState, extras: Extras, strict: bool) -> None:
    assert st.conn and st.settings and st.provider
    if not st.provider.supports(Capability.COMPANY_SEARCH):
        return
    st.company_info = st.settings.flag("company_info")
    st.company_warning = st.settings.flag("company_warning")
    name = (st.profile.get("company") or (st.person.company if st.person else None) or "").strip()
    if not name or not (st.company_info or st.company_warning):
        return
    found = panel_lookup.cached("company", st.conn, {"name": name.lower()})
    st.company_loading = found is None
    rows = list((found or {}).get("companies") or [])
    choice = (extras.company_choice or "").strip()
    if choice:
        picked = next((c for c in rows if c.get("name") == choice), None)
        if picked is None:
            _fail(st, ValidationError({"company_choice": [
                f"Company: {choice!r} is not one of the {st.crm} companies offered for {name!r}."]}), strict)
        else:
            st.company = decide(choice, rows, chosen=True)
            return
    st.company = decide(name, rows)
