"""itris 9 adapter.

Wire format: ../shared/providers/API-FACTS.md §4 (docs.itris.co.uk: integrations-api,
applicant-inbox-payload-examples, applicant-inbox-update-utility, integrations-webhooks;
help.sourcewhale.app article 7863926 for the username/password/subdomain credentials). §4 finds no
public spec beyond the applicant inbox, so paths, shapes, auth and errors are the picks written
down in docs/assumptions.md "itris" and gathered in providers/itris/assumed.py, to be checked
against a customer's Swagger before go-live. The asynchronous, human-triaged applicant inbox is
not used: the direct applicant endpoints give the id we link to.
Calls per push (token cached): new person = 1–2 lookups + 1 create; existing = 1 lookup + 1 PATCH;
note = 1."""
from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any

import providers
from providers.base import AuthKind, Capability, Provider, RateBudget
from providers.errors import NotFound, NotSupported, Rejected
from providers.itris import assumed as A, mappers
from providers.itris.client import ItrisClient
from providers.itris.schemas import Credentials
from providers.matching import (company_query, match_company, rank_companies, same_email,
                                same_linkedin)
from providers.types import (AccountInfo, Company, CrmRecord, FieldDef, Job, ListRef, Note, NoteType,
                             OffLimits, Page, RecordType, Status, Tag)

CLOSED_JOB_STATUSES = {"closed", "filled"}   # by name; not offered without a whitelist
FIND_PAGE_SIZE = 10                   # an exact lookup returns one row; a few more cost nothing
SEARCH_PAGE_SIZE = 50


@providers.register
class ItrisProvider(Provider):
    key = "itris"
    display_name = "itris"
    auth_kind = AuthKind.USERNAME_PASSWORD
    record_types = (RecordType("applicant", "Applicant"), RecordType("contact", "Contact"))
    capabilities = frozenset({
        Capability.FIELDS, Capability.FIND, Capability.GET, Capability.CREATE, Capability.UPDATE,
        Capability.NOTES, Capability.NOTE_TYPES, Capability.JOBS, Capability.TAGS, Capability.LISTS,
        Capability.STATUSES, Capability.CV, Capability.OFF_LIMITS, Capability.COMPANY_SEARCH,
        Capability.SEARCH,
    })
    credentials_schema = Credentials
    # `{subdomain}` is filled from the credentials; a connection may give any base URL instead.
    default_base_url = A.HOST_TEMPLATE
    api_hosts = A.API_HOSTS
    docs_url = "https://docs.itris.co.uk/learning/integrations-api"
    rate_budget = RateBudget(120, 60, "docs/assumptions.md (itris limits [not found] in API-FACTS §4)")
    # Links into the web app (assumed.py): `Provider.record_url` builds them from these.
    record_pages, web_root = A.RECORD_PAGES, staticmethod(mappers.web_root)

    def __init__(self, base_url: str, credentials: dict[str, Any], **kwargs: Any):
        super().__init__(base_url, credentials, **kwargs)
        c = self.credentials
        expires = c.get("token_expires_at")
        self.client = ItrisClient(self.base_url, str(c.get("username") or ""), str(c.get("password") or ""),
                                  self.session, token=c.get("access_token"),
                                  expires_at=_when(expires), on_new_token=self._store_token)

    def _store_token(self, token: str, expires_at: datetime) -> None:
        self.remember_credentials(access_token=token, token_expires_at=expires_at.isoformat())

    def _path(self, record_type: str) -> str:
        self.record_type(record_type)
        return A.RECORDS[record_type]

    def _one(self, record_type: str, remote_id: str) -> str:
        return A.RECORD.format(records=self._path(record_type), id=remote_id)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self.client.json(method, path, **kwargs)
        except Rejected as exc:
            raise Rejected(exc.message, field_errors=mappers.field_errors(exc.field_errors),
                           status=exc.status) from exc

    def check_connection(self) -> AccountInfo:
        self.client.renew_token()   # proves the password, not just a cached token
        me = self._call("GET", A.ME_PATH) or {}
        return AccountInfo(name=me.get("displayName") or me.get("username"))

    # -- people ----------------------------------------------------------------------------------
    def list_fields(self, record_type: str) -> list[FieldDef]:
        rows = self.client.iterate(A.CUSTOM_FIELDS, **self._rt(record_type))
        return list(mappers.STANDARD_DEFS) + [mappers.to_field_def(r) for r in rows]

    def _rt(self, record_type: str) -> dict[str, str]:
        """The query parameter naming the record type, for reference lists that differ per type."""
        self.record_type(record_type)
        return {A.RECORD_TYPE_PARAM: record_type}

    def find_person(self, record_type: str, *, email: str | None = None,
                    linkedin_url: str | None = None) -> CrmRecord | None:
        """Email lookup, then LinkedIn (itris normalises `webAddress`). Rows are re-checked locally
        so a filter the server ignored can never link us to someone else."""
        checks = (("email", email, lambda r: same_email(email, r.get("emailAddress"))),
                  ("webAddress", linkedin_url, lambda r: same_linkedin(linkedin_url, r.get("webAddress"))))
        for param, value, same in checks:
            if value and value.strip():
                rows, _, _ = self.client.page(self._path(record_type), 1, FIND_PAGE_SIZE,
                                              **{param: value.strip()})
                row = next((r for r in rows if same(r)), None)
                if row is not None and "customFields" not in row:
                    # A summary row: fields we don't return count as blank to the planner.
                    return self.get(record_type, str(row.get(mappers.ID_KEYS[record_type])))
                if row is not None:
                    return mappers.to_record(record_type, row)
        return None

    def get(self, record_type: str, remote_id: str) -> CrmRecord:
        return mappers.to_record(record_type, self._call("GET", self._one(record_type, remote_id)) or {})

    def create(self, record_type: str, fields: dict[str, Any]) -> CrmRecord:
        doc = self._call("POST", self._path(record_type), json=self._body(record_type, fields))
        rec = mappers.to_record(record_type, doc or {})
        if rec.remote_id in ("", "None"):
            raise Rejected("itris did not return the new record's id")
        return rec

    def update(self, record_type: str, remote_id: str, fields: dict[str, Any]) -> None:
        body = self._body(record_type, fields)
        if body:
            self._call("PATCH", self._one(record_type, remote_id), json=body)

    def _body(self, record_type: str, fields: dict[str, Any]) -> dict[str, Any]:
        body = mappers.to_body(fields)
        if record_type == "contact" and fields.get("company"):
            # Link the contact to the company this name means (exact, else the one differing only by
            # legal form: providers.matching.match_company); else itris keeps the text.
            rows = self.client.iterate(A.COMPANIES, name=company_query(str(fields["company"])))
            match = match_company(str(fields["company"]), [(r, r.get("name") or "") for r in rows])
            if match is not None:
                body["companyId"] = match["companyId"]
                body.pop("companyName", None)
        return body

    def search(self, record_type: str, filters: dict[str, Any], cursor: str | None = None) -> Page[CrmRecord]:
        """Filters combine with AND; no filters lists every record."""
        params: dict[str, Any] = {}
        names = [str(filters[k]) for k in ("first_name", "last_name") if filters.get(k)]
        if names:
            params["name"] = " ".join(names)
        for key, value in filters.items():
            if key in ("first_name", "last_name"):
                continue
            if key not in A.LOOKUP_PARAMS:
                raise Rejected(f"itris cannot search by {key}", field_errors={key: "not filterable"})
            params[A.LOOKUP_PARAMS[key]] = value
        page = int(cursor) if cursor and cursor.isdigit() and int(cursor) > 0 else 1
        rows, more, total = self.client.page(self._path(record_type), page, SEARCH_PAGE_SIZE, **params)
        return Page(items=[mappers.to_record(record_type, r) for r in rows],
                    next_cursor=str(page + 1) if more else None, total=total)

    # -- notes -----------------------------------------------------------------------------------
    def add_note(self, record_type: str, remote_id: str, body: str, note_type: str | None = None) -> str:
        doc = self._call("POST", A.RECORD_NOTES.format(records=self._path(record_type), id=remote_id),
                         json={"text": body, "noteTypeId": _int(note_type) if note_type else None})
        return str((doc or {}).get("noteId"))

    def list_notes(self, record_type: str, remote_id: str) -> list[Note]:
        rows = self.client.iterate(A.RECORD_NOTES.format(records=self._path(record_type), id=remote_id))
        return [mappers.to_note(r) for r in rows]

    def list_note_types(self, record_type: str) -> list[NoteType]:
        rows = self.client.iterate(A.NOTE_TYPES, **self._rt(record_type))
        return [mappers.to_note_type(r) for r in rows]

    # -- jobs ------------------------------------------------------------------------------------
    def list_jobs(self, statuses: list[str] | None = None) -> list[Job]:
        """Jobs whose status id or name is in `statuses`; without a whitelist, all but closed ones."""
        wanted = {s.lower() for s in statuses or ()}
        jobs = []
        for row in self.client.iterate(A.JOBS):
            sid, name = str(row.get("statusId")).lower(), str(row.get("statusName") or "").lower()
            if (sid in wanted or name in wanted) if wanted else name not in CLOSED_JOB_STATUSES:
                jobs.append(mappers.to_job(row))
        return jobs

    def list_job_statuses(self) -> list[Status]:
        return [mappers.to_status(r) for r in self.client.iterate(A.JOB_STATUSES)]

    def add_to_job(self, record_type: str, remote_id: str, job_id: str, status: str | None = None) -> str:
        """Put the applicant on the job's longlist; "already on the job" (409) is success."""
        if record_type != "applicant":
            raise NotSupported("itris puts only applicants on jobs")
        if status:
            raise NotSupported("itris' API (as assumed) has no way to set a job applicant's stage")
        try:
            doc = self._call("POST", A.JOB_APPLICANTS.format(id=job_id),
                             json={"applicantId": _int(remote_id)})
            return str((doc or {}).get("jobApplicantId"))
        except Rejected as exc:
            if exc.status != A.CONFLICT_STATUS:
                raise
        for row in self.client.iterate(A.JOB_APPLICANTS.format(id=job_id)):
            if str(row.get("applicantId")) == str(remote_id):
                return str(row.get("jobApplicantId"))
        raise Rejected(f"itris says the applicant is on job {job_id} but it cannot be found")

    # -- tags, groups, statuses ---------------------------------------------------------------------
    def list_tags(self, record_type: str) -> list[Tag]:
        return [mappers.to_tag(r) for r in self.client.iterate(A.TAGS, **self._rt(record_type))]

    def apply_tags(self, record_type: str, remote_id: str, tags: list[str]) -> None:
        """itris tags are predefined, referenced by id; names are resolved and unknown ones refused."""
        if not tags:
            return
        wanted = [str(t) for t in tags]
        if not all(t.isdigit() for t in wanted):
            known = {t.name.lower(): t.id for t in self.list_tags(record_type)}
            known.update({v: v for v in known.values()})
            missing = [t for t in wanted if t.lower() not in known]
            if missing:
                raise Rejected(f"itris has no tag {', '.join(missing)}",
                               field_errors={"tags": ", ".join(missing)})
            wanted = [known[t.lower()] for t in wanted]
        self._call("POST", A.RECORD_TAGS.format(records=self._path(record_type), id=remote_id),
                   json={"tagIds": [_int(t) for t in wanted]})

    def list_lists(self, record_type: str) -> list[ListRef]:
        return [mappers.to_list(r) for r in self.client.iterate(A.GROUPS, **self._rt(record_type))]

    def add_to_list(self, record_type: str, remote_id: str, list_id: str) -> None:
        self.record_type(record_type)
        self._call("POST", A.GROUP_MEMBERS.format(id=list_id), json={"recordId": _int(remote_id)})

    def list_statuses(self, record_type: str) -> list[Status]:
        rows = self.client.iterate(A.STATUSES, **self._rt(record_type))
        return [mappers.to_status(r) for r in rows]

    def set_status(self, record_type: str, remote_id: str, status: str) -> None:
        self._call("PATCH", self._one(record_type, remote_id), json={"statusId": _int(status)})

    # -- CV, off-limits, companies --------------------------------------------------------------------
    def has_cv(self, record_type: str, remote_id: str) -> bool:
        """Whether the applicant's "original CV" slot is filled (attachments don't count)."""
        if record_type != "applicant":
            raise NotSupported("itris keeps CVs on applicants only")
        try:
            self._call("GET", A.APPLICANT_CV.format(id=remote_id))
        except NotFound:
            return False
        return True

    def upload_cv(self, record_type: str, remote_id: str, filename: str, content: bytes) -> str:
        """Fill (replace) the original CV slot; the sync engine checks "don't overwrite" first."""
        if record_type != "applicant":
            raise NotSupported("itris keeps CVs on applicants only")
        if not content:
            raise Rejected("the CV file is empty", field_errors={"cv": "empty file"})
        doc = self._call("PUT", A.APPLICANT_CV.format(id=remote_id), json={
            "fileName": filename, "fileContent": base64.b64encode(content).decode("ascii"),
            "fileDatetime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})
        return str((doc or {}).get("fileName") or filename)

    def off_limits(self, record_type: str, remote_id: str) -> OffLimits:
        return mappers.to_off_limits(self._call("GET", self._one(record_type, remote_id)) or {})

    def search_companies(self, name: str) -> list[Company]:
        if not name or not name.strip():
            return []
        rows = [mappers.to_company(r) for r in self.client.iterate(A.COMPANIES, name=company_query(name))]
        return rank_companies(name, [(c, c.name) for c in rows])


def _when(value: Any) -> datetime | None:
    """A persisted expiry; an unreadable one just means "log in again"."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    return parsed.replace(tzinfo=parsed.tzinfo or timezone.utc) if parsed else None


def _int(value: str) -> int | str:
    return int(value) if str(value).isdigit() else value
