"""Field values on their way to the CRM: mapping, blankness, update mode (rule 3), mandatory (rule 4).

Blank means "holds nothing": None, "" or only whitespace (and an empty list/dict, for multi-select
fields). 0 and False are values: a CRM that says a candidate has 0 years' experience or
`willing_to_relocate: false` has been told something, and "only update if blank" must keep it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from sync.types import STANDARD_FIELDS, PersonInfo, ResolvedSettings

FIELD_LABELS = {"first_name": "First name", "last_name": "Last name", "email": "Email", "phone": "Phone",
                "title": "Job title", "company": "Company", "location": "Location",
                "linkedin_url": "LinkedIn URL"}


def is_blank(value: Any) -> bool:
    """None, "", whitespace-only strings and empty collections are blank; 0 and False are not."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return len(value) == 0
    return False


def field_label(key: str) -> str:
    return FIELD_LABELS.get(key, key)


def outgoing_fields(person: PersonInfo, settings: ResolvedSettings, record_type: str) -> dict[str, Any]:
    """Our values keyed by CRM field, after the "Contact fields" mapping, blanks dropped.

    Standard fields map to themselves and the person's extra (panel-tagged) CRM fields are passed
    through; `field_mapping.<record_type>` = {crm field: app variable} overrides that, and a CRM
    field mapped to an empty variable is not written at all. Blank values are dropped here so our
    empty value can never blank the CRM's (rule 3)."""
    mapping: dict[str, str | None] = {k: k for k in STANDARD_FIELDS}
    mapping.update({k: k for k in person.extra})
    mapping.update(settings.for_type("field_mapping", record_type, None) or {})
    out: dict[str, Any] = {}
    for crm_field, variable in mapping.items():
        if not variable:
            continue
        value = person.value(variable)
        if isinstance(value, str):
            value = value.strip()
        if not is_blank(value):
            out[crm_field] = value
    return out


def missing_mandatory(outgoing: Mapping[str, Any], settings: ResolvedSettings, record_type: str) -> tuple[str, ...]:
    """Mandatory fields (rule 4) we have no value for, in the admin's order."""
    mandatory = settings.for_type("mandatory_fields", record_type, None) or []
    return tuple(f for f in mandatory if is_blank(outgoing.get(f)))


@dataclass(frozen=True)
class FieldDecision:
    """What rule 3 decided for one field of an existing record."""
    field: str
    ours: Any
    theirs: Any
    mode: str          # always | if_blank
    write: bool
    why: str


def decide_updates(outgoing: Mapping[str, Any], current: Mapping[str, Any], settings: ResolvedSettings,
                   record_type: str, only: set[str] | None = None) -> list[FieldDecision]:
    """Rule 3 for each field we hold a value for (optionally only the fields in `only`).

    always: write unless the CRM already holds exactly our value. if_blank: write only where the
    CRM value is blank. Fields the CRM didn't return count as blank."""
    decisions = []
    for f, ours in outgoing.items():
        if only is not None and f not in only:
            continue
        theirs = current.get(f)
        mode = settings.update_mode(record_type, f)
        if _same(ours, theirs):
            decisions.append(FieldDecision(f, ours, theirs, mode, False, "already up to date"))
        elif mode == "always":
            decisions.append(FieldDecision(f, ours, theirs, mode, True, "always update"))
        elif is_blank(theirs):
            decisions.append(FieldDecision(f, ours, theirs, mode, True, "blank in the CRM"))
        else:
            decisions.append(FieldDecision(f, ours, theirs, mode, False,
                                           "only update if blank: the CRM already has a value"))
    return decisions


def _same(ours: Any, theirs: Any) -> bool:
    # 0 == False in Python; a CRM holding False where we say 0 still differs.
    if isinstance(ours, bool) != isinstance(theirs, bool):
        return False
    if isinstance(ours, str) and isinstance(theirs, str):
        return ours.strip() == theirs.strip()
    return ours == theirs
