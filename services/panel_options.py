"""The grey arrow beside "Sync as": the campaign's sync options (job / pipeline, status on the job,
tags, lists, record status) and its advanced "Sync Override" (when to add), changeable for one
person. Only the areas the connected CRM supports are offered; the choices are the CRM's own
(`services.crm_options`, loaded by a worker and cached), pre-set from the campaign.

What the person changed is stored on their enrolment: `Enrolment.sync_options` holds only the areas
that differ from the campaign's (so a later change to the campaign still reaches the others), and
`Enrolment.sync_override` the "Add <record> to <CRM>" trigger when it differs. The worker layers
them exactly like this (services.push.context).

Locks: an area the admin locked on the campaign (`Campaign.sync_locks`, set on the campaign page) or
a trigger locked in the team's settings is shown read-only, with a lock and why, and a changed value
for it is refused (422 naming the field); the worker ignores a person's value for a locked area."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping

from marshmallow import ValidationError

from models import Campaign, Connection
from services.crm_options import cached, forget, options_for, provider_options
from sync.schemas import sync_options_schema
from sync.settings import TRIGGER_LABELS, unlocked_person_choices
from sync.types import TRIGGERS, ProviderSpec, ResolvedSettings

AREAS = (("job_id", "jobs", "Job / pipeline"), ("job_status", "jobs", "Status on the job"),
         ("tags", "tags", "Tags"), ("lists", "lists", "Lists"), ("status", "statuses", "Record status"))
MANY = ("tags", "lists")
PICKS = {"job_id": "jobs", "tags": "tags", "lists": "lists", "status": "statuses"}
FIELD_LABELS = {key: label for key, _cap, label in AREAS} | {"add_when": "When to add"}
CAMPAIGN_LOCK = "Locked by your admin for this campaign: recruiters can't change it for a person."
TEAM_LOCK = "Locked by your admin in the team's settings."


@dataclass(frozen=True)
class OptionsView:
    """What the grey arrow shows for one campaign and record type."""
    record_type: str
    areas: tuple[tuple[str, str], ...]          # (key, label) the CRM supports
    picks: Mapping[str, Any] | None             # the CRM's choices; None while loading
    campaign: Mapping[str, Any]                 # the campaign's values
    chosen: Mapping[str, Any]                   # the values to pre-select (campaign, then person)
    trigger: str                                # "Add <record> to <CRM>" now in force
    trigger_layer: str
    trigger_locked: bool                        # locked in the team's settings
    locked: frozenset[str] = frozenset()        # areas (and "add_when") the campaign locks
    triggers: tuple[tuple[str, str], ...] = tuple(TRIGGER_LABELS.items())

    def is_locked(self, key: str) -> bool:
        return key in self.locked or (key == "add_when" and self.trigger_locked)

    def lock_reason(self, key: str) -> str:
        """Why `key` is read-only ("" when it isn't)."""
        if key in self.locked:
            return CAMPAIGN_LOCK
        return TEAM_LOCK if key == "add_when" and self.trigger_locked else ""

    def names(self, key: str) -> str:
        """The chosen value(s) of `key` as the CRM names them, for a read-only area (never an id:
        until the CRM's names are loaded it says so)."""
        chosen = self.selected(key)
        if not chosen:
            return "None"
        if key not in PICKS:
            return ", ".join(chosen)        # status on the job: text, as the campaign has it
        picks = self.choices(key)
        if picks is None:
            return "Set by the campaign" if self.picks else "Loading names from the CRM…"
        by_id = dict(picks)
        return ", ".join(by_id.get(v, "(a choice the CRM no longer offers)") for v in chosen)

    @property
    def loading(self) -> bool:
        return self.picks is None

    def choices(self, key: str) -> list[list[str]] | None:
        if self.picks is None or self.picks.get("error") or PICKS.get(key) not in self.picks:
            return None
        return [[str(i), str(label)] for i, label in self.picks[PICKS[key]]]

    def selected(self, key: str) -> list[str]:
        value = self.chosen.get(key)
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def view(conn: Connection, spec: ProviderSpec, campaign: Campaign, record_type: str,
         settings: ResolvedSettings, person: Mapping[str, Any] | None = None, *,
         refresh: bool = False) -> OptionsView:
    """The options for `record_type` (queueing the CRM's pick-lists if they aren't cached)."""
    areas = tuple((key, label) for key, cap, label in AREAS if spec.supports(cap))
    if refresh:
        forget(conn.id, record_type)
    picks = options_for(conn, record_type) if areas else {}
    camp = {k: v for k, v in (campaign.sync_options or {}).items() if k in dict(areas)}
    chosen = dict(camp)
    mine, _override = unlocked_person_choices(campaign.sync_locks, person or {}, None)
    chosen.update({k: v for k, v in (mine or {}).items() if k in dict(areas)})
    sv = settings.values.get(f"add_{record_type}")
    locked = frozenset(k for k in campaign.sync_locks or () if k in dict(areas) or k == "add_when")
    return OptionsView(record_type, areas, picks, camp, chosen, str(sv.value) if sv else "never",
                       sv.layer if sv else "provider", bool(sv and sv.locked), locked)


def _values(raw: Mapping[str, Any], areas: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, _label in areas:
        value = raw.get(key)
        if key in MANY:
            items = value if isinstance(value, list) else ([] if value in (None, "") else [value])
            out[key] = [str(v).strip() for v in items if str(v).strip()]
        else:
            out[key] = str(value).strip() if value not in (None, "") else None
    return out


def parse(raw: Mapping[str, Any], *, conn: Connection, spec: ProviderSpec, crm: str, campaign: Campaign,
          record_type: str, settings: ResolvedSettings) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The person's (sync options, sync override) from submitted values, each None when nothing
    differs from the campaign. `raw`: {"job_id", "job_status", "tags": [...], "lists": [...],
    "status", "add_when"}; keys absent = the campaign's value. ValidationError names the field."""
    areas = tuple((key, label) for key, cap, label in AREAS if spec.supports(cap))
    unsupported = {k: [f"Not available for {crm}: its API doesn't support this area."]
                   for k in raw if k not in dict(areas) and k != "add_when"}
    if unsupported:
        raise ValidationError(unsupported)
    given = {k: v for k, v in _values(raw, areas).items() if k in raw}
    camp = _values(campaign.sync_options or {}, areas)
    changed = {k: v for k, v in given.items() if v != camp.get(k) and not (v in (None, []) and camp.get(k) in (None, []))}
    refused = {k: [f"{FIELD_LABELS[k]}: {CAMPAIGN_LOCK}"] for k in changed if k in (campaign.sync_locks or ())}
    if refused:
        raise ValidationError(refused)
    picks = cached(conn.id, record_type)
    if picks is None and any(v not in (None, []) for v in changed.values()):
        options_for(conn, record_type)   # queue the load the check needs
        raise ValidationError({k: [f"{crm}'s choices are still loading; try again in a moment."] for k in changed})
    try:
        sync_options_schema(spec, record_type, provider_options(crm, record_type, picks)).load(
            {k: v for k, v in changed.items() if v not in (None, [])})
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        # A list's errors come keyed by position ({0: ["Must be one of..."]}): say it plainly.
        raise ValidationError({k: [f"{FIELD_LABELS.get(k, k)}: {crm} has no such choice ({_flat(v)})."]
                               for k, v in messages.items()}) from None
    # A cleared area is stored as "" / [] so it beats the campaign's value (None would inherit it).
    options = {k: ("" if v is None else v) for k, v in changed.items()} or None
    return options, _override(raw.get("add_when"), record_type, settings, "add_when" in (campaign.sync_locks or ()))


def _override(value: Any, record_type: str, settings: ResolvedSettings,
              campaign_locked: bool) -> dict[str, Any] | None:
    if value in (None, ""):
        return None
    if value not in TRIGGERS:
        raise ValidationError({"add_when": [f"When to add: {value!r} is not one of {', '.join(TRIGGERS)}."]})
    sv = settings.values.get(f"add_{record_type}")
    if sv is None:
        raise ValidationError({"add_when": ["When to add: this CRM can't add records through its API."]})
    if value == sv.value:
        return None
    if sv.locked or campaign_locked:
        raise ValidationError({"add_when": [f"When to add: {CAMPAIGN_LOCK if campaign_locked else TEAM_LOCK}"]})
    return {f"add_{record_type}": value}


def _flat(messages: Any) -> str:
    if isinstance(messages, dict):
        return "; ".join(_flat(v) for v in messages.values())
    if isinstance(messages, list):
        return "; ".join(_flat(v) for v in messages)
    return str(messages)


def with_trigger(view_: OptionsView, trigger: str) -> OptionsView:
    """The view with the person's own "when to add" selected."""
    return replace(view_, trigger=trigger, trigger_layer="person")
