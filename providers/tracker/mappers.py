"""Pure Tracker RMS JSON ⇄ our dataclasses (API-FACTS §1.3, docs/assumptions.md "Tracker").

Writes use `firstName`, `surname` (never lastName), `contactDetails {email, mobilePhone, linkedIn}`,
`jobTitle`, `employer` (candidates) / `company` (contacts), `city`, `customFields [{id, value}]`.
Reads tolerate both record shapes seen: candidates flat with a lower-case `firstname`, contacts with
`firstName` and a nested `contactDetails`; search rows are flat."""
from __future__ import annotations

from typing import Any

from providers.matching import same_email, same_linkedin
from providers.tracker import assumed as A
from providers.types import Company, CrmRecord, FieldDef, Job, Note, NoteType, Option, Status, Tag

CUSTOM_PREFIX = "custom:"
RECORD_NAMES = {"candidate": "Resource", "contact": "Contact"}   # Tracker's own vocabulary
ID_KEYS = {"candidate": "resourceId", "contact": "contactId"}
COMPANY_KEYS = {"candidate": "employer", "contact": "company"}
STATUS_KEYS = {"candidate": "resourceStatus", "contact": "contactStatus"}
OPTED_OUT = "Opted Out"      # contact marketingPreference meaning "do not email" (§1.3)

STANDARD_DEFS: tuple[FieldDef, ...] = (
    FieldDef("first_name", "First name", "text", required=True, filterable=True),
    FieldDef("last_name", "Surname", "text", required=True, filterable=True),
    FieldDef("email", "Email", "email", filterable=True),
    FieldDef("phone", "Mobile phone", "phone", filterable=True),
    FieldDef("title", "Job title", "text"),
    FieldDef("company", "Company", "text"),
    FieldDef("location", "City", "text"),
    FieldDef("linkedin_url", "LinkedIn", "url"),
)
# Tracker's JSON field names (as its validation errors name them) → our keys.
WIRE_TO_OURS = {"firstname": "first_name", "surname": "last_name", "lastname": "last_name",
                "contactdetails.email": "email", "email": "email", "contactdetails.mobilephone": "phone",
                "mobilephone": "phone", "jobtitle": "title", "employer": "company", "company": "company",
                "city": "location", "contactdetails.linkedin": "linkedin_url", "linkedin": "linkedin_url"}
_FIELD_TYPES = {"text": "text", "string": "text", "memo": "text", "date": "date", "datetime": "date",
                "number": "number", "integer": "number", "decimal": "number", "currency": "number",
                "boolean": "bool", "checkbox": "bool", "yesno": "bool", "list": "select",
                "dropdown": "select",
                "select": "select", "multiselect": "multiselect"}


def _first(row: dict[str, Any], *keys: str) -> Any:
    details = row.get("contactDetails") if isinstance(row.get("contactDetails"), dict) else {}
    for key in keys:
        for source in (row, details):
            if source.get(key) not in (None, ""):
                return source[key]
    return None


def to_record(record_type: str, row: dict[str, Any]) -> CrmRecord:
    """A Resource/Contact record or search row → CrmRecord. Only keys the row carries are set, so
    a search row never claims that a field it doesn't include is blank."""
    present = set(row) | set(row.get("contactDetails") or {})
    fields: dict[str, Any] = {}
    pairs = {
        "first_name": ("firstname", "firstName"), "last_name": ("surname", "lastName"),
        "email": ("email",), "phone": ("mobilePhone", "phone", "telephone", "businessPhone"),
        "title": ("jobTitle",), "location": (A.LOCATION_KEY,), "linkedin_url": (A.LINKEDIN_KEY, "linkedin"),
    }
    for ours, theirs in pairs.items():
        if present & set(theirs):
            fields[ours] = _first(row, *theirs)
    company_key = COMPANY_KEYS[record_type]
    if company_key in row or "currentClient" in row:
        client = row.get("currentClient") if isinstance(row.get("currentClient"), dict) else {}
        fields["company"] = row.get(company_key) or client.get("name")
    for cf in row.get("customFields") or []:
        if isinstance(cf, dict) and cf.get("id") is not None:
            fields[f"{CUSTOM_PREFIX}{cf['id']}"] = cf.get("value")
    remote_id = row.get(ID_KEYS[record_type], row.get("id"))
    return CrmRecord(record_type=record_type, remote_id=str(remote_id), fields=fields)


def to_body(record_type: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Our values → a Tracker write body with exactly those fields (None skipped)."""
    body: dict[str, Any] = {}
    simple = {"first_name": "firstName", "last_name": "surname", "title": "jobTitle",
              "location": A.LOCATION_KEY, "company": COMPANY_KEYS[record_type]}
    for ours, theirs in simple.items():
        if fields.get(ours) is not None:
            body[theirs] = fields[ours]
    details = {theirs: fields[ours] for ours, theirs in
               (("email", "email"), ("phone", "mobilePhone"), ("linkedin_url", A.LINKEDIN_KEY))
               if fields.get(ours) is not None}
    if details:
        body["contactDetails"] = details
    custom = [{"id": _custom_id(k), "value": v} for k, v in fields.items()
              if k.startswith(CUSTOM_PREFIX) and v is not None]
    if custom:
        body["customFields"] = custom
    return body


def _custom_id(key: str) -> int | str:
    raw = key[len(CUSTOM_PREFIX):]
    return int(raw) if raw.isdigit() else raw


def field_errors(wire: dict[str, str]) -> dict[str, str]:
    """Validation errors keyed by Tracker's JSON names → keyed by ours where we know the field."""
    out = {}
    for key, msg in wire.items():
        norm = key.removeprefix("$.").lower()
        out[WIRE_TO_OURS.get(norm, key)] = msg
    return out


def matches(row: dict[str, Any], email: str | None, linkedin_url: str | None) -> str | None:
    if email and same_email(email, _first(row, "email")):
        return "email"
    if linkedin_url and same_linkedin(linkedin_url, _first(row, A.LINKEDIN_KEY, "linkedin")):
        return "linkedin"
    return None


def keeps(record_type: str, row: dict[str, Any], filters: dict[str, Any]) -> bool:
    """Whether a search row really matches our text filters (substring, any case)."""
    fields = to_record(record_type, row).fields
    for key, value in filters.items():
        if key == "status" or value in (None, ""):
            continue
        if str(value).lower() not in str(fields.get(key) or "").lower():
            return False
    return True


def split_tags(text: Any) -> list[str]:
    return [t.strip() for t in str(text or "").split(",") if t.strip()]


def merge_tags(existing: list[str], new: list[str]) -> list[str]:
    """Existing tags kept as they are, new ones appended unless already there (any case)."""
    out = list(existing)
    have = {t.lower() for t in existing}
    for tag in new:
        if tag.strip() and tag.strip().lower() not in have:
            out.append(tag.strip())
            have.add(tag.strip().lower())
    return out


def to_field_def(row: dict[str, Any]) -> FieldDef:
    options = tuple(Option(id=str(o), label=str(o)) if not isinstance(o, dict)
                    else Option(id=str(o.get("id", o.get("value"))), label=str(o.get("name", o.get("value"))))
                    for o in row.get("options") or ())
    ftype = str(row.get("fieldType") or row.get("type") or "text").lower()
    return FieldDef(key=f"{CUSTOM_PREFIX}{row['id']}", label=str(row.get("name") or row["id"]),
                    type=_FIELD_TYPES.get(ftype, "text"), required=bool(row.get("required")), custom=True,
                    options=options)


def to_named(row: dict[str, Any]) -> tuple[str, str]:
    """(id, name) of a MetaData row `{id, name}`."""
    return str(row.get("id")), str(row.get("name") or row.get("id"))


def to_status(row: dict[str, Any]) -> Status:
    # Records carry and accept the status *name*, so the name is the id we hand around.
    name = to_named(row)[1]
    return Status(id=name, name=name)


def to_tag(row: dict[str, Any]) -> Tag:
    # tagText holds names; a tag id would be meaningless on write.
    name = to_named(row)[1]
    return Tag(id=name, name=name)


def to_note_type(row: dict[str, Any]) -> NoteType:
    return NoteType(*to_named(row))


def to_note(row: dict[str, Any]) -> Note:
    type_id = row.get("activityTypeId")
    return Note(id=str(row.get("activityId", row.get("id"))), body=str(row.get("note") or ""),
                note_type=None if type_id is None else str(type_id))


def to_job(row: dict[str, Any]) -> Job:
    return Job(id=str(row.get("opportunityId")), title=str(row.get("opportunityName") or ""),
               status=str(row.get("opportunityStatus") or ""), company=row.get("clientName"))


def to_company(row: dict[str, Any]) -> Company:
    details = {k: row.get(k) for k in ("city", "website", "telephone") if row.get(k)}
    return Company(id=str(row.get("clientId")), name=str(row.get("clientName") or ""), details=details)


def web_root(credentials: dict[str, Any], base_url: str | None = None) -> str | None:
    """The Tracker app of the connection's data region."""
    return A.WEB_APPS.get(str(credentials.get("region") or "uk").lower())
