"""Tracker reference data and its routes: Opportunities (jobs) with search and longlisting,
OpportunityResource rows, Client (company) search, MetaData lists, and the seed.

Opportunity search returning a bare array, the longlist path and the row fields are API-FACTS §1.2–1.3;
`opportunityStatus`, the MetaData endpoints, Client rows and the 409 on a repeat longlist are ASSUMED
(docs/assumptions.md, Tracker).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from sandbox.common import Store, sandbox_of
from sandbox.tracker.wire import ALREADY_LONGLISTED, ApiError, created, envelope, json_body, now, page

OPEN_STATES = ("Open", "On Hold")
CLIENTS = (("Acme Ltd", "London"), ("ACME Limited", "Manchester"), ("Acme Holdings plc", "London"),
           ("Globex Corporation", "Leeds"), ("Initech", "Bristol"), ("Umbrella Recruitment", "Leeds"))
TITLES = ("Senior Python Engineer", "Data Engineer", "Finance Manager", "Sales Director", "Office Manager",
          "Platform Engineer", "QA Lead", "Payroll Specialist", "Head of Talent", "Solutions Architect",
          "Account Executive", "Site Reliability Engineer")
STATES = ("Open", "Open", "On Hold", "Open", "Closed", "Filled", "Open", "Open", "Closed", "Open", "Open",
          "On Hold")


def store() -> Store:
    return sandbox_of(current_app).store


def seed(st: Store) -> None:
    for name in ("Active", "Pre-Registered", "Placed", "Do Not Use"):
        st.insert("resource_statuses", {"name": name})
    for name in ("Active", "Prospect", "Left Company"):
        st.insert("contact_statuses", {"name": name})
    for name in ("Note", "Email", "Call", "LinkedIn Message", "Meeting"):
        st.insert("activity_types", {"name": name})
    for name in ("Open", "On Hold", "Filled", "Closed"):
        st.insert("opportunity_statuses", {"name": name})
    for name in ("python", "finance", "shoal", "hot"):
        st.insert("tags", {"name": name})
    for kind, name, field_type in (("resource", "Notice Period", "Text"),
                                   ("resource", "Right To Work", "Checkbox"),
                                   ("contact", "Preferred Contact Method", "Dropdown")):
        st.insert("custom_field_defs", {"recordType": kind, "name": name, "fieldType": field_type})
    clients = [st.insert("clients", {"clientName": n, "city": c, "website": None, "telephone": None})
               for n, c in CLIENTS]
    for i, (title, state) in enumerate(zip(TITLES, STATES)):
        client = clients[i % len(clients)]
        st.insert("opportunities", {
            "opportunityName": title, "opportunityDescription": f"{title} for {client['clientName']}",
            "location": client["city"], "opportunityStatus": state,
            "advertStatus": "A" if state == "Open" else "",
            "publishOnline": "Yes" if state == "Open" else "No",
            "clientId": client["id"], "clientName": client["clientName"]})


def _opportunity(o: dict[str, Any]) -> dict[str, Any]:
    return {"opportunityId": o["id"], **{k: v for k, v in o.items() if k != "id"}}


def _op_resource(r: dict[str, Any]) -> dict[str, Any]:
    return {"opportunityResourceId": r["id"], **{k: v for k, v in r.items() if k != "id"}}


def _meta(table: str) -> Response:
    return jsonify([{"id": r["id"], "name": r["name"]} for r in store().all(table)])


def register(bp: Blueprint) -> None:
    @bp.post("/api/v1/opportunity/search")
    def search_opportunities() -> Response:
        body = json_body()
        state = str(body.get("state") or "all").lower()
        if state not in ("open", "closed", "all"):
            raise ApiError(400, "One or more validation errors occurred.", {"state": ["open, closed or all"]})
        term = str(body.get("searchTerm") or "").lower()
        if current_app.config["TRACKER_IGNORE_SEARCH_TEXT"]:
            term = ""
        rows = store().all("opportunities", lambda o: (
            state == "all" or (o["opportunityStatus"] in OPEN_STATES) == (state == "open"))
            and term in o["opportunityName"].lower())
        chunk, _ = page(rows, body)
        return jsonify([_opportunity(o) for o in chunk])

    @bp.get("/api/v1/opportunity/<int:oid>")
    def get_opportunity(oid: int) -> Response:
        row = store().get("opportunities", oid)
        if row is None:
            raise ApiError(404, f"Opportunity {oid} not found")
        return jsonify(_opportunity(row))

    @bp.post("/api/v1/opportunity/<int:oid>/longlist/resource/<int:rid>")
    def longlist(oid: int, rid: int) -> Response:
        opp, res = store().get("opportunities", oid), store().get("resources", rid)
        if opp is None or res is None:
            raise ApiError(404, "Opportunity or resource not found")
        with store().lock:      # one row per opportunity and resource, even under concurrent calls
            if store().all("opportunity_resources",
                           lambda r: r["opportunityId"] == oid and r["resourceId"] == rid):
                raise ApiError(ALREADY_LONGLISTED, "Resource is already on this opportunity")
            row = store().insert("opportunity_resources", {
                "opportunityId": oid, "resourceId": rid, "clientId": opp["clientId"],
                "clientName": opp["clientName"], "opportunityName": opp["opportunityName"],
                "opportunityResourceStatusId": 1, "opportunityResourceStatusName": "Longlist",
                "activeRecord": "y",
                "resourceDisplayAs": f"{res.get('firstName', '')} {res.get('surname', '')}".strip(),
                "resourceEmail": res.get("email"), "startDate": None, "endDate": None, "dateCreated": now()})
        return created(row["id"])

    @bp.get("/api/v1/opportunityresource/<int:orid>")
    def get_op_resource(orid: int) -> Response:
        row = store().get("opportunity_resources", orid)
        if row is None:
            raise ApiError(404, f"OpportunityResource {orid} not found")
        return jsonify({**_op_resource(row), "customFields": []})

    @bp.post("/api/v1/opportunityresource/search")
    def search_op_resources() -> Response:
        body = json_body()
        oid, rid = body.get("opportunityId"), body.get("resourceId")
        text = str(body.get("searchText") or "").lower()
        if current_app.config["TRACKER_IGNORE_SEARCH_TEXT"]:
            text = ""
        rows = store().all("opportunity_resources", lambda r: (oid is None or r["opportunityId"] == oid)
                           and (rid is None or r["resourceId"] == rid)
                           and (not text
                                or text in f"{r['resourceDisplayAs']} {r['opportunityName']}".lower()))
        return envelope([_op_resource(r) for r in rows], body)

    @bp.get("/api/v1/client")
    def search_clients() -> Response:
        text = request.args.get("search", "").lower()
        if current_app.config["TRACKER_IGNORE_SEARCH_TEXT"]:
            text = ""
        rows = store().all("clients", lambda c: text in c["clientName"].lower())
        return envelope([{"clientId": c["id"], **{k: v for k, v in c.items() if k != "id"}} for c in rows],
                        {"pageNumber": request.args.get("pageNumber", 1),
                         "pageSize": request.args.get("pageSize")})

    @bp.get("/api/v1/client/<int:cid>")
    def get_client(cid: int) -> Response:
        row = store().get("clients", cid)
        if row is None:
            raise ApiError(404, f"Client {cid} not found")
        return jsonify({"clientId": row["id"], **{k: v for k, v in row.items() if k != "id"}})

    bp.add_url_rule("/api/v1/metadata/resourcestatuses", "meta_resource_statuses",
                    lambda: _meta("resource_statuses"))
    bp.add_url_rule("/api/v1/metadata/contactstatuses", "meta_contact_statuses",
                    lambda: _meta("contact_statuses"))
    bp.add_url_rule("/api/v1/metadata/activitytypes", "meta_activity_types", lambda: _meta("activity_types"))
    bp.add_url_rule("/api/v1/metadata/opportunitystatuses", "meta_opportunity_statuses",
                    lambda: _meta("opportunity_statuses"))

    @bp.get("/api/v1/metadata/tags")
    def meta_tags() -> Response:
        names = [t["name"] for t in store().all("tags")]
        for table in ("resources", "contacts"):       # a tag exists once any record uses it
            for row in store().all(table):
                names += [t.strip() for t in str(row.get("tagText") or "").split(",") if t.strip()]
        unique = list(dict.fromkeys(names))
        return jsonify([{"id": i + 1, "name": n} for i, n in enumerate(unique)])

    @bp.get("/api/v1/metadata/customfields/<kind>")
    def meta_custom_fields(kind: str) -> Response:
        if kind not in ("resource", "contact"):
            raise ApiError(404, "Unknown record type")
        return jsonify([{"id": d["id"], "name": d["name"], "fieldType": d["fieldType"]}
                        for d in store().all("custom_field_defs", lambda d: d["recordType"] == kind)])
