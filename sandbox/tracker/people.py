"""Tracker Resource (candidate), Contact and Activity (note) routes.

Write shapes (`firstName`, `surname`, `contactDetails {...}`, `tagText`, `marketingPreference`) and the
201 `{"id", "success": true}` create answer are API-FACTS §1.2–1.3; reads are flat for Resources with a
lower-case `firstname` (as one integrator reports) and nested for Contacts. The Activity note route,
status names, `linkedIn` and the custom-field write shape are ASSUMED (docs/assumptions.md).
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from sandbox.common import Store, sandbox_of
from sandbox.tracker.wire import (
    DEFAULT_STATUS,
    MARKETING_PREFERENCES,
    ApiError,
    created,
    envelope,
    json_body,
    now,
)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
INVALID = "One or more validation errors occurred."
SCALARS = {"resource": ("firstName", "surname", "jobTitle", "employer", "source", "note", "tagText",
                        "address", "city", "state", "zip", "country"),
           "contact": ("firstName", "surname", "jobTitle", "company", "source", "note", "tagText", "city")}
DETAILS = {"resource": ("email", "mobilePhone", "telephone", "fax", "linkedIn"),
           "contact": ("email", "mobilePhone", "businessPhone", "linkedIn")}
TABLE = {"resource": "resources", "contact": "contacts"}
STATUS_KEY = {"resource": "resourceStatus", "contact": "contactStatus"}


def store() -> Store:
    return sandbox_of(current_app).store


def ignoring_text() -> bool:
    return bool(current_app.config["TRACKER_IGNORE_SEARCH_TEXT"])


def _get(kind: str, rid: int) -> dict[str, Any]:
    row = store().get(TABLE[kind], rid)
    if row is None:
        raise ApiError(404, f"{kind.title()} {rid} not found")
    return row


def clean(kind: str, body: dict[str, Any], creating: bool) -> dict[str, Any]:
    """Validate a write body into stored fields; 400 ValidationProblemDetails lists every bad key."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for key in SCALARS[kind]:
        if key in body:
            if body[key] is not None and not isinstance(body[key], (str, int, float)):
                errors[key] = [f"The {key} field must be a string."]
            else:
                out[key] = body[key]
    for key in ("firstName", "surname"):
        if (creating or key in body) and not str(body.get(key) or "").strip():
            errors[key] = [f"The {key} field is required."]
    details = body.get("contactDetails", {})
    if not isinstance(details, dict):
        errors["contactDetails"] = ["The contactDetails field must be an object."]
    else:
        for key in DETAILS[kind]:
            if key in details:
                out[key] = details[key]
        if details.get("email") and not EMAIL_RE.match(str(details["email"])):
            errors["contactDetails.email"] = ["The email field is not a valid e-mail address."]
    status_key = STATUS_KEY[kind]
    if status_key in body:
        names = {s["name"] for s in store().all(f"{kind}_statuses")}
        if body[status_key] not in names:
            errors[status_key] = [f"Unknown status. Valid: {', '.join(sorted(names))}."]
        out[status_key] = body[status_key]
    if kind == "contact" and "marketingPreference" in body:
        if body["marketingPreference"] not in MARKETING_PREFERENCES:
            errors["marketingPreference"] = [f"Must be one of: {', '.join(MARKETING_PREFERENCES)}."]
        out["marketingPreference"] = body["marketingPreference"]
    if "customFields" in body:
        defs = {d["id"] for d in store().all("custom_field_defs", lambda d: d["recordType"] == kind)}
        items = body["customFields"]
        if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("id") in defs for i in items):
            errors["customFields"] = ["Must be a list of {id, value} with known custom field ids."]
        else:
            out["customFields"] = {str(i["id"]): i.get("value") for i in items}
    if errors:
        raise ApiError(400, INVALID, errors)
    return out


def _custom(kind: str, row: dict[str, Any]) -> list[dict[str, Any]]:
    defs = {str(d["id"]): d["name"]
            for d in store().all("custom_field_defs", lambda d: d["recordType"] == kind)}
    return [{"id": int(k), "name": defs.get(k), "value": v}
            for k, v in sorted(row.get("customFields", {}).items())]


def resource_row(r: dict[str, Any]) -> dict[str, Any]:
    return {"resourceId": r["id"], "displayAs": f"{r.get('firstName', '')} {r.get('surname', '')}".strip(),
            "firstname": r.get("firstName"), "surname": r.get("surname"), "email": r.get("email"),
            "mobilePhone": r.get("mobilePhone"), "phone": r.get("telephone"), "linkedIn": r.get("linkedIn"),
            "jobTitle": r.get("jobTitle"), "employer": r.get("employer"),
            "currentClient": {"name": r["employer"]} if r.get("employer") else None,
            **{k: r.get(k) for k in ("address", "city", "state", "zip", "country", "tagText", "source")},
            "resourceStatus": r.get("resourceStatus"), "dateCreated": r["dateCreated"],
            "dateModified": r["dateModified"]}


def contact_row(c: dict[str, Any]) -> dict[str, Any]:
    client = next((x for x in store().all("clients") if c.get("company")
                   and x["clientName"].lower() == str(c["company"]).lower()), None)
    return {"contactId": c["id"], "firstName": c.get("firstName"), "surname": c.get("surname"),
            "displayAs": f"{c.get('firstName', '')} {c.get('surname', '')}".strip(),
            "contactDetails": {k: c.get(k) for k in DETAILS["contact"]}, "company": c.get("company"),
            "clientId": client["id"] if client else None,
            "clientName": client["clientName"] if client else None,
            **{k: c.get(k) for k in ("jobTitle", "city", "tagText", "source", "marketingPreference",
                                     "contactStatus", "dateCreated", "dateModified")}}


def _contact_search_row(c: dict[str, Any]) -> dict[str, Any]:
    full = contact_row(c)
    return {**{k: full[k] for k in ("contactId", "firstName", "surname", "displayAs", "company", "clientName",
                                    "marketingPreference")},
            "email": c.get("email"), "mobilePhone": c.get("mobilePhone"),
            "businessPhone": c.get("businessPhone")}


def _text_hit(row: dict[str, Any], text: str) -> bool:
    hay = " ".join(str(row.get(k) or "") for k in ("firstName", "surname", "email", "mobilePhone",
                                                    "telephone", "businessPhone", "linkedIn")).lower()
    full_name = f"{row.get('firstName', '')} {row.get('surname', '')}".lower()
    return text.lower() in hay or text.lower() in full_name


def register(bp: Blueprint) -> None:
    for kind in ("resource", "contact"):
        _register_kind(bp, kind)

    @bp.post("/api/v1/activity")
    def add_activity() -> Response:
        body = json_body()
        kind = str(body.get("recordType") or "").lower()
        errors = {}
        if kind not in TABLE:
            errors["recordType"] = ["Must be Resource or Contact."]
        if not str(body.get("note") or "").strip():
            errors["note"] = ["The note field is required."]
        type_id = body.get("activityTypeId")
        if type_id is not None and not store().get("activity_types", type_id):
            errors["activityTypeId"] = ["Unknown activity type."]
        if errors:
            raise ApiError(400, INVALID, errors)
        _get(kind, body.get("recordId"))
        row = store().insert("activities", {"recordType": kind.title(), "recordId": int(body["recordId"]),
                                            "subject": body.get("subject") or "", "note": body["note"],
                                            "activityTypeId": type_id, "dateCreated": now()})
        return created(row["id"])

    @bp.post("/api/v1/activity/search")
    def search_activities() -> Response:
        body = json_body()
        kind, rid = str(body.get("recordType") or "").lower(), body.get("recordId")
        rows = store().all("activities", lambda a: (not kind or a["recordType"].lower() == kind)
                           and (rid is None or a["recordId"] == rid))
        types = {t["id"]: t["name"] for t in store().all("activity_types")}
        return envelope([{"activityId": a["id"], **{k: v for k, v in a.items() if k != "id"},
                          "activityTypeName": types.get(a["activityTypeId"])} for a in rows], body)


def _register_kind(bp: Blueprint, kind: str) -> None:
    table, render = TABLE[kind], (resource_row if kind == "resource" else contact_row)

    def create() -> Response:
        data = clean(kind, json_body(), creating=True)
        data.setdefault(STATUS_KEY[kind], DEFAULT_STATUS)
        if kind == "contact":
            data.setdefault("marketingPreference", "No Preference")
        row = store().insert(table, {**data, "customFields": data.get("customFields", {}),
                                     "dateCreated": now(), "dateModified": now()})
        return created(row["id"])

    def get(rid: int) -> Response:
        row = _get(kind, rid)
        return jsonify({**render(row), "customFields": _custom(kind, row)})

    def patch(rid: int) -> Response:
        row = _get(kind, rid)
        changes = clean(kind, json_body(), creating=False)
        if "customFields" in changes:
            changes["customFields"] = {**row.get("customFields", {}), **changes["customFields"]}
        store().update(table, rid, {**changes, "dateModified": now()})
        return jsonify({"id": rid, "success": True})

    def search() -> Response:
        body = json_body()
        text = "" if ignoring_text() else str(body.get("searchText") or "").strip()
        email = "" if ignoring_text() else str(body.get("email") or "").strip().lower()
        company = "" if ignoring_text() else str(body.get("companyName") or "").strip().lower()
        status = body.get("resourceStatus") if kind == "resource" else None
        rows = store().all(table, lambda r: (not text or _text_hit(r, text))
                           and (not email or str(r.get("email") or "").lower() == email)
                           and (not company or company in str(r.get("company") or "").lower())
                           and (not status or r.get("resourceStatus") == status))
        row_of = resource_row if kind == "resource" else _contact_search_row
        return envelope([row_of(r) for r in rows], body)

    base = f"/api/v1/{kind}"
    bp.add_url_rule(base, f"{kind}_create", create, methods=["POST"])
    bp.add_url_rule(f"{base}/search", f"{kind}_search", search, methods=["POST"])
    bp.add_url_rule(f"{base}/<int:rid>", f"{kind}_get", get, methods=["GET"])
    bp.add_url_rule(f"{base}/<int:rid>", f"{kind}_patch", patch, methods=["PATCH"])
    if kind == "resource":
        bp.add_url_rule(f"{base}/<int:rid>/documents", "resource_documents", _documents, methods=["GET"])
        bp.add_url_rule(f"{base}/<int:rid>/documents", "resource_upload", _upload, methods=["POST"])


# Documents: the list is API-FACTS §1.2 (GET .../Documents; a bare list here). The upload is ASSUMED
# (AF: not found): multipart `file` + `documentType` on the same path, 201 {"id", "success"}.
DOCUMENT_TYPES = ("CV", "Cover Letter", "Other")


def _document_row(d: dict[str, Any]) -> dict[str, Any]:
    return {"documentId": d["id"], "fileName": d["fileName"], "documentType": d["documentType"],
            "fileSize": d["fileSize"], "dateCreated": d["dateCreated"]}


def _documents(rid: int) -> Response:
    _get("resource", rid)
    return jsonify([_document_row(d) for d in store().all("documents", lambda d: d["resourceId"] == rid)])


def _upload(rid: int) -> Response:
    _get("resource", rid)
    upload, kind = request.files.get("file"), request.form.get("documentType") or "Other"
    errors: dict[str, list[str]] = {}
    data = upload.read() if upload is not None else b""
    if upload is None or not upload.filename:
        errors["file"] = ["A file is required."]
    elif not data:
        errors["file"] = ["The file is empty."]
    if kind not in DOCUMENT_TYPES:
        errors["documentType"] = [f"Must be one of {', '.join(DOCUMENT_TYPES)}."]
    if errors:
        raise ApiError(400, INVALID, errors)
    row = store().insert("documents", {"resourceId": rid, "fileName": upload.filename, "documentType": kind,
                                       "fileSize": len(data), "dateCreated": now()})
    return created(row["id"])
