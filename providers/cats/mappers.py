"""Pure CATS v3 JSON ⇄ our dataclasses (API-FACTS §3.3, docs/assumptions.md "CATS").

Write bodies are snake_case: `emails {primary}`, `phones {cell}`, `address {city}`, LinkedIn in
`social_media_urls`, custom fields as `[{id, value}]`. Reads tolerate the variants the facts mention
(phones as an object keyed by type or a list of `{number, type}`)."""
from __future__ import annotations

from typing import Any

from providers.cats import assumed as A
from providers.hosts import valid_subdomain
from providers.matching import first_linkedin, linkedin_key, same_email, same_linkedin
from providers.types import (Company, CrmRecord, FieldDef, Job, ListRef, Note, NoteType, OffLimits, Option,
                             Status, Tag)

CUSTOM_PREFIX = "custom:"
# Phone slots in read order of preference; contacts use `office` where candidates use `work`.
PHONE_SLOTS = ("cell", "work", "office", "home", "other")
# Our standard fields as CATS labels them, and whether CATS requires them on create.
STANDARD_DEFS: tuple[FieldDef, ...] = (
    FieldDef("first_name", "First name", "text", required=True, filterable=True),
    FieldDef("last_name", "Last name", "text", required=True, filterable=True),
    FieldDef("email", "Primary email", "email", filterable=True),
    FieldDef("phone", "Cell phone", "phone"),
    FieldDef("title", "Title", "text", filterable=True),
    FieldDef("company", "Current employer", "text", filterable=True),
    FieldDef("location", "City", "text"),
    FieldDef("linkedin_url", "LinkedIn URL", "url"),
)
def standard_defs(record_type: str) -> tuple[FieldDef, ...]:
    """A CATS contact has no company *field*: it belongs to a company record by `company_id`, which
    the adapter links when a company with exactly that name exists. So `company` isn't offered."""
    if record_type == "contact":
        return tuple(f for f in STANDARD_DEFS if f.key != "company")
    return STANDARD_DEFS


# Our key → the CATS field name its structured search (`POST /<records>/search`) filters on.
SEARCH_FIELDS = {"first_name": "first_name", "last_name": "last_name", "email": A.EMAIL_SEARCH_FIELD,
                 "title": "title", "company": "current_employer"}
_FIELD_TYPES = {"text": "text", "textarea": "text", "dropdown": "select", "select": "select",
                "radio": "select", "multiselect": "multiselect", "checkbox": "bool", "boolean": "bool",
                "date": "date", "number": "number", "integer": "number", "decimal": "number"}


def _s(v: Any) -> str | None:
    return None if v is None else str(v)


def read_phone(phones: Any) -> str | None:
    if isinstance(phones, dict):
        for slot in PHONE_SLOTS:
            if phones.get(slot):
                return str(phones[slot])
    elif isinstance(phones, list):
        for p in phones:
            if isinstance(p, dict) and p.get("number"):
                return str(p["number"])
    return None


def read_location(address: Any) -> str | None:
    if not isinstance(address, dict):
        return None
    parts = [str(address[k]).strip() for k in ("city", "state") if address.get(k)]
    return ", ".join(p for p in parts if p) or None


def to_record(record_type: str, row: dict[str, Any], company_name: str | None = None) -> CrmRecord:
    """A candidate/contact JSON document → CrmRecord with our field keys (+ `custom:<id>`)."""
    emails = row.get("emails") if isinstance(row.get("emails"), dict) else {}
    fields: dict[str, Any] = {
        "first_name": row.get("first_name"),
        "last_name": row.get("last_name"),
        "email": emails.get("primary") or row.get("email"),
        "phone": read_phone(row.get("phones")),
        "title": row.get("title"),
        "company": row.get("current_employer") if record_type == "candidate" else company_name,
        "location": read_location(row.get("address")),
        "linkedin_url": first_linkedin(row.get("social_media_urls") or []),
    }
    embedded = row.get("_embedded") or {}
    for cf in embedded.get("custom_fields") or row.get("custom_fields") or []:
        if isinstance(cf, dict) and cf.get("id") is not None:
            fields[f"{CUSTOM_PREFIX}{cf['id']}"] = cf.get("value")
    return CrmRecord(record_type=record_type, remote_id=str(row.get("id")), fields=fields)


def to_body(record_type: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Our field values → a CATS write body with exactly those fields (None values skipped).

    `company` is not written for contacts here: a contact belongs to a company by `company_id`,
    which the adapter resolves. Unknown keys are ignored rather than sent."""
    body: dict[str, Any] = {}
    for key in ("first_name", "last_name", "title"):
        if fields.get(key) is not None:
            body[key] = fields[key]
    if fields.get("email") is not None:
        body["emails"] = {"primary": fields["email"]}
    if fields.get("phone") is not None:
        body["phones"] = {A.PHONE_WRITE_SLOT: fields["phone"]}
    if fields.get("company") is not None and record_type == "candidate":
        body["current_employer"] = fields["company"]
    if fields.get("location") is not None:
        body["address"] = {"city": fields["location"]}
    if fields.get("linkedin_url") is not None:
        body["social_media_urls"] = [fields["linkedin_url"]]
    custom = [{"id": _custom_id(k), "value": v} for k, v in fields.items()
              if k.startswith(CUSTOM_PREFIX) and v is not None]
    if custom:
        body["custom_fields"] = custom
    return body


# Body keys holding several values of which we write one; an update merges them into the record's.
MERGED_ON_UPDATE = ("social_media_urls", "address", "phones")


def merge_for_update(body: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """PUT replaces a whole object or list, so keep what we don't own: other social URLs, the rest of
    the address, other phone slots."""
    out = dict(body)
    if "social_media_urls" in out:
        others = [u for u in current.get("social_media_urls") or [] if not linkedin_key(u)]
        out["social_media_urls"] = others + out["social_media_urls"]
    for key in ("address", "phones"):
        if key in out and isinstance(current.get(key), dict):
            kept = {k: v for k, v in current[key].items() if v not in (None, "")}
            out[key] = {**kept, **out[key]}
    return out


def _custom_id(key: str) -> int | str:
    raw = key[len(CUSTOM_PREFIX):]
    return int(raw) if raw.isdigit() else raw


def matches(row: dict[str, Any], email: str | None, linkedin_url: str | None) -> str | None:
    """'email' / 'linkedin' if a search row is really this person, else None."""
    emails = row.get("emails") if isinstance(row.get("emails"), dict) else {}
    if email and any(same_email(email, e) for e in (emails.get("primary"), emails.get("secondary"))):
        return "email"
    if linkedin_url and any(same_linkedin(linkedin_url, u) for u in row.get("social_media_urls") or []):
        return "linkedin"
    return None


def to_field_def(row: dict[str, Any]) -> FieldDef:
    raw_options = row.get("options") or (row.get("settings") or {}).get("options") or []
    options = tuple(Option(id=str(o.get("id", o.get("value"))), label=str(o.get("label", o.get("value"))))
                    if isinstance(o, dict) else Option(id=str(o), label=str(o)) for o in raw_options)
    ftype = str(row.get("field_type") or row.get("type") or "text").lower()
    return FieldDef(key=f"{CUSTOM_PREFIX}{row['id']}", label=str(row.get("name") or row["id"]),
                    type=_FIELD_TYPES.get(ftype, "text"), required=bool(row.get("is_required")),
                    custom=True, options=options)


def _status(v: Any) -> tuple[str | None, str | None]:
    """(id, title) of a CATS status, which comes as `{id, title}` or a bare id/title."""
    if isinstance(v, dict):
        return _s(v.get("id")), _s(v.get("title") or v.get("name"))
    return _s(v), _s(v)


def to_job(row: dict[str, Any]) -> Job:
    sid, title = _status(row.get("status") if row.get("status") is not None else row.get("status_id"))
    return Job(id=str(row["id"]), title=str(row.get("title") or ""), status=sid or title or "",
               company=_s(row.get("company_name")))


def job_status_title(row: dict[str, Any]) -> str | None:
    return _status(row.get("status"))[1]


def to_status(row: dict[str, Any]) -> Status:
    return Status(id=str(row["id"]), name=str(row.get("title") or row.get("name") or row["id"]))


def to_tag(row: dict[str, Any]) -> Tag:
    return Tag(id=str(row["id"]), name=str(row.get("name") or row.get("title") or row["id"]))


def to_list(row: dict[str, Any]) -> ListRef:
    return ListRef(id=str(row["id"]), name=str(row.get("name") or row.get("title") or row["id"]))


def to_note(row: dict[str, Any]) -> Note:
    return Note(id=str(row["id"]), body=str(row.get("notes") or ""), note_type=_s(row.get("type")))


def to_note_type(key: str, label: str) -> NoteType:
    return NoteType(id=key, name=label)


def to_company(row: dict[str, Any]) -> Company:
    address = row.get("address") if isinstance(row.get("address"), dict) else {}
    details = {"website": row.get("website"), "city": row.get("city") or address.get("city"),
               "state": row.get("state") or address.get("state"),
               "phone": read_phone(row.get("phones")), "status": _status(row.get("status"))[1]}
    return Company(id=str(row["id"]), name=str(row.get("name") or ""),
                   details={k: v for k, v in details.items() if v})


def to_off_limits(row: dict[str, Any]) -> OffLimits:
    status = row.get("consent_status")
    if isinstance(status, str) and status.lower() == A.DECLINED_CONSENT:
        return OffLimits(blocked=True, reason=f"CATS consent status: {status}")
    return OffLimits(blocked=False)


def web_root(credentials: dict[str, Any], base_url: str | None = None) -> str | None:
    """The customer's CATS site, from the account subdomain the connection check found."""
    account = str(credentials.get("account") or "")
    return A.WEB_APP.format(account=account) if valid_subdomain(account) else None
