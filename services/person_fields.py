"""The CRM fields of a person on their Shoal page: the admin's Displayed and Mandatory Fields of
every record type the person's campaigns sync them as, with their values (Person.extra), and
which pushes are waiting for a mandatory one (rule 4).

Saving checks each value against its CRM field's type (services.panel_fields), keeps them on the
person and records ONE `manual_update` event with the changed keys: the runtime wakes the person's
intents waiting on mandatory fields once that edit is processed, so a push that waited goes as
soon as the fields are filled; with "Sync manual contact updates" on, the values are also written
to the linked record (rule 8)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from marshmallow import ValidationError

from core import db
from models import Connection, Person, SyncIntent, User, team_query
from providers import get_provider
from providers.base import Capability, Provider
from providers.errors import NotSupported
from services import panel_fields as pf
from services import panel_lookup
from services.connections import active_connection
from services.enrolments import record_event
from services.people_edits import latest_enrolment, person_campaigns
from services.push.context import provider_spec, resolve_settings
from sync.planner import resolve_target
from sync.settings import unlocked_person_choices


@dataclass
class PersonFields:
    connection: Connection | None = None
    provider: type[Provider] | None = None
    fields: list[pf.PanelField] = field(default_factory=list)
    loading: bool = False
    waiting: list[SyncIntent] = field(default_factory=list)

    @property
    def crm(self) -> str:
        return self.provider.display_name if self.provider else "the CRM"

    def reason(self, intent: SyncIntent) -> str:
        """The intent's reason with CRM field keys ("custom:12") named by their CRM labels."""
        text = intent.reason or ""
        for f in sorted(self.fields, key=lambda f: -len(f.key)):
            text = text.replace(f.key, f.label)
        return text


def _record_types(person: Person, provider: type[Provider]) -> list[tuple[str, Any, Any]]:
    """(record type, enrolment, campaign) for each record type the person is synced as."""
    rts = tuple(rt.key for rt in provider.record_types)
    seen: dict[str, tuple[str, Any, Any]] = {}
    for enrolment, campaign in person_campaigns(person):
        rt = resolve_target(campaign.sync_as, {}, enrolment.sync_as, None, rts).record_type
        if rt and rt not in seen:
            seen[rt] = (rt, enrolment, campaign)
    return list(seen.values())


def person_fields(user: User, person: Person, values: Mapping[str, Any] | None = None) -> PersonFields:
    """The fields to show (values from `values` when re-showing a refused form, else the person's)."""
    out = PersonFields(active_connection(person.team_id))
    if out.connection is None:
        return out
    try:
        out.provider = get_provider(out.connection.provider_key)
    except NotSupported:
        return out
    spec = provider_spec(out.provider)
    current = dict(person.extra or {}) | dict(values or {})
    by_key: dict[str, pf.PanelField] = {}
    for rt, enrolment, campaign in _record_types(person, out.provider):
        _opts, own = unlocked_person_choices(campaign.sync_locks, None, enrolment.sync_override or {})
        settings = resolve_settings(person.team_id, enrolment.added_by_id, spec, campaign.sync_override or {}, own)
        defs: list[dict[str, Any]] | None = []
        displayed, mandatory = pf.field_keys(settings, rt)
        if out.provider.supports(Capability.FIELDS) and any(k not in pf.STANDARD_FIELDS for k in displayed + mandatory):
            found = panel_lookup.cached("fields", out.connection, {"record_type": rt})
            defs = None if found is None else list(found.get("fields") or [])
            out.loading = out.loading or defs is None
        for f in pf.panel_fields(defs, settings, rt, current):
            if f.key not in by_key or f.mandatory:
                by_key[f.key] = f
    out.fields = list(by_key.values())
    out.waiting = list(db.session.scalars(team_query(SyncIntent, person.team_id).where(
        SyncIntent.person_id == person.id, SyncIntent.connection_id == out.connection.id,
        SyncIntent.state == "waiting").order_by(SyncIntent.id)))
    return out


def save(user: User, person: Person, submitted: Mapping[str, Any]) -> dict[str, Any]:
    """Check and keep the submitted values; one manual_update event when something changed.
    Returns the changed keys. ValidationError (nothing written) names a bad field."""
    assert person.team_id == user.team_id
    shown = person_fields(user, person)
    if shown.loading:
        raise ValidationError({k: [f"{shown.crm}'s field list is still loading; try again in a moment."]
                               for k in submitted} or {"_schema": ["Still loading."]})
    parsed = pf.parse_values(shown.fields, submitted)
    merged, changed = pf.merge_extra(person.extra, parsed)
    if not changed:
        return {}
    person.extra = merged
    enrolment = latest_enrolment(person)
    if enrolment is None:
        db.session.commit()
        return changed
    record_event(enrolment, "manual_update", data=changed, created_by_id=user.id)
    return changed
