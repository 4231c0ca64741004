"""Pinpoint's three person surfaces (AF §5.2): candidates (identity; GET + PUT/PATCH only),
applications (person × job; GET, POST, PUT/PATCH, DELETE; creating one creates or reuses the
candidate) and job_seekers (person in the talent pipeline, no job; same verbs).

Personal details (names, email, phone, linkedin_url, address, summary) live on the candidate; an
application or job seeker reads them from its candidate and writing them there updates the candidate
(ASSUMED). A new application/job seeker reuses the candidate with the same email, case-insensitive
(ASSUMED). Tags are `{name, context}` pairs written only through `add_tag_with_context`,
`add_tags_with_context`, `remove_tag_with_context`; the CV is written as `cv_base64_data` +
`cv_file_name` (file-name key ASSUMED) and read back via `extra_fields[...]=attachments` with context
`pdf_cv`, replacing any earlier CV.

This module is the model side (validation, write-only attributes, rendering); the HTTP routes are
in `sandbox.pinpoint.people`.
"""
from __future__ import annotations

import base64
import binascii
import re
import uuid
from typing import Any

from flask import request

from sandbox.common import Store
from sandbox.pinpoint import catalog
from sandbox.pinpoint.wire import (CV_CONTEXT, CV_FILE_NAME_KEY, TAG_CONTEXT_DEFAULT, ApiError, extra_fields,
                                   includes, invalid, now, resource)

PERSON = ("first_name", "last_name", "middle_name", "preferred_name", "email", "phone", "linkedin_url",
          "address1", "address2", "town", "state_province", "postcode", "summary")
WRITE_ONLY = ("add_tag_with_context", "add_tags_with_context", "remove_tag_with_context")
DOCUMENTS = {"cv_base64_data": (CV_FILE_NAME_KEY, CV_CONTEXT),
             "cover_letter_base64_data": ("cover_letter_file_name", "cover_letter")}
DOCUMENT_KEYS = tuple(DOCUMENTS) + tuple(name for name, _ in DOCUMENTS.values())
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _tag(raw: Any, ptr: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"].strip():
        raise invalid((ptr, "Tag needs a name (and optionally a context)"))
    return {"name": raw["name"].strip(), "context": str(raw.get("context") or TAG_CONTEXT_DEFAULT)}


def split(attrs: dict[str, Any], own: tuple[str, ...], creating: bool, docs: bool) -> tuple[dict, dict, dict]:
    """(person values, own values, write-only values) of a write; 400 on unknown keys, 422 on rules."""
    known = PERSON + own + WRITE_ONLY + (DOCUMENT_KEYS if docs else ())
    unknown = [k for k in attrs if k not in known]
    if unknown:
        raise ApiError(400, "Bad Request",
                       [(f"Unknown attribute {k!r}", f"/data/attributes/{k}") for k in unknown])
    problems = [(f"/data/attributes/{k}", f"{k.replace('_', ' ').capitalize()} must be a string")
                for k in PERSON if attrs.get(k) is not None and not isinstance(attrs[k], str)]
    for k in ("first_name", "last_name", "email"):
        if (creating or k in attrs) and not str(attrs.get(k) or "").strip():
            problems.append((f"/data/attributes/{k}", f"{k.replace('_', ' ').capitalize()} can't be blank"))
    email = attrs.get("email")
    if isinstance(email, str) and email.strip() and not EMAIL_RE.match(email.strip()):
        problems.append(("/data/attributes/email", "Email is invalid"))
    if problems:
        raise invalid(*problems)
    person = {k: attrs[k] for k in PERSON if k in attrs}
    own_values = {k: attrs[k] for k in own if k in attrs}
    extra = {k: v for k, v in attrs.items() if k not in person and k not in own_values}
    return person, own_values, extra


def apply_write_only(row: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """The row's new `tags`/`attachments` after the write-only attributes; 422 on malformed values."""
    tags = list(row.get("tags") or [])
    adds = []
    if "add_tag_with_context" in extra:
        adds.append(_tag(extra["add_tag_with_context"], "/data/attributes/add_tag_with_context"))
    if "add_tags_with_context" in extra:
        if not isinstance(extra["add_tags_with_context"], list):
            raise invalid(("/data/attributes/add_tags_with_context", "must be an array of {name, context}"))
        adds += [_tag(t, "/data/attributes/add_tags_with_context") for t in extra["add_tags_with_context"]]
    for t in adds:
        if not any(t["name"].lower() == o["name"].lower() and t["context"] == o["context"] for o in tags):
            tags.append(t)
    if "remove_tag_with_context" in extra:
        gone = _tag(extra["remove_tag_with_context"], "/data/attributes/remove_tag_with_context")
        tags = [t for t in tags
                if not (t["name"].lower() == gone["name"].lower() and t["context"] == gone["context"])]
    attachments = list(row.get("attachments") or [])
    for data_key, (name_key, context) in DOCUMENTS.items():
        if extra.get(data_key) is None:
            continue
        try:
            content = base64.b64decode(str(extra[data_key]), validate=True)
        except (binascii.Error, ValueError):
            content = b""
        if not content:
            raise invalid((f"/data/attributes/{data_key}", "is not valid non-empty base64"))
        if not str(extra.get(name_key) or "").strip():
            label = name_key.replace("_", " ").capitalize()
            raise invalid((f"/data/attributes/{name_key}", f"{label} can't be blank"))
        attachments = [a for a in attachments if a["context"] != context]
        attachments.append({"context": context, "filename": extra[name_key], "size": len(content),
                            "key": uuid.uuid4().hex, "data": extra[data_key]})
    return {"tags": tags, "attachments": attachments}


def render_attachments(row: dict[str, Any]) -> list[dict[str, Any]]:
    root = request.host_url.rstrip("/")
    return [{"context": a["context"], "filename": a["filename"],
             "url": f"{root}/files/{a['key']}/{a['filename']}"} for a in row.get("attachments") or []]


def person_attributes(cand: dict[str, Any]) -> dict[str, Any]:
    out = {k: cand.get(k) for k in PERSON}
    out["full_name"] = " ".join(p for p in (cand.get("first_name"), cand.get("last_name")) if p)
    return out


def with_extras(kind: str, row: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    wanted = extra_fields(kind)
    if "attachments" in wanted:
        attrs["attachments"] = render_attachments(row)
    if "tags" in wanted:
        attrs["tags"] = [{"name": t["name"], "context": t["context"]} for t in row.get("tags") or []]
    if "average_rating" in wanted:
        attrs["average_rating"] = None
    return attrs


class People:
    """Routes over one store; candidates are looked up per render so reads always see fresh PII."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def candidate(self, cid: Any) -> dict[str, Any]:
        return self.store.get("candidates", cid) or {}

    def render_candidate(self, row: dict[str, Any]) -> dict[str, Any]:
        attrs = {**person_attributes(row), "blocked": bool(row.get("blocked")),
                 "external_system_reference": row.get("external_system_reference"),
                 "created_at": row["created_at"], "updated_at": row["updated_at"]}
        apps = [a["id"] for a in self.store.all("applications", lambda a: a["candidate_id"] == row["id"])]
        return resource("candidates", row, with_extras("candidates", row, attrs),
                        {"applications": ("applications", apps)})

    def render_application(self, row: dict[str, Any]) -> dict[str, Any]:
        attrs = {**person_attributes(self.candidate(row["candidate_id"])), "uuid": row["uuid"],
                 "external_system_reference": row.get("external_system_reference"), "concealed": False,
                 "created_at": row["created_at"], "updated_at": row["updated_at"]}
        return resource("applications", row, with_extras("applications", row, attrs), {
            "candidate": ("candidates", row["candidate_id"]), "job": ("jobs", row["job_id"]),
            "stage": ("stages", row["stage_id"])})

    def render_job_seeker(self, row: dict[str, Any]) -> dict[str, Any]:
        attrs = {**person_attributes(self.candidate(row["candidate_id"])),
                 "external_system_reference": row.get("external_system_reference"),
                 "created_at": row["created_at"], "updated_at": row["updated_at"]}
        return resource("job_seekers", row, with_extras("job_seekers", row, attrs),
                        {"candidate": ("candidates", row["candidate_id"])})

    def included(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out, seen = [], set()
        for name in includes(("candidate", "job", "stage")):
            table, render = {"candidate": ("candidates", self.render_candidate),
                             "job": ("jobs", catalog.render_job),
                             "stage": ("stages", catalog.render_stage)}[name]
            for r in rows:
                rid = r.get(f"{name}_id")
                target = self.store.get(table, rid) if rid is not None else None
                if target and (table, rid) not in seen:
                    seen.add((table, rid))
                    out.append(render(target))
        return out

    def by_email(self, email: str) -> dict[str, Any] | None:
        """The candidate with this email, case-insensitive (Pinpoint's person identity — ASSUMED)."""
        email = email.strip().lower()
        found = self.store.all("candidates", lambda c: (c.get("email") or "").lower() == email)
        return found[0] if found else None

    def upsert_candidate(self, person: dict[str, Any]) -> dict[str, Any]:
        """The candidate with this email, updated with `person`, or a new one."""
        with self.store.lock:
            found = self.by_email(person["email"])
            if found:
                return self.store.update("candidates", found["id"], {**person, "updated_at": now()}) or found
            stamp = now()
            return self.store.insert("candidates", {
                **{k: None for k in PERSON}, **person, "blocked": False, "external_system_reference": None,
                "tags": [], "attachments": [], "created_at": stamp, "updated_at": stamp})

    def update_person(self, cid: int, person: dict[str, Any]) -> None:
        if person:
            self.store.update("candidates", cid, {**person, "updated_at": now()})
