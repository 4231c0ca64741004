"""Pure translation between SmartRecruiters JSON and our vocabulary (providers.types).

Shapes from API-FACTS §2.3 (SRPY `CandidateInput`, `CandidateDetails`, `Candidate`, SRRB fixtures):
camelCase names, a single `email` and `phoneNumber`, `location {city, region, country, ...}`,
`web {linkedin, ...}`, and no top-level title/company: the current job is the `experience[]`
entry with `current: true`. Custom fields are "candidate properties", keyed here `custom:<id>`.
"""
from __future__ import annotations

from typing import Any

from providers.smartrecruiters import assumed as A
from providers.types import CrmRecord, FieldDef, Job, Option, Status

CUSTOM_PREFIX = "custom:"

# Our standard fields as SmartRecruiters exposes them; `filterable` = a `GET /candidates` parameter.
STANDARD_FIELD_DEFS: tuple[FieldDef, ...] = (
    FieldDef("first_name", "First name", required=True),
    FieldDef("last_name", "Last name", required=True),
    FieldDef("email", "Email", type="email", filterable=True),
    FieldDef("phone", "Phone number", type="phone"),
    FieldDef("title", "Current title"),
    FieldDef("company", "Current company"),
    FieldDef("location", "Location", filterable=True),
    FieldDef("linkedin_url", "LinkedIn", type="url"),
)

PROPERTY_TYPES = {   # candidate property type → our FieldDef.type
    "TEXT": "text", "SINGLE_SELECT": "select", "MULTI_SELECT": "multiselect", "BOOLEAN": "bool",
    "NUMBER": "number", "DATE": "date", "CURRENCY": "number", "REGION": "text", "COUNTRY": "text",
    "PERCENT": "number",
}


def _clean(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def location_out(text: str) -> dict[str, str]:
    """'City, Region, Country' → SmartRecruiters location parts (one part = a city)."""
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    if not parts:
        return {}
    loc = {"city": parts[0]}
    if len(parts) == 2:
        loc["country"] = parts[1]
    elif len(parts) >= 3:
        loc["region"] = ", ".join(parts[1:-1])
        loc["country"] = parts[-1]
    return loc


def location_in(loc: dict[str, Any] | None) -> str | None:
    if not loc:
        return None
    parts = [loc.get("city"), loc.get("region"), loc.get("country")]
    text = ", ".join(str(p) for p in parts if p)
    return text or None


def current_experience(candidate: dict[str, Any]) -> dict[str, Any]:
    for exp in candidate.get("experience") or []:
        if exp.get("current"):
            return exp
    return {}


def experience_out(title: str | None, company: str | None) -> list[dict[str, Any]]:
    exp: dict[str, Any] = {"current": True}
    if title:
        exp["title"] = title
    if company:
        exp["company"] = company
    return [exp]


def candidate_out(fields: dict[str, Any]) -> dict[str, Any]:
    """Our standard fields → a `CandidateInput` / personal-information PATCH body.

    Only keys present in `fields` are written, so a PATCH never blanks what we didn't send."""
    f = {k: _clean(v) for k, v in fields.items()}
    body: dict[str, Any] = {}
    for ours, theirs in (("first_name", "firstName"), ("last_name", "lastName"), ("email", "email"),
                         ("phone", "phoneNumber")):
        if ours in f:
            body[theirs] = f[ours]
    if "location" in f and f["location"]:
        body["location"] = location_out(f["location"])
    if "linkedin_url" in f:
        body["web"] = {"linkedin": f["linkedin_url"]}
    if f.get("title") or f.get("company"):
        body["experience"] = experience_out(f.get("title"), f.get("company"))
    return body


def candidate_in(candidate: dict[str, Any], properties: list[dict[str, Any]] | None = None,
                 record_type: str = "candidate") -> CrmRecord:
    """A `CandidateDetails` (or a list row, which lacks phone/web/experience) → CrmRecord."""
    exp = current_experience(candidate)
    fields: dict[str, Any] = {
        "first_name": candidate.get("firstName"),
        "last_name": candidate.get("lastName"),
        "email": candidate.get("email"),
        "phone": candidate.get("phoneNumber"),
        "title": exp.get("title"),
        "company": exp.get("company"),
        "location": location_in(candidate.get("location")),
        "linkedin_url": (candidate.get("web") or {}).get("linkedin"),
    }
    for prop in properties or []:
        fields[CUSTOM_PREFIX + str(prop.get("id"))] = property_value_in(prop.get("value"))
    return CrmRecord(record_type=record_type, remote_id=str(candidate["id"]), fields=fields)


def property_value_in(value: Any) -> Any:
    """A property value is a scalar, an option `{id, label}` or a list of options: keep ids."""
    if isinstance(value, dict):
        return value.get("id", value.get("value", value.get("label")))
    if isinstance(value, list):
        return [property_value_in(v) for v in value]
    return value


SELECT_TYPES = ("SINGLE_SELECT", "MULTI_SELECT")
TRUE_WORDS, FALSE_WORDS = {"true", "yes", "y", "1", "on"}, {"false", "no", "n", "0", "off"}


def property_value_out(prop: dict[str, Any], value: Any, options: list[dict[str, Any]]) -> Any:
    """Our value (often a string from a mapping) → the JSON type the property expects.

    Raises ValueError with a message for the user when the value doesn't fit."""
    kind = str(prop.get("type") or "TEXT").upper()
    if kind in ("NUMBER", "CURRENCY", "PERCENT"):
        try:
            num = float(str(value).replace(",", "").strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
        return int(num) if num.is_integer() else num
    if kind == "BOOLEAN":
        word = str(value).strip().lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise ValueError(f"{value!r} is not yes/no")
        return word in TRUE_WORDS
    if kind in SELECT_TYPES:
        wanted = value if isinstance(value, list) else [value]
        ids = []
        for v in wanted:
            match = [o for o in options if str(v).strip().lower() in
                     (str(o.get("id")).lower(), str(o.get("label") or "").lower())]
            if not match:
                raise ValueError(f"{v!r} is not one of {', '.join(str(o.get('label')) for o in options)}")
            ids.append(str(match[0]["id"]))
        return ids if kind == "MULTI_SELECT" else ids[0]
    return str(value).strip()


def property_def_in(prop: dict[str, Any], values: list[dict[str, Any]] | None = None) -> FieldDef:
    options = tuple(Option(str(o.get("id")), str(o.get("label") or o.get("id")))
                    for o in values or prop.get("values") or [] if isinstance(o, dict))
    return FieldDef(key=CUSTOM_PREFIX + str(prop["id"]), label=str(prop.get("label") or prop["id"]),
                    type=PROPERTY_TYPES.get(str(prop.get("type") or "").upper(), "text"), custom=True,
                    options=options, filterable=True)


def job_in(job: dict[str, Any]) -> Job:
    dept = job.get("department")
    return Job(id=str(job["id"]), title=str(job.get("title") or job.get("name") or job["id"]),
               status=str(job.get("status") or ""),
               company=(dept.get("label") if isinstance(dept, dict) else None))


def statuses(names: tuple[str, ...]) -> list[Status]:
    return [Status(id=n, name=n.replace("_", " ").title()) for n in names]


def norm_linkedin(url: str | None) -> str:
    """Compare LinkedIn URLs from the host on: scheme, www./country host, case, query and trailing
    slash vary between a captured profile and what a recruiter typed into the CRM."""
    if not url:
        return ""
    u = url.strip().lower().split("?")[0].split("#")[0].rstrip("/")
    at = u.find("linkedin.com")
    return u[at:] if at >= 0 else u


def linkedin_slug(url: str) -> str:
    """The profile's own part of a LinkedIn URL (`/in/<slug>`), the term a keyword search matches."""
    path = norm_linkedin(url).split("linkedin.com", 1)[-1].strip("/")
    return path.split("/")[-1] if path else url.strip()


def web_root(credentials: dict[str, Any], base_url: str | None = None) -> str | None:
    """SmartRecruiters' one web app, whatever the API host."""
    return A.WEB_APP
