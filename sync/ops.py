"""Builders for the operations a plan is made of: idempotency keys, notes (rule 5), status and CV
(rule 6) and target areas (rule 9). Pure helpers shared by the planner and `backfill_notes`."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from sync.types import (OP_ADD_NOTE, OP_ADD_TO_JOB, OP_ADD_TO_LIST, OP_APPLY_TAGS, OP_SET_STATUS, OP_SKIP,
                        OP_UPLOAD_CV, CrmState, EventInfo, Operation, PersonInfo, ResolvedSettings,
                        SyncOptions)

KIND_LABELS = {"added": "Added to campaign", "email_sent": "Email sent", "linkedin_sent": "LinkedIn message sent",
               "call": "Call", "reply": "Replied", "interested": "Interested", "not_interested": "Not interested",
               "bounced": "Email bounced", "opted_out": "Opted out", "manual_update": "Details edited",
               "cv_added": "CV added", "resync": "Re-synced with the campaign's settings"}


def op_key(intent_key: str, kind: str, *parts: Any) -> str:
    """A stable idempotency key: same intent, same kind, same parameters → same key on every run."""
    digest = hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return f"{intent_key}-{kind}-{digest}"


def humanize(key: str) -> str:
    """A key in words, for a screen that has no label for it: "job_status" -> "Job status"."""
    return key.replace("_", " ").capitalize()


def record_label(record_type: str) -> str:
    return humanize(record_type)


def note_body(event: EventInfo) -> str:
    """The note text: what happened, on which channel, when; then the message itself if any."""
    head = KIND_LABELS.get(event.kind, event.kind)
    if event.channel:
        head += f" ({event.channel})"
    head += f" on {event.occurred_at:%Y-%m-%d %H:%M} UTC"
    body = (event.body or "").strip()
    return f"{head}\n\n{body}" if body else head


def is_note_event(event: EventInfo, settings: ResolvedSettings, caps: frozenset[str]) -> bool:
    """Rule 5: the event's kind is in "Create new notes from" and the CRM takes notes."""
    return "notes" in caps and event.kind in (settings.get("note_sources") or ())


def note_op(intent_key: str, event: EventInfo, settings: ResolvedSettings, caps: frozenset[str],
            record_type: str, remote_id: str | None, rule: str) -> Operation:
    """One note for one event. The key depends only on the intent and the event, so the note made
    by the event's own run and the one made by a back-fill are the same operation (never twice)."""
    note_type = settings.note_type(record_type, event.kind) if "note_types" in caps else None
    ident = event.event_id if event.event_id is not None else (event.kind, event.occurred_at.isoformat())
    typed = "typed by the note mapping" if note_type else "untyped (not in the note mapping)"
    return Operation(OP_ADD_NOTE, op_key(intent_key, OP_ADD_NOTE, record_type, ident), f"{rule}, {typed}",
                     record_type, remote_id,
                     params={"body": note_body(event), "note_type": note_type, "event_id": event.event_id,
                             "event_kind": event.kind})


def skip_op(intent_key: str, rule: str, reason: str, record_type: str | None = None,
            **params: Any) -> Operation:
    return Operation(OP_SKIP, op_key(intent_key, OP_SKIP, rule, reason), rule, record_type,
                     params=params, reason=reason)


def status_ops(intent_key: str, settings: ResolvedSettings, caps: frozenset[str], record_type: str,
               remote_id: str | None, options: SyncOptions, created: bool, crm: str) -> list[Operation]:
    """The campaign's/person's status (rule 9) wins; else the default status, on create only (rule 6)."""
    if options.status:
        status, rule = options.status, "rule 9: target areas (status)"
    elif created:
        status, rule = settings.for_type("default_status", record_type), "rule 6: default status on create"
    else:
        return []
    if not status:
        return []
    if "statuses" not in caps:
        return [skip_op(intent_key, rule, f"{crm} statuses can't be set through its API; status not set",
                        record_type, status=status)]
    return [Operation(OP_SET_STATUS, op_key(intent_key, OP_SET_STATUS, record_type, status), rule,
                      record_type, remote_id, params={"status": status})]


def cv_ops(intent_key: str, settings: ResolvedSettings, caps: frozenset[str], person: PersonInfo,
           record_type: str, remote_id: str | None, state: CrmState | None, crm: str) -> list[Operation]:
    """Rule 6: upload our CV unless the CRM has one and "Don't overwrite original CV" is on."""
    if not person.cv_available or "cv" not in caps:
        return []
    if state is not None and state.linked_before and state.has_cv:
        # Our CV went with the first push to this record; every later trigger would attach a copy.
        return [skip_op(intent_key, "rule 6: CV upload", f"CV not uploaded again: the linked record in {crm} "
                        "already has one", record_type)]
    if state is not None and state.remote_id and state.has_cv and settings.flag("keep_original_cv"):
        return [skip_op(intent_key, "rule 6: don't overwrite original CV",
                        f"CV not uploaded: the record already has one in {crm} and "
                        "\"Don't overwrite original CV\" is on", record_type)]
    return [Operation(OP_UPLOAD_CV, op_key(intent_key, OP_UPLOAD_CV, record_type), "rule 6: CV upload",
                      record_type, remote_id)]


def target_area_ops(intent_key: str, caps: frozenset[str], record_type: str, remote_id: str | None,
                    options: SyncOptions, crm: str) -> list[Operation]:
    """Rule 9: job/pipeline, tags, lists. An area the CRM lacks becomes a visible skip, not silence."""
    ops: list[Operation] = []
    if options.job_id:
        if "jobs" in caps:
            ops.append(Operation(OP_ADD_TO_JOB, op_key(intent_key, OP_ADD_TO_JOB, record_type, options.job_id),
                                 "rule 9: target areas (job)", record_type, remote_id,
                                 params={"job_id": options.job_id, "job_status": options.job_status}))
        else:
            ops.append(skip_op(intent_key, "rule 9: target areas (job)",
                               f"{crm} jobs can't be used through its API; not added to a job", record_type))
    if options.tags:
        if "tags" in caps:
            tags = sorted(set(options.tags))
            ops.append(Operation(OP_APPLY_TAGS, op_key(intent_key, OP_APPLY_TAGS, record_type, tags),
                                 "rule 9: target areas (tags)", record_type, remote_id, params={"tags": tags}))
        else:
            ops.append(skip_op(intent_key, "rule 9: target areas (tags)",
                               f"{crm} tags can't be set through its API; tags not applied", record_type))
    if options.lists:
        if "lists" in caps:
            for list_id in dict.fromkeys(options.lists):
                ops.append(Operation(OP_ADD_TO_LIST, op_key(intent_key, OP_ADD_TO_LIST, record_type, list_id),
                                     "rule 9: target areas (list)", record_type, remote_id,
                                     params={"list_id": list_id}))
        else:
            ops.append(skip_op(intent_key, "rule 9: target areas (list)",
                               f"{crm} lists can't be used through its API; not added to lists", record_type))
    return ops
