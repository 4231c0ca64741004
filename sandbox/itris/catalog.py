"""itris reference data and its routes: the API user (`/me`), statuses with a default per record type,
note types, tags, groups (lists), companies (with near-duplicate names), jobs with statuses and
applicants added to jobs, custom field definitions; and the seed.

All ASSUMED (API-FACTS §4 has none of these endpoints); see docs/assumptions.md, itris.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from sandbox.common import Store
from sandbox.itris.wire import (ApiError, created, current_store, found, invalid, json_body, now, paged,
                               record_type)

STATUSES = {"applicant": ("Active", "Available", "Placed", "Not Looking", "Do Not Use"),
            "contact": ("Active", "Prospect", "Client", "Left Company")}
NOTE_TYPES = {"applicant": ("General", "Email Sent", "LinkedIn Message", "Phone Call", "Candidate Reply",
                            "Interested"),
              "contact": ("General", "Email Sent", "LinkedIn Message", "Phone Call", "Candidate Reply",
                          "Interested", "Client Meeting")}
COMPANIES = (("Acme Ltd", "London"), ("ACME Limited", "Manchester"), ("Acme Holdings plc", "London"),
             ("Globex Corporation", "Leeds"), ("Initech", "Bristol"), ("Umbrella Recruitment", "Leeds"))
JOB_STATUSES = ("Open", "On Hold", "Filled", "Closed")
JOBS = (("Senior Python Engineer", 0, "Open"), ("Data Engineer", 3, "Open"),
        ("Finance Manager", 4, "On Hold"),
        ("Sales Director", 1, "Open"), ("Office Manager", 5, "Closed"), ("Platform Engineer", 0, "Filled"))


def seed(st: Store) -> None:
    for kind, names in STATUSES.items():
        for i, name in enumerate(names):
            st.insert("statuses", {"recordType": kind, "name": name, "isDefault": i == 0})
    for kind, names in NOTE_TYPES.items():
        for name in names:
            st.insert("note_types", {"recordType": kind, "name": name})
    for kind in STATUSES:
        for name in ("Python", "Finance", "Shoal", "Hot"):
            st.insert("tags", {"recordType": kind, "name": name})
    for kind, name in (("applicant", "Q4 Shortlist"), ("applicant", "Engineering Pool"),
                       ("contact", "Key Clients")):
        st.insert("groups", {"recordType": kind, "name": name})
    companies = [st.insert("companies", {"name": n, "town": t, "website": None, "telephone": None,
                                         "statusName": "Client" if i % 2 == 0 else "Prospect"})
                 for i, (n, t) in enumerate(COMPANIES)]
    job_status = {name: st.insert("job_statuses", {"name": name})["id"] for name in JOB_STATUSES}
    for title, company, status in JOBS:
        st.insert("jobs", {"title": title, "companyId": companies[company]["id"],
                           "statusId": job_status[status],
                           "town": companies[company]["town"]})
    for kind, key, label, ftype, options in (
            ("applicant", "noticePeriod", "Notice period", "select", ["Immediate", "1 month", "3 months"]),
            ("applicant", "salaryExpectation", "Salary expectation", "number", []),
            ("contact", "preferredContact", "Preferred contact method", "select", ["Email", "Phone"])):
        st.insert("custom_fields", {"recordType": kind, "key": key, "label": label, "type": ftype,
                                    "options": options})


def _job(j: dict[str, Any]) -> dict[str, Any]:
    st = current_store()
    company, status = st.get("companies", j["companyId"]) or {}, st.get("job_statuses", j["statusId"]) or {}
    return {"jobId": j["id"], "title": j["title"], "companyId": j["companyId"],
            "companyName": company.get("name"),
            "statusId": j["statusId"], "statusName": status.get("name"), "town": j["town"]}


def _company(c: dict[str, Any]) -> dict[str, Any]:
    return {"companyId": c["id"], **{k: v for k, v in c.items() if k != "id"}}


def register(bp: Blueprint) -> None:
    @bp.get("/me")
    def me() -> Response:
        user = current_app.config["ITRIS_USERNAME"]
        return jsonify({"userId": 1, "username": user, "displayName": "Shoal API user"})

    @bp.get("/statuses")
    def statuses() -> Response:
        kind = record_type()
        return paged([{"statusId": s["id"], "name": s["name"], "isDefault": s["isDefault"]}
                      for s in current_store().all("statuses", lambda s: s["recordType"] == kind)])

    @bp.get("/notetypes")
    def note_types() -> Response:
        kind = record_type()
        return paged([{"noteTypeId": n["id"], "name": n["name"]}
                      for n in current_store().all("note_types", lambda n: n["recordType"] == kind)])

    @bp.get("/tags")
    def tags() -> Response:
        kind = record_type()
        return paged([{"tagId": t["id"], "name": t["name"]}
                      for t in current_store().all("tags", lambda t: t["recordType"] == kind)])

    @bp.get("/customfields")
    def custom_fields() -> Response:
        kind = record_type()
        return paged([{k: d[k] for k in ("key", "label", "type", "options")}
                      for d in current_store().all("custom_fields", lambda d: d["recordType"] == kind)])

    @bp.get("/groups")
    def groups() -> Response:
        kind = record_type()
        return paged([{"groupId": g["id"], "name": g["name"], "recordType": g["recordType"]}
                      for g in current_store().all("groups", lambda g: g["recordType"] == kind)])

    @bp.post("/groups/<int:gid>/members")
    def add_member(gid: int) -> Response:
        st, group = current_store(), found("groups", gid, "Group")
        rid = json_body().get("recordId")
        if st.get(f"{group['recordType']}s", rid) is None:
            raise invalid({"recordId": f"Is not an existing {group['recordType']}."})
        body = {"groupId": gid, "recordId": int(rid)}
        with st.lock:
            if st.all("group_members", lambda m: m["groupId"] == gid and m["recordId"] == int(rid)):
                return jsonify(body)
            st.insert("group_members", body)
        return created(body)

    @bp.get("/companies")
    def companies() -> Response:
        name = request.args.get("name", "").strip().lower()
        rows = current_store().all("companies", lambda c: name in c["name"].lower())
        return paged([_company(c) for c in rows])

    @bp.get("/companies/<int:cid>")
    def company(cid: int) -> Response:
        return jsonify(_company(found("companies", cid, "Company")))

    @bp.get("/jobstatuses")
    def job_statuses() -> Response:
        return paged([{"statusId": s["id"], "name": s["name"]} for s in current_store().all("job_statuses")])

    @bp.get("/jobs")
    def jobs() -> Response:
        status_id = request.args.get("statusId", type=int)
        return paged([_job(j) for j in current_store().all(
            "jobs", lambda j: status_id is None or j["statusId"] == status_id)])

    @bp.get("/jobs/<int:jid>")
    def job(jid: int) -> Response:
        return jsonify(_job(found("jobs", jid, "Job")))

    @bp.post("/jobs/<int:jid>/applicants")
    def add_to_job(jid: int) -> Response:
        st = current_store()
        found("jobs", jid, "Job")
        aid = json_body().get("applicantId")
        if st.get("applicants", aid) is None:
            raise invalid({"applicantId": "Is not an existing applicant."})
        with st.lock:           # one row per job and applicant, even under concurrent calls
            if st.all("job_applicants", lambda r: r["jobId"] == jid and r["applicantId"] == int(aid)):
                raise ApiError(409, "This applicant is already on the job.")
            row = st.insert("job_applicants", {"jobId": jid, "applicantId": int(aid), "stage": "Longlist",
                                               "createdDate": now()})
        return created({"jobApplicantId": row["id"], **{k: v for k, v in row.items() if k != "id"}})

    @bp.get("/jobs/<int:jid>/applicants")
    def job_applicants(jid: int) -> Response:
        found("jobs", jid, "Job")
        return paged([{"jobApplicantId": r["id"], **{k: v for k, v in r.items() if k != "id"}}
                      for r in current_store().all("job_applicants", lambda r: r["jobId"] == jid)])
