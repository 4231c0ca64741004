"""Pinpoint's three person surfaces (AF §5.2): candidates (identity; GET + PUT/PATCH only),
applications (person × job; GET, POST, PUT/PATCH, DELETE; creating one creates or reuses the
candidate) and job_seekers (person in the talent pipeline, no job; same verbs).

Personal details (names, email, phone, linkedin_url, address, summary) live on the candidate; an
application or job seeker reads them from its candidate and writing them there updates the candidate
(ASSUMED). A new application/job seeker reuses the candidate with the same email, case-insensitive
(ASSUMED). Tags are `{name, context}` pairs written only through `add_tag_with_context`,
`add_tags_with_context`, `remove_tag_with_context`; the CV is written as `cv_base64_data` +
`cv_file_name` (file-name key ASSUMED) and read back via `extra_fields[...]=attachments` with context
`pdf_cv`, replacing any earlier CV.
"""
from __future__ import annotations

import base64
import binascii
import re
import uuid
from typing import Any

from flask import Blueprint, Response, current_app, request

from sandbox.common import Store, sandbox_of
from sandbox.pinpoint import catalog
from sandbox.pinpoint.wire import (CV_CONTEXT, ApiError, document, extra_fields, filters, includes, invalid,
                                   listing, now, payload, related_id, resource)

PERSON = ("first_name", "last_name", "middle_name", "preferred_name", "email", "phone", "linkedin_url",
          "address1", "address2", "town", "state_province", "postcode", "summary")
WRITE_ONLY = ("add_tag_with_context", "add_tags_with_context", "remove_tag_with_context")
DOCUMENTS = {"cv_base64_data": ("cv_file_name", CV_CONTEXT),
             "cover_letter_base64_data": ("cover_letter_file_name", "cover_letter")}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _tag(raw: Any, ptr: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"].strip():
        raise invalid((ptr, "Tag needs a name (and optionally a context)"))
    return {"name": raw["name"].strip(), "context": str(raw.get("context") or "custom")}


def split(attrs: dict[str, Any], own: tuple[str, ...], creating: bool, docs: bool) -> tuple[dict, dict, dict]:
    """(person values, own values, write-only values) of a write; 400 on unknown keys, 422 on rules."""
    known = PERSON + own + WRITE_ONLY + (tuple(DOCUMENTS) + tuple(f for f, _ in DOCUMENTS.values()) if docs else ())
    unknown = [k for k in attrs if k not in known]
    if unknown:
        raise ApiError(400, "Bad Request", [(f"Unknown attribute {k!r}", f"/data/attributes/{k}") for k in unknown])
    problems = [(f"/data/attributes/{k}", f"{k.replace('_', ' ').capitalize()} must be a string")
                for k in PERSON if attrs.get(k) is not None and not isinstance(attrs[k], str)]
    for k in ("first_name", "last_name", "email"):
        if (creating or k in attrs) and not str(attrs.get(k) or "").strip():
            problems.append((f"/data/attributes/{k}", f"{k.replace('_', ' ').capitalize()} can't be blank"))
    if isinstance(attrs.get("email"), str) and attrs["email"].strip() and not EMAIL_RE.match(attrs["email"].strip()):
        problems.append(("/data/attributes/email", "Email is invalid"))
    if problems:
        raise invalid(*problems)
    person = {k: attrs[k] for k in PERSON if k in attrs}
    return person, {k: attrs[k] for k in own if k in attrs}, {k: v for k, v in attrs.items() if k not in person and k not in own}


def apply_write_only(row: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """The row's new `tags`/`attachments` after the write-only attributes; 422 on malformed values."""
    tags = list(row.get("tags") or [])
    adds = []
    if "add_tag_with_context" in extra:
        adds.append(_tag(extra["add_tag_with_context"], "/data/attributes/add_tag_with_context"))
    if "add_tags_with_context" in extra:
        if not isinstance(extra["add_tags_with_context"], list):
            raise invalid(("/data/attributes/add_tags_with_context", "must be an array of {name, context}"))
        adds += [_tag(t, "/data/attributes/add_tags_with_context") for t in extra["add_tags_with_context"]]
    for t in adds:
        if not any(t["name"].lower() == o["name"].lower() and t["context"] == o["context"] for o in tags):
            tags.append(t)
    if "remove_tag_with_context" in extra:
        gone = _tag(extra["remove_tag_with_context"], "/data/attributes/remove_tag_with_context")
        tags = [t for t in tags if not (t["name"].lower() == gone["name"].lower() and t["context"] == gone["context"])]
    attachments = list(row.get("attachments") or [])
    for data_key, (name_key, context) in DOCUMENTS.items():
        if extra.get(data_key) is None:
            continue
        try:
            content = base64.b64decode(str(extra[data_key]), validate=True)
        except (binascii.Error, ValueError):
            content = b""
        if not content:
            raise invalid((f"/data/attributes/{data_key}", "is not valid non-empty base64"))
        if not str(extra.get(name_key) or "").strip():
            raise invalid((f"/data/attributes/{name_key}", f"{name_key.replace('_', ' ').capitalize()} can't be blank"))
        attachments = [a for a in attachments if a["context"] != context]
        attachments.append({"context": context, "filename": extra[name_key], "size": len(content),
                            "key": uuid.uuid4().hex, "data": extra[data_key]})
    return {"tags": tags, "attachments": attachments}


def render_attachments(row: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"context": a["context"], "filename": a["filename"],
             "url": f"{request.host_url.rstrip('/')}/files/{a['key']}/{a['filename']}"} for a in row.get("attachments") or []]


def person_attributes(cand: dict[str, Any]) -> dict[str, Any]:
    out = {k: cand.get(k) for k in PERSON}
    out["full_name"] = " ".join(p for p in (cand.get("first_name"), cand.get("last_name")) if p)
    return out


def with_extras(kind: str, row: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    wanted = extra_fields(kind)
    if "attachments" in wanted:
        attrs["attachments"] = render_attachments(row)
    if "tags" in wanted:
        attrs["tags"] = [{"name": t["name"], "context": t["context"]} for t in row.get("tags") or []]
    if "average_rating" in wanted:
        attrs["average_rating"] = None
    return attrs


class People:
    """Routes over one store; candidates are looked up per render so reads always see fresh PII."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def candidate(self, cid: Any) -> dict[str, Any]:
        return self.store.get("candidates", cid) or {}

    def render_candidate(self, row: dict[str, Any]) -> dict[str, Any]:
        attrs = {**person_attributes(row), "blocked": bool(row.get("blocked")),
                 "external_system_reference": row.get("external_system_reference"),
                 "created_at": row["created_at"], "updated_at": row["updated_at"]}
        apps = [a["id"] for a in self.store.all("applications", lambda a: a["candidate_id"] == row["id"])]
        return resource("candidates", row, with_extras("candidates", row, attrs), {"applications": ("applications", apps)})

    def render_application(self, row: dict[str, Any]) -> dict[str, Any]:
        attrs = {**person_attributes(self.candidate(row["candidate_id"])), "uuid": row["uuid"],
                 "external_system_reference": row.get("external_system_reference"), "concealed": False,
                 "created_at": row["created_at"], "updated_at": row["updated_at"]}
        return resource("applications", row, with_extras("applications", row, attrs), {
            "candidate": ("candidates", row["candidate_id"]), "job": ("jobs", row["job_id"]),
            "stage": ("stages", row["stage_id"])})

    def render_job_seeker(self, row: dict[str, Any]) -> dict[str, Any]:
        attrs = {**person_attributes(self.candidate(row["candidate_id"])),
                 "external_system_reference": row.get("external_system_reference"),
                 "created_at": row["created_at"], "updated_at": row["updated_at"]}
        return resource("job_seekers", row, with_extras("job_seekers", row, attrs),
                        {"candidate": ("candidates", row["candidate_id"])})

    def included(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out, seen = [], set()
        for name in includes(("candidate", "job", "stage")):
            table, render = {"candidate": ("candidates", self.render_candidate), "job": ("jobs", catalog.render_job),
                             "stage": ("stages", catalog.render_stage)}[name]
            for r in rows:
                rid = r.get(f"{name}_id")
                target = self.store.get(table, rid) if rid is not None else None
                if target and (table, rid) not in seen:
                    seen.add((table, rid))
                    out.append(render(target))
        return out

    def upsert_candidate(self, person: dict[str, Any]) -> dict[str, Any]:
        """The candidate with this email (case-insensitive), updated with `person`, or a new one."""
        email = person["email"].strip().lower()
        with self.store.lock:
            found = self.store.all("candidates", lambda c: (c.get("email") or "").lower() == email)
            if found:
                return self.store.update("candidates", found[0]["id"], {**person, "updated_at": now()}) or found[0]
            stamp = now()
            return self.store.insert("candidates", {**{k: None for k in PERSON}, **person, "blocked": False,
                                                    "external_system_reference": None, "tags": [], "attachments": [],
                                                    "created_at": stamp, "updated_at": stamp})

    def update_person(self, cid: int, person: dict[str, Any]) -> None:
        if person:
            self.store.update("candidates", cid, {**person, "updated_at": now()})


def register(bp: Blueprint) -> None:
    def people() -> People:
        return People(sandbox_of(current_app).store)

    def one(table: str, rid: str) -> dict[str, Any]:
        row = sandbox_of(current_app).store.get(table, rid)
        if row is None:
            raise ApiError(404, "Not Found", [(f"Couldn't find {table} with id {rid}", None)])
        return row

    @bp.get("/candidates")
    def candidates() -> Response:
        # AF §5.4: candidates have NO email filter (→ 400); look people up by applications' candidate_email.
        p, f = people(), filters(("id", "phone", "blocked", "external_system_reference"))
        rows = [c for c in p.store.all("candidates") if
                (not f.get("id") or str(c["id"]) in f["id"]) and (not f.get("phone") or c.get("phone") in f["phone"])
                and (not f.get("blocked") or str(bool(c.get("blocked"))).lower() in f["blocked"])
                and (not f.get("external_system_reference") or c.get("external_system_reference") in f["external_system_reference"])]
        return listing(rows, p.render_candidate)

    @bp.get("/candidates/<cid>")
    def candidate(cid: str) -> Response:
        return document({"data": people().render_candidate(one("candidates", cid))})

    @bp.route("/candidates/<cid>", methods=["PUT", "PATCH"])
    def update_candidate(cid: str) -> Response:
        p, row = people(), one("candidates", cid)
        person, own, extra = split(payload("candidates")[0], ("blocked", "external_system_reference"), False, False)
        if "blocked" in own and not isinstance(own["blocked"], bool):
            raise invalid(("/data/attributes/blocked", "Blocked must be true or false"))
        changes = apply_write_only(row, extra)
        p.store.update("candidates", row["id"], {**person, **own, **changes, "updated_at": now()})
        return document({"data": p.render_candidate(one("candidates", cid))})

    @bp.get("/applications")
    def applications() -> Response:
        p = people()
        f = filters(("id", "candidate_email", "candidate_phone", "candidate_id", "job_id", "stage_id", "uuid",
                     "external_system_reference"))
        rows = p.store.all("applications")

        def keep(a: dict[str, Any]) -> bool:
            cand = p.candidate(a["candidate_id"])
            checks = {"id": str(a["id"]), "candidate_email": (cand.get("email") or "").lower(),
                      "candidate_phone": cand.get("phone"), "candidate_id": str(a["candidate_id"]),
                      "job_id": str(a["job_id"]), "stage_id": str(a["stage_id"]), "uuid": a["uuid"],
                      "external_system_reference": a.get("external_system_reference")}
            # Graphiti's string `eq` is case-insensitive: compare the email filter lower-cased.
            return all(checks[k] in ([v.lower() for v in vs] if k == "candidate_email" else vs) for k, vs in f.items())
        return listing([a for a in rows if keep(a)], p.render_application, p.included)

    @bp.get("/applications/<aid>")
    def application(aid: str) -> Response:
        p, row = people(), one("applications", aid)
        body = {"data": p.render_application(row)}
        if request.args.get("include"):
            body["included"] = p.included([row])
        return document(body)

    @bp.post("/applications")
    def create_application() -> tuple[Response, int] | Response:
        p = people()
        attrs, rels, _ = payload("applications")
        person, own, extra = split(attrs, ("external_system_reference",), True, True)
        job_ref = related_id(rels, "job", ("jobs",))
        if job_ref is None:
            raise invalid(("/data/relationships/job", "Job must exist"))
        job = p.store.get("jobs", job_ref[1])
        if job is None:
            raise invalid(("/data/relationships/job", "Job must exist"))
        docs = apply_write_only({}, extra)      # validate everything before writing anything
        stages = catalog.job_stages(p.store, job["id"])
        with p.store.lock:
            existing = p.store.all("candidates", lambda c: (c.get("email") or "").lower() == person["email"].strip().lower())
            if existing and p.store.all("applications", lambda a: a["candidate_id"] == existing[0]["id"]
                                        and a["job_id"] == job["id"]):
                raise invalid(("/data/relationships/job", "Candidate has already applied to this job"))
            cand = p.upsert_candidate(person)
            stamp = now()
            row = p.store.insert("applications", {"candidate_id": cand["id"], "job_id": job["id"],
                                                  "stage_id": stages[0]["id"] if stages else None,
                                                  "uuid": str(uuid.uuid4()), **own, **docs,
                                                  "created_at": stamp, "updated_at": stamp})
        return document({"data": p.render_application(row)}, 201)

    @bp.route("/applications/<aid>", methods=["PUT", "PATCH"])
    def update_application(aid: str) -> Response:
        p, row = people(), one("applications", aid)
        attrs, rels, _ = payload("applications")
        person, own, extra = split(attrs, ("external_system_reference",), False, True)
        changes = {**own, **apply_write_only(row, extra)}
        stage_ref = related_id(rels, "stage", ("stages",))
        if stage_ref is not None:
            if stage_ref[1] not in [s["id"] for s in catalog.job_stages(p.store, row["job_id"])]:
                raise invalid(("/data/relationships/stage", "Stage does not belong to this application's job"))
            changes["stage_id"] = stage_ref[1]
        p.update_person(row["candidate_id"], person)
        p.store.update("applications", row["id"], {**changes, "updated_at": now()})
        return document({"data": p.render_application(one("applications", aid))})

    @bp.delete("/applications/<aid>")
    def delete_application(aid: str) -> tuple[str, int]:
        sandbox_of(current_app).store.delete("applications", one("applications", aid)["id"])
        return "", 204

    @bp.get("/job_seekers")
    def job_seekers() -> Response:
        p, f = people(), filters(("id", "candidate_id", "external_system_reference"))
        rows = [j for j in p.store.all("job_seekers") if
                (not f.get("id") or str(j["id"]) in f["id"]) and (not f.get("candidate_id") or str(j["candidate_id"]) in f["candidate_id"])
                and (not f.get("external_system_reference") or j.get("external_system_reference") in f["external_system_reference"])]
        return listing(rows, p.render_job_seeker)

    @bp.get("/job_seekers/<jid>")
    def job_seeker(jid: str) -> Response:
        return document({"data": people().render_job_seeker(one("job_seekers", jid))})

    @bp.post("/job_seekers")
    def create_job_seeker() -> tuple[Response, int] | Response:
        p = people()
        person, own, extra = split(payload("job_seekers")[0], ("external_system_reference",), True, True)
        docs = apply_write_only({}, extra)
        cand = p.upsert_candidate(person)
        stamp = now()
        row = p.store.insert("job_seekers", {"candidate_id": cand["id"], **own, **docs,
                                             "created_at": stamp, "updated_at": stamp})
        return document({"data": p.render_job_seeker(row)}, 201)

    @bp.route("/job_seekers/<jid>", methods=["PUT", "PATCH"])
    def update_job_seeker(jid: str) -> Response:
        p, row = people(), one("job_seekers", jid)
        person, own, extra = split(payload("job_seekers")[0], ("external_system_reference",), False, True)
        p.update_person(row["candidate_id"], person)
        p.store.update("job_seekers", row["id"], {**own, **apply_write_only(row, extra), "updated_at": now()})
        return document({"data": p.render_job_seeker(one("job_seekers", jid))})

    @bp.delete("/job_seekers/<jid>")
    def delete_job_seeker(jid: str) -> tuple[str, int]:
        sandbox_of(current_app).store.delete("job_seekers", one("job_seekers", jid)["id"])
        return "", 204
