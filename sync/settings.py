"""Every integration setting of DESIGN §4, and the layered resolver.

`SETTINGS` is the single table: the settings pages render from it, `sync.schemas` validates against
it, and the planner reads the resolved values. A setting applies to a CRM when the CRM declares every
capability it `requires` (the "providers" column of DESIGN §4, expressed as capabilities so a CRM
that gains e.g. note types gets note mapping without touching this table).

Resolution (DESIGN §4), later wins: provider defaults → team → user's personal defaults → campaign
(its advanced "sync override", e.g. {"add_candidate": "reply"}) → the person's override from the
extension. A key the admin locked on the team layer can't be overridden by user, campaign or person.
Example::

    defs = definitions_for(ProviderSpec("cats", ("candidate", "contact"), caps))
    s = resolve(defs, {"team": {"update_mode.candidate": "always"},
                       "campaign": {"add_candidate": "reply"}}, locks=["update_mode.candidate"])
    s.values["add_candidate"]          # SettingValue("reply", "campaign", False)
    s.values["update_mode.candidate"]  # SettingValue("always", "team", True)
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping

from sync.types import LAYERS, ProviderSpec, ResolvedSettings, SettingValue

UPDATE_MODES: tuple[str, ...] = ("always", "if_blank")
TRIGGER_LABELS = {"added": "When added to the campaign", "reply": "When they reply",
                  "interested": "When they are interested", "never": "Never"}
UPDATE_MODE_LABELS = {"always": "Always update", "if_blank": "Only update if blank"}
# Outreach kinds that can become CRM notes ("Create new notes from"), and the default selection.
NOTE_KINDS: tuple[str, ...] = ("added", "email_sent", "linkedin_sent", "call", "reply", "interested",
                               "not_interested", "bounced", "opted_out")
DEFAULT_NOTE_SOURCES: tuple[str, ...] = ("email_sent", "linkedin_sent", "call", "reply", "interested",
                                         "not_interested")


@dataclass(frozen=True)
class SettingDef:
    """One setting. `label` is the seed's wording ({crm} and {record} are filled per provider);
    `options` names the option list values are checked against (see sync.schemas.ProviderOptions).

    type: bool | trigger | update_mode | field_list | field_modes | status | event_kinds |
          note_mapping | field_mapping | job_statuses"""
    name: str
    label: str
    help: str
    type: str
    default: Any
    section: str
    per_record_type: bool = False
    requires: frozenset[str] = frozenset()
    record_type: str | None = None          # filled in by definitions_for for per-record-type settings
    group: str = ""                         # the sub-heading within its section, in the seeds' words

    @property
    def key(self) -> str:
        if not self.per_record_type:
            return self.name
        if self.name == "add":
            return f"add_{self.record_type}"
        return f"{self.name}.{self.record_type}"

    def applies_to(self, spec: ProviderSpec) -> bool:
        return self.requires <= spec.capabilities

    def label_for(self, crm: str, record: str = "") -> str:
        return self.label.format(crm=crm, record=record)

    def help_for(self, crm: str, record: str = "") -> str:
        return self.help.format(crm=crm, record=record)

    def section_for(self, crm: str, record: str = "") -> str:
        return self.section.format(crm=crm, record=record)


def _s(name: str, label: str, help: str, type: str, default: Any, section: str, *,
       per_type: bool = False, requires: Iterable[str] = (), group: str = "") -> SettingDef:
    return SettingDef(name, label, help, type, default, section, per_type, frozenset(requires), group=group)


SETTINGS: tuple[SettingDef, ...] = (
    _s("sync_manual_updates", "Sync manual contact updates to {crm}",
       "When someone on your team edits a person's name, company, role, location or other fields "
       "in Shoal, send the change to the record they are linked to in {crm}.",
       "bool", False, "Contact Settings", requires=("update",)),
    _s("block_off_limits", "Block emails to recipients marked as off-limits",
       "Don't send campaign emails to people {crm} marks as off-limits or opted out; the step "
       "shows as blocked with the reason.", "bool", True, "Contact Settings", requires=("off_limits",)),
    _s("add", "Add {record} to {crm}",
       "When this record type is created or updated in {crm}: as soon as the person is added to a "
       "campaign, when they reply, when they reply positively, or never.",
       "trigger", "added", "Adding to {crm}", per_type=True, requires=("create",)),
    _s("only_notes_to_synced", "Only add notes to synced records",
       "Activity notes only go to people already added to {crm} by Shoal; notes from before that "
       "wait and are added, in order, once the record is created.",
       "bool", False, "Adding to {crm}", requires=("notes",)),
    _s("displayed_fields", "Displayed Fields",
       "{crm} fields your team may fill in for a {record} in the extension before pushing.",
       "field_list", [], "{record} Fields", per_type=True),
    _s("mandatory_fields", "Mandatory Fields",
       "{crm} fields that must be filled before a {record} is pushed. A push missing any waits, "
       "naming the fields, and goes once they are filled.",
       "field_list", [], "{record} Fields", per_type=True),
    _s("update_mode", "Update field in {crm}",
       "Always update overwrites what {crm} holds with Shoal's value. Only update if blank writes a "
       "field only when it is empty in {crm}. An empty value in Shoal never clears a {crm} field.",
       "update_mode", "if_blank", "{record} Fields", per_type=True, requires=("update",)),
    _s("update_mode_fields", "Update field in {crm}: per-field exceptions",
       "Fields that use a different update rule from the one above.",
       "field_modes", {}, "{record} Fields", per_type=True, requires=("update",)),
    _s("default_status", "Default Status",
       "The {crm} status new {record} records are created with.",
       "status", None, "{record} Status", per_type=True, requires=("statuses",)),
    _s("filterable_fields", "Filterable Fields",
       "{crm} fields offered as filters when your team searches {crm} from Shoal.",
       "field_list", [], "Advanced Settings", per_type=True, requires=("search",)),
    _s("note_sources", "Create new notes from",
       "Which outreach activities add a note to the person's record in {crm}.",
       "event_kinds", list(DEFAULT_NOTE_SOURCES), "Activity Notes", requires=("notes",),
       group="Note creation"),
    _s("note_mapping", "Note mapping",
       "The {crm} note type each activity's note is filed under. Unmapped activities still create "
       "a note, just without a type.",
       "note_mapping", {}, "Activity Notes", per_type=True, requires=("notes", "note_types"),
       group="Note mapping"),
    _s("field_mapping", "Contact Fields",
       "Which Shoal value fills each {crm} field. Only change this if values land in the wrong "
       "{crm} field.", "field_mapping", {}, "Contact Fields", per_type=True),
    _s("job_status_whitelist", "Job status whitelist",
       "Only jobs in these statuses are offered when choosing a job to add people to. Empty: all.",
       "job_statuses", [], "General Settings", requires=("jobs",),
       group="Job Information"),
    _s("company_info", "Displayed company info",
       "Show details of the matching {crm} company in the extension.",
       "bool", True, "General Settings", requires=("company_search",),
       group="Displayed Company Information"),
    _s("company_warning", "Displayed company warning",
       "Warn in the extension when {crm} holds similarly named companies that may be duplicates.",
       "bool", True, "General Settings", requires=("company_search",),
       group="Displayed Company Information"),
    _s("keep_original_cv", "Don't overwrite original CV in {crm}",
       "If the person already has a CV in {crm}, don't upload a new one.",
       "bool", True, "Advanced Settings", requires=("cv",)),
)

BY_NAME: dict[str, SettingDef] = {d.name: d for d in SETTINGS}


def definitions_for(spec: ProviderSpec) -> dict[str, SettingDef]:
    """The settings that exist for one CRM, keyed by setting key (per-record-type ones expanded)."""
    out: dict[str, SettingDef] = {}
    for d in SETTINGS:
        if not d.applies_to(spec):
            continue
        if d.per_record_type:
            for rt in spec.record_types:
                bound = replace(d, record_type=rt)
                out[bound.key] = bound
        else:
            out[d.key] = d
    return out


def setting_key_universe(record_types: Iterable[str]) -> dict[str, SettingDef]:
    """Every key any CRM could have for these record types (to tell "unsupported" from "unknown")."""
    everything = ProviderSpec("*", tuple(record_types), frozenset().union(*(d.requires for d in SETTINGS)))
    return definitions_for(everything)


def resolve(definitions: Mapping[str, SettingDef], layers: Mapping[str, Mapping[str, Any] | None],
            locks: Iterable[str] = ()) -> ResolvedSettings:
    """Layer the values of every defined setting and say where each came from.

    `layers` maps layer name (sync.types.LAYERS) → {setting key: value}; a missing layer, a missing
    key or a None value means "inherit". Keys not in `definitions` (unsupported by this CRM) are
    ignored. `locks` are keys the admin locked: only the provider default or the team value counts
    for them, and the result is flagged `locked` (the UI shows it read-only)."""
    unknown = set(layers) - set(LAYERS)
    if unknown:
        raise ValueError(f"unknown settings layer(s): {sorted(unknown)}")
    locked = set(locks)
    resolved: dict[str, SettingValue] = {}
    for key, d in definitions.items():
        value, layer = _copy(d.default), "provider"
        for name in LAYERS:
            if key in locked and LAYERS.index(name) > LAYERS.index("team"):
                break
            values = layers.get(name) or {}
            if values.get(key) is not None:
                value, layer = values[key], name
        resolved[key] = SettingValue(value, layer, key in locked)
    return ResolvedSettings(resolved)


def _copy(v: Any) -> Any:
    # Defaults are shared module data; hand out copies so a caller mutating a list can't change them.
    if isinstance(v, list):
        return list(v)
    if isinstance(v, dict):
        return dict(v)
    return v


def trigger_label(trigger: str) -> str:
    return TRIGGER_LABELS.get(trigger, trigger)



# The areas of a campaign's sync options an admin can lock for recruiters (Campaign.sync_locks):
# the grey arrow's job, status on the job, tags, lists, record status, and its Sync Override.
CAMPAIGN_LOCKABLE: tuple[str, ...] = ("job_id", "job_status", "tags", "lists", "status", "add_when")


def unlocked_person_choices(locks: Iterable[str] | None, options: Mapping[str, Any] | None,
                            override: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A person's own (sync options, Sync Override) without the areas their campaign locks.

    A lock beats a value stored for the person before the admin set it: the campaign's value (or
    the team's trigger) applies, so the worker, the panel and the person page read the same thing."""
    locked = set(locks or ())
    kept = {k: v for k, v in (options or {}).items() if k not in locked} if options is not None else None
    if override is None or "add_when" not in locked:
        return kept, dict(override) if override is not None else None
    return kept, {k: v for k, v in override.items() if not k.startswith("add_")}
