"""Pure translation between Pinpoint JSON:API resources and our vocabulary (providers.types).

Shapes from API-FACTS §5.2–5.3: an application carries the person's attributes (`first_name`,
`last_name`, `email`, `phone`, `linkedin_url`), a `candidate` and a `job` relationship; tags are
`{name, context}` pairs, read through `extra_fields[applications]=tags` and written with the
write-only `add_tags_with_context`; attachments `[{context, url, filename}]`, the CV has context
`pdf_cv`; a candidate has `blocked`. Pinpoint has no title/company/location on an application, so
those standard fields are not offered (list_fields) and are ignored on write.
"""
from __future__ import annotations

from typing import Any

from providers.hosts import valid_subdomain
from providers.pinpoint import assumed as A
from providers.types import CrmRecord, FieldDef, Job, Tag

# Our key → the application attribute, for the standard fields Pinpoint has.
ATTRIBUTES = {"first_name": "first_name", "last_name": "last_name", "email": "email", "phone": "phone",
              "linkedin_url": "linkedin_url"}
NOT_STORED = ("title", "company", "location")   # standard fields without a Pinpoint home

STANDARD_FIELD_DEFS: tuple[FieldDef, ...] = (
    FieldDef("first_name", "First name", required=True),
    FieldDef("last_name", "Last name", required=True),
    FieldDef("email", "Email", type="email", required=True, filterable=True),
    FieldDef("phone", "Phone", type="phone", filterable=True),
    FieldDef("linkedin_url", "LinkedIn URL", type="url"),
)


def attributes_out(fields: dict[str, Any]) -> dict[str, Any]:
    """Our standard fields → application attributes (only the keys given)."""
    out: dict[str, Any] = {}
    for ours, theirs in ATTRIBUTES.items():
        if ours in fields:
            value = fields[ours]
            out[theirs] = value.strip() if isinstance(value, str) else value
    return out


def resource(type_: str, attributes: dict[str, Any], *, id: str | None = None,
             relationships: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type_, "attributes": attributes}
    if id is not None:
        data["id"] = str(id)
    if relationships:
        data["relationships"] = relationships
    return data


def rel(type_: str, id: str) -> dict[str, Any]:
    return {"data": {"type": type_, "id": str(id)}}


def related_id(res: dict[str, Any], name: str) -> str | None:
    data = ((res.get("relationships") or {}).get(name) or {}).get("data")
    return str(data["id"]) if isinstance(data, dict) and data.get("id") is not None else None


def find_included(included: list[dict[str, Any]], type_: str, id: str | None) -> dict[str, Any] | None:
    for inc in included:
        if inc.get("type") == type_ and str(inc.get("id")) == str(id):
            return inc
    return None


def application_in(app: dict[str, Any], included: list[dict[str, Any]] | None = None) -> CrmRecord:
    """An application (with its included candidate, if any) → CrmRecord of our fields."""
    attrs = app.get("attributes") or {}
    cand = find_included(included or [], "candidates", related_id(app, "candidate")) or {}
    cattrs = cand.get("attributes") or {}
    fields = {ours: attrs.get(theirs, cattrs.get(theirs)) for ours, theirs in ATTRIBUTES.items()}
    return CrmRecord(record_type="application", remote_id=str(app["id"]), fields=fields)


def tags_in(attrs: dict[str, Any]) -> list[Tag]:
    out = []
    for t in attrs.get("tags") or []:
        name = t.get("name") if isinstance(t, dict) else t
        if name:
            out.append(Tag(id=str(name), name=str(name)))
    return out


def has_cv(attrs: dict[str, Any], cv_context: str) -> bool:
    return any(isinstance(a, dict) and a.get("context") == cv_context for a in attrs.get("attachments") or [])


def job_in(job: dict[str, Any]) -> Job:
    attrs = job.get("attributes") or {}
    return Job(id=str(job["id"]), title=str(attrs.get("title") or attrs.get("name") or job["id"]),
               status=str(attrs.get("status") or ""))


def stats_total(doc: dict[str, Any]) -> int | None:
    """`stats[total]=count` puts the count in `meta.stats.total`, as a number or `{"count": n}`."""
    meta = doc.get("meta")
    total = ((meta.get("stats") or {}).get("total")) if isinstance(meta, dict) else None
    if isinstance(total, dict):
        total = total.get("count")
    return int(total) if isinstance(total, (int, float)) and not isinstance(total, bool) else None


def norm_linkedin(url: str | None) -> str:
    """LinkedIn URLs compared from the host on (scheme, www., case, query, trailing slash vary)."""
    if not url:
        return ""
    u = url.strip().lower().split("?")[0].split("#")[0].rstrip("/")
    at = u.find("linkedin.com")
    return u[at:] if at >= 0 else u


# A person in the talent pipeline (a job seeker, API-FACTS §5.2) is our "application" record without
# a job; its remote id carries this prefix so every later call goes to /job_seekers. Our convention,
# not Pinpoint's: Pinpoint's own ids of the two kinds may overlap.
JOB_SEEKER_PREFIX = "js-"


def surface(remote_id: str) -> tuple[str, str]:
    """(collection, Pinpoint id) of one of our remote ids: `js-7` → ("job_seekers", "7")."""
    rid = str(remote_id)
    if rid.startswith(JOB_SEEKER_PREFIX):
        return "job_seekers", rid[len(JOB_SEEKER_PREFIX):]
    return "applications", rid


def owner_of(remote_id: str) -> str:
    """The custom-attributable type of our record's own values (Application or JobSeeker)."""
    return "JobSeeker" if surface(remote_id)[0] == "job_seekers" else "Application"


def record_in(res: dict[str, Any], included: list[dict[str, Any]] | None = None) -> CrmRecord:
    """An application or job seeker → CrmRecord; a job seeker's id gets JOB_SEEKER_PREFIX."""
    rec = application_in(res, included)
    if res.get("type") == "job_seekers":
        rec.remote_id = f"{JOB_SEEKER_PREFIX}{res['id']}"
    return rec


def web_root(credentials: dict[str, Any], base_url: str | None = None) -> str | None:
    """The tenant's Pinpoint site, from its subdomain."""
    sub = str(credentials.get("subdomain") or "")
    return A.WEB_APP.format(subdomain=sub) if valid_subdomain(sub) else None


def record_path(record_type: str, remote_id: str) -> tuple[str, str] | None:
    """A job seeker (`js-7`) has a page of its own; an application the record type's page."""
    if record_type not in A.RECORD_PAGES:
        return None
    collection, rid = surface(remote_id)
    return (A.JOB_SEEKER_PAGE if collection == "job_seekers" else A.RECORD_PAGES[record_type]), rid
