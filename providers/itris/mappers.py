"""Pure itris JSON ⇄ our dataclasses. Key names follow the one payload API-FACTS §4 has seen (the
applicant inbox: `firstName`, `lastName`, `emailAddress`, `phoneNumber`, `webAddress`); everything
else is docs/assumptions.md "itris" (camelCase, `<type>Id` ids, `customFields` as an object)."""
from __future__ import annotations

from typing import Any

from providers.types import (Company, CrmRecord, FieldDef, Job, ListRef, Note, NoteType, OffLimits, Option,
                             Status, Tag)
from providers.weblinks import origin

CUSTOM_PREFIX = "custom:"
ID_KEYS = {"applicant": "applicantId", "contact": "contactId"}
# Our key → itris key. `company` is `companyName` text; contacts may also get a `companyId`.
WIRE = {"first_name": "firstName", "last_name": "lastName", "email": "emailAddress", "phone": "phoneNumber",
        "title": "jobTitle", "company": "companyName", "location": "town", "linkedin_url": "webAddress"}
OURS = {v.lower(): k for k, v in WIRE.items()}
STANDARD_DEFS: tuple[FieldDef, ...] = (
    FieldDef("first_name", "First name", "text", required=True, filterable=True),
    FieldDef("last_name", "Last name", "text", required=True, filterable=True),
    FieldDef("email", "Email address", "email", filterable=True),
    FieldDef("phone", "Phone number", "phone"),
    FieldDef("title", "Job title", "text"),
    FieldDef("company", "Company", "text"),
    FieldDef("location", "Town", "text"),
    FieldDef("linkedin_url", "Web address (LinkedIn)", "url", filterable=True),
)
_TYPES = {"text": "text", "select": "select", "date": "date", "number": "number"}


def to_record(record_type: str, row: dict[str, Any]) -> CrmRecord:
    fields: dict[str, Any] = {ours: row.get(theirs) for ours, theirs in WIRE.items() if theirs in row}
    if not fields.get("phone") and row.get("mobileNumber"):
        fields["phone"] = row["mobileNumber"]
    for key, value in (row.get("customFields") or {}).items():
        fields[f"{CUSTOM_PREFIX}{key}"] = value
    return CrmRecord(record_type=record_type, remote_id=str(row.get(ID_KEYS[record_type])), fields=fields)


def to_body(fields: dict[str, Any]) -> dict[str, Any]:
    """Our values → an itris write body with exactly those fields (None skipped: never blank theirs)."""
    body = {WIRE[k]: v for k, v in fields.items() if k in WIRE and v is not None}
    custom = {k[len(CUSTOM_PREFIX):]: v for k, v in fields.items()
              if k.startswith(CUSTOM_PREFIX) and v is not None}
    if custom:
        body["customFields"] = custom
    return body


def field_errors(wire: dict[str, str]) -> dict[str, str]:
    """`details[].field` are itris JSON keys; custom ones may come as `customFields.<key>`."""
    out = {}
    for key, msg in wire.items():
        if key.startswith("customFields."):
            out[f"{CUSTOM_PREFIX}{key.split('.', 1)[1]}"] = msg
        else:
            out[OURS.get(key.lower(), key)] = msg
    return out


def to_field_def(row: dict[str, Any]) -> FieldDef:
    options = tuple(Option(id=str(o), label=str(o)) for o in row.get("options") or ())
    return FieldDef(key=f"{CUSTOM_PREFIX}{row['key']}", label=str(row.get("label") or row["key"]),
                    type=_TYPES.get(str(row.get("type") or "text").lower(), "text"),
                    required=bool(row.get("required")), custom=True, options=options)


def to_off_limits(row: dict[str, Any]) -> OffLimits:
    if row.get("offLimits") is True:
        return OffLimits(blocked=True, reason=str(row.get("offLimitsReason") or "Marked off-limits in itris"))
    return OffLimits(blocked=False)


def to_status(row: dict[str, Any]) -> Status:
    return Status(id=str(row["statusId"]), name=str(row.get("name") or row["statusId"]))


def to_note_type(row: dict[str, Any]) -> NoteType:
    return NoteType(id=str(row["noteTypeId"]), name=str(row.get("name") or row["noteTypeId"]))


def to_note(row: dict[str, Any]) -> Note:
    type_id = row.get("noteTypeId")
    return Note(id=str(row["noteId"]), body=str(row.get("text") or ""),
                note_type=None if type_id is None else str(type_id))


def to_tag(row: dict[str, Any]) -> Tag:
    return Tag(id=str(row["tagId"]), name=str(row.get("name") or row["tagId"]))


def to_list(row: dict[str, Any]) -> ListRef:
    return ListRef(id=str(row["groupId"]), name=str(row.get("name") or row["groupId"]))


def to_job(row: dict[str, Any]) -> Job:
    status = row.get("statusId") if row.get("statusId") is not None else row.get("statusName")
    return Job(id=str(row["jobId"]), title=str(row.get("title") or ""), status=str(status or ""),
               company=row.get("companyName"))


def to_company(row: dict[str, Any]) -> Company:
    details = {k: row.get(k) for k in ("town", "website", "telephone", "statusName") if row.get(k)}
    return Company(id=str(row["companyId"]), name=str(row.get("name") or ""), details=details)


def web_root(credentials: dict[str, Any], base_url: str | None = None) -> str | None:
    """The tenant's itris server: the root of the API's host."""
    return origin(base_url)
