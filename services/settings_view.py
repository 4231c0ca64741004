"""Turning the settings table into the sections the integration page renders, and a posted section
back into values: pure functions of the page's scope, its resolved settings and the CRM's options.

Sections follow the articles' order and words (DESIGN §4, the seeds): Contact Settings · Adding to
<CRM> · <Record type> Fields · <Record type> Status · Advanced Settings · Activity Notes · Contact
Fields · General Settings. Each section is its own form, saved on its own (a "partial-page save":
all of its rows or none). Activity Notes and Contact Fields show one record type at a time (tabs).

Form encoding (one row per setting key `k`): hidden `shown=k` for every editable row; the value in
`v:k` (a checkbox for on/off, a select, a multi-select) or `v:k:<sub>` selects for mappings;
checkbox `inherit=k` ("use the team's value" / "use Shoal's default") on rows set at this layer;
on the team page, checkbox `lock=k`. A value the user changed is set; a value left as inherited
stays inherited (there is no separate "set" box to forget)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from werkzeug.datastructures import MultiDict

from services.settings import NEEDS_OPTIONS, Scope, usable
from sync.ops import humanize
from sync.settings import NOTE_KINDS, TRIGGER_LABELS, UPDATE_MODE_LABELS, SettingDef
from sync.types import STANDARD_FIELDS, ResolvedSettings, SettingValue

# The articles' order of sections; a section the table gains later goes last rather than vanishing.
SECTION_ORDER = ("Contact Settings", "Adding to {crm}", "{record} Fields", "{record} Status",
                 "Advanced Settings", "Activity Notes", "Contact Fields", "General Settings")
SECTION_IDS = {"Contact Settings": "contact", "Adding to {crm}": "adding", "{record} Fields": "fields",
               "{record} Status": "status", "Advanced Settings": "advanced", "Activity Notes": "notes",
               "Contact Fields": "mapping", "General Settings": "general"}
# Sections whose per-record-type rows show one record type at a time.
TABBED = frozenset({"Activity Notes", "Contact Fields"})
DICT_TYPES = frozenset({"field_modes", "note_mapping", "field_mapping"})
LIST_TYPES = frozenset({"field_list", "event_kinds", "job_statuses"})

KIND_LABELS = {"linkedin_sent": "LinkedIn message sent", "linkedin_url": "LinkedIn URL", "opted_out": "Opted out"}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind) or humanize(kind)


def row_dom_id(key: str) -> str:
    """A setting row's stable element id (its messages slot is this + "-errors")."""
    return "row-" + key.replace(".", "-").replace(":", "-")


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
        return row_dom_id(self.key)

    @property
    def current(self) -> Any:
        """What the control starts from: this layer's value, else the inherited one."""
        return self.own if self.own is not None else self.sv.value

    @property
    def needs_options(self) -> bool:
        return self.d.type in NEEDS_OPTIONS

    def source(self, which: str) -> str:
        """Where the value comes from, in words: set here, inherited from the team, or the default."""
        if self.own is not None and not self.locked_for_user:
            return "set for the team" if which == "team" else "set for you"
        if which == "mine" and self.sv.layer == "team":
            return "inherited from team"
        return "Shoal's default"

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


@dataclass
class Section:
    """One section form of the page. `groups` are (sub-heading or "", rows) in table order."""
    id: str
    title: str
    groups: list[tuple[str, list[Row]]]
    tabs: list[tuple[str, str]] = field(default_factory=list)        # record type → label
    tab: str | None = None

    @property
    def rows(self) -> list[Row]:
        return [r for _, rows in self.groups for r in rows]

    @property
    def editable(self) -> bool:
        return any(r.editable for r in self.rows)


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


def _row(scope: Scope, key: str, d: SettingDef, settings: ResolvedSettings, own: Mapping[str, Any],
         found: Mapping[str, Any] | None, draft: Mapping[str, Any] | None, tabbed: bool) -> Row:
    record = scope.record_label(d.record_type)
    choices, subkeys = _choices(d, found)
    sv = settings.values[key]
    locked = scope.user_id is not None and sv.locked
    value = draft[key] if draft is not None and key in draft else own.get(key)
    reason = ""
    if locked:
        reason = "Locked by your admin."
    elif d.type in NEEDS_OPTIONS and not usable(found):
        reason = (f"Needs the options from {scope.crm}." if not found
                  else f"Couldn't read {scope.crm}: {found.get('error')}.")
    label = d.label_for(scope.crm, record)
    if d.per_record_type and "{record}" not in d.section and "{record}" not in d.label and not tabbed:
        label = f"{label} · {record}"      # e.g. Filterable Fields · Candidate, under Advanced Settings
    return Row(key, d, label, d.help_for(scope.crm, record), sv, value, editable=not reason, reason=reason,
               choices=choices, subkeys=subkeys, locked_for_user=locked)


def section_id(d: SettingDef) -> str:
    base = SECTION_IDS.get(d.section) or re.sub(r"[^a-z0-9]+", "-", d.section.lower()).strip("-")
    return f"{base}-{d.record_type}" if "{record}" in d.section and d.record_type else base


def sections(scope: Scope, settings: ResolvedSettings, own: Mapping[str, Any], found: Mapping[str, Any] | None,
             draft: Mapping[str, Any] | None = None, tabs: Mapping[str, str] | None = None,
             only: str | None = None) -> list[Section]:
    """The page's sections in the articles' order, in the CRM's vocabulary. `draft` holds a rejected
    form's values so the page re-renders what the user typed; `tabs` the record type shown by each
    tabbed section (default: the first); `only` builds one section."""
    rts = scope.spec.record_types
    labels = [(rt, scope.record_label(rt)) for rt in rts]
    built: dict[str, tuple[tuple[int, int], Section]] = {}
    for key, d in scope.definitions().items():
        sid = section_id(d)
        if only is not None and sid != only:
            continue
        tabbed = d.section in TABBED and d.per_record_type and len(rts) > 1
        if sid not in built:
            record = scope.record_label(d.record_type)
            title = d.section_for(scope.crm, record)
            if d.section == "Contact Fields" and any(lbl == "Contact" for _, lbl in labels):
                title = "Contact Fields mapping"     # not to be confused with the Contact record type's fields
            pos = SECTION_ORDER.index(d.section) if d.section in SECTION_ORDER else len(SECTION_ORDER)
            rt_pos = rts.index(d.record_type) if "{record}" in d.section and d.record_type in rts else 0
            built[sid] = ((pos, rt_pos), Section(sid, title, []))
        section = built[sid][1]
        if tabbed:
            section.tabs = labels
            section.tab = (tabs or {}).get(sid) if (tabs or {}).get(sid) in rts else rts[0]
            if d.record_type != section.tab:
                continue
        row = _row(scope, key, d, settings, own, found, draft, tabbed)
        group = d.group
        if section.groups and section.groups[-1][0] == group:
            section.groups[-1][1].append(row)
        else:
            section.groups.append((group, [row]))
    return [s for _, s in sorted(built.values(), key=lambda t: t[0]) if s.groups]


def _normal(v: Any) -> Any:
    """Compare form values with stored ones: ids as strings, "" as nothing chosen."""
    if v in ("", [], {}):
        return None
    if isinstance(v, list):
        return [str(x) for x in v]
    if isinstance(v, dict):
        return {str(k): str(x) for k, x in v.items()}
    if isinstance(v, bool) or v is None:
        return v
    return str(v)


def parse_form(scope: Scope, form: MultiDict, own: Mapping[str, Any],
               inherited: Mapping[str, Any]) -> tuple[dict[str, Any], list[str], list[str] | None]:
    """(values by key (None = inherit), shown keys, locks or None on a personal page).

    `own` is this layer's stored values, `inherited` what each key resolves to without this layer:
    a value the user changed is set; one equal to the inherited value, on a row that wasn't set
    here, keeps inheriting (so a later team change still reaches it)."""
    from sync.settings import setting_key_universe

    universe = setting_key_universe(scope.spec.record_types)
    shown = [k for k in form.getlist("shown") if k][:200]
    reset = set(form.getlist("inherit"))
    values: dict[str, Any] = {}
    for key in shown:
        if key in reset:
            values[key] = None
            continue
        d = universe.get(key)
        kind = d.type if d else None
        if kind == "bool":
            value: Any = form.get(f"v:{key}") in ("on", "true", "1")
        elif kind in LIST_TYPES:
            value = [v for v in form.getlist(f"v:{key}") if v]
        elif kind in DICT_TYPES:
            prefix = f"v:{key}:"
            value = {k[len(prefix):]: v for k, v in form.items(multi=True) if k.startswith(prefix) and v}
        else:
            value = form.get(f"v:{key}", "")
        if own.get(key) is None and _normal(value) == _normal(inherited.get(key)):
            value = None
        elif kind not in ("bool",) and kind not in LIST_TYPES and kind not in DICT_TYPES and value == "":
            value = None        # "Choose…" on a single pick: nothing set here
        values[key] = value
    locks = [k for k in form.getlist("lock") if k] if scope.user_id is None else None
    return values, shown, locks
