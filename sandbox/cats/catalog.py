"""CATS reference data and the routes over it: site/user, tags, candidate and contact lists, companies,
jobs and job statuses, pipelines (candidate on a job) with workflow statuses, and the seed data.

Paths and bodies from API-FACTS §3.2 (`POST /pipelines {candidate_id, job_id}` → 201 Location,
`POST /pipelines/{id}/status {status_id}`, lists `{"items":[{"candidate_id":N}]}`); the 409 on a
candidate already in a pipeline is ASSUMED (docs/assumptions.md).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.cats.wire import (ALREADY_IN_PIPELINE, INVALID, ApiError, created, hal_list, json_body,
                               no_content, now, row_or_404, store)
from sandbox.common import Store

WORKFLOW_STATUSES = ("Contacted", "Qualifying", "Submitted", "Interviewing", "Offered", "Placed",
                     "Not in consideration")
JOB_STATUSES = ("Active", "Upcoming", "OnHold", "Full", "Closed")
COMPANIES = (("Acme Ltd", "London"), ("ACME Limited", "Manchester"), ("Acme Holdings plc", "London"),
             ("Globex Corporation", "Leeds"), ("Initech", "Bristol"), ("Umbrella Recruitment", "Leeds"))
JOBS = (("Senior Python Engineer", "Active", 0), ("Data Engineer", "Active", 3),
        ("Finance Manager", "OnHold", 4),
        ("Sales Director", "Upcoming", 1), ("Office Manager", "Closed", 5), ("Platform Engineer", "Full", 0),
        ("QA Lead", "Active", 4))


def seed(st: Store) -> None:
    """Reference data a real CATS site would already have; near-duplicate company names on purpose."""
    for name in ("Python", "Java", "Sales", "Finance", "Hot Prospect", "Shoal"):
        st.insert("tags", {"name": name})
    for kind, name in (("candidate", "Q4 Pipeline"), ("candidate", "Engineering Talent"),
                       ("candidate", "Shoal Sourced"), ("contact", "Key Clients"),
                       ("contact", "Hiring Managers")):
        st.insert("lists", {"name": name, "data_item_type": kind})
    workflow = st.insert("workflows", {"title": "Default workflow"})
    for title in WORKFLOW_STATUSES:
        st.insert("pipeline_statuses", {"title": title, "workflow_id": workflow["id"]})
    status_ids = {t: st.insert("job_statuses", {"title": t})["id"] for t in JOB_STATUSES}
    company_ids = [st.insert("companies", {"name": n, "city": c, "website": None,
                                           "date_created": now()})["id"]
                   for n, c in COMPANIES]
    for title, status, company in JOBS:
        st.insert("jobs", {"title": title, "status_id": status_ids[status],
                           "company_id": company_ids[company],
                           "workflow_id": workflow["id"], "date_created": now()})
    for item_type, name, field_type in (("candidate", "Notice period", "text"),
                                        ("candidate", "Desired location", "text"),
                                        ("candidate", "Right to work", "checkbox"),
                                        ("contact", "Preferred contact method", "dropdown")):
        st.insert("custom_field_defs", {"data_item_type": item_type, "name": name, "field_type": field_type})


def render_job(job: dict[str, Any]) -> dict[str, Any]:
    status = store().get("job_statuses", job["status_id"]) or {}
    return {**{k: v for k, v in job.items() if k != "status_id"},
            "status": {"id": job["status_id"], "title": status.get("title")}}


def render_pipeline(p: dict[str, Any]) -> dict[str, Any]:
    status = store().get("pipeline_statuses", p["status_id"]) or {}
    return {**{k: v for k, v in p.items() if k != "status_id"},
            "status": {"id": p["status_id"], "title": status.get("title")}}


def register(bp: Blueprint) -> None:
    @bp.get("/site")
    def site() -> Response:
        return jsonify({"id": 1, "name": "Shoal Sandbox Recruiting", "subdomain": "shoal-sandbox"})

    @bp.get("/users/current")
    def current_user() -> Response:
        return jsonify({"id": 1, "email": "api@shoal-sandbox.example", "first_name": "Api",
                        "last_name": "User"})

    @bp.get("/tags")
    def tags() -> Response:
        return hal_list("tags", store().all("tags"), lambda t: t)

    @bp.get("/tags/<int:tid>")
    def tag(tid: int) -> Response:
        return jsonify(row_or_404("tags", tid))

    for kind in ("candidate", "contact"):
        _register_lists(bp, kind)

    @bp.get("/companies")
    def companies() -> Response:
        return hal_list("companies", store().all("companies"), lambda c: c)

    @bp.get("/companies/search")
    def company_search() -> Response:
        q = request.args.get("query", "").strip().lower()
        return hal_list("companies", store().all("companies", lambda c: bool(q) and q in c["name"].lower()),
                        lambda c: c)

    @bp.get("/companies/<int:cid>")
    def company(cid: int) -> Response:
        return jsonify(row_or_404("companies", cid))

    @bp.get("/jobs")
    def jobs() -> Response:
        status_id = request.args.get("status_id", type=int)
        rows = store().all("jobs", lambda j: status_id is None or j["status_id"] == status_id)
        return hal_list("jobs", rows, render_job)

    @bp.get("/jobs/statuses")
    def job_statuses() -> Response:
        return hal_list("statuses", store().all("job_statuses"), lambda s: s)

    @bp.get("/jobs/<int:jid>")
    def job(jid: int) -> Response:
        return jsonify(render_job(row_or_404("jobs", jid)))

    @bp.get("/jobs/<int:jid>/pipelines")
    def job_pipelines(jid: int) -> Response:
        row_or_404("jobs", jid)
        return hal_list("pipelines", store().all("pipelines", lambda p: p["job_id"] == jid), render_pipeline)

    @bp.post("/pipelines")
    def add_pipeline() -> Response:
        body = json_body()
        errors = {}
        cand = store().get("candidates", body.get("candidate_id"))
        job = store().get("jobs", body.get("job_id"))
        if cand is None:
            errors["candidate_id"] = ["unknown candidate"]
        if job is None:
            errors["job_id"] = ["unknown job"]
        rating = body.get("rating", 0)
        if not isinstance(rating, int) or not 0 <= rating <= 5:
            errors["rating"] = ["must be an integer 0-5"]
        if errors:
            raise ApiError(INVALID, "Validation failed", errors)
        first = store().all("pipeline_statuses", lambda s: s["workflow_id"] == job["workflow_id"])[0]
        with store().lock:      # one pipeline per candidate and job, even under concurrent calls
            if store().all("pipelines",
                           lambda p: p["candidate_id"] == cand["id"] and p["job_id"] == job["id"]):
                raise ApiError(ALREADY_IN_PIPELINE, "Candidate is already in this pipeline")
            row = store().insert("pipelines", {"candidate_id": cand["id"], "job_id": job["id"],
                                               "rating": rating,
                                               "status_id": first["id"], "date_created": now()})
        return created(f"/pipelines/{row['id']}")

    @bp.get("/pipelines/<int:pid>")
    def pipeline(pid: int) -> Response:
        return jsonify(render_pipeline(row_or_404("pipelines", pid)))

    @bp.post("/pipelines/<int:pid>/status")
    def pipeline_status(pid: int) -> Response:
        p = row_or_404("pipelines", pid)
        workflow_id = row_or_404("jobs", p["job_id"])["workflow_id"]
        status = store().get("pipeline_statuses", json_body().get("status_id"))
        if status is None or status["workflow_id"] != workflow_id:
            raise ApiError(INVALID, "Validation failed",
                           {"status_id": ["not a status of this job's workflow"]})
        store().update("pipelines", pid, {"status_id": status["id"]})
        return no_content()

    @bp.get("/pipelines/workflows")
    def workflows() -> Response:
        return hal_list("workflows", store().all("workflows"), lambda w: w)

    @bp.get("/pipelines/workflows/<int:wid>/statuses")
    def workflow_statuses(wid: int) -> Response:
        row_or_404("workflows", wid)
        return hal_list("statuses", store().all("pipeline_statuses", lambda s: s["workflow_id"] == wid),
                        lambda s: {"id": s["id"], "title": s["title"]})


def _register_lists(bp: Blueprint, kind: str) -> None:
    """`/<kind>s/lists` and their items; an item names its record as `<kind>_id` (API-FACTS §3.2 shows
    `candidate_id` for candidate lists and `job_id` for job lists)."""
    coll, key = f"{kind}s", f"{kind}_id"

    def _list(lid: int) -> dict[str, Any]:
        row = row_or_404("lists", lid)
        if row["data_item_type"] != kind:
            raise ApiError(404, "Not Found")
        return row

    def lists() -> Response:
        return hal_list("lists", store().all("lists", lambda r: r["data_item_type"] == kind), lambda r: r)

    def list_items(lid: int) -> Response:
        _list(lid)
        return hal_list("items", store().all("list_items", lambda i: i["list_id"] == lid), lambda i: i)

    def add_list_items(lid: int) -> Response:
        _list(lid)
        items = json_body().get("items")
        if not isinstance(items, list) or not all(
                isinstance(i, dict) and store().get(coll, i.get(key)) for i in items):
            raise ApiError(INVALID, "Validation failed",
                           {"items": [f"must be a list of {{{key}}} of existing {coll}"]})
        with store().lock:      # adding twice is a no-op, even when two calls race
            for item in items:
                rid = int(item[key])
                if not store().all("list_items", lambda i: i["list_id"] == lid and i["data_item_id"] == rid):
                    store().insert("list_items", {"list_id": lid, "data_item_id": rid, "date_created": now()})
        return no_content()

    bp.add_url_rule(f"/{coll}/lists", f"{kind}_lists", lists, methods=["GET"])
    bp.add_url_rule(f"/{coll}/lists/<int:lid>/items", f"{kind}_list_items", list_items, methods=["GET"])
    bp.add_url_rule(f"/{coll}/lists/<int:lid>/items", f"{kind}_add_list_items", add_list_items,
                    methods=["POST"])
