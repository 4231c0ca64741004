"""Words for what users see instead of ids and snake_case: CRM names ("CATS", not "cats"), record
types ("Candidate"), audit operations ("Added to a list"), sync rules ("Target areas"), and a sync's
state in a sentence ("Waiting for CATS's rate limit, next call in ~7 s"). Template filters and
globals, registered app-wide by this blueprint (it has no routes)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Blueprint

from models import SyncIntent, utcnow
from services import crm_links
from providers import get_provider
from providers.errors import NotSupported

bp = Blueprint("labels", __name__)

OPERATION_LABELS = {
    "lookup": "Looked up", "create": "Created", "update": "Updated", "link": "Linked",
    "add_note": "Added a note", "add_to_job": "Added to a job", "apply_tags": "Tagged",
    "add_to_list": "Added to a list", "set_status": "Set the status", "upload_cv": "Uploaded the CV",
    "wait": "Waiting", "refuse": "Refused", "block": "Blocked", "skip": "Nothing sent", "park": "Stopped retrying",
}
RESULT_LABELS = {"ok": "Done", "skipped": "Nothing sent", "refused": "Refused", "failed": "Failed", "retry": "Will retry"}
_RULE = re.compile(r"^rule (\d+):\s*(.*)$", re.I)


@bp.app_template_filter("crm_name")
def crm_name(key: str | None) -> str:
    """"cats" → "CATS" (a provider no longer enabled keeps its key)."""
    if not key:
        return ""
    try:
        return get_provider(key).display_name
    except NotSupported:
        return key


@bp.app_template_filter("record_label")
def record_label(record_type: str | None, provider_key: str | None = None) -> str:
    """"candidate" → "Candidate", in the CRM's own words when its provider is known."""
    if not record_type:
        return ""
    if provider_key:
        try:
            return get_provider(provider_key).record_type(record_type).label
        except (NotSupported, KeyError, ValueError, LookupError):
            pass
    return humanize(record_type)


@bp.app_template_filter("humanize")
def humanize(value: Any) -> str:
    """"add_to_list" → "Add to list"."""
    text = str(value or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@bp.app_template_filter("operation_label")
def operation_label(op: str | None) -> str:
    return OPERATION_LABELS.get(op or "", humanize(op))


@bp.app_template_filter("result_label")
def result_label(result: str | None) -> str:
    return RESULT_LABELS.get(result or "", humanize(result))


@bp.app_template_filter("rule_label")
def rule_label(rule: str | None) -> str:
    """"rule 9: target areas" → "Target areas" (the rule's name; its number is for docs/sync-rules.md)."""
    m = _RULE.match((rule or "").strip())
    return humanize(m.group(2)) if m else humanize(rule)


@bp.app_template_global()
def intent_wait(intent: SyncIntent, now: datetime | None = None) -> tuple[str, int] | None:
    """For a queued push waiting on a rate limit: ("Waiting for CATS's rate limit, next call in
    ~7 s", seconds until then); else None."""
    if intent.state not in ("queued", "pending") or not intent.next_attempt_at:
        return None
    if not (intent.reason or "").lower().startswith("rate limited"):
        return None
    seconds = max(0, round((intent.next_attempt_at - (now or utcnow())).total_seconds()))
    crm = crm_name(intent.connection.provider_key) if intent.connection else "the CRM"
    return f"Waiting for {crm}'s rate limit, next call in ~{seconds} s", seconds


# A CRM id as a link to the record (services/crm_links.py): `crm_ref(team_id, connection_id,
# record_type, remote_id)`, `crm_ref_of(row)` for a CrmLink or AuditEntry, `intent_crm_ref(intent)`;
# templates render them with _macros.html `crm_link`.
bp.add_app_template_global(crm_links.crm_ref, "crm_ref")
bp.add_app_template_global(crm_links.ref_of, "crm_ref_of")
bp.add_app_template_global(crm_links.intent_ref, "intent_crm_ref")

