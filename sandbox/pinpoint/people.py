"""Pinpoint person routes over `sandbox.pinpoint.surfaces`: candidates (GET, PUT/PATCH; no POST or
DELETE, so those verbs fall through to the 404 a Rails app gives for no route), applications (GET with
filters/include/extra_fields, POST, PUT/PATCH incl. a stage move, DELETE) and job_seekers (GET, POST,
PUT/PATCH, DELETE). Every write is validated in full before anything is stored.
"""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, current_app, request

from sandbox.common import sandbox_of
from sandbox.pinpoint import catalog
from sandbox.pinpoint.surfaces import People, apply_write_only, split
from sandbox.pinpoint.wire import (ALREADY_APPLIED, ApiError, document, filters, invalid, listing, matches,
                                   now, payload, related_id)


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
        rows = [c for c in p.store.all("candidates") if matches(f, {
            "id": c["id"], "phone": c.get("phone"), "blocked": str(bool(c.get("blocked"))).lower(),
            "external_system_reference": c.get("external_system_reference")})]
        return listing(rows, p.render_candidate)

    @bp.get("/candidates/<cid>")
    def candidate(cid: str) -> Response:
        return document({"data": people().render_candidate(one("candidates", cid))})

    @bp.route("/candidates/<cid>", methods=["PUT", "PATCH"])
    def update_candidate(cid: str) -> Response:
        p, row = people(), one("candidates", cid)
        own_keys = ("blocked", "external_system_reference")
        person, own, extra = split(payload("candidates")[0], own_keys, creating=False, docs=False)
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
            # Graphiti's string `eq` is case-insensitive: the email filter compares lower-cased.
            values = {**a, "candidate_email": cand.get("email"), "candidate_phone": cand.get("phone"),
                      "external_system_reference": a.get("external_system_reference")}
            return matches(f, values, ci=("candidate_email",))
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
        person, own, extra = split(attrs, ("external_system_reference",), creating=True, docs=True)
        job_ref = related_id(rels, "job", ("jobs",))
        if job_ref is None:
            raise invalid(("/data/relationships/job", "Job must exist"))
        job = p.store.get("jobs", job_ref[1])
        if job is None:
            raise invalid(("/data/relationships/job", "Job must exist"))
        docs = apply_write_only({}, extra)      # validate everything before writing anything
        stages = catalog.job_stages(p.store, job["id"])
        with p.store.lock:
            existing = p.by_email(person["email"])
            if existing and p.store.all("applications", lambda a: a["candidate_id"] == existing["id"]
                                        and a["job_id"] == job["id"]):
                raise ApiError(ALREADY_APPLIED, "Validation Error",
                               [("Candidate has already applied to this job", "/data/relationships/job")])
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
        person, own, extra = split(attrs, ("external_system_reference",), creating=False, docs=True)
        changes = {**own, **apply_write_only(row, extra)}
        stage_ref = related_id(rels, "stage", ("stages",))
        if stage_ref is not None:
            if stage_ref[1] not in [s["id"] for s in catalog.job_stages(p.store, row["job_id"])]:
                raise invalid(("/data/relationships/stage",
                               "Stage does not belong to this application's job"))
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
        rows = [j for j in p.store.all("job_seekers")
                if matches(f, {"external_system_reference": None, **j})]
        return listing(rows, p.render_job_seeker)

    @bp.get("/job_seekers/<jid>")
    def job_seeker(jid: str) -> Response:
        return document({"data": people().render_job_seeker(one("job_seekers", jid))})

    @bp.post("/job_seekers")
    def create_job_seeker() -> tuple[Response, int] | Response:
        p = people()
        attrs = payload("job_seekers")[0]
        person, own, extra = split(attrs, ("external_system_reference",), creating=True, docs=True)
        docs = apply_write_only({}, extra)
        with p.store.lock:      # one job seeker per candidate (ASSUMED): check and insert atomically
            existing = p.by_email(person["email"])
            if existing and p.store.all("job_seekers", lambda j: j["candidate_id"] == existing["id"]):
                raise ApiError(ALREADY_APPLIED, "Validation Error",
                               [("Candidate is already in the talent pipeline", "/data/attributes/email")])
            cand = p.upsert_candidate(person)
            stamp = now()
            row = p.store.insert("job_seekers", {"candidate_id": cand["id"], **own, **docs,
                                                 "created_at": stamp, "updated_at": stamp})
        return document({"data": p.render_job_seeker(row)}, 201)

    @bp.route("/job_seekers/<jid>", methods=["PUT", "PATCH"])
    def update_job_seeker(jid: str) -> Response:
        p, row = people(), one("job_seekers", jid)
        attrs = payload("job_seekers")[0]
        person, own, extra = split(attrs, ("external_system_reference",), creating=False, docs=True)
        p.update_person(row["candidate_id"], person)
        p.store.update("job_seekers", row["id"], {**own, **apply_write_only(row, extra), "updated_at": now()})
        return document({"data": p.render_job_seeker(one("job_seekers", jid))})

    @bp.delete("/job_seekers/<jid>")
    def delete_job_seeker(jid: str) -> tuple[str, int]:
        sandbox_of(current_app).store.delete("job_seekers", one("job_seekers", jid)["id"])
        return "", 204
