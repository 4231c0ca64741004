"""The sync planner (DESIGN §5): settings + event + person + CRM state → the operations to run.

Two phases, both pure. Phase 1 (`crm_state=None`) decides whether the event means anything for the
CRM at all; if it does, the plan's first op is `lookup` and nothing else. The runtime then finds the
record (through its CrmLink and `get`, else `find_person` by email then LinkedIn URL; plus
`off_limits`/`has_cv` where the CRM has them), builds a `CrmState`, and calls `plan` again: phase 2
returns the writes. Example::

    p = plan(EventInfo("reply", now, event_id=7), settings, person, target, None,
             capabilities={"find", "create", "update", "notes"}, intent_key="evt7-conn1")
    p.operations[0].kind                   # "lookup"
    p = plan(..., CrmState("candidate", remote_id=None), ...)
    [op.kind for op in p.operations]       # ["create", "add_note"]

Operations after a `create` carry remote_id None: the executor uses the id create returned.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from sync.fields import decide_updates, field_label, is_blank, missing_mandatory, outgoing_fields
from sync.ops import (cv_ops, is_note_event, note_op, op_key, record_label, skip_op, status_ops,
                      target_area_ops)
from sync.settings import trigger_label
from sync.types import (BLOCKED, EVENT_KINDS, NOTE, OP_ADD_NOTE, OP_BLOCK, OP_CREATE, OP_LINK, OP_LOOKUP,
                        OP_REFUSE, OP_UPDATE, OP_UPLOAD_CV, OP_WAIT, PUSH, REFUSED, SEND, SKIPPED, WAIT,
                        CrmState, EventInfo, Operation, PersonInfo, Plan, ResolvedSettings, SyncOptions,
                        Target, WaitingNote, capability_set)

# Which event kinds fire each "Add <record type> to CRM" trigger. Any response counts as a reply;
# "interested" is also a reply, so a person marked interested straight away still fires "reply".
TRIGGER_KINDS: dict[str, frozenset[str]] = {
    "added": frozenset({"added"}),
    "reply": frozenset({"reply", "interested", "not_interested"}),
    "interested": frozenset({"interested"}),
    "never": frozenset(),
}


# What a person added to a campaign waits for before their record is written (said instead of
# "nothing to send": they are not skipped for good, only not yet).
WAITING_FOR = {"reply": "Waiting for a reply", "interested": "Waiting for them to be interested"}


def resolve_target(campaign_sync_as: str | None, campaign_options: Mapping[str, Any] | None,
                   person_sync_as: str | None, person_options: Mapping[str, Any] | None,
                   record_types: Iterable[str]) -> Target:
    """Rule 1 (who) and rule 9 (where): the person's sync-as beats the campaign's ("none" = don't
    sync); each target area the person set beats the campaign's. A record type this CRM doesn't
    have (e.g. a campaign made for another CRM) means don't sync, with the reason."""
    if person_sync_as:
        record_type, source = person_sync_as, "person"
    else:
        record_type, source = campaign_sync_as, "campaign"
    merged = dict(campaign_options or {})
    overridden = {k: v for k, v in (person_options or {}).items() if v is not None}
    merged.update(overridden)
    options = SyncOptions.from_dict(merged)
    options_source = "person" if overridden else "campaign"
    whose = "this person" if source == "person" else "this campaign"
    if not record_type or record_type == "none":
        return Target(None, options, source, options_source, reason=f"Set to don't sync for {whose}")
    kinds = tuple(record_types)
    if record_type not in kinds:
        return Target(None, options, source, options_source,
                      reason=f"Sync as {record_type!r} ({whose}) is not a record type of this CRM "
                             f"(it has {', '.join(kinds)}); not synced")
    return Target(record_type, options, source, options_source)


class _Planner:
    def __init__(self, event: EventInfo, settings: ResolvedSettings, person: PersonInfo, target: Target,
                 caps: frozenset[str], intent_key: str, crm: str):
        self.event, self.settings, self.person, self.target = event, settings, person, target
        self.caps, self.key, self.crm = caps, intent_key, crm
        self.rt = target.record_type
        self.label = record_label(self.rt) if self.rt else ""

    # -- plan shapes ----------------------------------------------------------------------------
    def done(self, outcome: str, reason: str, kind: str, rule: str, remote_id: str | None = None,
             **params: Any) -> Plan:
        op = Operation(kind, op_key(self.key, kind, rule), rule, self.rt, remote_id, params=params, reason=reason)
        return Plan(outcome, reason, (op,), self.rt)

    def skip(self, reason: str, rule: str) -> Plan:
        return Plan(SKIPPED, reason, (skip_op(self.key, rule, reason, self.rt),), self.rt)

    def lookup(self, outcome: str, purpose: str, reason: str) -> Plan:
        op = Operation(OP_LOOKUP, op_key(self.key, OP_LOOKUP, self.rt), "rule 2: match before create",
                       self.rt, params={"email": self.person.email, "linkedin_url": self.person.linkedin_url,
                                        "purpose": purpose})
        return Plan(outcome, reason, (op,), self.rt)

    # -- phase entry ----------------------------------------------------------------------------
    def run(self, state: CrmState | None) -> Plan:
        kind = self.event.kind
        if kind not in EVENT_KINDS:
            return self.skip(f"Unknown activity {kind!r}; nothing sent to {self.crm}", "input")
        if self.rt is None:
            return self.skip(self.target.reason or "Set to don't sync", "rule 1: sync as")
        if state is not None and state.record_type != self.rt:
            raise ValueError(f"CRM state is for {state.record_type!r}, the plan for {self.rt!r}")
        if kind == "manual_update":
            return self.manual_update(state)
        if kind == "cv_added":
            return self.cv_added(state)
        if kind == "resync":
            # Someone asked, after changing the campaign's sync settings, for this person's record
            # to be written again with them: a push whatever the trigger (only people already in
            # the CRM are offered it).
            return self.push(state)
        trigger = self.settings.trigger(self.rt)
        if kind in TRIGGER_KINDS.get(trigger, frozenset()):
            return self.push(state)
        if is_note_event(self.event, self.settings, self.caps):
            return self.note(state, trigger)
        if trigger == "never":
            return self.skip(f"Add {self.label} to {self.crm} is set to never", "rule 1: when")
        if kind == "added" and trigger in WAITING_FOR:
            return self.skip(f"{WAITING_FOR[trigger]}: {self.label}s are added to {self.crm} "
                             f"{trigger_label(trigger).lower()}", "rule 1: when")
        return self.skip(f"Nothing to send for this activity: {self.label}s are added to {self.crm} "
                         f"{trigger_label(trigger).lower()}, and it doesn't create notes", "rule 1: when")

    # -- rule 1-4, 6, 9: the push ---------------------------------------------------------------
    def push(self, state: CrmState | None) -> Plan:
        outgoing = outgoing_fields(self.person, self.settings, self.rt)
        missing = missing_mandatory(outgoing, self.settings, self.rt)
        if missing:
            names = ", ".join(field_label(f) for f in missing)
            reason = (f"Not added to {self.crm}: fill in the mandatory field(s) {names}; "
                      f"it goes as soon as they are filled")
            op = Operation(OP_REFUSE, op_key(self.key, OP_REFUSE, missing), "rule 4: mandatory fields", self.rt,
                           params={"missing": list(missing)}, reason=reason)
            return Plan(REFUSED, reason, (op,), self.rt, missing_fields=missing)
        if state is None:
            return self.lookup(PUSH, "push", f"Looking for this person in {self.crm}")
        options = self.target.sync_options
        ops: list[Operation] = []
        if state.remote_id is None:
            if "create" not in self.caps:
                return self.done(REFUSED, f"{self.crm} doesn't allow creating {self.label}s through its API",
                                 OP_REFUSE, "rule 2: match before create")
            ops.append(Operation(OP_CREATE, op_key(self.key, OP_CREATE, self.rt),
                                 "rule 2: no match by email or LinkedIn URL, create", self.rt,
                                 fields=outgoing))
            reason = f"Add as a new {self.label} in {self.crm}"
        else:
            if not state.linked_before:
                ops.append(Operation(OP_LINK, op_key(self.key, OP_LINK, self.rt, state.remote_id),
                                     f"rule 2: matched by {state.matched_by or 'lookup'}, link", self.rt,
                                     state.remote_id, params={"matched_by": state.matched_by}))
            ops += self.updates(outgoing, state, "rule 3")
            how = "linked" if state.linked_before else f"matched by {state.matched_by or 'lookup'}"
            reason = f"Update {self.label} {state.remote_id} in {self.crm} ({how})"
        remote_id = state.remote_id
        created = remote_id is None
        ops += status_ops(self.key, self.settings, self.caps, self.rt, remote_id, options, created, self.crm)
        ops += cv_ops(self.key, self.settings, self.caps, self.person, self.rt, remote_id, state, self.crm)
        ops += target_area_ops(self.key, self.caps, self.rt, remote_id, options, self.crm)
        if is_note_event(self.event, self.settings, self.caps):
            ops.append(note_op(self.key, self.event, self.settings, self.caps, self.rt, remote_id,
                               "rule 5: note"))
        return Plan(PUSH, reason, tuple(ops), self.rt, backfill=True)

    def updates(self, outgoing: dict[str, Any], state: CrmState, rule: str,
                only: set[str] | None = None) -> list[Operation]:
        """Rule 3 on an existing record: one update op for the fields to write, one skip op naming
        the fields whose CRM value was kept (so the audit log says why they weren't written)."""
        decisions = decide_updates(outgoing, state.fields, self.settings, self.rt, only)
        writes = {d.field: d.ours for d in decisions if d.write}
        kept = [d.field for d in decisions if not d.write and d.mode == "if_blank" and d.why != "already up to date"]
        ops: list[Operation] = []
        if writes:
            modes = sorted({"always update" if d.mode == "always" else "only update if blank"
                            for d in decisions if d.write})
            if "update" in self.caps:
                ops.append(Operation(OP_UPDATE, op_key(self.key, OP_UPDATE, self.rt, state.remote_id, writes),
                                     f"{rule}: {' / '.join(modes)}", self.rt, state.remote_id, fields=writes,
                                     fields_before={f: state.fields.get(f) for f in writes}))
            else:
                ops.append(skip_op(self.key, rule, f"{self.crm} doesn't allow updating records through its "
                                   "API; fields not written", self.rt, fields=sorted(writes)))
        if kept:
            names = ", ".join(field_label(f) for f in kept)
            ops.append(skip_op(self.key, f"{rule}: only update if blank",
                               f"Kept the values {self.crm} already has for: {names}", self.rt, fields=kept))
        return ops

    # -- rule 5: notes --------------------------------------------------------------------------
    def note(self, state: CrmState | None, trigger: str) -> Plan:
        if state is None:
            return self.lookup(NOTE, "note", f"Looking for this person in {self.crm} to add a note")
        if state.remote_id and (state.linked_before or not self.settings.flag("only_notes_to_synced")):
            where = "" if state.linked_before else f" (matched by {state.matched_by or 'lookup'})"
            op = note_op(self.key, self.event, self.settings, self.caps, self.rt, state.remote_id,
                         "rule 5: note" if state.linked_before else "rule 5: note to matched record")
            return Plan(NOTE, f"Add a note to {self.label} {state.remote_id} in {self.crm}{where}", (op,), self.rt)
        if not state.remote_id and trigger == "never":
            return self.skip(f"No note: this person isn't in {self.crm} and {self.label}s are never added",
                             "rule 5: notes")
        if state.remote_id:
            reason = (f"Note waits until this person is synced to {self.crm} "
                      f"(\"Only add notes to synced records\" is on)")
        else:
            reason = f"Note waits until this person is added to {self.crm}; then it is added in order"
        return self.done(WAIT, reason, OP_WAIT, "rule 5: notes wait for the record")

    # -- rule 8: manual updates -----------------------------------------------------------------
    def manual_update(self, state: CrmState | None) -> Plan:
        if not self.settings.flag("sync_manual_updates"):
            return self.skip(f"Edit not sent: \"Sync manual contact updates to {self.crm}\" is off",
                             "rule 8: manual updates")
        edited = {k for k in self.event.data}
        if not edited:
            return self.skip("Edit changed no fields", "rule 8: manual updates")
        if state is None:
            return self.lookup(PUSH, "manual_update", f"Looking up the linked {self.label} in {self.crm}")
        if not (state.remote_id and state.linked_before):
            return self.skip(f"Edit not sent: this person isn't linked to a {self.label} in {self.crm} yet; "
                             "their current details go with the push when they are added",
                             "rule 8: manual updates")
        outgoing = outgoing_fields(self.person, self.settings, self.rt)
        mapping = self.settings.for_type("field_mapping", self.rt, None) or {}
        crm_fields = {f for f in outgoing if mapping.get(f, f) in edited}
        ops = self.updates(outgoing, state, "rule 8: manual update, rule 3", only=crm_fields)
        cleared = sorted(v for v in edited if is_blank(self.person.value(v)))
        if cleared:
            names = ", ".join(field_label(f) for f in cleared)
            ops.append(skip_op(self.key, "rule 3: our empty value never blanks theirs",
                               f"Cleared in Shoal but kept in {self.crm}: {names}", self.rt, fields=cleared))
        written = [op for op in ops if op.kind == OP_UPDATE]
        reason = (f"Send the edit to {self.label} {state.remote_id} in {self.crm}" if written
                  else f"Edit not sent: nothing to change in {self.crm}")
        return Plan(PUSH if written else SKIPPED, reason, tuple(ops), self.rt)

    # -- rule 6: a CV given after the person was pushed ------------------------------------------
    def cv_added(self, state: CrmState | None) -> Plan:
        """A CV uploaded for a person already linked goes to that record, unless the record has a
        CV and "Don't overwrite original CV" is on. Not linked yet: it goes with their push."""
        rule = "rule 6: CV upload"
        if "cv" not in self.caps:
            return self.skip(f"{self.crm} doesn't take CVs through its API; the CV is kept in Shoal", rule)
        if state is None:
            return self.lookup(PUSH, "cv", f"Looking up the linked {self.label} in {self.crm}")
        if not (state.remote_id and state.linked_before):
            return self.skip(f"CV not sent yet: this person isn't linked to a {self.label} in {self.crm}; "
                             "it goes with the push when they are added", rule)
        if state.has_cv and self.settings.flag("keep_original_cv"):
            return self.skip(f"CV not uploaded: the record already has one in {self.crm} and "
                             "\"Don't overwrite original CV\" is on", "rule 6: don't overwrite original CV")
        op = Operation(OP_UPLOAD_CV, op_key(self.key, OP_UPLOAD_CV, self.rt, self.event.event_id), rule,
                       self.rt, state.remote_id)
        return Plan(PUSH, f"Upload the new CV to {self.label} {state.remote_id} in {self.crm}", (op,), self.rt)


def plan(event: EventInfo, settings: ResolvedSettings, person: PersonInfo, target: Target,
         crm_state: CrmState | None, *, capabilities: Iterable[Any], intent_key: str,
         crm_name: str = "the CRM") -> Plan:
    """Decide what one outreach event means for the CRM (see the module docstring for the phases).

    `settings` are resolved with the campaign's sync override on the campaign layer (rule 1);
    `target` comes from `resolve_target`; `capabilities` are Capability values (or members);
    `intent_key` is the SyncIntent's idempotency key, from which every op key derives."""
    return _Planner(event, settings, person, target, capability_set(capabilities), intent_key,
                    crm_name).run(crm_state)


def backfill_notes(waiting: Iterable[WaitingNote], settings: ResolvedSettings, record_type: str,
                   remote_id: str | None, *, capabilities: Iterable[Any]) -> list[Operation]:
    """Rule 5 back-fill: once the record exists, the note ops for the person's waiting note events,
    oldest first. Each op's key is the one the event's own run would use, so a note is never made
    twice whichever run gets there first. Events whose kind no longer creates notes are dropped.
    A note with settings of its own (`WaitingNote.settings`) is made under those, else under `settings`.
    `remote_id` None = the record is created in this run (the executor uses the id create returns)."""
    caps = capability_set(capabilities)
    ordered = sorted(waiting, key=lambda w: (w.event.occurred_at, w.event.event_id or 0))
    return [note_op(w.intent_key, w.event, w.settings or settings, caps, record_type, remote_id,
                    "rule 5: back-filled note")
            for w in ordered if is_note_event(w.event, w.settings or settings, caps)]


def with_backfill(operations: Iterable[Operation], backfill: Iterable[Operation]) -> tuple[Operation, ...]:
    """A push plan's operations with the back-filled notes slotted in before the trigger's own note,
    so the CRM receives the notes in the order the events happened (the waiting ones are older).
    Without a note of its own, the back-fill goes last. Example::

        [op.kind for op in with_backfill(push.operations, notes)]
        # ["create", "set_status", "add_note" (waiting, oldest), ..., "add_note" (the trigger's)]
    """
    ops = tuple(operations)
    at = next((i for i, op in enumerate(ops) if op.kind == OP_ADD_NOTE), len(ops))
    return ops[:at] + tuple(backfill) + ops[at:]


def email_step(settings: ResolvedSettings, person: PersonInfo, record_type: str | None,
               crm_state: CrmState | None, *,
               capabilities: Iterable[Any], intent_key: str, crm_name: str = "the CRM") -> Plan:
    """Rule 7, asked before a campaign email goes out. Outcome `send`, or `blocked` with the reason.

    Only when the CRM exposes off-limits/opt-out and "Block emails to recipients marked as
    off-limits" is on; then phase 1 asks for a `lookup` (the runtime also calls off_limits)."""
    caps = capability_set(capabilities)
    if record_type is None or "off_limits" not in caps or not settings.flag("block_off_limits"):
        return Plan(SEND, "", (), record_type)
    target = Target(record_type)
    planner = _Planner(EventInfo("email_sent", datetime(1970, 1, 1)), settings, person, target, caps,
                       intent_key, crm_name)
    if crm_state is None:
        return planner.lookup(SEND, "off_limits", f"Checking {crm_name} for off-limits before sending")
    if crm_state.remote_id and crm_state.off_limits:
        why = f": {crm_state.off_limits_reason}" if crm_state.off_limits_reason else ""
        reason = f"Blocked: {crm_name} marks this person as off-limits/opted out{why}"
        return planner.done(BLOCKED, reason, OP_BLOCK, "rule 7: off-limits", crm_state.remote_id)
    return Plan(SEND, "", (), record_type)

