""""What will be written": the planner run without an executor, for the panel and campaign pages.

Given the CRM state the runtime found (or None: "not in the CRM"), `preview` shows what a push
would do now, step by step, and each field's current value, our value and whether it is written
or kept (rule 3), plus when the push happens (the trigger) and anything missing (rule 4)::

    pv = preview(settings, person, target, None, capabilities=caps, crm_name="CATS")
    pv.when                 # "When they reply"
    pv.steps                # ("Create Candidate in CATS", "Add tags: cto, london", ...)
    [(r.label, r.new, r.action) for r in pv.rows]
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from sync.fields import decide_updates, field_label, outgoing_fields
from sync.ops import KIND_LABELS, record_label
from sync.planner import plan
from sync.settings import trigger_label
from sync.types import (OP_ADD_NOTE, OP_ADD_TO_JOB, OP_ADD_TO_LIST, OP_APPLY_TAGS, OP_CREATE, OP_LINK,
                        OP_SET_STATUS, OP_UPDATE, OP_UPLOAD_CV, SKIPPED, CrmState, EventInfo, Operation,
                        PersonInfo, ResolvedSettings, Target)

# The event whose arrival fires each trigger; the preview pretends it just happened.
TRIGGER_EVENT = {"added": "added", "reply": "reply", "interested": "interested"}


@dataclass(frozen=True)
class FieldRow:
    field: str
    label: str
    current: Any          # the CRM's value (None when the record would be created)
    new: Any              # our value
    action: str           # write | keep | same | missing
    why: str


@dataclass(frozen=True)
class Preview:
    outcome: str
    reason: str
    record_type: str | None
    when: str
    steps: tuple[str, ...] = ()
    rows: tuple[FieldRow, ...] = ()
    missing_fields: tuple[str, ...] = ()
    operations: tuple[Operation, ...] = ()

    def lines(self) -> list[str]:
        """A plain-text rendering (audit summaries, logs, tests)."""
        out = [f"{self.outcome}: {self.reason}" if self.reason else self.outcome]
        if self.when:
            out.append(f"When: {self.when}")
        out += [f"- {s}" for s in self.steps]
        out += [f"  {r.label}: {r.current!r} -> {r.new!r} ({r.action})" for r in self.rows]
        return out


def preview(settings: ResolvedSettings, person: PersonInfo, target: Target, crm_state: CrmState | None, *,
            capabilities: Iterable[Any], crm_name: str = "the CRM", event_kind: str | None = None,
            now: datetime | None = None) -> Preview:
    """What pushing `person` as `target` would write. `event_kind` previews a specific event (e.g.
    "reply" for its note); by default the event that fires the record type's trigger."""
    rt = target.record_type
    if rt is None:
        return Preview(SKIPPED, target.reason or "Set to don't sync", None, "")
    trigger = settings.trigger(rt)
    when = trigger_label(trigger)
    kind = event_kind or TRIGGER_EVENT.get(trigger)
    if kind is None:
        return Preview(SKIPPED, f"Add {record_label(rt)} to {crm_name} is set to never", rt, when)
    state = crm_state or CrmState(rt)
    event = EventInfo(kind, now or datetime.now(timezone.utc).replace(tzinfo=None))
    p = plan(event, settings, person, target, state, capabilities=capabilities, intent_key="preview",
             crm_name=crm_name)
    steps = tuple(s for s in (_step(op, crm_name, event) for op in p.operations) if s)
    rows = _rows(settings, person, rt, state, p.missing_fields)
    return Preview(p.outcome, p.reason, rt, when, steps, rows, p.missing_fields, p.operations)


def _rows(settings: ResolvedSettings, person: PersonInfo, rt: str, state: CrmState,
          missing: tuple[str, ...]) -> tuple[FieldRow, ...]:
    outgoing = outgoing_fields(person, settings, rt)
    rows: list[FieldRow] = []
    if state.remote_id is None:
        rows = [FieldRow(f, field_label(f), None, v, "write", "new record") for f, v in outgoing.items()]
    else:
        for d in decide_updates(outgoing, state.fields, settings, rt):
            action = "write" if d.write else ("same" if d.why == "already up to date" else "keep")
            rows.append(FieldRow(d.field, field_label(d.field), d.theirs, d.ours, action, d.why))
    rows += [FieldRow(f, field_label(f), state.fields.get(f), None, "missing", "mandatory field is empty")
             for f in missing]
    return tuple(rows)


def _step(op: Operation, crm: str, event: EventInfo) -> str:
    label = record_label(op.record_type or "")
    p = op.params
    if op.kind == OP_CREATE:
        return f"Create {label} in {crm} with {len(op.fields)} field(s)"
    if op.kind == OP_LINK:
        return f"Link to existing {label} {op.remote_id} (matched by {p.get('matched_by') or 'lookup'})"
    if op.kind == OP_UPDATE:
        return f"Update {', '.join(field_label(f) for f in op.fields)}"
    if op.kind == OP_SET_STATUS:
        return f"Set status {p['status']}"
    if op.kind == OP_UPLOAD_CV:
        return "Upload CV"
    if op.kind == OP_ADD_TO_JOB:
        return f"Add to job {p['job_id']}" + (f" at status {p['job_status']}" if p.get("job_status") else "")
    if op.kind == OP_APPLY_TAGS:
        return f"Add tags: {', '.join(p['tags'])}"
    if op.kind == OP_ADD_TO_LIST:
        return f"Add to list {p['list_id']}"
    if op.kind == OP_ADD_NOTE:
        typed = f" of type {p['note_type']}" if p.get("note_type") else " (untyped)"
        return f"Add a note{typed}: {KIND_LABELS.get(event.kind, event.kind)}"
    return op.reason
