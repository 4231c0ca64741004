"""The CRM fields a recruiter fills in the panel (and on the person page): the admin's Displayed
Fields plus the Mandatory Fields of a record type, each rendered and checked by its CRM type.

Field definitions are the adapter's `list_fields` (loaded by a worker, see services.panel_lookup),
cached as plain dicts: {"key", "label", "type", "required", "custom", "options": [[id, label]]}.
Values are checked here before anything is written: a value of the wrong type for its CRM field,
an option the field doesn't have, or a field that isn't displayed is a ValidationError naming the
field. A blank value means "not filled" (it never clears the CRM's value: rule 3)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Mapping, Sequence

from marshmallow import ValidationError

from sync.fields import field_label, is_blank
from sync.types import STANDARD_FIELDS, ResolvedSettings

# Form input names for CRM field values: "x:<field key>" (a key may itself hold a colon: "custom:3").
PREFIX = "x:"
MAX_TEXT = 1000
_NUMBER = re.compile(r"^-?\d{1,15}(\.\d{1,6})?$")
TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


@dataclass(frozen=True)
class PanelField:
    """One field offered for a record type: its definition, whether mandatory, the person's value."""
    key: str
    label: str
    type: str
    options: tuple[tuple[str, str], ...]
    mandatory: bool
    value: Any

    @property
    def standard(self) -> bool:
        return self.key in STANDARD_FIELDS

    @property
    def missing(self) -> bool:
        return self.mandatory and is_blank(self.value)

    def shows(self, option_id: str) -> bool:
        """Whether an option is the current value (or one of them, for a multi-select)."""
        if isinstance(self.value, list):
            return option_id in [str(v) for v in self.value]
        return self.value is not None and str(self.value) == option_id


def field_keys(settings: ResolvedSettings, record_type: str) -> tuple[list[str], list[str]]:
    """(displayed, mandatory) field keys of a record type, each in the admin's order."""
    displayed = list(settings.for_type("displayed_fields", record_type, None) or [])
    mandatory = list(settings.for_type("mandatory_fields", record_type, None) or [])
    return displayed, mandatory


def panel_fields(defs: Sequence[Mapping[str, Any]] | None, settings: ResolvedSettings, record_type: str,
                 values: Mapping[str, Any]) -> list[PanelField]:
    """The fields to show, displayed first then mandatory-only ones. Standard fields (name, email,
    ...) are edited under the panel's Details, so only CRM-specific ones are returned; a field the
    CRM no longer lists still shows, as text, so a mandatory one can't silently block a push."""
    displayed, mandatory = field_keys(settings, record_type)
    by_key = {str(d["key"]): d for d in defs or ()}
    out: list[PanelField] = []
    for key in dict.fromkeys(displayed + mandatory):
        if key in STANDARD_FIELDS:
            continue
        d = by_key.get(key, {})
        options = tuple((str(i), str(label)) for i, label in d.get("options") or ())
        out.append(PanelField(key, str(d.get("label") or field_label(key)), str(d.get("type") or "text"),
                              options, key in mandatory, values.get(key)))
    return out


def labels(defs: Sequence[Mapping[str, Any]] | None) -> dict[str, str]:
    """Field key → the CRM's label, for messages and the preview."""
    out = {str(d["key"]): str(d.get("label") or d["key"]) for d in defs or ()}
    return out


def coerce(field: PanelField, raw: Any) -> Any:
    """A submitted value as the CRM field's type; None when blank. Raises ValueError with a message."""
    values = raw if isinstance(raw, list) else [raw]
    values = [str(v).strip() for v in values if v is not None and str(v).strip()]
    if not values:
        return None
    if field.type == "multiselect":
        return [_option(field, v) for v in dict.fromkeys(values)]
    if len(values) > 1:
        raise ValueError("Only one value is allowed.")
    value = values[0]
    if len(value) > MAX_TEXT:
        raise ValueError(f"Longer than {MAX_TEXT} characters.")
    if field.type == "select":
        return _option(field, value)
    if field.type == "number":
        if not _NUMBER.match(value):
            raise ValueError("Must be a number.")
        return float(value) if "." in value else int(value)
    if field.type == "date":
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError("Must be a date (YYYY-MM-DD).") from None
    if field.type == "bool":
        if value.lower() in TRUE:
            return True
        if value.lower() in FALSE:
            return False
        raise ValueError("Must be yes or no.")
    if "<" in value or ">" in value:
        raise ValueError("Must not contain < or >.")
    return value


def _option(field: PanelField, value: str) -> str:
    if field.options and value not in {i for i, _ in field.options}:
        raise ValueError(f"{value!r} is not one of the options {field.label} has in the CRM.")
    return value


def parse_values(fields: Iterable[PanelField], submitted: Mapping[str, Any]) -> dict[str, Any]:
    """Submitted {field key: raw} → typed values for the offered fields. A key not offered, or a
    value of the wrong type, is a ValidationError naming the field; nothing is kept half-way."""
    offered = {f.key: f for f in fields}
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for key, raw in submitted.items():
        field = offered.get(key)
        if field is None:
            errors[key] = [f"{key} is not a field your admin displays for this record type."]
            continue
        try:
            out[key] = coerce(field, raw)
        except ValueError as exc:
            errors[key] = [f"{field.label}: {exc}"]
    if errors:
        raise ValidationError(errors)
    return out


def merge_extra(current: Mapping[str, Any] | None, new: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the person's extra with `new` applied, the keys that changed). A blank new value removes
    the key: Shoal no longer holds a value (the CRM keeps its own, rule 3)."""
    merged = dict(current or {})
    changed: dict[str, Any] = {}
    for key, value in new.items():
        if is_blank(value):
            if key in merged:
                merged.pop(key)
                changed[key] = None
        elif merged.get(key) != value:
            merged[key] = value
            changed[key] = value
    return merged, changed


def missing_labels(missing: Iterable[str], defs_labels: Mapping[str, str]) -> list[str]:
    return [defs_labels.get(k) or field_label(k) for k in missing]
