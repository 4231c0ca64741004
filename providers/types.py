"""Our own vocabulary for what adapters return. Adapters never leak raw CRM JSON past their mappers.

Field keys: the standard person fields use our names (`STANDARD_FIELDS`); anything else is the
CRM's own field key (e.g. a custom field id as `custom:<id>`), as listed by `list_fields`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# The person fields Shoal captures from a profile, in our naming. Mappers translate these.
STANDARD_FIELDS: tuple[str, ...] = (
    "first_name", "last_name", "email", "phone", "title", "company", "location", "linkedin_url",
)


@dataclass(frozen=True)
class RecordType:
    key: str                     # "candidate", "contact", "applicant", "application"
    label: str                   # as the CRM calls it: "Candidate", "Applicant", ...


@dataclass(frozen=True)
class Option:
    id: str
    label: str


@dataclass(frozen=True)
class FieldDef:
    key: str                     # a STANDARD_FIELDS name or the CRM's key (custom: "custom:<id>")
    label: str
    type: str = "text"           # text | email | phone | url | select | multiselect | date | number | bool
    required: bool = False       # required by the CRM itself
    custom: bool = False
    options: tuple[Option, ...] = ()
    filterable: bool = False     # the CRM can search records by this field


@dataclass
class CrmRecord:
    record_type: str
    remote_id: str
    fields: dict[str, Any] = field(default_factory=dict)   # our field keys → current CRM values
    # (Its page in the CRM's web app: `Provider.record_url`, built from the connection.)


@dataclass(frozen=True)
class NoteType:
    id: str
    name: str


@dataclass(frozen=True)
class Note:
    id: str
    body: str
    note_type: str | None = None


@dataclass(frozen=True)
class Job:
    id: str
    title: str
    status: str                  # the CRM's status name/id, used by the job status whitelist
    company: str | None = None


@dataclass(frozen=True)
class Tag:
    id: str
    name: str


@dataclass(frozen=True)
class ListRef:
    id: str
    name: str


@dataclass(frozen=True)
class Status:
    id: str
    name: str


@dataclass(frozen=True)
class Company:
    id: str
    name: str
    details: dict[str, Any] = field(default_factory=dict)   # website, city, owner ... for the panel


@dataclass(frozen=True)
class OffLimits:
    blocked: bool
    reason: str | None = None


@dataclass(frozen=True)
class AccountInfo:
    """What `check_connection` learned: shown next to the Connected badge."""
    name: str | None = None


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None = None     # opaque; None at the end
    total: int | None = None
