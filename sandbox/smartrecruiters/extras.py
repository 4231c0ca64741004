"""SmartRecruiters candidate sub-resources: tags, attachments, custom-field values ("candidate
properties") and GDPR consent (AF §2.2–2.3).

- Tags `GET|POST|PUT|DELETE /candidates/{id}/tags`, body `{"tags": [...]}`; POST adds (case-insensitive
  dedupe, keeping the first spelling), PUT replaces, DELETE clears; each answers `{"tags": [...]}`.
- Attachments: multipart `file` + `attachmentType` (RESUME | COVER_LETTER | OTHER) → 201
  `{id, name, type, contentType, actions}`; list `{totalFound, content}`.
- Property values: `GET /candidates/{id}/properties` → `{content: [{id, label, type, value}]}`,
  `GET|PUT /candidates/{id}/properties/{propertyId}` with `{"value": ...}` (PUT → 204; `null` clears).
  SINGLE_SELECT values are option ids and read back as `{id, label}` (ASSUMED shape).
- Consent: `GET /candidates/{id}/consent` → `{status, date}`; `/consents` → `{decisions, ...}`.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from sandbox.common import Store, sandbox_of
from sandbox.smartrecruiters.wire import (ATTACHMENT_TYPES, ApiError, field_error, invalid, json_body,
                                          must_find, new_uid, now, url)

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _tags_body() -> list[str]:
    tags = json_body().get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise invalid("tags", "must be a list of non-empty strings")
    return [t.strip() for t in tags]


def _merge(old: list[str], new: list[str]) -> list[str]:
    seen = {t.lower() for t in old}
    out = list(old)
    for t in new:
        if t.lower() not in seen:
            seen.add(t.lower())
            out.append(t)
    return out


def property_value(store: Store, prop: dict[str, Any], raw: Any) -> Any:
    """Validate `raw` against the property's type; return the stored value (400 when it doesn't fit)."""
    kind, ok = prop["type"], True
    if raw is None:
        return None
    if kind == "TEXT":
        ok = isinstance(raw, str)
    elif kind == "NUMBER":
        ok = isinstance(raw, (int, float)) and not isinstance(raw, bool)
    elif kind == "BOOLEAN":
        ok = isinstance(raw, bool)
    elif kind == "DATE":
        ok = isinstance(raw, str) and bool(DATE_RE.match(raw))
    elif kind == "SINGLE_SELECT":
        ok = isinstance(raw, str) and any(v["id"] == raw for v in prop.get("values", []))
    if not ok:
        raise invalid("value", f"not a valid {kind} value for {prop['label']}")
    return raw


def render_property(prop: dict[str, Any], value: Any) -> dict[str, Any]:
    if prop["type"] == "SINGLE_SELECT" and value is not None:
        label = next((v["label"] for v in prop.get("values", []) if v["id"] == value), None)
        value = {"id": value, "label": label}
    return {"id": prop["uid"], "label": prop["label"], "type": prop["type"], "value": value}


def register(bp: Blueprint) -> None:
    def store() -> Store:
        return sandbox_of(current_app).store

    def candidate(cid: str) -> dict[str, Any]:
        return must_find(store(), "candidates", cid, "Candidate")

    @bp.route("/candidates/<cid>/tags", methods=["GET", "POST", "PUT", "DELETE"])
    def tags(cid: str) -> Response:
        s = store()
        with s.lock:      # read-modify-write of one row: keep concurrent adds from losing tags
            cand = candidate(cid)
            current = cand.get("tags") or []
            if request.method == "POST":
                current = _merge(current, _tags_body())
            elif request.method == "PUT":
                current = _merge([], _tags_body())
            elif request.method == "DELETE":
                current = []
            if request.method != "GET":
                s.update("candidates", cand["id"], {"tags": current, "updatedOn": now()})
        return jsonify({"tags": current})

    @bp.post("/candidates/<cid>/attachments")
    def upload(cid: str) -> tuple[Response, int]:
        cand = candidate(cid)
        upload_file, kind = request.files.get("file"), request.form.get("attachmentType")
        errors = []
        if upload_file is None or not upload_file.filename:
            errors.append(field_error("file", "a multipart file part is required"))
        if kind not in ATTACHMENT_TYPES:
            errors.append(field_error("attachmentType", f"must be one of {', '.join(ATTACHMENT_TYPES)}"))
        data = upload_file.read() if upload_file is not None else b""
        if upload_file is not None and upload_file.filename and not data:
            errors.append(field_error("file", "is empty"))
        if errors:
            raise ApiError(400, "Validation failed", errors)
        row = store().insert("attachments", {
            "uid": new_uid(), "candidate_id": cand["id"], "name": upload_file.filename, "type": kind,
            "contentType": upload_file.mimetype or "application/octet-stream", "size": len(data),
            "createdOn": now()})
        return jsonify(_render_attachment(cid, row)), 201

    @bp.get("/candidates/<cid>/attachments")
    def attachments(cid: str) -> Response:
        cand = candidate(cid)
        rows = store().all("attachments", lambda a: a["candidate_id"] == cand["id"])
        return jsonify({"totalFound": len(rows), "content": [_render_attachment(cid, a) for a in rows]})

    @bp.get("/candidates/<cid>/attachments/<aid>")
    def attachment(cid: str, aid: str) -> Response:
        cand = candidate(cid)
        row = must_find(store(), "attachments", aid, "Attachment")
        if row["candidate_id"] != cand["id"]:
            raise ApiError(404, f"Attachment not found: {aid}")
        return jsonify(_render_attachment(cid, row))

    def _render_attachment(cid: str, row: dict[str, Any]) -> dict[str, Any]:
        return {"id": row["uid"], "name": row["name"], "type": row["type"], "contentType": row["contentType"],
                "actions": {"self": {"url": url(f"/candidates/{cid}/attachments/{row['uid']}"),
                                     "method": "GET"}}}

    @bp.get("/candidates/<cid>/properties")
    def properties(cid: str) -> Response:
        values = candidate(cid).get("properties") or {}
        props = [p for p in store().all("properties") if values.get(p["uid"]) is not None]
        content = [render_property(p, values[p["uid"]]) for p in props]
        return jsonify({"totalFound": len(props), "content": content})

    @bp.get("/candidates/<cid>/properties/<pid>")
    def get_property(cid: str, pid: str) -> Response:
        cand, prop = candidate(cid), must_find(store(), "properties", pid, "Property")
        return jsonify(render_property(prop, (cand.get("properties") or {}).get(pid)))

    @bp.put("/candidates/<cid>/properties/<pid>")
    def put_property(cid: str, pid: str) -> tuple[str, int]:
        s = store()
        prop = must_find(s, "properties", pid, "Property")
        body = json_body()
        if "value" not in body:
            raise invalid("value", "is required")
        value = property_value(s, prop, body["value"])
        with s.lock:
            cand = candidate(cid)
            values = {**(cand.get("properties") or {}), pid: value}
            s.update("candidates", cand["id"], {"properties": values, "updatedOn": now()})
        return "", 204

    @bp.get("/candidates/<cid>/consent")
    def consent(cid: str) -> Response:
        c = candidate(cid).get("consent") or {}
        return jsonify({"status": c.get("status", "REQUIRED"), "date": c.get("date")})

    @bp.get("/candidates/<cid>/consents")
    def consents(cid: str) -> Response:
        c = candidate(cid).get("consent") or {}
        decisions = [] if c.get("status") in (None, "REQUIRED", "PENDING") else [
            {"status": c["status"].lower(), "scope": "Single", "decidedOn": c.get("date")}]
        pending = c.get("date") if c.get("status") == "PENDING" else None
        return jsonify({"decisions": decisions, "recentPendingRequestCreatedOn": pending})
