"""CATS (catsone.com) API v3 adapter.

Wire format: ../shared/providers/API-FACTS.md §3 (sources: PipedreamHQ/pipedream components/cats,
vanman2024/cats-mcp-server, MindCloud CATS docs; vendor reference https://docs.catsone.com/api/v3/)
and, for what those mark [inferred]/[not found], docs/assumptions.md "CATS" (gathered in
providers/cats/assumed.py; the error envelope in client.py). Calls per push: new person = 1 search
+ 1 create; existing = 1 search + 1 PUT (a PUT that writes a phone, city or LinkedIn URL merges
into the row the search just returned; it reads the record first only when this adapter hasn't);
note = 1."""
from __future__ import annotations

from typing import Any

import providers
from providers.base import AuthKind, Capability, Provider, RateBudget
from providers.cats import assumed as A, mappers
from providers.cats.client import MAX_PER_PAGE, CatsClient, location_id
from providers.cats.schemas import Credentials
from providers.errors import NotSupported, Rejected
from providers.matching import company_query, linkedin_search_text, match_company, rank_companies
from providers.types import (AccountInfo, Company, CrmRecord, FieldDef, Job, ListRef, Note, NoteType,
                             OffLimits, Page, RecordType, Status, Tag)

CLOSED_JOB_STATUSES = {"closed", "full", "filled", "cancelled", "canceled"}   # by title, not offered
SEARCH_PAGE = 25
JOB_COMPANY_LOOKUPS = 20             # companies named on the job list; the rest show without one
FIND_PAGES = 3                       # keyword search rows are fuzzy; look a few pages deep at most


_PATHS = {"candidate": "candidates", "contact": "contacts"}


@providers.register
class CatsProvider(Provider):
    key = "cats"
    display_name = "CATS"
    auth_kind = AuthKind.API_KEY
    record_types = (RecordType("candidate", "Candidate"), RecordType("contact", "Contact"))
    capabilities = frozenset({
        Capability.FIELDS, Capability.FIND, Capability.GET, Capability.CREATE, Capability.UPDATE,
        Capability.NOTES, Capability.NOTE_TYPES, Capability.JOBS, Capability.TAGS, Capability.LISTS,
        Capability.CV, Capability.OFF_LIMITS, Capability.COMPANY_SEARCH, Capability.SEARCH,
    })
    credentials_schema = Credentials
    default_base_url = "https://api.catsone.com/v3"
    api_hosts = ("api.catsone.com",)   # API-FACTS §3.1: the same API host for every customer [seen]
    docs_url = "https://docs.catsone.com/api/v3/"
    rate_budget = RateBudget(500, 3600, "API-FACTS §3.4: 500 requests/hour rolling, per key")
    # Links into the web app (assumed.py): `Provider.record_url` builds them from these.
    record_pages, web_root = A.RECORD_PAGES, staticmethod(mappers.web_root)

    def __init__(self, base_url: str, credentials: dict[str, Any], **kwargs: Any):
        super().__init__(base_url, credentials, **kwargs)
        self.client = CatsClient(self.base_url, str(credentials.get("api_key") or ""), self.session)
        # Whole rows this adapter read, by (record type, id), each used by at most one update: the
        # sync engine builds an adapter per job and updates right after its lookup, so the PUT's
        # merge can use the row the search returned instead of reading the record again.
        self._read: dict[tuple[str, str], dict[str, Any]] = {}

    def _path(self, record_type: str) -> str:
        self.record_type(record_type)
        return _PATHS[record_type]

    def check_connection(self) -> AccountInfo:
        site = self.client.get(A.SITE_PATH) or {}
        if site.get("subdomain") and site["subdomain"] != self.credentials.get("account"):
            self.remember_credentials(account=str(site["subdomain"]))   # where the web app lives
        return AccountInfo(name=site.get("name") or site.get("subdomain"))

    # -- people ------------------------------------------------------------------------------
    def list_fields(self, record_type: str) -> list[FieldDef]:
        rows = self.client.iterate(A.CUSTOM_FIELDS.format(records=f"/{self._path(record_type)}"))
        return list(mappers.standard_defs(record_type)) + [mappers.to_field_def(r) for r in rows]

    def find_person(self, record_type: str, *, email: str | None = None,
                    linkedin_url: str | None = None) -> CrmRecord | None:
        """One keyword search for both identifiers (CATS matches any word of the query), then an
        exact local match: an email match wins over a LinkedIn match."""
        li_text = linkedin_search_text(linkedin_url) if linkedin_url else None
        words = [w.strip() for w in (email, li_text) if w and w.strip()]
        if not words:
            return None
        path = f"/{self._path(record_type)}/search"
        by_linkedin = None
        for n in range(1, FIND_PAGES + 1):
            rows, more, _ = self.client.page("GET", path, n, MAX_PER_PAGE, query=" ".join(words))
            for row in rows:
                how = mappers.matches(row, email, linkedin_url)
                if how == "email":
                    return self._matched(record_type, row)
                if how == "linkedin" and by_linkedin is None:
                    by_linkedin = row
            if by_linkedin is not None or not more:
                break
        return self._matched(record_type, by_linkedin) if by_linkedin is not None else None

    def _matched(self, record_type: str, row: dict[str, Any]) -> CrmRecord:
        """The planner treats a field we don't return as blank, so a summary row (no embedded
        custom field values) is completed with a GET; CATS search rows are normally whole."""
        if "_embedded" not in row:
            return self.get(record_type, str(row["id"]))
        return self._record(record_type, row)

    def get(self, record_type: str, remote_id: str) -> CrmRecord:
        return self._record(record_type, self.client.get(f"/{self._path(record_type)}/{remote_id}"))

    def _record(self, record_type: str, row: dict[str, Any]) -> CrmRecord:
        if row.get("id") is not None:
            self._read[(record_type, str(row["id"]))] = row
        company = None
        if record_type == "contact" and row.get("company_id"):
            # A contact names its company only by id; one lookup keeps "company" comparable.
            company = (self.client.get(f"/companies/{row['company_id']}") or {}).get("name")
        return mappers.to_record(record_type, row, company)

    def create(self, record_type: str, fields: dict[str, Any]) -> CrmRecord:
        """Create with `check_duplicate=true`. If CATS reports a duplicate, link to the existing
        record instead of failing: rule 2 wants the match, never a second record."""
        path = self._path(record_type)
        body = self._body(record_type, fields)
        try:
            new_id = self.client.create(f"/{path}", body, check_duplicate="true")
        except Rejected as exc:
            if exc.status != A.DUPLICATE_STATUS:
                raise
            existing = self._duplicate_id(record_type, fields)
            if existing is None:
                raise
            return self.get(record_type, existing)
        return CrmRecord(record_type=record_type, remote_id=new_id, fields=dict(fields))

    def _duplicate_id(self, record_type: str, fields: dict[str, Any]) -> str | None:
        # One identifier per search: if a tenant's keyword search wants every word (not any, as
        # assumed), the combined lookup missed this record, and a single word still finds it.
        for ident in ({"email": fields.get("email")}, {"linkedin_url": fields.get("linkedin_url")}):
            if any(ident.values()):
                found = self.find_person(record_type, **ident)
                if found is not None:
                    return found.remote_id
        return None

    def update(self, record_type: str, remote_id: str, fields: dict[str, Any]) -> None:
        """PUT the given fields. Writing a phone, city or LinkedIn URL merges into the record as last
        read (by this adapter, else read now), so the other phones, address parts and social URLs survive."""
        path = f"/{self._path(record_type)}/{remote_id}"
        body = self._body(record_type, fields)
        current = self._read.pop((record_type, str(remote_id)), None)
        if any(k in body for k in mappers.MERGED_ON_UPDATE):
            body = mappers.merge_for_update(body, current if current is not None else self.client.get(path) or {})
        if body:
            self.client.put(path, body)

    def _body(self, record_type: str, fields: dict[str, Any]) -> dict[str, Any]:
        body = mappers.to_body(record_type, fields)
        if record_type == "contact" and fields.get("company"):
            company_id = self._company_id(str(fields["company"]))
            if company_id is not None:
                body["company_id"] = int(company_id) if company_id.isdigit() else company_id
        return body

    def _company_id(self, name: str) -> str | None:
        """The company this name means (`match_company`: exact, else the one differing only by legal
        form). An ambiguous or merely similar name is never picked silently, and no company is
        created: that is the admin's call, helped by the company warning."""
        rows = self.client.iterate("/companies/search", query=company_query(name))
        found = match_company(name, [(r, r.get("name") or "") for r in rows])
        return str(found["id"]) if found is not None else None

    def search(self, record_type: str, filters: dict[str, Any], cursor: str | None = None) -> Page[CrmRecord]:
        """Structured search (`POST /<records>/search`); no filters lists every record."""
        clauses = []
        searchable = {f.key for f in mappers.standard_defs(record_type) if f.filterable}
        for key, value in filters.items():
            if key not in searchable:
                raise Rejected(f"CATS cannot search {record_type}s by {key}",
                               field_errors={key: "not filterable"})
            clauses.append({"field": mappers.SEARCH_FIELDS[key],
                            "filter": A.SEARCH_FILTERS.get(key, "contains"), "value": value})
        page = int(cursor) if cursor and cursor.isdigit() and int(cursor) > 0 else 1
        path = f"/{self._path(record_type)}"
        if clauses:
            body = clauses[0] if len(clauses) == 1 else {"and": clauses}
            rows, more, total = self.client.page("POST", f"{path}/search", page, SEARCH_PAGE, body=body)
        else:
            rows, more, total = self.client.page("GET", path, page, SEARCH_PAGE)
        return Page(items=[mappers.to_record(record_type, r) for r in rows],
                    next_cursor=str(page + 1) if more and rows else None, total=total)

    # -- notes ---------------------------------------------------------------------------------
    def add_note(self, record_type: str, remote_id: str, body: str, note_type: str | None = None) -> str:
        kind = note_type or A.UNTYPED_ACTIVITY
        if kind not in A.ACTIVITY_TYPES:
            raise Rejected(f"unknown CATS activity type {kind!r}", field_errors={"note_type": kind})
        return self.client.create(f"/{self._path(record_type)}/{remote_id}/activities",
                                  {"type": kind, "notes": body})

    def list_notes(self, record_type: str, remote_id: str) -> list[Note]:
        rows = self.client.iterate(f"/{self._path(record_type)}/{remote_id}/activities")
        return [mappers.to_note(r) for r in rows]

    def list_note_types(self, record_type: str) -> list[NoteType]:
        self.record_type(record_type)
        return [mappers.to_note_type(k, v) for k, v in A.ACTIVITY_TYPES.items()]

    # -- jobs ----------------------------------------------------------------------------------
    def list_jobs(self, statuses: list[str] | None = None) -> list[Job]:
        """Jobs whose status id or title is in `statuses`; without a whitelist, all but closed ones."""
        wanted = {s.lower() for s in statuses or ()}
        rows = []
        for row in self.client.iterate("/jobs"):
            sid, title = mappers.to_job(row).status.lower(), (mappers.job_status_title(row) or "").lower()
            if (sid in wanted or title in wanted) if wanted else title not in CLOSED_JOB_STATUSES:
                rows.append(row)
        # Jobs name their company by id only; label them for the picker, a bounded number of lookups.
        ids = list(dict.fromkeys(str(r["company_id"]) for r in rows if r.get("company_id")))
        names = {i: (self.client.get(f"/companies/{i}") or {}).get("name") for i in ids[:JOB_COMPANY_LOOKUPS]}
        return [mappers.to_job({**r, "company_name": names.get(str(r.get("company_id")))}) for r in rows]

    def list_job_statuses(self) -> list[Status]:
        return [mappers.to_status(r) for r in self.client.iterate("/jobs/statuses")]

    def add_to_job(self, record_type: str, remote_id: str, job_id: str, status: str | None = None) -> str:
        """Add to the job's pipeline; "already in this pipeline" is success (its id is looked up)."""
        if record_type != "candidate":
            raise NotSupported("CATS pipelines hold candidates only")
        try:
            pipeline_id = self.client.create("/pipelines",
                                             {"candidate_id": _int(remote_id), "job_id": _int(job_id)})
        except Rejected as exc:
            if exc.status != A.ALREADY_ON_PIPELINE_STATUS:
                raise
            rows = self.client.iterate(f"/candidates/{remote_id}/pipelines")
            pipeline_id = next((str(r["id"]) for r in rows if str(r.get("job_id")) == str(job_id)), None)
            if pipeline_id is None:
                raise
        if status:
            self.client.post(f"/pipelines/{pipeline_id}/status", {"status_id": _int(status)})
        return pipeline_id

    # -- tags and lists ------------------------------------------------------------------------
    def list_tags(self, record_type: str) -> list[Tag]:
        self.record_type(record_type)
        return [mappers.to_tag(r) for r in self.client.iterate("/tags")]

    def apply_tags(self, record_type: str, remote_id: str, tags: list[str]) -> None:
        """CATS tags are predefined objects referenced by id; names are resolved, unknown ones refused."""
        if not tags:
            return
        ids = [str(t) for t in tags]
        if not all(t.isdigit() for t in ids):
            known = self._tag_ids(record_type)
            missing = [t for t in ids if t.lower() not in known]
            if missing:
                raise Rejected(f"CATS has no tag {', '.join(missing)}",
                               field_errors={"tags": ", ".join(missing)})
            ids = [known[t.lower()] for t in ids]
        self.client.post(f"/{self._path(record_type)}/{remote_id}/tags",
                         {"tags": [{"id": _int(i)} for i in ids]})

    def _tag_ids(self, record_type: str) -> dict[str, str]:
        tags = self.list_tags(record_type)
        return {t.name.lower(): t.id for t in tags} | {t.id: t.id for t in tags}

    def list_lists(self, record_type: str) -> list[ListRef]:
        return [mappers.to_list(r) for r in self.client.iterate(f"/{self._path(record_type)}/lists")]

    def add_to_list(self, record_type: str, remote_id: str, list_id: str) -> None:
        item = {f"{record_type}_id": _int(remote_id)}
        self.client.post(f"/{self._path(record_type)}/lists/{list_id}/items", {"items": [item]})

    # -- CV, off-limits, companies ----------------------------------------------------------------
    def has_cv(self, record_type: str, remote_id: str) -> bool:
        rows = self.client.iterate(f"/{self._path(record_type)}/{remote_id}/attachments")
        return any(bool(r.get("is_resume")) for r in rows)

    def upload_cv(self, record_type: str, remote_id: str, filename: str, content: bytes) -> str:
        if not content:
            raise Rejected("the CV file is empty", field_errors={"cv": "empty file"})
        path = A.RESUME_UPLOAD.format(records=self._path(record_type), id=remote_id)
        resp = self.client.request("POST", path, params={"filename": filename, "is_resume": "true"},
                                   data=content, headers={"Content-Type": "application/octet-stream"})
        return location_id(resp)

    def off_limits(self, record_type: str, remote_id: str) -> OffLimits:
        return mappers.to_off_limits(self.client.get(f"/{self._path(record_type)}/{remote_id}") or {})

    def search_companies(self, name: str) -> list[Company]:
        if not name or not name.strip():
            return []
        rows = [mappers.to_company(r)
                for r in self.client.iterate("/companies/search", query=company_query(name))]
        return rank_companies(name, [(c, c.name) for c in rows])


def _int(value: str) -> int | str:
    """CATS ids are integers in JSON bodies; a non-numeric id is passed through for CATS to refuse."""
    return int(value) if str(value).isdigit() else value
