"""itris applicants and contacts: create/get/patch/search, notes, tags, the applicant's original CV
slot and attachments, and the applicant inbox.

Only `POST /api/v2/applicant/inbox` and its body (`firstName`, `lastName`, `emailAddress`, `phoneNumber`,
`webAddress`, `cv {fileName, fileContent, fileDatetime}`, `source`, `applyToJobIds`, `notifyUserIds`) are
known (API-FACTS §4); every other route and field is ASSUMED per docs/assumptions.md (itris).
"""
from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.itris.wire import ApiError, created, current_store, found, invalid, json_body, now, paged

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TEXT = {"applicant": ("firstName", "lastName", "emailAddress", "phoneNumber", "mobileNumber", "webAddress",
                      "jobTitle", "companyName", "town", "country", "offLimitsReason"),
        "contact": ("firstName", "lastName", "emailAddress", "phoneNumber", "mobileNumber", "webAddress",
                    "jobTitle", "companyName", "town", "offLimitsReason")}
TABLE = {"applicant": "applicants", "contact": "contacts"}


def normalise_web(url: Any) -> str:
    text = str(url or "").strip().lower()
    text = re.sub(r"^https?://", "", text)
    return re.sub(r"^www\.", "", text).rstrip("/")


def _get(kind: str, rid: Any) -> dict[str, Any]:
    return found(TABLE[kind], rid, kind.title())


def clean(kind: str, body: dict[str, Any], creating: bool) -> dict[str, Any]:
    """Validate a write; 400 `validation_failed` with one detail per bad field, nothing stored."""
    st, errors, out = current_store(), {}, {}
    for key in TEXT[kind]:
        if key in body:
            if body[key] is not None and not isinstance(body[key], str):
                errors[key] = "Must be a string or null."
            out[key] = body[key]
    for key in ("firstName", "lastName"):
        if (creating or key in body) and not str(body.get(key) or "").strip():
            errors[key] = "Is required."
    if body.get("emailAddress") and not EMAIL_RE.match(str(body["emailAddress"])):
        errors["emailAddress"] = "Is not a valid email address."
    if "offLimits" in body:
        if not isinstance(body["offLimits"], bool):
            errors["offLimits"] = "Must be true or false."
        out["offLimits"] = body["offLimits"]
    if "statusId" in body:
        status = st.get("statuses", body["statusId"])
        if status is None or status["recordType"] != kind:
            errors["statusId"] = f"Is not one of the {kind} statuses."
        out["statusId"] = body["statusId"]
    if kind == "contact" and body.get("companyId") is not None:
        if st.get("companies", body["companyId"]) is None:
            errors["companyId"] = "Unknown company."
        out["companyId"] = body["companyId"]
    if "customFields" in body:
        values = body["customFields"]
        defs = {d["key"]: d for d in st.all("custom_fields", lambda d: d["recordType"] == kind)}
        if not isinstance(values, dict):
            errors["customFields"] = "Must be an object keyed by custom field key."
        else:
            for key, value in values.items():
                if key not in defs:
                    errors[f"customFields.{key}"] = "Unknown custom field."
                elif defs[key]["options"] and value is not None and value not in defs[key]["options"]:
                    errors[f"customFields.{key}"] = f"Must be one of: {', '.join(defs[key]['options'])}."
            out["customFields"] = values
    if errors:
        raise invalid(errors)
    return out


def render(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    st = current_store()
    status = st.get("statuses", row.get("statusId")) or {}
    out = {f"{kind}Id": row["id"], **{k: row.get(k) for k in TEXT[kind]}, "statusId": row.get("statusId"),
           "statusName": status.get("name"), "offLimits": bool(row.get("offLimits")),
           "customFields": row.get("customFields", {}), "createdDate": row["createdDate"],
           "updatedDate": row["updatedDate"]}
    if kind == "contact":
        company = st.get("companies", row.get("companyId")) if row.get("companyId") else None
        out["companyId"] = row.get("companyId")
        out["companyName"] = company["name"] if company else row.get("companyName")
    return out


def _b64(value: Any, field: str) -> bytes:
    try:
        data = base64.b64decode(str(value or ""), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data:
        raise invalid({field: "Must be non-empty base64."})
    return data


def register(bp: Blueprint) -> None:
    for kind in TABLE:
        _register_kind(bp, kind)

    @bp.get("/applicants/<int:rid>/cv")
    def get_cv(rid: int) -> Response:
        cv = _get("applicant", rid).get("cv")
        if not cv:
            raise ApiError(404, "This applicant has no CV.")
        return jsonify(cv)

    @bp.put("/applicants/<int:rid>/cv")
    def put_cv(rid: int) -> Response:
        _get("applicant", rid)
        body = json_body()
        if not str(body.get("fileName") or "").strip():
            raise invalid({"fileName": "Is required."})
        data = _b64(body.get("fileContent"), "fileContent")
        cv = {"fileName": body["fileName"], "fileDatetime": body.get("fileDatetime") or now(),
              "size": len(data)}
        current_store().update("applicants", rid, {"cv": cv, "updatedDate": now()})
        return jsonify(cv)

    @bp.get("/applicants/<int:rid>/attachments")
    def list_attachments(rid: int) -> Response:
        _get("applicant", rid)
        rows = current_store().all("attachments", lambda a: a["applicantId"] == rid)
        return paged([{"attachmentId": a["id"], **{k: a[k] for k in ("fileName", "size", "createdDate")}}
                      for a in rows])

    @bp.post("/applicants/<int:rid>/attachments")
    def add_attachment(rid: int) -> Response:
        _get("applicant", rid)
        body = json_body()
        if not str(body.get("fileName") or "").strip():
            raise invalid({"fileName": "Is required."})
        data = _b64(body.get("fileContent"), "fileContent")
        row = current_store().insert("attachments", {"applicantId": rid, "fileName": body["fileName"],
                                                     "size": len(data), "createdDate": now()})
        return created({"attachmentId": row["id"], "fileName": row["fileName"], "size": row["size"],
                        "createdDate": row["createdDate"]})

    @bp.post("/applicant/inbox")
    def inbox() -> Response:
        body = json_body()
        errors = {k: "Is required." for k in ("firstName", "lastName") if not str(body.get(k) or "").strip()}
        if not body.get("emailAddress") and not body.get("webAddress"):
            errors["emailAddress"] = "emailAddress or webAddress is required."
        if body.get("cv") is not None:
            if not isinstance(body["cv"], dict):
                errors["cv"] = "Must be an object {fileName, fileContent, fileDatetime}."
            else:
                _b64(body["cv"].get("fileContent"), "cv.fileContent")
        if errors:
            raise invalid(errors)
        row = current_store().insert("inbox", {"status": "Pending", "applicantId": body.get("applicantId"),
                                               "payload": {k: v for k, v in body.items() if k != "cv"},
                                               "hasCv": bool(body.get("cv")), "createdDate": now()})
        resp = jsonify({"inboxItemId": row["id"], "status": "Pending"})
        resp.status_code = 202
        return resp

    @bp.get("/applicant/inbox/<int:item_id>")
    def inbox_item(item_id: int) -> Response:
        row = current_store().get("inbox", item_id)
        if row is None:
            raise ApiError(404, f"Inbox item {item_id} was not found.")
        return jsonify({"inboxItemId": row["id"], "status": row["status"], "applicantId": row["applicantId"]})


def _register_kind(bp: Blueprint, kind: str) -> None:
    table = TABLE[kind]

    def create() -> Response:
        st, data = current_store(), clean(kind, json_body(), creating=True)
        if data.get("statusId") is None:
            default = st.all("statuses", lambda s: s["recordType"] == kind and s["isDefault"])[0]
            data["statusId"] = default["id"]
        row = st.insert(table, {"offLimits": False, "customFields": {}, **data, "createdDate": now(),
                                "updatedDate": now(), "tagIds": []})
        return created(render(kind, row), f"/{table}/{row['id']}")

    def get(rid: int) -> Response:
        return jsonify(render(kind, _get(kind, rid)))

    def patch(rid: int) -> Response:
        row = _get(kind, rid)
        changes = clean(kind, json_body(), creating=False)
        if "customFields" in changes:
            changes["customFields"] = {**row.get("customFields", {}), **changes["customFields"]}
        return jsonify(render(kind, current_store().update(table, rid, {**changes, "updatedDate": now()})))

    def search() -> Response:
        email = request.args.get("email", "").strip().lower()
        web = normalise_web(request.args.get("webAddress"))
        name = request.args.get("name", "").strip().lower()

        def wanted(r: dict[str, Any]) -> bool:      # filters combine with AND; absent = no filter
            full_name = f"{r.get('firstName')} {r.get('lastName')}".lower()
            return ((not email or str(r.get("emailAddress") or "").lower() == email)
                    and (not web or normalise_web(r.get("webAddress")) == web)
                    and (not name or name in full_name))

        return paged([render(kind, r) for r in current_store().all(table, wanted)])

    def add_note(rid: int) -> Response:
        _get(kind, rid)
        body, st = json_body(), current_store()
        errors = {}
        if not str(body.get("text") or "").strip():
            errors["text"] = "Is required."
        type_id = body.get("noteTypeId")
        note_type = st.get("note_types", type_id) if type_id is not None else None
        if body.get("noteTypeId") is not None and (note_type is None or note_type["recordType"] != kind):
            errors["noteTypeId"] = f"Is not one of the {kind} note types."
        if errors:
            raise invalid(errors)
        row = st.insert("notes", {"recordType": kind, "recordId": rid, "noteTypeId": body.get("noteTypeId"),
                                  "subject": body.get("subject") or "", "text": body["text"],
                                  "createdDate": now()})
        return created(_note(row))

    def list_notes(rid: int) -> Response:
        _get(kind, rid)
        return paged([_note(n) for n in current_store().all(
            "notes", lambda n: n["recordType"] == kind and n["recordId"] == rid)])

    def tags(rid: int) -> Response:
        row, st = _get(kind, rid), current_store()
        if request.method == "POST":
            ids = json_body().get("tagIds")
            if not isinstance(ids, list) or not all(
                    (t := st.get("tags", i)) is not None and t["recordType"] == kind for i in ids):
                raise invalid({"tagIds": f"Must be a list of the {kind} tag ids."})
            with st.lock:       # read-merge-write of the tag set must not interleave
                current = _get(kind, rid)["tagIds"]
                added = [int(i) for i in ids if int(i) not in current]
                row = st.update(table, rid, {"tagIds": current + added})
        return paged([{"tagId": t, "name": st.get("tags", t)["name"]} for t in row["tagIds"]])

    base = f"/{table}"
    bp.add_url_rule(base, f"{kind}_create", create, methods=["POST"])
    bp.add_url_rule(base, f"{kind}_search", search, methods=["GET"])
    bp.add_url_rule(f"{base}/<int:rid>", f"{kind}_get", get, methods=["GET"])
    bp.add_url_rule(f"{base}/<int:rid>", f"{kind}_patch", patch, methods=["PATCH"])
    bp.add_url_rule(f"{base}/<int:rid>/notes", f"{kind}_add_note", add_note, methods=["POST"])
    bp.add_url_rule(f"{base}/<int:rid>/notes", f"{kind}_list_notes", list_notes, methods=["GET"])
    bp.add_url_rule(f"{base}/<int:rid>/tags", f"{kind}_tags", tags, methods=["GET", "POST"])


def _note(n: dict[str, Any]) -> dict[str, Any]:
    note_type = current_store().get("note_types", n["noteTypeId"]) if n["noteTypeId"] is not None else None
    return {"noteId": n["id"], "noteTypeId": n["noteTypeId"],
            "noteTypeName": note_type["name"] if note_type else None,
            **{k: n[k] for k in ("subject", "text", "createdDate")}}
