"""Turning the settings table into what the settings pages render, and a posted form back into
values: pure functions of the page's scope, its resolved settings and the CRM's cached options.

Form encoding (one row per setting key `k`): hidden `shown=k` for every editable row; checkbox
`set=k` ("set on this layer"; unchecked = inherit); the value in `v:k` (a checkbox for on/off, a
select, a multi-select), or `v:k:<sub>` selects for mappings; on the team page, checkbox `lock=k`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from werkzeug.datastructures import MultiDict

from services.settings import NEEDS_OPTIONS, Scope, usable
from sync.settings import NOTE_KINDS, TRIGGER_LABELS, UPDATE_MODE_LABELS, SettingDef
from sync.types import STANDARD_FIELDS, ResolvedSettings, SettingValue

# The seeds' order of sections; a section the table gains later goes last rather than vanishing.
SECTION_ORDER = ("Contact settings", "Adding to {crm}", "{record} fields", "Activity notes", "Contact fields",
                 "Job information", "{record} status", "Displayed company information", "Advanced settings")
SECTION_TITLES = {"Contact fields": "Contact fields mapping"}
DICT_TYPES = frozenset({"field_modes", "note_mapping", "field_mapping"})
LIST_TYPES = frozenset({"field_list", "event_kinds", "job_statuses"})
LAYER_LABELS = {"provider": "default", "team": "team", "user": "yours"}


KIND_LABELS = {"linkedin_sent": "LinkedIn message sent", "linkedin_url": "LinkedIn URL", "opted_out": "Opted out"}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind) or kind.replace("_", " ").capitalize()


@dataclass
class Row:
    key: str
    d: SettingDef
    label: str
    help: str
    sv: SettingValue
    own: Any                                  # the value on the page's layer (None = inherits)
    editable: bool
    reason: str = ""                          # why it can't be edited right now
    choices: list[tuple[str, str]] = field(default_factory=list)     # value id → label
    subkeys: list[tuple[str, str]] = field(default_factory=list)     # mapping rows: key → label
    locked_for_user: bool = False

    @property
    def dom_id(self) -> str:
        return "row-" + self.key.replace(".", "-").replace(":", "-")

    @property
    def current(self) -> Any:
        """What the control starts from: this layer's value, else the inherited one."""
        return self.own if self.own is not None else self.sv.value

    @property
    def needs_options(self) -> bool:
        return self.d.type in NEEDS_OPTIONS

    def show(self, value: Any) -> str:
        """A value in words, with the CRM's labels where known."""
        names = dict(self.choices)
        if value is None or value == [] or value == {}:
            return "None" if self.d.type != "bool" else "Off"
        if self.d.type == "bool":
            return "On" if value else "Off"
        if isinstance(value, list):
            return ", ".join(names.get(str(v), str(v)) for v in value)
        if isinstance(value, dict):
            subs = dict(self.subkeys)
            return "; ".join(f"{subs.get(k, k)} → {names.get(str(v), str(v))}" for k, v in value.items())
        return names.get(str(value), str(value))


def _choices(d: SettingDef, found: Mapping[str, Any] | None) -> tuple[list, list]:
    per = ((found or {}).get("types") or {}).get(d.record_type or "", {})
    fields = [tuple(x) for x in per.get("fields", [])]
    if d.type == "trigger":
        return list(TRIGGER_LABELS.items()), []
    if d.type == "update_mode":
        return list(UPDATE_MODE_LABELS.items()), []
    if d.type == "event_kinds":
        return [(k, kind_label(k)) for k in NOTE_KINDS], []
    if d.type == "field_list":
        area = "filterable" if d.name == "filterable_fields" else "fields"
        return [tuple(x) for x in per.get(area, [])], []
    if d.type == "field_modes":
        return list(UPDATE_MODE_LABELS.items()), fields
    if d.type == "status":
        return [tuple(x) for x in per.get("statuses", [])], []
    if d.type == "note_mapping":
        return [tuple(x) for x in per.get("note_types", [])], [(k, kind_label(k)) for k in NOTE_KINDS]
    if d.type == "field_mapping":
        return [(k, kind_label(k)) for k in STANDARD_FIELDS], fields
    if d.type == "job_statuses":
        return [tuple(x) for x in (found or {}).get("job_statuses", [])], []
    return [], []


def sections(scope: Scope, settings: ResolvedSettings, own: Mapping[str, Any], found: Mapping[str, Any] | None,
             draft: Mapping[str, Any] | None = None) -> list[tuple[str, list[Row]]]:
    """The page's rows grouped by the seeds' sections, in the CRM's vocabulary. `draft` holds a
    rejected form's values so the page re-renders what the user typed."""
    ready = usable(found)
    grouped: dict[tuple[int, int, str], list[Row]] = {}
    for key, d in scope.definitions().items():
        record = scope.record_label(d.record_type)
        choices, subkeys = _choices(d, found)
        sv = settings.values[key]
        locked = scope.user_id is not None and sv.locked
        value = own.get(key)
        if draft is not None and key in draft:
            value = draft[key]
        reason = ""
        if locked:
            reason = "Locked by your admin."
        elif d.type in NEEDS_OPTIONS and not ready:
            reason = (f"Needs the options from {scope.crm}." if not found
                      else f"Couldn't read {scope.crm}: {found.get('error')}.")
        label = d.label_for(scope.crm, record)
        per_type_section = "{record}" in d.section
        if d.per_record_type and not per_type_section and "{record}" not in d.label:
            label = f"{label} · {record}"      # e.g. the note mapping "tab" of each record type
        row = Row(key, d, label, d.help_for(scope.crm, record), sv, value,
                  editable=not reason, reason=reason, choices=choices, subkeys=subkeys, locked_for_user=locked)
        # A CRM whose record type is "Contact" would merge "Contact fields" (its fields) with the
        # field-mapping section of the same name; the seeds call the latter the fields mapping.
        title = SECTION_TITLES.get(d.section) or d.section_for(scope.crm, record)
        template_pos = SECTION_ORDER.index(d.section) if d.section in SECTION_ORDER else len(SECTION_ORDER)
        rt_pos = scope.spec.record_types.index(d.record_type) if d.record_type and per_type_section else 0
        grouped.setdefault((template_pos, rt_pos, title), []).append(row)
    return [(title, rows) for (_, _, title), rows in sorted(grouped.items())]


def parse_form(scope: Scope, form: MultiDict) -> tuple[dict[str, Any], list[str], list[str] | None]:
    """(values by key (None = inherit), shown keys, locks or None on a personal page)."""
    from sync.settings import setting_key_universe

    universe = setting_key_universe(scope.spec.record_types)
    shown = [k for k in form.getlist("shown") if k][:200]
    chosen = set(form.getlist("set"))
    values: dict[str, Any] = {}
    for key in shown:
        if key not in chosen:
            values[key] = None
            continue
        d = universe.get(key)
        kind = d.type if d else None
        if kind == "bool":
            values[key] = form.get(f"v:{key}") in ("on", "true", "1")
        elif kind in LIST_TYPES:
            values[key] = [v for v in form.getlist(f"v:{key}") if v]
        elif kind in DICT_TYPES:
            prefix = f"v:{key}:"
            values[key] = {k[len(prefix):]: v for k, v in form.items(multi=True) if k.startswith(prefix) and v}
        else:
            # An empty pick with "set" ticked is refused by the schema, not silently inherited.
            values[key] = form.get(f"v:{key}", "")
    locks = [k for k in form.getlist("lock") if k] if scope.user_id is None else None
    return values, shown, locks
