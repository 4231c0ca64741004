"""Pinpoint reference data and the non-person routes (AF §5.2): jobs (status open/closed/archived/
draft), stages (read-only, per job, with a `basic_type`), users, comments (notes), custom field
definitions + options and custom attribute values, plus the seed.

- Comments: `POST /comments {body_text, relationships.commentable → applications|job_seekers/<id>}`
  (AF [seen-3p]); listing one record's comments with `filter[commentable_id]` + `filter[commentable_type]`
  is ASSUMED.
- Custom attributes (write shape ASSUMED): `POST /custom_attributes` attributes `{value,
  custom_attributable_type: "Application"|"Candidate"|"JobSeeker", custom_attributable_id}` +
  relationship `custom_field`; one per field × record (a second → 422, PATCH it instead); the field's
  `resource_type` must match; a single-select value must be one of its options' names.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

from sandbox.common import Store, sandbox_of
from sandbox.pinpoint.wire import (JOB_STATUSES, STAGE_TYPES, ApiError, bad_param, document, filters, invalid,
                                   listing, matches, now, payload, related_id, resource)

ATTRIBUTABLE = {"Application": "applications", "Candidate": "candidates", "JobSeeker": "job_seekers"}
COMMENTABLE = ("applications", "job_seekers")
CV = {"context": "pdf_cv", "filename": "priya-shah-cv.pdf", "size": 15, "key": "seededcv0001",
      "data": "JVBERi0xLjQgc2VlZGVk"}          # "%PDF-1.4 seeded"
JOB_ATTRIBUTES = ("title", "status", "visibility", "employment_type", "workplace_type", "created_at",
                  "updated_at")
FIELD_ATTRIBUTES = ("name", "resource_type", "field_type", "unique_reference")


def render_job(row: dict[str, Any]) -> dict[str, Any]:
    return resource("jobs", row, {k: row[k] for k in JOB_ATTRIBUTES})


def render_stage(row: dict[str, Any]) -> dict[str, Any]:
    attrs = {"name": row["name"], "basic_type": row["basic_type"], "position": row["position"]}
    return resource("stages", row, attrs, {"job": ("jobs", row["job_id"])})


def job_stages(store: Store, job_id: int) -> list[dict[str, Any]]:
    return sorted(store.all("stages", lambda s: s["job_id"] == job_id), key=lambda s: s["position"])


def render_comment(row: dict[str, Any]) -> dict[str, Any]:
    attrs = {"body_text": row["body_text"], "created_at": row["created_at"], "updated_at": row["created_at"]}
    return resource("comments", row, attrs, {"commentable": (row["commentable_type"], row["commentable_id"])})


def field_options(store: Store, field_id: int) -> list[dict[str, Any]]:
    return store.all("custom_field_options", lambda o: o["custom_field_id"] == field_id)


def render_field(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    options = [o["id"] for o in field_options(store, row["id"])]
    return resource("custom_fields", row, {k: row[k] for k in FIELD_ATTRIBUTES},
                    {"custom_field_options": ("custom_field_options", options)})


def render_option(row: dict[str, Any]) -> dict[str, Any]:
    return resource("custom_field_options", row, {"name": row["name"], "position": row["position"]},
                    {"custom_field": ("custom_fields", row["custom_field_id"])})


def render_attribute(row: dict[str, Any]) -> dict[str, Any]:
    attrs = {"value": row["value"], "custom_attributable_type": row["type"],
             "custom_attributable_id": str(row["record_id"])}
    return resource("custom_attributes", row, attrs,
                    {"custom_field": ("custom_fields", row["custom_field_id"])})


def check_value(store: Store, field: dict[str, Any], value: Any) -> None:
    kind, ok = field["field_type"], True
    if value is None:
        return
    if kind in ("text", "date"):
        ok = isinstance(value, str)
    elif kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "single_select":
        ok = value in [o["name"] for o in field_options(store, field["id"])]
    if not ok:
        raise invalid(("/data/attributes/value", f"Value is not a valid {kind} for {field['name']}"))


def register(bp: Blueprint) -> None:
    def store() -> Store:
        return sandbox_of(current_app).store

    def one(table: str, rid: str) -> dict[str, Any]:
        row = store().get(table, rid)
        if row is None:
            raise ApiError(404, "Not Found", [(f"Couldn't find {table} with id {rid}", None)])
        return row

    @bp.get("/jobs")
    def jobs() -> Response:
        f = filters(("id", "status", "search"))
        if set(f.get("status", [])) - set(JOB_STATUSES):
            raise bad_param("filter[status]", f"status must be one of {', '.join(JOB_STATUSES)}")
        words = " ".join(f.pop("search", [])).lower()
        rows = [j for j in store().all("jobs") if words in j["title"].lower() and matches(f, j)]
        return listing(rows, render_job)

    @bp.get("/jobs/<jid>")
    def job(jid: str) -> Response:
        return document({"data": render_job(one("jobs", jid))})

    @bp.get("/stages")
    def stages() -> Response:
        f = filters(("id", "job_id", "basic_type"))
        if set(f.get("basic_type", [])) - set(STAGE_TYPES):
            raise bad_param("filter[basic_type]", f"basic_type must be one of {', '.join(STAGE_TYPES)}")
        return listing([s for s in store().all("stages") if matches(f, s)], render_stage)

    @bp.get("/stages/<sid>")
    def stage(sid: str) -> Response:
        return document({"data": render_stage(one("stages", sid))})

    @bp.get("/users")
    def users() -> Response:
        return listing(store().all("users"), lambda u: resource("users", u, {
            k: u[k] for k in ("first_name", "last_name", "email", "created_at", "updated_at")}))

    @bp.post("/comments")
    def create_comment() -> tuple[Response, int] | Response:
        attrs, rels, _ = payload("comments")
        if set(attrs) - {"body_text"}:
            raise ApiError(400, "Bad Request", [(f"Unknown attribute {k!r}", f"/data/attributes/{k}")
                                                for k in set(attrs) - {"body_text"}])
        if not isinstance(attrs.get("body_text"), str) or not attrs["body_text"].strip():
            raise invalid(("/data/attributes/body_text", "Body text can't be blank"))
        target = related_id(rels, "commentable", COMMENTABLE)
        if target is None or store().get(target[0], target[1]) is None:
            raise invalid(("/data/relationships/commentable", "Commentable must exist"))
        row = store().insert("comments", {"body_text": attrs["body_text"], "commentable_type": target[0],
                                          "commentable_id": target[1], "created_at": now()})
        return document({"data": render_comment(row)}, 201)

    @bp.get("/comments")
    def comments() -> Response:
        f = filters(("id", "commentable_id", "commentable_type"))
        return listing([c for c in store().all("comments") if matches(f, c)], render_comment)

    @bp.get("/comments/<cid>")
    def comment(cid: str) -> Response:
        return document({"data": render_comment(one("comments", cid))})

    @bp.get("/custom_fields")
    def custom_fields() -> Response:
        f = filters(("id", "resource_type"))
        rows = [r for r in store().all("custom_fields") if matches(f, r)]
        return listing(rows, lambda r: render_field(store(), r))

    @bp.get("/custom_field_options")
    def custom_field_options() -> Response:
        f = filters(("custom_field_id",))
        return listing([o for o in store().all("custom_field_options") if matches(f, o)], render_option)

    @bp.get("/custom_attributes")
    def custom_attributes() -> Response:
        f = filters(("custom_attributable_id", "custom_attributable_type", "custom_field_id"))
        rows = [a for a in store().all("custom_attributes") if matches(f, {
            "custom_attributable_id": a["record_id"], "custom_attributable_type": a["type"],
            "custom_field_id": a["custom_field_id"]})]
        return listing(rows, render_attribute)

    @bp.post("/custom_attributes")
    def create_custom_attribute() -> tuple[Response, int] | Response:
        s = store()
        attrs, rels, _ = payload("custom_attributes")
        kind, rid = attrs.get("custom_attributable_type"), attrs.get("custom_attributable_id")
        ref = related_id(rels, "custom_field", ("custom_fields",))
        field = s.get("custom_fields", ref[1]) if ref else None
        if field is None:
            raise invalid(("/data/relationships/custom_field", "Custom field must exist"))
        if kind not in ATTRIBUTABLE or s.get(ATTRIBUTABLE[kind], rid) is None:
            raise invalid(("/data/attributes/custom_attributable_id", "Custom attributable must exist"))
        if field["resource_type"] != kind:
            raise invalid(("/data/relationships/custom_field",
                           f"Custom field applies to {field['resource_type']} records"))
        check_value(s, field, attrs.get("value"))
        with s.lock:
            if s.all("custom_attributes", lambda a: a["custom_field_id"] == field["id"] and a["type"] == kind
                     and a["record_id"] == int(rid)):
                raise invalid(("/data/relationships/custom_field", "Custom field has already been taken"))
            row = s.insert("custom_attributes", {"custom_field_id": field["id"], "type": kind,
                                                 "record_id": int(rid), "value": attrs.get("value")})
        return document({"data": render_attribute(row)}, 201)

    @bp.route("/custom_attributes/<aid>", methods=["PUT", "PATCH"])
    def update_custom_attribute(aid: str) -> Response:
        s, row = store(), one("custom_attributes", aid)
        attrs = payload("custom_attributes")[0]
        if set(attrs) - {"value"}:
            raise ApiError(400, "Bad Request", [("Only value can change", "/data/attributes")])
        check_value(s, s.get("custom_fields", row["custom_field_id"]) or {}, attrs.get("value"))
        row = s.update("custom_attributes", row["id"], {"value": attrs.get("value")}) or row
        return document({"data": render_attribute(row)})


def seed(store: Store) -> None:
    """Jobs in every status with their stages, custom fields, a user, and a few people already in
    the ATS (one blocked, one tagged with a CV) so lookups, duplicates and off-limits have data."""
    stamp = now()
    store.insert("users", {"first_name": "Sam", "last_name": "Admin", "email": "sam.admin@sandbox.example",
                           "created_at": stamp, "updated_at": stamp})
    jobs = []
    for title, status in [("Senior Backend Engineer", "open"), ("Product Designer", "open"),
                          ("Account Executive", "closed"), ("Head of Data", "draft"),
                          ("Office Manager", "archived")]:
        job = store.insert("jobs", {"title": title, "status": status, "visibility": "external",
                                    "employment_type": "full_time", "workplace_type": "hybrid",
                                    "created_at": stamp, "updated_at": stamp})
        jobs.append(job)
        for pos, (name, basic) in enumerate([("Applied", "applied"), ("Screening", "in_progress"),
                                             ("Interview", "in_progress"), ("Offer", "offer"),
                                             ("Hired", "hired"), ("Rejected", "rejected")], start=1):
            store.insert("stages", {"job_id": job["id"], "name": name, "basic_type": basic, "position": pos})
    for name, rtype, ftype, options in [("Notice period", "Application", "text", []),
                                        ("Right to work", "Application", "single_select",
                                         ["Yes", "No", "Sponsorship needed"]),
                                        ("Years of experience", "Candidate", "number", []),
                                        ("Open to relocation", "Candidate", "boolean", [])]:
        field = store.insert("custom_fields", {"name": name, "resource_type": rtype, "field_type": ftype,
                                               "unique_reference": name.lower().replace(" ", "_")})
        for pos, opt in enumerate(options, start=1):
            store.insert("custom_field_options", {"custom_field_id": field["id"], "name": opt,
                                                  "position": pos})
    first_stage = {j["id"]: job_stages(store, j["id"])[0]["id"] for j in jobs}
    for first, last, email, linkedin, blocked, job in [
            ("Priya", "Shah", "priya.shah@example.com", "https://www.linkedin.com/in/priyashah", False,
             jobs[0]),
            ("Tom", "Baker", "tom.baker@example.org", None, False, jobs[1]),
            ("Olga", "Novak", "olga.novak@example.net", "https://www.linkedin.com/in/olganovak", True,
             jobs[0])]:
        cand = store.insert("candidates", {
            "first_name": first, "last_name": last, "email": email, "phone": "+44 7700 900123",
            "linkedin_url": linkedin, "town": "London", "blocked": blocked, "external_system_reference": None,
            "tags": [], "attachments": [], "created_at": stamp, "updated_at": stamp})
        priya = first == "Priya"
        store.insert("applications", {
            "candidate_id": cand["id"], "job_id": job["id"], "stage_id": first_stage[job["id"]],
            "uuid": f"00000000-0000-4000-8000-{cand['id']:012d}", "external_system_reference": None,
            "tags": [{"name": "Referral", "context": "custom_green"}] if priya else [],
            "attachments": [CV] if priya else [], "created_at": stamp, "updated_at": stamp})
