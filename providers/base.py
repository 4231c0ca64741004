"""The adapter contract every CRM implements (DESIGN §6).

An adapter is constructed per connection, in a worker (or for a one-off check), with the API root
the vendor documents, the decrypted credentials and an optional callback to persist refreshed
tokens. It makes plain HTTP calls through one `requests.Session`, maps statuses onto
`providers.errors`, never retries on its own (the sync engine decides), and returns
`providers.types` dataclasses.

Operations are grouped by `Capability`. An adapter declares the ones it implements; the registry
checks at import that every declared capability's methods are overridden, and the base class
raises NotSupported for the rest. Example::

    adapter = get_provider("cats")(base_url="https://api.catsone.com/v3", credentials={"api_key": k})
    adapter.check_connection()
    rec = adapter.find_person("candidate", email="ada@example.com")
    if rec is None:
        rec = adapter.create("candidate", {"first_name": "Ada", "last_name": "Lovelace", "email": ...})
"""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable, Mapping

import requests
from marshmallow import Schema

from providers.errors import NotSupported
from providers.hosts import Allowlist, HostPolicy
from providers.guard import guard
from providers.http import make_session
from providers.types import (AccountInfo, Company, CrmRecord, FieldDef, Job, ListRef, Note, NoteType,
                             OffLimits, Page, RecordType, Status, Tag)
from providers.weblinks import WEB_URL, record_link, web_root


class AuthKind(str, enum.Enum):
    API_KEY = "api_key"
    BEARER_EXCHANGE = "bearer_exchange"     # Tracker: customer token exchanged for a JWT
    OAUTH2 = "oauth2"                       # SmartRecruiters authorization code (+ API key alternative)
    USERNAME_PASSWORD = "username_password"  # itris


class Capability(str, enum.Enum):
    FIELDS = "fields"               # list_fields
    FIND = "find"                   # find_person
    GET = "get"                     # get
    CREATE = "create"               # create
    UPDATE = "update"               # update
    NOTES = "notes"                 # add_note, list_notes
    NOTE_TYPES = "note_types"       # list_note_types
    JOBS = "jobs"                   # list_jobs, list_job_statuses, add_to_job
    TAGS = "tags"                   # list_tags, apply_tags
    LISTS = "lists"                 # list_lists, add_to_list
    STATUSES = "statuses"           # list_statuses, set_status
    CV = "cv"                       # has_cv, upload_cv
    OFF_LIMITS = "off_limits"       # off_limits
    COMPANY_SEARCH = "company_search"  # search_companies
    SEARCH = "search"               # search

    @property
    def methods(self) -> tuple[str, ...]:
        return CAPABILITY_METHODS[self]


CAPABILITY_METHODS: dict[Capability, tuple[str, ...]] = {
    Capability.FIELDS: ("list_fields",),
    Capability.FIND: ("find_person",),
    Capability.GET: ("get",),
    Capability.CREATE: ("create",),
    Capability.UPDATE: ("update",),
    Capability.NOTES: ("add_note", "list_notes"),
    Capability.NOTE_TYPES: ("list_note_types",),
    Capability.JOBS: ("list_jobs", "list_job_statuses", "add_to_job"),
    Capability.TAGS: ("list_tags", "apply_tags"),
    Capability.LISTS: ("list_lists", "add_to_list"),
    Capability.STATUSES: ("list_statuses", "set_status"),
    Capability.CV: ("has_cv", "upload_cv"),
    Capability.OFF_LIMITS: ("off_limits",),
    Capability.COMPANY_SEARCH: ("search_companies",),
    Capability.SEARCH: ("search",),
}


@dataclass(frozen=True)
class RateBudget:
    """The CRM's documented budget: `calls` per `seconds`, per credential. Overridable per connection."""
    calls: int
    seconds: int
    source: str = ""

    @property
    def per_minute(self) -> float:
        return self.calls * 60.0 / self.seconds


CredentialsCallback = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class OAuthApp:
    """The app's own OAuth client for a CRM (operator config, never a team's credentials), read
    at each use: `<KEY>_CLIENT_ID`, `<KEY>_CLIENT_SECRET`, `<KEY>_AUTH_BASE_URL` (optional)."""
    client_id: str
    client_secret: str
    auth_base_url: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], key: str) -> "OAuthApp | None":
        prefix = key.upper()
        client_id = config.get(f"{prefix}_CLIENT_ID")
        if not client_id:
            return None
        return cls(str(client_id), str(config.get(f"{prefix}_CLIENT_SECRET") or ""),
                   config.get(f"{prefix}_AUTH_BASE_URL") or None)


class Provider(ABC):
    key: ClassVar[str]
    display_name: ClassVar[str]
    auth_kind: ClassVar[AuthKind]
    record_types: ClassVar[tuple[RecordType, ...]]
    capabilities: ClassVar[frozenset[Capability]]
    credentials_schema: ClassVar[type[Schema]]   # secret fields carry metadata={"secret": True}
    default_base_url: ClassVar[str]              # the vendor's documented API root
    # The vendor's own hosts, API and identity (`*` = one DNS label, e.g. a tenant's subdomain):
    # the only ones an adapter calls, over https, unless the operator allow-lists others
    # (providers/hosts.py).
    api_hosts: ClassVar[tuple[str, ...]]
    docs_url: ClassVar[str] = ""
    rate_budget: ClassVar[RateBudget]
    # True where a record can only be (or is best) created on a job: Pinpoint's record is an
    # application; SmartRecruiters creates-and-applies in one call. `create()` then accepts a
    # "job_id" entry in `fields`, and the executor passes the target job there.
    create_takes_job: ClassVar[bool] = False
    # Record type → the path of a record's page in the CRM's web app, `{id}` for its id (each
    # adapter's assumed.py: vendors don't document their UI's URLs); "company" for a company found
    # by search_companies. See `record_url`.
    record_pages: ClassVar[Mapping[str, str]] = {}

    def __init__(self, base_url: str, credentials: dict[str, Any], *,
                 session: requests.Session | None = None,
                 on_credentials_changed: CredentialsCallback | None = None,
                 allowlist: Allowlist | Iterable[str] | str | None = None,
                 oauth_app: OAuthApp | None = None):
        """`on_credentials_changed(new_credentials)` is called when the adapter refreshes tokens
        (Tracker JWT, SmartRecruiters OAuth) so the caller can persist them encrypted.
        A `{subdomain}` in `base_url` (a vendor root per tenant) is filled from the credentials.
        `allowlist`: the operator's extra hosts (CRM_HOST_ALLOWLIST); every call goes only to
        `api_hosts` or those, through a guarded session, and `base_url` is checked here (raises
        HostNotAllowed). `oauth_app`: the app's OAuth client, for adapters that refresh tokens."""
        if "{subdomain}" in (base_url or ""):
            base_url = base_url.format(subdomain=credentials.get("subdomain") or "")
        self.base_url = base_url.rstrip("/")
        self.credentials = dict(credentials)
        if not isinstance(allowlist, Allowlist):
            allowlist = Allowlist.parse(allowlist)
        self.policy = HostPolicy(self.api_hosts, allowlist)
        self.policy.check_url(self.base_url)
        self.session = guard(session or make_session(), self.policy)
        self.on_credentials_changed = on_credentials_changed
        self.oauth_app = oauth_app

    @classmethod
    def base_url_for(cls, credentials: dict[str, Any]) -> str:
        """The vendor's API root for these credentials (`{subdomain}` filled in, where it has one)."""
        return cls.default_base_url.format(subdomain=credentials.get("subdomain") or "")

    # -- links into the CRM's web app (pure: built, never fetched) --------------------------------
    @classmethod
    def web_root(cls, credentials: Mapping[str, Any], base_url: str | None = None) -> str | None:
        """Where this connection's web app lives (`https://acme.example.com`), derived from its
        credentials and API root; None where it can't be derived (the admin may then type it)."""
        return None

    @classmethod
    def record_path(cls, record_type: str, remote_id: str) -> tuple[str, str] | None:
        """(page template, id to fill in) of one record, from `record_pages`; None if it has none."""
        page = cls.record_pages.get(record_type)
        return (page, remote_id) if page else None

    @classmethod
    def record_url(cls, credentials: Mapping[str, Any], record_type: str, remote_id: Any,
                   base_url: str | None = None) -> str | None:
        """The web address of one record in the CRM, for a link beside its id: the connection's
        "Web address" (`web_url` in the credentials) when set, else `web_root`, plus the record's
        page. Always an http(s) URL or None (then show the id as plain text). Pure: no call."""
        rid = str(remote_id or "").strip()
        path = cls.record_path(record_type, rid) if rid else None
        if path is None:
            return None
        root = web_root(credentials.get(WEB_URL)) or web_root(cls.web_root(credentials, base_url))
        return record_link(root, *path)

    def remember_credentials(self, **updates: Any) -> None:
        """Merge refreshed token fields into the credentials and hand a copy to
        `on_credentials_changed`, so the next job starts from them instead of logging in again."""
        self.credentials.update(updates)
        if self.on_credentials_changed:
            self.on_credentials_changed(dict(self.credentials))

    @classmethod
    def supports(cls, cap: Capability) -> bool:
        return cap in cls.capabilities

    @classmethod
    def record_type(cls, key: str) -> RecordType:
        for rt in cls.record_types:
            if rt.key == key:
                return rt
        raise NotSupported(f"{cls.display_name} has no record type {key!r}")

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        return tuple(n for n, f in cls.credentials_schema().fields.items() if f.metadata.get("secret"))

    # -- OAuth (auth_kind OAUTH2 only; the registry checks both are implemented) ----------------
    @classmethod
    def authorization_url(cls, app: OAuthApp, redirect_uri: str, state: str,
                          code_verifier: str | None = None) -> str:
        """The vendor's consent URL for the authorization-code flow, for the app's OAuth client;
        with `code_verifier`, a PKCE (S256) challenge derived from it."""
        raise NotSupported(f"{cls.display_name} has no OAuth consent flow")

    @classmethod
    def exchange_code(cls, code: str, app: OAuthApp, redirect_uri: str,
                      allowlist: Allowlist | None = None, code_verifier: str | None = None) -> dict[str, Any]:
        """Authorization code → the credentials dict to store: tokens only, never the app's client
        (it is config, read again at each use). The token call is guarded like any other; the
        PKCE verifier is the one whose challenge went with the consent URL."""
        raise NotSupported(f"{cls.display_name} has no OAuth consent flow")

    # -- always required -------------------------------------------------------------------
    @abstractmethod
    def check_connection(self) -> AccountInfo:
        """Make one cheap authenticated call. Raise AuthError for bad credentials."""

    # -- capabilities ----------------------------------------------------------------------
    def list_fields(self, record_type: str) -> list[FieldDef]:
        """Standard + custom fields of a record type, with type, options and whether required."""
        raise NotSupported("fields")

    def find_person(self, record_type: str, *, email: str | None = None,
                    linkedin_url: str | None = None) -> CrmRecord | None:
        """Look a person up by email, then by LinkedIn URL, as the CRM allows. None if not found."""
        raise NotSupported("find")

    def get(self, record_type: str, remote_id: str) -> CrmRecord:
        """Current values (our field keys) of one record. NotFound if it is gone."""
        raise NotSupported("get")

    def create(self, record_type: str, fields: dict[str, Any]) -> CrmRecord:
        """Create a record from our field values; return it with its remote id.

        With `create_takes_job`, `fields` may carry "job_id": create the record on that job."""
        raise NotSupported("create")

    def update(self, record_type: str, remote_id: str, fields: dict[str, Any]) -> None:
        """Write exactly `fields` (the planner already applied "only update if blank")."""
        raise NotSupported("update")

    def add_note(self, record_type: str, remote_id: str, body: str,
                 note_type: str | None = None) -> str:
        """Add one note; return its id. `note_type` is an id from list_note_types, or None."""
        raise NotSupported("notes")

    def list_notes(self, record_type: str, remote_id: str) -> list[Note]:
        """Notes on a record, used to verify a note after an attempt died mid-call."""
        raise NotSupported("notes")

    def list_note_types(self, record_type: str) -> list[NoteType]:
        raise NotSupported("note_types")

    def list_jobs(self, statuses: list[str] | None = None) -> list[Job]:
        """Open jobs, optionally only those whose status is in `statuses` (job status whitelist)."""
        raise NotSupported("jobs")

    def list_job_statuses(self) -> list[Status]:
        raise NotSupported("jobs")

    def add_to_job(self, record_type: str, remote_id: str, job_id: str,
                   status: str | None = None) -> str:
        """Put the record on a job / pipeline; return the pipeline/application id. Idempotent."""
        raise NotSupported("jobs")

    def list_tags(self, record_type: str) -> list[Tag]:
        raise NotSupported("tags")

    def apply_tags(self, record_type: str, remote_id: str, tags: list[str]) -> None:
        """Add tags (names, or ids where the CRM uses ids) without removing existing ones."""
        raise NotSupported("tags")

    def list_lists(self, record_type: str) -> list[ListRef]:
        raise NotSupported("lists")

    def add_to_list(self, record_type: str, remote_id: str, list_id: str) -> None:
        raise NotSupported("lists")

    def list_statuses(self, record_type: str) -> list[Status]:
        raise NotSupported("statuses")

    def set_status(self, record_type: str, remote_id: str, status: str) -> None:
        raise NotSupported("statuses")

    def has_cv(self, record_type: str, remote_id: str) -> bool:
        raise NotSupported("cv")

    def upload_cv(self, record_type: str, remote_id: str, filename: str, content: bytes) -> str:
        raise NotSupported("cv")

    def off_limits(self, record_type: str, remote_id: str) -> OffLimits:
        """Whether the CRM marks this person off-limits / opted out (blocks emails when enabled)."""
        raise NotSupported("off_limits")

    def search_companies(self, name: str) -> list[Company]:
        """Companies whose name resembles `name` (for the duplicate-company warning)."""
        raise NotSupported("company_search")

    def search(self, record_type: str, filters: dict[str, Any], cursor: str | None = None) -> Page[CrmRecord]:
        """Records matching field filters, one page at a time (cursor from the previous page)."""
        raise NotSupported("search")
