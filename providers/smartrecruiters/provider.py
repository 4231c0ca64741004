"""SmartRecruiters adapter (API-FACTS §2; vendor docs https://developers.smartrecruiters.com).

One record type, the candidate. Lookups use the keyword search `GET /candidates?q=` and then match
exactly here (the search is fuzzy and its rows lack phone, web and experience, so a hit is re-read
with `GET /candidates/{id}`). Notes are Messages API shares that mention `#[CANDIDATE:<id>]`.
Consent is the off-limits signal; candidate properties are the custom fields (properties.py).
A push with a job (a `job_id` entry in the create fields, from the sync options) creates the
candidate on it in one call, `POST /jobs/{id}/candidates` (documented); applying an existing
candidate uses the path docs/assumptions.md assumes (API-FACTS knows none).
Every detail not confirmed by a source is in assumed.py.
"""
from __future__ import annotations

from typing import Any

import providers
from providers.base import AuthKind, Capability, OAuthApp, Provider, RateBudget
from providers.errors import NotFound, NotSupported, Rejected
from providers.hosts import Allowlist, HostPolicy
from providers.smartrecruiters import client as sr
from providers.smartrecruiters import mappers as m
from providers.smartrecruiters.properties import CandidateProperties
from providers.smartrecruiters.assumed import (CANDIDATE_STATUSES, JOB_STATUSES, CONSENT_BLOCKED, RESUME_ATTACHMENT_TYPE, NOTE_LIST_PATH, APPLY_PATH, SEARCH_PARAMS, RECORD_PAGES)
from providers.smartrecruiters.schemas import Credentials
from providers.types import (AccountInfo, CrmRecord, FieldDef, Job, Note, OffLimits, Page, RecordType,
                             Status, Tag)

LEGACY_OAUTH_KEYS = ("client_id", "client_secret", "auth_base_url")   # the app's, never a team's (issue #10)


@providers.register
class SmartRecruitersProvider(Provider):
    key = "smartrecruiters"
    display_name = "SmartRecruiters"
    auth_kind = AuthKind.OAUTH2
    record_types = (RecordType("candidate", "Candidate"),)
    capabilities = frozenset({Capability.FIELDS, Capability.FIND, Capability.GET, Capability.CREATE,
                              Capability.UPDATE, Capability.NOTES, Capability.JOBS, Capability.TAGS,
                              Capability.STATUSES, Capability.CV, Capability.OFF_LIMITS, Capability.SEARCH})
    credentials_schema = Credentials
    default_base_url = "https://api.smartrecruiters.com"
    # API-FACTS §2.1: the API host, its sandbox [seen], and the identity host OAuth uses [seen-3p].
    api_hosts = ("api.smartrecruiters.com", "api.sandbox.smartrecruiters.com", "www.smartrecruiters.com")
    docs_url = "https://developers.smartrecruiters.com/docs/endpoints"
    # create() accepts a `job_id` entry in its fields (the push's job): the sync runtime should pass it.
    create_takes_job = True
    rate_budget = RateBudget(10, 1, "10 requests/second per credential (developers.smartrecruiters.com, via API-FACTS §2.4)")
    # Links into the web app (assumed.py): `Provider.record_url` builds them from these.
    record_pages, web_root = RECORD_PAGES, staticmethod(m.web_root)

    def __init__(self, base_url: str, credentials: dict[str, Any], **kwargs: Any):
        super().__init__(base_url, credentials, **kwargs)
        # A row saved before the OAuth client moved to config may still hold it: never used, and
        # not written back with the next refreshed token (services/oauth_cleanup.py strips the rest).
        for key in LEGACY_OAUTH_KEYS:
            self.credentials.pop(key, None)
        # The client rotates tokens in self.credentials itself (the same dict): report a copy.
        self.client = sr.SmartRecruitersClient(self.base_url, self.credentials, self.session,
                                               on_refresh=lambda creds: self.remember_credentials(),
                                               oauth_app=self.oauth_app, policy=self.policy)
        self.properties = CandidateProperties(self.client)

    # -- OAuth helpers for the web layer (authorization code) ---------------------------------------
    @classmethod
    def authorization_url(cls, app: OAuthApp, redirect_uri: str, state: str,
                          code_verifier: str | None = None) -> str:
        url, _ = sr.oauth_session(app, redirect_uri=redirect_uri).create_authorization_url(
            sr.authorize_url(app.auth_base_url), state=state, code_verifier=code_verifier)
        return url

    @classmethod
    def exchange_code(cls, code: str, app: OAuthApp, redirect_uri: str,
                      allowlist: Allowlist | None = None, code_verifier: str | None = None) -> dict[str, Any]:
        """Authorization code → the credentials dict to store: the tokens only. The client id and
        secret stay the app's (config), read again at each refresh."""
        sess = sr.oauth_session(app, redirect_uri=redirect_uri, policy=HostPolicy(cls.api_hosts, allowlist or Allowlist()))
        token = sr.call_token_endpoint(lambda: sess.fetch_token(
            sr.token_url(app.auth_base_url), grant_type="authorization_code", code=code, timeout=30,
            **({"code_verifier": code_verifier} if code_verifier else {})))
        return sr.token_to_credentials(token)

    # -- helpers ---------------------------------------------------------------------------------
    def _check_type(self, record_type: str) -> None:
        self.record_type(record_type)

    def _candidate(self, remote_id: str) -> dict[str, Any]:
        return self.client.json("GET", f"/candidates/{remote_id}")

    # -- contract --------------------------------------------------------------------------------
    def check_connection(self) -> AccountInfo:
        me = self.client.json("GET", "/users/me") or {}
        name = " ".join(p for p in (me.get("firstName"), me.get("lastName")) if p) or me.get("email")
        return AccountInfo(name=name or None)

    def list_fields(self, record_type: str) -> list[FieldDef]:
        self._check_type(record_type)
        defs = [m.property_def_in(p, self.properties.options(p)) for p in self.properties.definitions().values()]
        return list(m.STANDARD_FIELD_DEFS) + defs

    def find_person(self, record_type: str, *, email: str | None = None,
                    linkedin_url: str | None = None) -> CrmRecord | None:
        self._check_type(record_type)
        if email:
            want = email.strip().lower()
            rows, _ = self.client.page("/candidates", {"q": email.strip()})
            for row in rows:
                if (row.get("email") or "").strip().lower() == want:
                    return m.candidate_in(self._candidate(row["id"]))
        want = m.norm_linkedin(linkedin_url)
        if want:
            # Search by the profile slug: a keyword search won't match a differently spelled URL.
            rows, _ = self.client.page("/candidates", {"q": m.linkedin_slug(linkedin_url)})
            for row in rows[:10]:   # list rows may lack `web`: then read the candidate
                cand = row if "web" in row else self._candidate(row["id"])
                if m.norm_linkedin((cand.get("web") or {}).get("linkedin")) == want:
                    return m.candidate_in(cand if "experience" in cand else self._candidate(row["id"]))
        return None

    def get(self, record_type: str, remote_id: str) -> CrmRecord:
        self._check_type(record_type)
        return m.candidate_in(self._candidate(remote_id), self.properties.read(remote_id))

    def create(self, record_type: str, fields: dict[str, Any]) -> CrmRecord:
        self._check_type(record_type)
        standard, custom = self._split(fields)
        body = m.candidate_out(standard)
        missing = [k for k, v in (("first_name", body.get("firstName")), ("last_name", body.get("lastName"))) if not v]
        if missing:
            raise Rejected("SmartRecruiters needs a first and last name",
                           field_errors={k: "required" for k in missing})
        # With a job (sync options), create and apply in one call: SmartRecruiters has no way to put
        # an existing candidate on a job (API-FACTS §2.2), so this is the moment to do it.
        job_id = fields.get("job_id")
        path = f"/jobs/{job_id}/candidates" if job_id else "/candidates"
        values = self.properties.prepare(custom)
        created = self.client.json("POST", path, json=body)
        self.properties.put(str(created["id"]), values)
        record = m.candidate_in(created)
        record.fields.update(custom)
        return record

    def update(self, record_type: str, remote_id: str, fields: dict[str, Any]) -> None:
        self._check_type(record_type)
        standard, custom = self._split(fields)
        values = self.properties.prepare(custom)
        if ("title" in standard) != ("company" in standard):
            # The current job is one experience entry: keep the half we were not asked to change.
            current = m.current_experience(self._candidate(remote_id))
            standard.setdefault("title", current.get("title"))
            standard.setdefault("company", current.get("company"))
        body = m.candidate_out(standard)
        if body:
            self.client.json("PATCH", f"/candidates/{remote_id}", json=body)
        self.properties.put(remote_id, values)

    def _split(self, fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        fields = {k: v for k, v in fields.items() if k != "job_id"}
        custom = {k: v for k, v in fields.items() if k.startswith(m.CUSTOM_PREFIX)}
        unknown = [k for k in fields if k not in custom and k not in {f.key for f in m.STANDARD_FIELD_DEFS}]
        if unknown:
            raise Rejected(f"SmartRecruiters has no field {', '.join(unknown)}",
                           field_errors={k: "unknown field" for k in unknown})
        return {k: v for k, v in fields.items() if k not in custom}, custom

    # -- notes: Messages API shares ---------------------------------------------------------------
    def add_note(self, record_type: str, remote_id: str, body: str, note_type: str | None = None) -> str:
        self._check_type(record_type)
        share = {"content": f"#[CANDIDATE:{remote_id}] {body}", "shareWith": {"openNote": True}}
        created = self.client.json("POST", "/messages/shares", json=share) or {}
        return str(created.get("id") or "")

    def list_notes(self, record_type: str, remote_id: str) -> list[Note]:
        self._check_type(record_type)
        tag = f"#[CANDIDATE:{remote_id}]"
        notes = []
        for row in self.client.iterate(NOTE_LIST_PATH, {"candidateId": remote_id}):
            content = str(row.get("content") or "")
            if tag in content:
                notes.append(Note(id=str(row.get("id")), body=content.replace(tag, "", 1).strip()))
        return notes

    # -- jobs ---------------------------------------------------------------------------------------
    def list_jobs(self, statuses: list[str] | None = None) -> list[Job]:
        jobs = [m.job_in(j) for j in self.client.iterate("/jobs")]
        if statuses:
            wanted = {s.upper() for s in statuses}
            jobs = [j for j in jobs if j.status.upper() in wanted]
        return jobs

    def list_job_statuses(self) -> list[Status]:
        """The known enum plus any other status the account's jobs use (the enum is unconfirmed)."""
        rows, _ = self.client.page("/jobs", {})
        seen = [str(j["status"]) for j in rows if j.get("status")]
        return m.statuses(tuple(dict.fromkeys([*JOB_STATUSES, *seen])))

    def add_to_job(self, record_type: str, remote_id: str, job_id: str, status: str | None = None) -> str:
        """Apply an existing candidate to a job; already on it (409) counts as done. One call."""
        self._check_type(record_type)
        body = {"status": status.upper()} if status else {}
        try:
            self.client.json("POST", APPLY_PATH.format(id=remote_id, job_id=job_id), json=body)
        except Rejected as exc:
            if exc.status != 409:
                raise
            if status:   # already on the job: the status is a separate write
                self.client.json("PUT", f"/candidates/{remote_id}/jobs/{job_id}/status", json=body)
        return f"{remote_id}:{job_id}"

    # -- tags: free text on the candidate ---------------------------------------------------------
    def list_tags(self, record_type: str) -> list[Tag]:
        """No tag catalogue exists: offer the tags on the most recent page of candidates."""
        self._check_type(record_type)
        rows, _ = self.client.page("/candidates", {})
        names = sorted({t for r in rows for t in r.get("tags") or []}, key=str.lower)
        return [Tag(id=n, name=n) for n in names]

    def apply_tags(self, record_type: str, remote_id: str, tags: list[str]) -> None:
        self._check_type(record_type)
        clean = [t.strip() for t in tags if t and t.strip()]
        if clean:   # POST adds; PUT would replace the candidate's other tags
            self.client.json("POST", f"/candidates/{remote_id}/tags", json={"tags": clean})

    # -- statuses (of the primary assignment) -------------------------------------------------------
    def list_statuses(self, record_type: str) -> list[Status]:
        self._check_type(record_type)
        return m.statuses(CANDIDATE_STATUSES)

    def set_status(self, record_type: str, remote_id: str, status: str) -> None:
        self._check_type(record_type)
        if status.upper() not in CANDIDATE_STATUSES:
            raise Rejected(f"unknown SmartRecruiters status {status!r}", field_errors={"status": "unknown"})
        try:
            self.client.json("PUT", f"/candidates/{remote_id}/status", json={"status": status.upper()})
        except NotFound:
            # 404 also means "no primary assignment": a status belongs to a job application.
            cand = self._candidate(remote_id)        # raises NotFound if the candidate is gone
            if not cand.get("primaryAssignment"):
                raise Rejected("a SmartRecruiters status belongs to a job: this candidate is on none",
                               field_errors={"status": "candidate has no job"}) from None
            raise

    # -- CV -----------------------------------------------------------------------------------------
    def has_cv(self, record_type: str, remote_id: str) -> bool:
        self._check_type(record_type)
        body = self.client.json("GET", f"/candidates/{remote_id}/attachments") or {}
        rows = body.get("content") or [] if isinstance(body, dict) else body
        return any(str(a.get("type") or a.get("attachmentType") or "").upper() == RESUME_ATTACHMENT_TYPE
                   for a in rows)

    def upload_cv(self, record_type: str, remote_id: str, filename: str, content: bytes) -> str:
        self._check_type(record_type)
        created = self.client.json("POST", f"/candidates/{remote_id}/attachments",
                                   files={"file": (filename, content)},
                                   data={"attachmentType": RESUME_ATTACHMENT_TYPE}) or {}
        return str(created.get("id") or "")

    # -- consent as off-limits ----------------------------------------------------------------------
    def off_limits(self, record_type: str, remote_id: str) -> OffLimits:
        self._check_type(record_type)
        consent = self.client.json("GET", f"/candidates/{remote_id}/consent") or {}
        status = str(consent.get("status") or "").upper()
        if status in CONSENT_BLOCKED:
            return OffLimits(True, f"SmartRecruiters consent status is {status}")
        return OffLimits(False)

    # -- search -------------------------------------------------------------------------------------
    def search(self, record_type: str, filters: dict[str, Any], cursor: str | None = None) -> Page[CrmRecord]:
        self._check_type(record_type)
        params: dict[str, Any] = {}
        for key, value in filters.items():
            if key.startswith(m.CUSTOM_PREFIX):
                params.setdefault("propertyId", []).append(key[len(m.CUSTOM_PREFIX):])
                params.setdefault("propertyValueId", []).append(value)
            elif key == "location":
                # `location` is a keyword looked up in one location field: send the city part.
                params["location"] = str(value).split(",")[0].strip()
            elif key in SEARCH_PARAMS:
                params[SEARCH_PARAMS[key]] = value
            else:
                raise NotSupported(f"SmartRecruiters cannot search candidates by {key!r}")
        try:
            offset = int(cursor or 0)
        except ValueError:
            raise Rejected(f"bad cursor {cursor!r}") from None
        rows, total = self.client.page("/candidates", params, offset)
        nxt = offset + len(rows)
        more = bool(rows) and (nxt < total if total is not None else len(rows) == sr.PAGE_LIMIT)
        return Page(items=[m.candidate_in(r) for r in rows], next_cursor=str(nxt) if more else None, total=total)
