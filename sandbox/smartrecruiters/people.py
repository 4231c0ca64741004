"""SmartRecruiters candidate routes: create (talent pool or straight onto a job), read, personal-info
PATCH, keyword search, delete, and the candidate × job assignment with its status (AF §2.2–2.3).

Candidates are stored in the camelCase `CandidateInput` shape with a UUID `uid`; reads add `id`,
`createdOn`, `updatedOn`, `averageRating`, `primaryAssignment`, `secondaryAssignments` and `actions`,
and keep `tags` (list rows too: the tag picker is built from them).
Unknown top-level keys are refused with 400 (a Jackson-style strict reader), so an adapter that
misnames a field finds out. Tags, attachments, properties and consent live in
`sandbox.smartrecruiters.extras`.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from sandbox.common import Store, sandbox_of
from sandbox.smartrecruiters.wire import (ALREADY_ASSIGNED, CANDIDATE_REQUIRED, CANDIDATE_STATUSES, EMAIL_RE,
                                          STATUS_ON_APPLY, ApiError, field_error, invalid, json_body,
                                          must_find, new_uid, now, paged, url)

OBJECT_KEYS = {
    "location": ("country", "countryCode", "regionCode", "region", "city", "lat", "lng"),
    "web": ("skype", "linkedin", "facebook", "twitter", "website"),
    "sourceDetails": ("sourceTypeId", "sourceSubTypeId", "sourceId"),
}
LIST_KEYS = {
    "experience": ("title", "company", "current", "startDate", "endDate", "location", "description"),
    "education": ("institution", "degree", "major", "current", "location", "startDate", "endDate",
                  "description"),
}
INPUT_KEYS = ("firstName", "lastName", "email", "phoneNumber", "tags", "internal", *OBJECT_KEYS, *LIST_KEYS)
# AF lists only the personal fields for PATCH; experience/education there is ASSUMED (no other
# documented way to change a current title/company).
PATCH_KEYS = ("firstName", "lastName", "email", "phoneNumber", "location", "web", "experience", "education")


def validate(body: dict[str, Any], keys: tuple[str, ...], creating: bool) -> dict[str, Any]:
    """Check a candidate body; raise one 400 naming every bad field, else return the clean values."""
    errors = [field_error(k, "unrecognized field") for k in body if k not in keys]
    for k in ("firstName", "lastName", "email", "phoneNumber"):
        if k in body and body[k] is not None and not isinstance(body[k], str):
            errors.append(field_error(k, "must be a string"))
    for k in CANDIDATE_REQUIRED if creating else ():
        if not str(body.get(k) or "").strip():
            errors.append(field_error(k, "may not be empty"))
    if isinstance(body.get("email"), str) and body["email"] and not EMAIL_RE.match(body["email"]):
        errors.append(field_error("email", "not a well-formed email address"))
    for k, allowed in OBJECT_KEYS.items():
        if body.get(k) is not None and (not isinstance(body[k], dict) or set(body[k]) - set(allowed)):
            errors.append(field_error(k, f"must be an object with keys among {', '.join(allowed)}"))
    for k, allowed in LIST_KEYS.items():
        items = body.get(k)
        if items is not None and (not isinstance(items, list) or any(
                not isinstance(i, dict) or set(i) - set(allowed) for i in items)):
            errors.append(field_error(k, f"must be a list of objects with keys among {', '.join(allowed)}"))
    if "internal" in body and not isinstance(body["internal"], bool):
        errors.append(field_error("internal", "must be true or false"))
    tags = body.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        errors.append(field_error("tags", "must be a list of strings"))
    if errors:
        raise ApiError(400, "Validation failed", errors)
    return {k: v for k, v in body.items() if k in keys}


def render_assignment(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    job = store.get("jobs", row["job_id"]) or {}
    return {"job": {"id": job.get("uid"), "title": job.get("title"),
                    "actions": {"details": {"url": url(f"/jobs/{job.get('uid')}"), "method": "GET"}}},
            "status": row["status"], "subStatus": row.get("subStatus"), "startsOn": row.get("startsOn"),
            "source": row.get("source"), "reasonOfRejection": None, "reasonOfWithdrawal": None}


def assignments(store: Store, cand: dict[str, Any]) -> list[dict[str, Any]]:
    return store.all("assignments", lambda a: a["candidate_id"] == cand["id"])


def render(store: Store, cand: dict[str, Any], summary: bool = False) -> dict[str, Any]:
    apps = [render_assignment(store, a) for a in assignments(store, cand)]
    out: dict[str, Any] = {
        "id": cand["uid"], "internal": cand.get("internal", False), "firstName": cand.get("firstName"),
        "lastName": cand.get("lastName"), "email": cand.get("email"), "phoneNumber": cand.get("phoneNumber"),
        "location": cand.get("location") or {}, "web": cand.get("web") or {},
        # `tags` is on every candidate read, list rows included (SRPY's Candidate model, the type of
        # `Candidates.content`, has it; AF §2.3: a read adds to CandidateInput, which has tags).
        "tags": list(cand.get("tags") or []),
        "averageRating": cand.get("averageRating", 0.0), "createdOn": cand["createdOn"],
        "updatedOn": cand["updatedOn"], "primaryAssignment": apps[0] if apps else None,
        "secondaryAssignments": apps[1:],
        "actions": {"details": {"url": url(f"/candidates/{cand['uid']}"), "method": "GET"}},
    }
    if summary:
        out["consent"] = {"status": (cand.get("consent") or {}).get("status", "REQUIRED")}
        return out
    out.update(experience=cand.get("experience") or [], education=cand.get("education") or [],
               sourceDetails=cand.get("sourceDetails") or {"sourceTypeId": "API"})
    return out


def searchable(store: Store, cand: dict[str, Any]) -> str:
    parts = [cand.get(k) or "" for k in ("firstName", "lastName", "email", "phoneNumber")]
    parts += list((cand.get("location") or {}).values()) + list((cand.get("web") or {}).values())
    parts += cand.get("tags") or []
    for e in cand.get("experience") or []:
        parts += [e.get("title") or "", e.get("company") or ""]
    return " ".join(str(p) for p in parts).lower()


def create_candidate(store: Store, body: dict[str, Any]) -> dict[str, Any]:
    clean = validate(body, INPUT_KEYS, creating=True)
    stamp = now()
    return store.insert("candidates", {**clean, "uid": new_uid(), "tags": clean.get("tags") or [],
                                       "createdOn": stamp, "updatedOn": stamp,
                                       "consent": {"status": "REQUIRED", "date": None}})


def assign(store: Store, cand: dict[str, Any], job: dict[str, Any],
           status: str | None = None) -> dict[str, Any]:
    status = status or STATUS_ON_APPLY
    if status not in CANDIDATE_STATUSES:
        raise invalid("status", f"must be one of {', '.join(CANDIDATE_STATUSES)}")
    with store.lock:        # check-then-insert atomically: one assignment per candidate × job
        if store.all("assignments", lambda a: a["candidate_id"] == cand["id"] and a["job_id"] == job["id"]):
            raise ApiError(ALREADY_ASSIGNED, "Candidate is already assigned to this job")
        return store.insert("assignments", {"candidate_id": cand["id"], "job_id": job["id"], "status": status,
                                            "subStatus": None, "startsOn": None, "createdOn": now(),
                                            "source": "API"})


def register(bp: Blueprint) -> None:
    def store() -> Store:
        return sandbox_of(current_app).store

    @bp.post("/candidates")
    def create() -> tuple[Response, int]:
        return jsonify(render(store(), create_candidate(store(), json_body()))), 201

    @bp.post("/jobs/<job_id>/candidates")
    def create_on_job(job_id: str) -> tuple[Response, int]:
        job = must_find(store(), "jobs", job_id, "Job")
        body = json_body()
        validate(body, INPUT_KEYS, creating=True)     # nothing written unless the body is valid
        cand = create_candidate(store(), body)
        assign(store(), cand, job)
        return jsonify(render(store(), cand)), 201

    @bp.get("/candidates")
    def search() -> Response:
        s, args = store(), request.args
        words = args.get("q", "").lower().split()
        rows = [c for c in s.all("candidates") if all(w in searchable(s, c) for w in words)]
        if args.get("tag"):
            rows = [c for c in rows if args["tag"].lower() in (t.lower() for t in c.get("tags") or [])]
        if args.getlist("jobId") or args.get("status"):
            jobs = {j["uid"]: j["id"] for j in s.all("jobs")}
            wanted = {jobs.get(j) for j in args.getlist("jobId")}
            rows = [c for c in rows if any((not wanted or a["job_id"] in wanted)
                                           and (not args.get("status") or a["status"] == args["status"])
                                           for a in assignments(s, c))]
        if args.get("location"):
            city = args["location"].lower()
            rows = [c for c in rows if city in str((c.get("location") or {}).get("city", "")).lower()]
        if args.get("propertyId"):
            pid, value = args["propertyId"], args.get("propertyValueId")
            rows = [c for c in rows if (c.get("properties") or {}).get(pid) is not None
                    and (not value or c["properties"][pid] == value)]
        return paged(rows, lambda c: render(s, c, summary=True))

    @bp.get("/candidates/<cid>")
    def get_one(cid: str) -> Response:
        return jsonify(render(store(), must_find(store(), "candidates", cid, "Candidate")))

    @bp.patch("/candidates/<cid>")
    def patch(cid: str) -> Response:
        s = store()
        cand = must_find(s, "candidates", cid, "Candidate")
        clean = validate(json_body(), PATCH_KEYS, creating=False)
        for k in ("firstName", "lastName", "email"):
            if k in clean and not str(clean[k] or "").strip():
                raise invalid(k, "may not be empty")
        for k in ("location", "web"):     # nested objects merge key by key; null clears a key
            if isinstance(clean.get(k), dict):
                merged = {**(cand.get(k) or {}), **clean[k]}
                clean[k] = {kk: v for kk, v in merged.items() if v is not None}
        return jsonify(render(s, s.update("candidates", cand["id"], {**clean, "updatedOn": now()}) or cand))

    @bp.delete("/candidates/<cid>")
    def delete(cid: str) -> tuple[str, int]:
        s = store()
        cand = must_find(s, "candidates", cid, "Candidate")
        for a in assignments(s, cand):
            s.delete("assignments", a["id"])
        s.delete("candidates", cand["id"])
        return "", 204

    # Applying an EXISTING candidate to a job: path ASSUMED (AF only knows POST /jobs/{id}/candidates,
    # which creates a new candidate); it mirrors GET /candidates/{id}/jobs/{jobId}.
    @bp.post("/candidates/<cid>/jobs/<job_id>")
    def apply(cid: str, job_id: str) -> tuple[Response, int]:
        s = store()
        cand, job = must_find(s, "candidates", cid, "Candidate"), must_find(s, "jobs", job_id, "Job")
        body = request.get_json(silent=True) or {}
        row = assign(s, cand, job, body.get("status") if isinstance(body, dict) else None)
        return jsonify(render_assignment(s, row)), 201

    @bp.get("/candidates/<cid>/jobs/<job_id>")
    def get_assignment(cid: str, job_id: str) -> Response:
        s = store()
        return jsonify(render_assignment(s, _assignment(s, cid, job_id)))

    @bp.put("/candidates/<cid>/jobs/<job_id>/status")
    def set_status(cid: str, job_id: str) -> tuple[str, int]:
        _set_status(store(), _assignment(store(), cid, job_id))
        return "", 204

    @bp.put("/candidates/<cid>/status")
    def set_primary_status(cid: str) -> tuple[str, int]:
        s = store()
        apps = assignments(s, must_find(s, "candidates", cid, "Candidate"))
        if not apps:
            raise ApiError(404, "Candidate has no primary assignment")
        _set_status(s, apps[0])
        return "", 204

    def _assignment(s: Store, cid: str, job_id: str) -> dict[str, Any]:
        cand, job = must_find(s, "candidates", cid, "Candidate"), must_find(s, "jobs", job_id, "Job")
        rows = [a for a in assignments(s, cand) if a["job_id"] == job["id"]]
        if not rows:
            raise ApiError(404, "Candidate is not assigned to this job")
        return rows[0]

    def _set_status(s: Store, row: dict[str, Any]) -> None:
        body = json_body()
        if body.get("status") not in CANDIDATE_STATUSES:
            raise invalid("status", f"must be one of {', '.join(CANDIDATE_STATUSES)}")
        if body.get("subStatus") is not None and not isinstance(body["subStatus"], str):
            raise invalid("subStatus", "must be a string")
        s.update("assignments", row["id"], {"status": body["status"], "subStatus": body.get("subStatus"),
                                            "startsOn": body.get("startsOn")})
