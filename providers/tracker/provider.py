"""Tracker RMS REST ("Open API") adapter.

Wire format: ../shared/providers/API-FACTS.md §1 (third-party code talking to the live API: the
WordPress "Halt Tracker Integration" plugin, TypeScript Tracker clients, Python update scripts;
docs.unified.to's Tracker skill; vendor swagger at https://evoglapi.tracker-rms.com/swagger/index.html,
not retrieved) and, for what §1 marks [not found]/[inferred] (notes, statuses, metadata lists,
contact get/patch, error envelope), docs/assumptions.md "Tracker", gathered in tracker/assumed.py.
Calls per push (JWT cached): new person = email search + LinkedIn search + create; existing =
search + GET (rows lack custom fields, which the planner must see) + PATCH; note = 1."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import providers
from providers.base import AuthKind, Capability, Provider, RateBudget
from providers.errors import NotSupported, Rejected
from providers.matching import company_query, linkedin_search_text, rank_companies
from providers.tracker import assumed as A, mappers
from providers.tracker.client import SERVER_PAGE_ROWS, TrackerClient, stored_time
from providers.tracker.schemas import API_HOSTS, REGION_HOSTS, Credentials
from providers.types import (AccountInfo, Company, CrmRecord, FieldDef, Job, Note, NoteType, OffLimits, Page,
                             RecordType, Status, Tag)

LINKEDIN_VERIFY_GETS = 3   # contact rows lack the URL: confirm at most this many hits by GET
FIND_MAX_PAGES = 20     # searches may ignore text filters (§1.4): crawl at most 200 rows locally
LIST_MAX_PAGES = 50
SEARCH_SKIP_PAGES = 10  # pages one search() call may read past that the local re-check emptied


@providers.register
class TrackerProvider(Provider):
    key = "tracker"
    display_name = "Tracker"
    auth_kind = AuthKind.BEARER_EXCHANGE
    record_types = (RecordType("candidate", "Candidate"), RecordType("contact", "Contact"))
    capabilities = frozenset({
        Capability.FIELDS, Capability.FIND, Capability.GET, Capability.CREATE, Capability.UPDATE,
        Capability.NOTES, Capability.NOTE_TYPES, Capability.JOBS, Capability.TAGS, Capability.STATUSES,
        Capability.CV, Capability.OFF_LIMITS, Capability.COMPANY_SEARCH, Capability.SEARCH,
    })
    credentials_schema = Credentials
    default_base_url = REGION_HOSTS["uk"]
    api_hosts = API_HOSTS   # the regional REST hosts (API-FACTS §1.1 [seen-3p])
    docs_url = "https://evoglapi.tracker-rms.com/swagger/index.html"
    rate_budget = RateBudget(100, 60, "API-FACTS §1.4: ~100 requests/minute (one integrator's observation)")
    # Links into the web app (assumed.py): `Provider.record_url` builds them from these.
    record_pages, web_root = A.RECORD_PAGES, staticmethod(mappers.web_root)

    @classmethod
    def base_url_for(cls, credentials: dict[str, Any]) -> str:
        """The REST host of `credentials["region"]` (the token, not the host, picks the database)."""
        return REGION_HOSTS.get(str(credentials.get("region") or "uk").lower(), cls.default_base_url)

    def __init__(self, base_url: str, credentials: dict[str, Any], **kwargs: Any):
        super().__init__(base_url, credentials, **kwargs)
        c = self.credentials
        self.client = TrackerClient(
            self.base_url, str(c.get("access_token") or c.get("bearer_token") or ""), self.session,
            jwt=c.get("jwt"), expires_at=stored_time(c.get("jwt_expires_at")),
            obtained_at=stored_time(c.get("jwt_obtained_at")), on_new_jwt=self._store_jwt)

    def _store_jwt(self, jwt: str, expires_at: datetime, obtained_at: datetime) -> None:
        self.remember_credentials(jwt=jwt, jwt_expires_at=expires_at.isoformat(),
                                  jwt_obtained_at=obtained_at.isoformat())

    def _name(self, record_type: str) -> str:
        self.record_type(record_type)
        return mappers.RECORD_NAMES[record_type]

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """A JSON call whose validation errors are re-keyed to our field names."""
        try:
            return self.client.json(method, path, **kwargs)
        except Rejected as exc:
            raise Rejected(exc.message, field_errors=mappers.field_errors(exc.field_errors),
                           status=exc.status) from exc

    def check_connection(self) -> AccountInfo:
        self.client.renew_token()   # proves the customer token, not just a cached JWT
        self._call("POST", "/api/v1/Resource/Search", json={"pageNumber": 1, "pageSize": 1})
        region = next((r for r, h in REGION_HOSTS.items() if self.base_url.startswith(h)), None)
        return AccountInfo(name=f"Tracker ({region.upper()})" if region else "Tracker")

    # -- people ----------------------------------------------------------------------------------
    def list_fields(self, record_type: str) -> list[FieldDef]:
        rows = self.client.rows("GET", A.CUSTOM_FIELDS_PATH.format(name=self._name(record_type)))
        return list(mappers.STANDARD_DEFS) + [mappers.to_field_def(r) for r in rows]

    def find_person(self, record_type: str, *, email: str | None = None,
                    linkedin_url: str | None = None) -> CrmRecord | None:
        """Email first, then LinkedIn. Each search is re-checked locally page by page, because the
        server may ignore the text filter and return its default list; then the first search has
        already walked that list and the second is skipped. Contact search rows carry no LinkedIn
        URL, so a few LinkedIn hits are confirmed with a GET."""
        path = f"/api/v1/{self._name(record_type)}/Search"
        ignored = False
        if email and email.strip():
            body = {"email": email.strip()} if record_type == "contact" else {"searchText": email.strip()}
            found, ignored, _ = self._crawl(record_type, path, body, email.strip(), email, linkedin_url,
                                            FIND_MAX_PAGES)
            if found is not None:
                return self._full(record_type, found)
        if linkedin_url and linkedin_url.strip() and not ignored:
            text = linkedin_search_text(linkedin_url)
            # Contact rows can't show the URL: only the first page's hits can be confirmed anyway.
            pages = 1 if record_type == "contact" else FIND_MAX_PAGES
            found, _, unverified = self._crawl(record_type, path, {"searchText": text}, text, None,
                                               linkedin_url, pages)
            if found is not None:
                return self._full(record_type, found)
            for row in unverified[:LINKEDIN_VERIFY_GETS]:
                rec = self._full(record_type, row)
                if mappers.matches({A.LINKEDIN_KEY: rec.fields.get("linkedin_url")}, None, linkedin_url):
                    return rec
        return None

    def _crawl(self, record_type: str, path: str, body: dict[str, Any], text: str, email: str | None,
               linkedin_url: str | None, max_pages: int,
               ) -> tuple[dict[str, Any] | None, bool, list[dict[str, Any]]]:
        """(matching row, whether the server ignored the text, rows that can't show a LinkedIn URL)."""
        by_linkedin, ignored, unverified = None, False, []
        for rows in self.client.search_pages(path, body, max_pages):
            for row in rows:
                how = mappers.matches(row, email, linkedin_url)
                if how == "email" or (how == "linkedin" and not email):
                    return row, ignored, unverified
                if how == "linkedin" and by_linkedin is None:
                    by_linkedin = row
                if not (A.LINKEDIN_KEY in row or "linkedin" in row or "contactDetails" in row):
                    unverified.append(row)
                ignored = ignored or text.lower() not in json.dumps(row, ensure_ascii=False).lower()
        return by_linkedin, ignored, unverified

    def _full(self, record_type: str, row: dict[str, Any]) -> CrmRecord:
        """A matched search row completed with a GET: the planner treats fields we don't return as
        blank, and search rows carry no custom fields (contact rows lack most fields too)."""
        rec = mappers.to_record(record_type, row)
        if "customFields" in row:
            return rec
        return self.get(record_type, rec.remote_id)

    def get(self, record_type: str, remote_id: str) -> CrmRecord:
        row = self._call("GET", A.RECORD_PATH.format(name=self._name(record_type), id=remote_id)) or {}
        return mappers.to_record(record_type, row)

    def create(self, record_type: str, fields: dict[str, Any]) -> CrmRecord:
        doc = self._call("POST", f"/api/v1/{self._name(record_type)}",
                         json=mappers.to_body(record_type, fields))
        if not isinstance(doc, dict) or doc.get("id") is None:
            raise Rejected("Tracker did not return the new record's id")
        return CrmRecord(record_type=record_type, remote_id=str(doc["id"]), fields=dict(fields))

    def update(self, record_type: str, remote_id: str, fields: dict[str, Any]) -> None:
        body = mappers.to_body(record_type, fields)
        if body:
            self._call("PATCH", A.RECORD_PATH.format(name=self._name(record_type), id=remote_id), json=body)

    def search(self, record_type: str, filters: dict[str, Any], cursor: str | None = None) -> Page[CrmRecord]:
        """Pages of 10; no filters lists everything. Text filters are re-checked locally (the server
        may ignore them), skipping pages left empty by that so a page with a cursor has items."""
        unknown = set(filters) - {"first_name", "last_name", "email", "phone", "status"}
        if unknown:
            raise Rejected("Tracker searches by name, email, phone or status",
                           field_errors={k: "not filterable" for k in unknown})
        body: dict[str, Any] = {}
        texts = [str(v) for k, v in filters.items() if k != "status" and v]
        if texts:
            body["searchText"] = texts[0]
        if filters.get("status"):
            body[mappers.STATUS_KEYS[record_type]] = filters["status"]
        page = int(cursor) if cursor and cursor.isdigit() and int(cursor) > 0 else 1
        for _ in range(SEARCH_SKIP_PAGES):
            doc = self._call("POST", f"/api/v1/{self._name(record_type)}/Search",
                             json={**body, "pageNumber": page, "pageSize": SERVER_PAGE_ROWS})
            raw = doc if isinstance(doc, list) else (doc or {}).get("data") or []
            rows = [r for r in raw if isinstance(r, dict)]
            total = doc.get("totalRecords") if isinstance(doc, dict) and not texts else None
            items = [mappers.to_record(record_type, r) for r in rows
                     if mappers.keeps(record_type, r, filters)]
            more = len(rows) >= SERVER_PAGE_ROWS and not (
                isinstance(doc, dict) and isinstance(doc.get("totalRecords"), int)
                and page * SERVER_PAGE_ROWS >= doc["totalRecords"])
            if items or not more:
                return Page(items=items, next_cursor=str(page + 1) if more else None, total=total)
            page += 1
        return Page(items=[], next_cursor=None, total=None)

    # -- notes -----------------------------------------------------------------------------------
    def add_note(self, record_type: str, remote_id: str, body: str, note_type: str | None = None) -> str:
        first_line = (body.strip().splitlines() or [""])[0]
        doc = self._call("POST", A.ACTIVITY_PATH, json={
            "recordType": self._name(record_type), "recordId": _int(remote_id),
            "subject": first_line[:A.SUBJECT_CHARS], "note": body,
            "activityTypeId": _int(note_type) if note_type else None})
        return str((doc or {}).get("id"))

    def list_notes(self, record_type: str, remote_id: str) -> list[Note]:
        body = {"recordType": self._name(record_type), "recordId": _int(remote_id)}
        notes = []
        for rows in self.client.search_pages(A.ACTIVITY_SEARCH_PATH, body, LIST_MAX_PAGES):
            # The filter may be ignored like other searches: keep only this record's activities.
            notes += [mappers.to_note(r) for r in rows
                      if str(r.get("recordId", remote_id)) == str(remote_id)
                      and str(r.get("recordType", body["recordType"])).lower() == body["recordType"].lower()]
        return notes

    def list_note_types(self, record_type: str) -> list[NoteType]:
        self.record_type(record_type)
        return [mappers.to_note_type(r) for r in self.client.rows("GET", A.ACTIVITY_TYPES_PATH)]

    # -- jobs ------------------------------------------------------------------------------------
    def list_jobs(self, statuses: list[str] | None = None) -> list[Job]:
        wanted = {s.lower() for s in statuses or ()}
        body = {"state": "all" if wanted else "open"}
        jobs = [mappers.to_job(r) for rows in self.client.search_pages("/api/v1/Opportunity/Search", body,
                                                                         LIST_MAX_PAGES) for r in rows]
        return [j for j in jobs if not wanted or j.status.lower() in wanted]

    def list_job_statuses(self) -> list[Status]:
        return [mappers.to_status(r) for r in self.client.rows("GET", A.JOB_STATUSES_PATH)]

    def add_to_job(self, record_type: str, remote_id: str, job_id: str, status: str | None = None) -> str:
        """Longlist the candidate on the opportunity; "already there" (409) is success."""
        if record_type != "candidate":
            raise NotSupported("Tracker puts only candidates (resources) on opportunities")
        if status:
            raise NotSupported("Tracker's API has no known way to set a longlist status")
        try:
            doc = self._call("POST", f"/api/v1/Opportunity/{job_id}/longlist/resource/{remote_id}", json={})
            return str((doc or {}).get("id"))
        except Rejected as exc:
            if exc.status != A.ALREADY_ON_JOB_STATUS:
                raise
        body = {"opportunityId": _int(job_id), "resourceId": _int(remote_id)}
        for rows in self.client.search_pages(A.OPPORTUNITY_RESOURCE_SEARCH, body, FIND_MAX_PAGES):
            for r in rows:
                if str(r.get("opportunityId")) == str(job_id) and str(r.get("resourceId")) == str(remote_id):
                    return str(r.get("opportunityResourceId"))
        raise Rejected(f"Tracker says the candidate is on opportunity {job_id} but it cannot be found")

    # -- tags and statuses ------------------------------------------------------------------------
    def list_tags(self, record_type: str) -> list[Tag]:
        self.record_type(record_type)
        return [mappers.to_tag(r) for r in self.client.rows("GET", A.TAGS_PATH)]

    def apply_tags(self, record_type: str, remote_id: str, tags: list[str]) -> None:
        """`tagText` replaces the whole set, so read, merge and write only when something is new."""
        if not tags:
            return
        row = self._call("GET", A.RECORD_PATH.format(name=self._name(record_type), id=remote_id)) or {}
        existing = mappers.split_tags(row.get("tagText"))
        merged = mappers.merge_tags(existing, [str(t) for t in tags])
        if merged != existing:
            self._call("PATCH", A.RECORD_PATH.format(name=self._name(record_type), id=remote_id),
                       json={"tagText": ",".join(merged)})

    def list_statuses(self, record_type: str) -> list[Status]:
        self.record_type(record_type)
        return [mappers.to_status(r) for r in self.client.rows("GET", A.STATUSES_PATH[record_type])]

    def set_status(self, record_type: str, remote_id: str, status: str) -> None:
        self._call("PATCH", A.RECORD_PATH.format(name=self._name(record_type), id=remote_id),
                   json={mappers.STATUS_KEYS[record_type]: status})

    # -- CV (resources only; the upload path is assumed: tracker/assumed.py) ---------------------
    def _documents(self, record_type: str, remote_id: str) -> list[dict[str, Any]]:
        if record_type != "candidate":
            raise NotSupported("Tracker keeps CVs on candidates (Resources) only")
        doc = self._call("GET", A.DOCUMENTS_PATH.format(id=remote_id))
        if isinstance(doc, dict):
            doc = next((doc[k] for k in ("items", "documents", "value", "results", "data") if k in doc), [])
        return [d for d in doc or [] if isinstance(d, dict)]

    def has_cv(self, record_type: str, remote_id: str) -> bool:
        def kind(d: dict[str, Any]) -> str:
            return str(d.get("documentType") or d.get("type") or d.get("category") or "").strip().lower()
        return any(kind(d) in A.CV_TYPES for d in self._documents(record_type, remote_id))

    def upload_cv(self, record_type: str, remote_id: str, filename: str, content: bytes) -> str:
        if record_type != "candidate":
            raise NotSupported("Tracker keeps CVs on candidates (Resources) only")
        if not content:
            raise Rejected("the CV file is empty", field_errors={"cv": "empty file"})
        doc = self._call("POST", A.DOCUMENTS_PATH.format(id=remote_id), files={"file": (filename, content)},
                         data={"documentType": A.CV_DOCUMENT_TYPE}) or {}
        return str(doc.get("id") or doc.get("documentId") or "") if isinstance(doc, dict) else ""

    # -- off-limits, companies --------------------------------------------------------------------
    def off_limits(self, record_type: str, remote_id: str) -> OffLimits:
        if record_type == "candidate":
            return OffLimits(blocked=False)   # resources carry no opt-out flag (assumptions.md)
        row = self._call("GET", A.RECORD_PATH.format(name="Contact", id=remote_id)) or {}
        if str(row.get("marketingPreference") or "").lower() == mappers.OPTED_OUT.lower():
            return OffLimits(blocked=True, reason="Tracker marketing preference: Opted Out")
        return OffLimits(blocked=False)

    def search_companies(self, name: str) -> list[Company]:
        if not name or not name.strip():
            return []
        doc = self._call("GET", A.CLIENT_SEARCH_PATH, params={"search": company_query(name), "pageSize": 50,
                                                         "pageNumber": 1})
        rows = doc if isinstance(doc, list) else (doc or {}).get("data") or []
        companies = [mappers.to_company(r) for r in rows if isinstance(r, dict)]
        return rank_companies(name, [(c, c.name) for c in companies])


def _int(value: str) -> int | str:
    return int(value) if str(value).isdigit() else value
