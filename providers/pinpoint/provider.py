"""Pinpoint adapter (API-FACTS §5; vendor docs https://developers.pinpointhq.com).

The record type is the application (a person on a job): Pinpoint has no `POST /candidates`, and
email lookup exists only as `GET /applications?filter[candidate_email]=`. `create()` takes the job
from a `job_id` entry in `fields` (the sync runtime passes the campaign's/person's sync option
there), else the connection's `default_job_id` credential; with neither, the person goes into the
talent pipeline as a job seeker (`POST /job_seekers`, API-FACTS §5.2), whose remote id carries the
`js-` prefix (mappers.JOB_SEEKER_PREFIX) so reads, updates, tags, notes and CV go to /job_seekers;
putting a job seeker on a job later makes an application of the same candidate. It never picks a
job on its own.
Custom fields (of applications and of their candidates) are `custom:<id>`, see custom_fields.py.
Every detail not confirmed by a source is in assumed.py.
"""
from __future__ import annotations

import base64
from typing import Any

import providers
from providers.base import AuthKind, Capability, Provider, RateBudget
from providers.errors import NotSupported, Rejected
from providers.pinpoint import mappers as m
from providers.pinpoint.mappers import owner_of, record_in, surface
from providers.pinpoint.assumed import (UPDATE_METHOD, TAG_CONTEXT, CV_CONTEXT, CV_FILENAME_ATTRIBUTE, JOB_STATUSES, COMMENT_FILTERS, MAX_PAGE_SIZE, LINKEDIN_SCAN_PAGES, SEARCH_PAGE_SIZE, SEARCH_FILTERS, RECORD_PAGES)
from providers.pinpoint.client import PinpointClient
from providers.pinpoint.custom_fields import CustomFields
from providers.pinpoint.schemas import Credentials
from providers.types import AccountInfo, CrmRecord, FieldDef, Job, Note, OffLimits, Page, RecordType, Status, Tag

@providers.register
class PinpointProvider(Provider):
    key = "pinpoint"
    display_name = "Pinpoint"
    auth_kind = AuthKind.API_KEY
    record_types = (RecordType("application", "Application"),)
    capabilities = frozenset({Capability.FIELDS, Capability.FIND, Capability.GET, Capability.CREATE,
                              Capability.UPDATE, Capability.NOTES, Capability.JOBS, Capability.TAGS,
                              Capability.CV, Capability.OFF_LIMITS, Capability.SEARCH})
    credentials_schema = Credentials
    # `{subdomain}` is filled from the credential; a connection may give any base URL instead.
    default_base_url = "https://{subdomain}.pinpointhq.com/api/v1"
    api_hosts = ("*.pinpointhq.com",)   # API-FACTS §5: one subdomain per tenant [seen-3p]
    docs_url = "https://developers.pinpointhq.com"
    # create() accepts a `job_id` entry in its fields (the push's job): the sync runtime should pass it.
    create_takes_job = True
    rate_budget = RateBudget(60, 60, "unpublished (API-FACTS §5.4); a cautious 60/min")
    # Links into the web app (assumed.py): `Provider.record_url` builds them from these.
    record_pages, web_root = RECORD_PAGES, staticmethod(m.web_root)
    record_path = staticmethod(m.record_path)

    def __init__(self, base_url: str, credentials: dict[str, Any], **kwargs: Any):
        super().__init__(base_url, credentials, **kwargs)
        self.client = PinpointClient(self.base_url, self.credentials.get("api_key"), self.session,
                                     max_page_size=MAX_PAGE_SIZE)
        self.custom = CustomFields(self.client, MAX_PAGE_SIZE)

    # -- helpers ---------------------------------------------------------------------------------
    def _check_type(self, record_type: str) -> None:
        self.record_type(record_type)

    def _application(self, remote_id: str, include: str | None = "candidate",
                     extra: str | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The application (or, for a `js-` id, the talent-pipeline job seeker) and its includes."""
        coll, rid = surface(remote_id)
        params: dict[str, Any] = {}
        if include:
            params["include"] = include
        if extra:
            params[f"extra_fields[{coll}]"] = extra
        doc = self.client.document("GET", f"/{coll}/{rid}", params=params)
        return doc.get("data") or {}, list(doc.get("included") or [])

    def _update_attributes(self, remote_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
        coll, rid = surface(remote_id)
        data = m.resource(coll, attributes, id=rid)
        return self.client.document(UPDATE_METHOD, f"/{coll}/{rid}", data=data)

    # -- contract --------------------------------------------------------------------------------
    def check_connection(self) -> AccountInfo:
        self.client.page("/jobs", None, 1, 1)
        return AccountInfo(name=self.credentials.get("subdomain") or None)

    def list_fields(self, record_type: str) -> list[FieldDef]:
        self._check_type(record_type)
        return list(m.STANDARD_FIELD_DEFS) + self.custom.field_defs()

    def find_person(self, record_type: str, *, email: str | None = None,
                    linkedin_url: str | None = None) -> CrmRecord | None:
        self._check_type(record_type)
        if email and email.strip():
            want = email.strip().lower()
            doc = self.client.page("/applications", {"filter[candidate_email]": email.strip(),
                                                     "include": "candidate"}, 1, 100)
            included = list(doc.get("included") or [])
            for app in doc.get("data") or []:
                rec = m.application_in(app, included)
                if (rec.fields.get("email") or "").strip().lower() == want:
                    return rec
        want_li = m.norm_linkedin(linkedin_url)
        seeker = self._find_job_seeker(email, want_li)
        if seeker is not None:
            return seeker
        if want_li:
            for app, included in self.client.iterate("/applications", {"include": "candidate"},
                                                     size=MAX_PAGE_SIZE, max_pages=LINKEDIN_SCAN_PAGES):
                rec = m.application_in(app, included)
                if m.norm_linkedin(rec.fields.get("linkedin_url")) == want_li:
                    return rec
        return None

    def _find_job_seeker(self, email: str | None, want_li: str | None) -> CrmRecord | None:
        """A talent-pipeline job seeker with this email or LinkedIn URL. No filter by either exists
        for job seekers (ASSUMED, assumed.py): scan them, like the LinkedIn scan of applications."""
        want = (email or "").strip().lower()
        if not want and not want_li:
            return None
        for row, included in self.client.iterate("/job_seekers", {"include": "candidate"},
                                                 size=MAX_PAGE_SIZE, max_pages=LINKEDIN_SCAN_PAGES):
            rec = record_in(row, included)
            if (want and (rec.fields.get("email") or "").strip().lower() == want) or \
                    (want_li and m.norm_linkedin(rec.fields.get("linkedin_url")) == want_li):
                return rec
        return None

    def get(self, record_type: str, remote_id: str) -> CrmRecord:
        self._check_type(record_type)
        app, included = self._application(remote_id)
        rec = record_in(app, included)
        rec.fields.update(self.custom.values(str(app["id"]), m.related_id(app, "candidate"), owner_of(remote_id)))
        return rec

    def create(self, record_type: str, fields: dict[str, Any]) -> CrmRecord:
        self._check_type(record_type)
        fields = dict(fields)
        job_id = fields.pop("job_id", None) or self.credentials.get("default_job_id")
        prepared = self.custom.prepare(self._check_fields(fields))
        attrs = m.attributes_out(fields)
        if job_id:
            data = m.resource("applications", attrs, relationships={"job": m.rel("jobs", str(job_id))})
            doc = self.client.document("POST", "/applications", params={"include": "candidate"}, data=data)
        else:   # no job: the talent pipeline (API-FACTS §5.2), as a job seeker
            doc = self.client.document("POST", "/job_seekers", params={"include": "candidate"},
                                       data=m.resource("job_seekers", attrs))
        app = doc["data"]
        rec = record_in(app, list(doc.get("included") or []))
        # A new application has no values yet; its (possibly reused) candidate may.
        fresh = {} if all(owner == "Application" for _, owner, _ in prepared) else None
        self.custom.write(str(app["id"]), m.related_id(app, "candidate"), prepared, existing=fresh,
                          app_type=owner_of(rec.remote_id))
        rec.fields.update({k: v for k, v in fields.items() if k.startswith("custom:")})
        return rec

    def update(self, record_type: str, remote_id: str, fields: dict[str, Any]) -> None:
        self._check_type(record_type)
        prepared = self.custom.prepare(self._check_fields(fields))
        attrs = m.attributes_out(fields)
        app: dict[str, Any] = {}
        if attrs:
            app = self._update_attributes(remote_id, attrs).get("data") or {}
        if prepared:
            if not app:
                app, _ = self._application(remote_id, include=None)
            self.custom.write(surface(remote_id)[1], m.related_id(app, "candidate"), prepared,
                              app_type=owner_of(remote_id))

    def _check_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Refuse keys Pinpoint doesn't know; return the custom ones."""
        custom = {k: v for k, v in fields.items() if k.startswith("custom:")}
        unknown = [k for k in fields if k not in m.ATTRIBUTES and k not in m.NOT_STORED and k not in custom]
        if unknown:
            raise Rejected(f"Pinpoint has no field {', '.join(unknown)}",
                           field_errors={k: "unknown field" for k in unknown})
        return custom

    # -- notes: comments ------------------------------------------------------------------------------
    def add_note(self, record_type: str, remote_id: str, body: str, note_type: str | None = None) -> str:
        self._check_type(record_type)
        data = m.resource("comments", {"body_text": body},
                          relationships={"commentable": m.rel(*surface(remote_id))})
        doc = self.client.document("POST", "/comments", data=data)
        return str((doc.get("data") or {}).get("id") or "")

    def list_notes(self, record_type: str, remote_id: str) -> list[Note]:
        self._check_type(record_type)
        coll, rid = surface(remote_id)
        params = dict(zip(COMMENT_FILTERS, (coll, rid)))
        notes = []
        for row, _ in self.client.iterate("/comments", params, size=100):
            # Filter here too, in case the server ignores a filter it doesn't know.
            target = ((row.get("relationships") or {}).get("commentable") or {}).get("data") or {}
            if str(target.get("id")) == str(rid) and target.get("type") in (None, coll):
                notes.append(Note(id=str(row["id"]), body=str((row.get("attributes") or {}).get("body_text") or "")))
        return notes

    # -- jobs -------------------------------------------------------------------------------------------
    def list_jobs(self, statuses: list[str] | None = None) -> list[Job]:
        jobs = [m.job_in(row) for row, _ in self.client.iterate("/jobs", None, size=100)]
        if statuses:
            wanted = {s.lower() for s in statuses}
            jobs = [j for j in jobs if j.status.lower() in wanted]
        return jobs

    def list_job_statuses(self) -> list[Status]:
        return [Status(id=s, name=s.title()) for s in JOB_STATUSES]

    def add_to_job(self, record_type: str, remote_id: str, job_id: str, status: str | None = None) -> str:
        """An application is already on one job: same job → itself; another job → that job's
        application for the same candidate, created (from this one's person data) if missing."""
        self._check_type(record_type)
        app, included = self._application(remote_id)
        if m.related_id(app, "job") == str(job_id):
            return str(app["id"])
        # A job seeker (talent pipeline) put on a job becomes an application of the same candidate.
        candidate_id = m.related_id(app, "candidate")
        if candidate_id:
            doc = self.client.page("/applications", {"filter[candidate_id]": candidate_id,
                                                     "filter[job_id]": job_id}, 1, 100)
            for other in doc.get("data") or []:
                if m.related_id(other, "job") in (None, str(job_id)) and \
                        m.related_id(other, "candidate") in (None, candidate_id):
                    return str(other["id"])
        person = m.application_in(app, included).fields
        rels = {"job": m.rel("jobs", job_id)}
        if candidate_id:
            rels["candidate"] = m.rel("candidates", candidate_id)
        data = m.resource("applications", m.attributes_out({k: v for k, v in person.items() if v}),
                          relationships=rels)
        return str(self.client.document("POST", "/applications", data=data)["data"]["id"])

    # -- tags ---------------------------------------------------------------------------------------------
    def list_tags(self, record_type: str) -> list[Tag]:
        """No tag catalogue exists: offer the tags on the most recent applications."""
        self._check_type(record_type)
        doc = self.client.page("/applications", {"extra_fields[applications]": "tags", "sort": "-updated_at"},
                               1, SEARCH_PAGE_SIZE)
        seen: dict[str, Tag] = {}
        for app in doc.get("data") or []:
            for tag in m.tags_in(app.get("attributes") or {}):
                seen.setdefault(tag.name.lower(), tag)
        return sorted(seen.values(), key=lambda t: t.name.lower())

    def apply_tags(self, record_type: str, remote_id: str, tags: list[str]) -> None:
        self._check_type(record_type)
        clean = [t.strip() for t in tags if t and t.strip()]
        if clean:
            self._update_attributes(remote_id, {"add_tags_with_context": [
                {"name": t, "context": TAG_CONTEXT} for t in clean]})

    # -- CV -------------------------------------------------------------------------------------------------
    def has_cv(self, record_type: str, remote_id: str) -> bool:
        self._check_type(record_type)
        app, _ = self._application(remote_id, include=None, extra="attachments")
        return m.has_cv(app.get("attributes") or {}, CV_CONTEXT)

    def upload_cv(self, record_type: str, remote_id: str, filename: str, content: bytes) -> str:
        self._check_type(record_type)
        self._update_attributes(remote_id, {"cv_base64_data": base64.b64encode(content).decode("ascii"),
                                            CV_FILENAME_ATTRIBUTE: filename})
        return f"{remote_id}:{CV_CONTEXT}"

    # -- off-limits: the candidate's `blocked` flag ---------------------------------------------------------
    def off_limits(self, record_type: str, remote_id: str) -> OffLimits:
        self._check_type(record_type)
        app, included = self._application(remote_id)
        cand = m.find_included(included, "candidates", m.related_id(app, "candidate"))
        if cand is None and m.related_id(app, "candidate"):
            cand = self.client.document("GET", f"/candidates/{m.related_id(app, 'candidate')}").get("data")
        if cand and (cand.get("attributes") or {}).get("blocked"):
            return OffLimits(True, "the candidate is blocked in Pinpoint")
        return OffLimits(False)

    # -- search ---------------------------------------------------------------------------------------------
    def search(self, record_type: str, filters: dict[str, Any], cursor: str | None = None) -> Page[CrmRecord]:
        self._check_type(record_type)
        params: dict[str, Any] = {"include": "candidate", "stats[total]": "count"}
        for key, value in filters.items():
            if key not in SEARCH_FILTERS:
                raise NotSupported(f"Pinpoint cannot search applications by {key!r}")
            params[SEARCH_FILTERS[key]] = value
        try:
            number = int(cursor or 1)
        except ValueError:
            raise Rejected(f"bad cursor {cursor!r}") from None
        doc = self.client.page("/applications", params, number, SEARCH_PAGE_SIZE)
        included = list(doc.get("included") or [])
        items = [m.application_in(a, included) for a in doc.get("data") or []]
        more = bool(items) and self.client.has_next(doc, SEARCH_PAGE_SIZE)
        return Page(items=items, next_cursor=str(number + 1) if more else None, total=m.stats_total(doc))
