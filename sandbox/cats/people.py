"""CATS candidates and contacts: CRUD, keyword and filter search, and their sub-resources
(activities, attachments, tags, custom fields, pipelines, candidate lists).

Shapes follow API-FACTS §3.2–3.3 (snake_case, `emails {primary, secondary}`, `phones` object keyed by
type, `social_media_urls`, 201 + Location); duplicates, consent values and the upload path are the
ASSUMED ones in wire.py / docs/assumptions.md.
"""
from __future__ import annotations

import base64
import re
from typing import Any

from flask import Blueprint, Response, jsonify, request

from sandbox.cats.catalog import render_pipeline
from sandbox.cats.search import keyword_text, matches
from sandbox.cats.wire import (
    ACTIVITY_TYPES,
    CONSENT_VALUES,
    DUPLICATE,
    INVALID,
    ApiError,
    absolute,
    created,
    hal_list,
    json_body,
    no_content,
    now,
    row_or_404,
    store,
)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
KINDS = {"candidates": "candidate", "contacts": "contact"}
PHONE_TYPES = {"candidates": ("home", "cell", "work"), "contacts": ("office", "cell", "other")}
FIELDS = {
    "candidates": ("first_name", "middle_name", "last_name", "title", "address", "country_code", "website",
                   "current_employer", "date_available", "current_pay", "desired_pay", "key_skills",
                   "is_willing_to_relocate", "notes", "source", "owner_id", "is_active", "is_hot",
                   "best_time_to_call"),
    "contacts": ("first_name", "last_name", "title", "company_id", "address", "notes", "owner_id",
                 "is_hot"),
}


def clean(coll: str, body: dict[str, Any], creating: bool) -> dict[str, Any]:
    """Validate a write body; return only the fields it changes. 422 names every bad field."""
    errors: dict[str, list[str]] = {}
    out = {k: body[k] for k in FIELDS[coll] if k in body}
    for name in ("first_name", "last_name"):
        if (creating or name in body) and not str(body.get(name) or "").strip():
            errors[name] = ["is required"]
    if "emails" in body:
        emails = body["emails"]
        if not isinstance(emails, dict):
            errors["emails"] = ["must be an object {primary, secondary}"]
        else:
            for slot in ("primary", "secondary"):
                if emails.get(slot) and not EMAIL_RE.match(str(emails[slot])):
                    errors[f"emails.{slot}"] = ["is not a valid email address"]
            out["emails"] = {s: emails.get(s) for s in ("primary", "secondary") if s in emails or creating}
    if "phones" in body:
        phones, types = body["phones"], PHONE_TYPES[coll]
        if isinstance(phones, list):          # write form seen in Pipedream: [{number, type}]
            phones = {p.get("type"): p.get("number") for p in phones if isinstance(p, dict)}
        if not isinstance(phones, dict) or set(phones) - set(types):
            errors["phones"] = [f"must be an object or list keyed by type: {', '.join(types)}"]
        else:
            out["phones"] = {t: phones.get(t) for t in types if t in phones or creating}
    if "social_media_urls" in body:
        urls = body["social_media_urls"]
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            errors["social_media_urls"] = ["must be a list of strings"]
        else:
            out["social_media_urls"] = urls
    if "consent_status" in body:
        if body["consent_status"] not in CONSENT_VALUES:
            errors["consent_status"] = [f"must be one of {CONSENT_VALUES[1:]} or null"]
        else:
            out["consent_status"] = body["consent_status"]
    if "address" in out and not isinstance(out["address"], dict):
        errors["address"] = ["must be an object"]
    if coll == "contacts" and out.get("company_id") is not None \
            and not store().get("companies", out["company_id"]):
        errors["company_id"] = ["unknown company"]
    if "custom_fields" in body:
        defs = {d["id"] for d in store().all("custom_field_defs",
                                             lambda d: d["data_item_type"] == KINDS[coll])}
        items = body["custom_fields"]
        if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("id") in defs for i in items):
            errors["custom_fields"] = ["must be a list of {id, value} with known field ids"]
        else:
            out["custom_fields"] = {str(i["id"]): i.get("value") for i in items}
    if errors:
        raise ApiError(INVALID, "Validation failed", errors)
    return out


def render(coll: str, row: dict[str, Any]) -> dict[str, Any]:
    path = f"/{coll}/{row['id']}"
    out = {k: v for k, v in row.items() if k not in ("custom_fields", "tag_ids")}
    out["_links"] = {rel: {"href": absolute(f"{path}/{rel}" if rel != "self" else path)}
                     for rel in ("self", "custom_fields", "attachments", "activities", "pipelines", "tags")}
    out["_embedded"] = {"custom_fields": [
        {"id": int(k), "value": v, "_links": {"self": {"href": absolute(f"{path}/custom_fields/{k}")}}}
        for k, v in sorted(row.get("custom_fields", {}).items())]}
    return out


def register(bp: Blueprint) -> None:
    for coll in KINDS:
        _register_collection(bp, coll)

    @bp.get("/attachments/<int:aid>")
    def get_attachment(aid: int) -> Response:
        return jsonify(_attachment(row_or_404("attachments", aid)))

    @bp.get("/activities/<int:aid>")
    def get_activity(aid: int) -> Response:
        return jsonify(row_or_404("activities", aid))


def _attachment(a: dict[str, Any]) -> dict[str, Any]:
    return {k: a[k] for k in ("id", "data_item", "filename", "is_resume", "size", "date_created")}


def _register_collection(bp: Blueprint, coll: str) -> None:
    kind = KINDS[coll]
    view = f"{coll}_"

    def create() -> Response:
        data = clean(coll, json_body(), creating=True)
        data = {"consent_status": None, "emails": {"primary": None, "secondary": None},
                "phones": {t: None for t in PHONE_TYPES[coll]}, "social_media_urls": [], "custom_fields": {},
                **data, "tag_ids": [], "date_created": now(), "date_modified": now()}
        primary = (data["emails"].get("primary") or "").lower()
        with store().lock:      # check and insert as one step, like a unique index would
            if request.args.get("check_duplicate", "false").lower() == "true" and primary:
                dups = [r["id"] for r in store().all(coll)
                        if ((r.get("emails") or {}).get("primary") or "").lower() == primary]
                if dups:
                    raise ApiError(DUPLICATE, f"Duplicate {kind}", duplicates=dups)
            row = store().insert(coll, data)
        return created(f"/{coll}/{row['id']}")

    def index() -> Response:
        return hal_list(coll, store().all(coll), lambda r: render(coll, r))

    def get(rid: int) -> Response:
        return jsonify(render(coll, row_or_404(coll, rid)))

    def update(rid: int) -> Response:
        row = row_or_404(coll, rid)
        changes = clean(coll, json_body(), creating=False)
        for nested in ("custom_fields", "emails", "phones", "address"):   # PUT is partial, key by key
            if nested in changes:
                changes[nested] = {**(row.get(nested) or {}), **changes[nested]}
        changes["date_modified"] = now()
        store().update(coll, rid, changes)
        return no_content()

    def delete(rid: int) -> Response:
        row_or_404(coll, rid)
        store().delete(coll, rid)
        return no_content()

    def keyword_search() -> Response:
        words = request.args.get("query", "").lower().split()
        rows = store().all(coll, lambda r: bool(words) and any(w in keyword_text(r) for w in words))
        return hal_list(coll, rows, lambda r: render(coll, r))

    def filter_search() -> Response:
        flt = json_body()
        return hal_list(coll, [r for r in store().all(coll) if matches(r, flt)], lambda r: render(coll, r))

    def add_activity(rid: int) -> Response:
        row_or_404(coll, rid)
        body = json_body()
        errors = {}
        if body.get("type") not in ACTIVITY_TYPES:
            errors["type"] = [f"must be one of {', '.join(ACTIVITY_TYPES)}"]
        regarding = body.get("regarding_id")
        if regarding is not None and not store().get("jobs", regarding):
            errors["regarding_id"] = ["unknown job"]
        if errors:
            raise ApiError(INVALID, "Validation failed", errors)
        ts = now()
        row = store().insert("activities", {
            "data_item": {"id": rid, "type": kind}, "type": body["type"], "notes": body.get("notes") or "",
            "regarding_id": regarding, "date": body.get("date") or ts, "annotation": "",
            "entered_by_id": 1, "date_created": ts, "date_modified": ts})
        return created(f"/activities/{row['id']}")

    def list_activities(rid: int) -> Response:
        row_or_404(coll, rid)
        rows = store().all("activities", lambda a: a["data_item"] == {"id": rid, "type": kind})
        return hal_list("activities", rows, lambda a: a)

    def upload_attachment(rid: int) -> Response:
        row_or_404(coll, rid)
        filename, data = request.args.get("filename", "").strip(), request.get_data()
        if not filename or not data:
            raise ApiError(400, "filename (query) and a non-empty file body are required")
        row = store().insert("attachments", {
            "data_item": {"id": rid, "type": kind}, "filename": filename, "size": len(data),
            "is_resume": request.args.get("is_resume", "false").lower() == "true", "date_created": now(),
            "content_b64": base64.b64encode(data).decode()})
        return created(f"/attachments/{row['id']}")

    def list_attachments(rid: int) -> Response:
        row_or_404(coll, rid)
        rows = store().all("attachments", lambda a: a["data_item"] == {"id": rid, "type": kind})
        return hal_list("attachments", rows, _attachment)

    def custom_values(rid: int) -> Response:
        row = row_or_404(coll, rid)
        defs = store().all("custom_field_defs", lambda d: d["data_item_type"] == kind)
        values = row.get("custom_fields", {})
        return hal_list("custom_fields", defs, lambda d: {"id": d["id"], "name": d["name"],
                                                          "value": values.get(str(d["id"]))})

    def set_custom_value(rid: int, field_id: int) -> Response:
        row = row_or_404(coll, rid)
        if not store().all("custom_field_defs",
                           lambda d: d["id"] == field_id and d["data_item_type"] == kind):
            raise ApiError(404, "Not Found")
        body = json_body()
        if "value" not in body:
            raise ApiError(INVALID, "Validation failed", {"value": ["is required"]})
        values = {**row.get("custom_fields", {}), str(field_id): body["value"]}
        store().update(coll, rid, {"custom_fields": values,
                                   "date_modified": now()})
        return no_content()

    def tags(rid: int) -> Response:
        row = row_or_404(coll, rid)
        if request.method == "GET":
            return hal_list("tags", [store().get("tags", t) for t in row["tag_ids"]], lambda t: t)
        items = json_body().get("tags")
        if not isinstance(items, list) or not all(isinstance(t, dict) and store().get("tags", t.get("id"))
                                                   for t in items):
            raise ApiError(INVALID, "Validation failed",
                           {"tags": ["must be a list of {id} of existing tags"]})
        ids = [int(t["id"]) for t in items]
        with store().lock:      # read-merge-write of the tag set must not interleave
            current = row_or_404(coll, rid)["tag_ids"]
            merged = ids if request.method == "PUT" else current + [i for i in ids if i not in current]
            store().update(coll, rid, {"tag_ids": merged})
        return no_content()

    def untag(rid: int, tag_id: int) -> Response:
        row = row_or_404(coll, rid)
        store().update(coll, rid, {"tag_ids": [t for t in row["tag_ids"] if t != tag_id]})
        return no_content()

    def pipelines(rid: int) -> Response:
        row_or_404(coll, rid)
        rows = store().all("pipelines", lambda p: p["candidate_id"] == rid) if kind == "candidate" else []
        return hal_list("pipelines", rows, render_pipeline)

    def custom_field_defs() -> Response:
        defs = store().all("custom_field_defs", lambda d: d["data_item_type"] == kind)
        return hal_list("custom_fields", defs,
                        lambda d: {k: d[k] for k in ("id", "name", "field_type")})

    base = f"/{coll}"
    bp.add_url_rule(base, view + "create", create, methods=["POST"])
    bp.add_url_rule(base, view + "index", index, methods=["GET"])
    bp.add_url_rule(f"{base}/search", view + "keyword_search", keyword_search, methods=["GET"])
    bp.add_url_rule(f"{base}/search", view + "filter_search", filter_search, methods=["POST"])
    bp.add_url_rule(f"{base}/custom_fields", view + "custom_field_defs", custom_field_defs, methods=["GET"])
    bp.add_url_rule(f"{base}/<int:rid>", view + "get", get, methods=["GET"])
    bp.add_url_rule(f"{base}/<int:rid>", view + "update", update, methods=["PUT"])
    bp.add_url_rule(f"{base}/<int:rid>", view + "delete", delete, methods=["DELETE"])
    bp.add_url_rule(f"{base}/<int:rid>/activities", view + "add_activity", add_activity, methods=["POST"])
    bp.add_url_rule(f"{base}/<int:rid>/activities", view + "list_activities", list_activities,
                    methods=["GET"])
    bp.add_url_rule(f"{base}/<int:rid>/attachments", view + "upload_attachment", upload_attachment,
                    methods=["POST"])
    bp.add_url_rule(f"{base}/<int:rid>/attachments", view + "list_attachments", list_attachments,
                    methods=["GET"])
    bp.add_url_rule(f"{base}/<int:rid>/custom_fields", view + "custom_values", custom_values, methods=["GET"])
    bp.add_url_rule(f"{base}/<int:rid>/custom_fields/<int:field_id>", view + "set_custom_value",
                    set_custom_value, methods=["PUT"])
    bp.add_url_rule(f"{base}/<int:rid>/tags", view + "tags", tags, methods=["GET", "POST", "PUT"])
    bp.add_url_rule(f"{base}/<int:rid>/tags/<int:tag_id>", view + "untag", untag, methods=["DELETE"])
    bp.add_url_rule(f"{base}/<int:rid>/pipelines", view + "pipelines", pipelines, methods=["GET"])
