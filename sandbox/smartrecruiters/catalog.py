"""SmartRecruiters reference data and the non-candidate routes: `GET /users/me`, jobs (paged, with
statuses), candidate-property definitions, and notes as Messages API shares (AF §2.2).

Notes: `POST /messages/shares {content, correlationId?, shareWith {users, hiringTeamOf, everyone,
openNote}}`; `#[CANDIDATE:<id>]` in `content` links the post to a candidate (AF [seen]). Listing a
candidate's shares, `GET /messages/shares?candidateId=<id>&limit&offset`, is ASSUMED (AF has no read
path); every referenced candidate must exist (400 otherwise, ASSUMED) and at least one share target
must be set (ASSUMED).
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from sandbox.common import Store, sandbox_of
from sandbox.smartrecruiters.wire import (JOB_STATUSES, bad_param, invalid, json_body, must_find, new_uid,
                                          now, paged, url)

CANDIDATE_REF = re.compile(r"#\[CANDIDATE:([0-9a-fA-F-]+)\]")
ME = {"id": "5f0c1d2e3a4b5c6d7e8f9012", "email": "sam.admin@sandbox.example", "firstName": "Sam",
      "lastName": "Admin", "role": "ADMINISTRATOR", "active": True, "language": {"code": "en"}}


def render_job(job: dict[str, Any]) -> dict[str, Any]:
    stamp = job["createdOn"]
    return {"id": job["uid"], "title": job["title"], "refNumber": job["refNumber"], "createdOn": stamp,
            "updatedOn": stamp, "lastActivityOn": stamp,
            "department": {"id": job["department"].lower(), "label": job["department"]},
            "location": {"city": job["city"], "country": "United Kingdom", "countryCode": "gb",
                         "remote": False},
            "status": job["status"],
            "postingStatus": "PUBLIC" if job["status"] == "SOURCING" else "NOT_PUBLISHED",
            "actions": {"details": {"url": url(f"/jobs/{job['uid']}"), "method": "GET"}}}


def render_share(share: dict[str, Any]) -> dict[str, Any]:
    return {"id": share["uid"], "content": share["content"], "correlationId": share.get("correlationId"),
            "shareWith": share["shareWith"], "createdOn": share["createdOn"], "author": {"id": ME["id"]}}


def _share_with(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or set(raw) - {"users", "hiringTeamOf", "everyone", "openNote"}:
        raise invalid("shareWith", "must be an object with users, hiringTeamOf, everyone, openNote")
    out = {"users": raw.get("users") or [], "hiringTeamOf": raw.get("hiringTeamOf") or [],
           "everyone": bool(raw.get("everyone")), "openNote": bool(raw.get("openNote"))}
    if not (out["users"] or out["hiringTeamOf"] or out["everyone"] or out["openNote"]):
        raise invalid("shareWith", "must name at least one audience")
    return out


def register(bp: Blueprint) -> None:
    def store() -> Store:
        return sandbox_of(current_app).store

    @bp.get("/users/me")
    def me() -> Response:
        return jsonify(ME)

    @bp.get("/jobs")
    def jobs() -> Response:
        rows = store().all("jobs")
        q, status = request.args.get("q", "").lower(), request.args.get("status")
        if status and status not in JOB_STATUSES:
            raise bad_param("status", f"must be one of {', '.join(JOB_STATUSES)}")
        rows = [j for j in rows if q in j["title"].lower() and (not status or j["status"] == status)]
        return paged(rows, render_job)

    @bp.get("/jobs/<job_id>")
    def job(job_id: str) -> Response:
        return jsonify(render_job(must_find(store(), "jobs", job_id, "Job")))

    @bp.get("/configuration/candidate-properties")
    def property_defs() -> Response:
        rows = store().all("properties")
        return jsonify({"totalFound": len(rows), "content": [
            {"id": p["uid"], "label": p["label"], "type": p["type"],
             "actions": {"values": {"url": url(f"/configuration/candidate-properties/{p['uid']}/values"),
                                    "method": "GET"}}} for p in rows]})

    @bp.get("/configuration/candidate-properties/<pid>")
    def property_def(pid: str) -> Response:
        p = must_find(store(), "properties", pid, "Property")
        return jsonify({"id": p["uid"], "label": p["label"], "type": p["type"]})

    @bp.get("/configuration/candidate-properties/<pid>/values")
    def property_values(pid: str) -> Response:
        values = must_find(store(), "properties", pid, "Property").get("values", [])
        return jsonify({"totalFound": len(values), "content": values})

    @bp.post("/messages/shares")
    def share() -> tuple[Response, int]:
        s, body = store(), json_body()
        content = body.get("content")
        if not isinstance(content, str) or not content.strip():
            raise invalid("content", "may not be empty")
        share_with = _share_with(body.get("shareWith"))
        refs = CANDIDATE_REF.findall(content)
        missing = [r for r in refs if not s.all("candidates", lambda c, r=r: c["uid"] == r)]
        if missing:
            raise invalid("content", f"unknown candidate {', '.join(missing)}")
        row = s.insert("shares", {"uid": new_uid(), "content": content, "candidates": refs,
                                  "shareWith": share_with, "correlationId": body.get("correlationId"),
                                  "createdOn": now()})
        return jsonify(render_share(row)), 201

    @bp.get("/messages/shares")
    def shares() -> Response:
        cid = request.args.get("candidateId")
        if not cid:
            raise bad_param("candidateId", "is required")
        must_find(store(), "candidates", cid, "Candidate")
        return paged(store().all("shares", lambda r: cid in r["candidates"]), render_share)

    @bp.delete("/messages/shares/<sid>")
    def delete_share(sid: str) -> tuple[str, int]:
        store().delete("shares", must_find(store(), "shares", sid, "Share")["id"])
        return "", 204


def seed(store: Store) -> None:
    """Jobs in every status, candidate-property definitions, and a few existing candidates (one
    opted out of consent, one already on a job) so lookups and off-limits checks have something real."""
    stamp = now()
    jobs = {}
    for i, (title, status, dept, city) in enumerate([
            ("Senior Backend Engineer", "SOURCING", "Engineering", "London"),
            ("Product Designer", "INTERVIEW", "Design", "Manchester"),
            ("Account Executive", "OFFER", "Sales", "Bristol"),
            ("Head of Data", "CREATED", "Engineering", "London"),
            ("Office Manager", "HIRED", "Operations", "Leeds"),
            ("Graduate Analyst", "CANCELLED", "Finance", "Edinburgh"),
            ("Site Reliability Engineer", "ON_HOLD", "Engineering", "Remote")], start=1):
        jobs[title] = store.insert("jobs", {"uid": new_uid(), "title": title, "status": status,
                                            "department": dept, "city": city, "refNumber": f"REF-{1000 + i}",
                                            "createdOn": stamp})
    store.insert("properties", {"uid": new_uid(), "label": "Notice period (weeks)", "type": "NUMBER"})
    store.insert("properties", {"uid": new_uid(), "label": "Sourced by", "type": "TEXT"})
    store.insert("properties", {"uid": new_uid(), "label": "Open to relocation", "type": "BOOLEAN"})
    store.insert("properties", {"uid": new_uid(), "label": "Available from", "type": "DATE"})
    store.insert("properties", {"uid": new_uid(), "label": "Seniority", "type": "SINGLE_SELECT", "values": [
        {"id": new_uid(), "label": label} for label in ("Junior", "Mid", "Senior", "Lead")]})
    people = [
        ("Priya", "Shah", "priya.shah@example.com", "https://www.linkedin.com/in/priyashah", "Acme Ltd",
         "Data Engineer", ["python", "data"], "ACQUIRED"),
        ("Tom", "Baker", "tom.baker@example.org", "https://www.linkedin.com/in/tom-baker-42", "ACME Limited",
         "Sales Lead", ["sales"], "REQUIRED"),
        ("Olga", "Novak", "olga.novak@example.net", None, "Globex", "Designer", [], "DECLINED"),
        ("Marcus", "Lee", "marcus.lee@example.com", "https://www.linkedin.com/in/marcuslee", "Initech",
         "Backend Engineer", ["backend"], "ACQUIRED"),
    ]
    for first, last, email, linkedin, company, title, tags, consent in people:
        cand = store.insert("candidates", {
            "uid": new_uid(), "firstName": first, "lastName": last, "email": email,
            "phoneNumber": "+44 7700 900123",
            "location": {"city": "London", "country": "United Kingdom", "countryCode": "gb"},
            "web": {"linkedin": linkedin} if linkedin else {}, "tags": tags,
            "experience": [{"title": title, "company": company, "current": True}],
            "createdOn": stamp, "updatedOn": stamp, "consent": {"status": consent, "date": stamp}})
        if first == "Marcus":
            job_id = jobs["Senior Backend Engineer"]["id"]
            store.insert("assignments", {"candidate_id": cand["id"], "job_id": job_id, "status": "IN_REVIEW",
                                         "subStatus": None, "startsOn": None, "createdOn": stamp,
                                         "source": "API"})
