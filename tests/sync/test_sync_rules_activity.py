"""DESIGN §5 rules 5 and 7-10, one table-driven test per rule, each named after the seed sentence it
enforces and run for every CRM whose adapter declares what the rule needs."""
from __future__ import annotations

import random

import pytest

from planner_cases import (SPECS, ada, at, ids, kinds, matched, not_found, providers_with, run, settings_for,
                           target, without)
from sync import retry
from sync.planner import backfill_notes, email_step, plan
from sync.schemas import filter_jobs
from sync.types import (BLOCKED, NOTE, OP_ADD_NOTE, OP_LOOKUP, OP_UPDATE, PUSH, SEND, SKIPPED, WAIT, EventInfo,
                        WaitingNote)

NOTES = providers_with("notes")


# -- rule 5: notes --------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", NOTES, ids=ids(NOTES))
@pytest.mark.parametrize("kind,sources,state,only_synced,outcome,to", [
    ("reply", ["reply"], "linked", False, NOTE, "r42"),
    ("reply", ["email_sent"], "linked", False, SKIPPED, None),        # not a note source
    ("call", ["call"], "linked", True, NOTE, "r42"),
    ("call", ["call"], "matched", False, NOTE, "r42"),                 # off: goes to the matched record
    ("call", ["call"], "matched", True, WAIT, None),                   # on: waits for the synced record
    ("call", ["call"], "none", False, WAIT, None),
    ("call", ["call"], "none", True, WAIT, None),
])
def test_create_new_notes_from_choose_for_which_outreach_types_a_note_is_pushed(
        spec, kind, sources, state, only_synced, outcome, to):
    rt = spec.record_types[0]
    s = settings_for(spec, {f"add_{rt}": "interested", "note_sources": sources,
                            "only_notes_to_synced": only_synced})
    first = run(spec, kind, s, body="Sounds good, call me")
    if outcome == SKIPPED:
        assert first.outcome == SKIPPED and kinds(first) == ["skip"]
        return
    assert kinds(first) == [OP_LOOKUP]
    st = {"linked": matched(spec, linked=True), "matched": matched(spec), "none": not_found(spec)}[state]
    p = run(spec, kind, s, state=st, body="Sounds good, call me")
    assert p.outcome == outcome
    notes = [op for op in p.operations if op.kind == OP_ADD_NOTE]
    if to:
        assert len(notes) == 1 and notes[0].remote_id == to
        assert "Sounds good, call me" in notes[0].params["body"]
        assert "link" not in kinds(p)          # a note alone never links the person
    else:
        assert notes == [] and kinds(p) == ["wait"] and p.reason


@pytest.mark.parametrize("spec", NOTES, ids=ids(NOTES))
@pytest.mark.parametrize("mapping,expected", [({"reply": "nt-5"}, "nt-5"), ({"call": "nt-9"}, None), ({}, None)])
def test_note_mapping_you_dont_need_to_map_notes_the_note_will_still_be_created(spec, mapping, expected):
    rt = spec.record_types[0]
    s = settings_for(spec, {"note_sources": ["reply"], f"add_{rt}": "never",
                            **({f"note_mapping.{rt}": mapping} if "note_types" in spec.capabilities else {})})
    note = run(spec, "reply", s, state=matched(spec, linked=True)).operations[0]
    typed = expected if "note_types" in spec.capabilities else None
    assert note.kind == OP_ADD_NOTE and note.params["note_type"] == typed
    assert ("typed by the note mapping" if typed else "untyped") in note.rule


@pytest.mark.parametrize("spec", NOTES, ids=ids(NOTES))
def test_only_add_notes_to_synced_records_notes_wait_and_are_back_filled_in_order(spec):
    rt = spec.record_types[0]
    s = settings_for(spec, {f"add_{rt}": "interested", "only_notes_to_synced": True,
                            "note_sources": ["email_sent", "reply", "interested"]})
    events = [("email_sent", 3, 10), ("reply", 5, 40), ("email_sent", 4, 20)]   # arrive out of order
    waiting = []
    for kind, eid, minute in events:
        p = run(spec, kind, s, state=matched(spec), event_id=eid, minutes=minute, key=f"evt{eid}-conn1")
        assert p.outcome == WAIT
        waiting.append(WaitingNote(f"evt{eid}-conn1", EventInfo(kind, at(minute), event_id=eid)))
    push = run(spec, "interested", s, state=matched(spec), event_id=6, minutes=50, key="evt6-conn1")
    assert push.outcome == PUSH and push.backfill and "link" in kinds(push)
    ops = backfill_notes(waiting, s, rt, "r42", capabilities=spec.capabilities)
    assert [op.params["event_id"] for op in ops] == [3, 4, 5]
    # Each back-filled note has the key the event's own run uses once linked: never two notes.
    for kind, eid, minute in events:
        own = run(spec, kind, s, state=matched(spec, linked=True), event_id=eid, minutes=minute,
                  key=f"evt{eid}-conn1")
        assert own.operations[0].key in {op.key for op in ops}
    # a kind removed from "Create new notes from" meanwhile is not back-filled
    s2 = settings_for(spec, {f"add_{rt}": "interested", "only_notes_to_synced": True, "note_sources": ["reply"]})
    assert [op.params["event_id"] for op in backfill_notes(waiting, s2, rt, "r42",
                                                           capabilities=spec.capabilities)] == [5]


# -- rule 7: off-limits ---------------------------------------------------------------------------
OFF_LIMITS = providers_with("off_limits")


@pytest.mark.parametrize("spec", OFF_LIMITS, ids=ids(OFF_LIMITS))
@pytest.mark.parametrize("blocking,off_limits,found,outcome", [
    (True, True, True, BLOCKED), (True, False, True, SEND), (True, False, False, SEND),
    (False, True, True, SEND),
])
def test_block_emails_to_recipients_marked_as_off_limits(spec, blocking, off_limits, found, outcome):
    rt = spec.record_types[0]
    s = settings_for(spec, {"block_off_limits": blocking})
    first = email_step(s, ada(), rt, None, capabilities=spec.capabilities, intent_key="step1")
    assert kinds(first) == ([OP_LOOKUP] if blocking else [])
    st = matched(spec, off_limits=off_limits, off_limits_reason="GDPR objection") if found else not_found(spec)
    p = email_step(s, ada(), rt, st, capabilities=spec.capabilities, intent_key="step1")
    assert p.outcome == outcome
    if outcome == BLOCKED:
        assert kinds(p) == ["block"] and "off-limits" in p.reason and "GDPR objection" in p.reason
        assert p.operations[0].rule == "rule 7: off-limits"


def test_off_limits_blocking_needs_a_crm_that_exposes_it():
    spec = without(SPECS["itris"], "off_limits")
    s = settings_for(spec, {"block_off_limits": True})
    assert "block_off_limits" not in s.values
    st = matched(spec, off_limits=True)
    assert email_step(s, ada(), "applicant", st, capabilities=spec.capabilities, intent_key="k").outcome == SEND


# -- rule 8: manual updates -----------------------------------------------------------------------
UPDATE = providers_with("update")


@pytest.mark.parametrize("spec", UPDATE, ids=ids(UPDATE))
@pytest.mark.parametrize("toggle,state,edited,written", [
    (False, "linked", {"title": "CTO"}, None),
    (True, "linked", {"title": "CTO"}, {"title": "CTO"}),
    (True, "linked", {"title": "CTO", "location": "Paris"}, {"title": "CTO", "location": "Paris"}),
    (True, "matched", {"title": "CTO"}, None),       # not linked: goes with the push instead
    (True, "none", {"title": "CTO"}, None),
    (True, "linked", {"phone": ""}, None),           # clearing a field never blanks the CRM's
])
def test_sync_manual_contact_updates_automatically_update_the_crm_with_manual_changes(
        spec, toggle, state, edited, written):
    rt = spec.record_types[0]
    s = settings_for(spec, {"sync_manual_updates": toggle, f"update_mode.{rt}": "always"})
    person = ada(**edited)
    first = run(spec, "manual_update", s, person=person, data=edited)
    if not toggle:
        assert first.outcome == SKIPPED and first.operations[0].rule == "rule 8: manual updates"
        return
    assert kinds(first) == [OP_LOOKUP]
    crm = {"title": "Engineer", "location": "London", "phone": "+1 555", "company": "Other"}
    st = {"linked": matched(spec, crm, linked=True), "matched": matched(spec, crm), "none": not_found(spec)}[state]
    p = run(spec, "manual_update", s, person=person, state=st, data=edited)
    updates = [dict(op.fields) for op in p.operations if op.kind == OP_UPDATE]
    assert updates == ([written] if written else [])   # company differs too, but wasn't edited
    assert p.outcome == (PUSH if written else SKIPPED) and p.reason
    cleared = [op for op in p.operations if op.kind == "skip" and op.reason.startswith("Cleared in Shoal")]
    assert bool(cleared) is (state == "linked" and any(v == "" for v in edited.values()))


# -- rule 9: target areas -------------------------------------------------------------------------
AREAS = [("job_id", "jobs", "add_to_job"), ("tags", "tags", "apply_tags"), ("lists", "lists", "add_to_list"),
         ("status", "statuses", "set_status")]


@pytest.mark.parametrize("spec", list(SPECS.values()), ids=list(SPECS))
@pytest.mark.parametrize("option,capability,op_kind", AREAS)
def test_everyone_you_add_to_the_campaign_will_be_pushed_through_to_the_areas_selected(
        spec, option, capability, op_kind):
    value = ["t1", "t2"] if option in ("tags", "lists") else "x1"
    t = target(spec, {option: value})
    p = run(spec, "added", settings_for(spec, {"note_sources": []}), tgt=t, state=not_found(spec))
    ops = [op for op in p.operations if op.kind == op_kind]
    if capability in spec.capabilities:
        assert ops and all(op.rule.startswith("rule 9") for op in ops)
    else:   # the CRM can't: say so, don't silently drop it
        assert not ops
        assert any(op.kind == "skip" and op.rule.startswith("rule 9") for op in p.operations)


@pytest.mark.parametrize("spec", providers_with("tags", "jobs"), ids=ids(providers_with("tags", "jobs")))
def test_person_sync_options_beat_the_campaigns_per_area(spec):
    from sync.planner import resolve_target
    rt = spec.record_types[0]
    t = resolve_target(rt, {"job_id": "j-camp", "tags": ["camp"]}, None, {"tags": ["mine"]}, spec.record_types)
    assert t.options_source == "person"
    p = run(spec, "added", settings_for(spec, {"note_sources": []}), tgt=t, state=matched(spec, linked=True))
    assert [op.params for op in p.operations if op.kind == "apply_tags"] == [{"tags": ["mine"]}]
    assert [op.params["job_id"] for op in p.operations if op.kind == "add_to_job"] == ["j-camp"]


def test_only_whitelisted_job_statuses_are_offered():
    class J:
        def __init__(self, id, status):
            self.id, self.status = id, status
    jobs = [J("1", "SOURCING"), J("2", "FILLED"), J("3", "INTERVIEW")]
    assert [j.id for j in filter_jobs(jobs, ["SOURCING", "INTERVIEW"])] == ["1", "3"]
    assert [j.id for j in filter_jobs(jobs, [])] == ["1", "2", "3"]


# -- rule 10: no silent failure -------------------------------------------------------------------
@pytest.mark.parametrize("spec", list(SPECS.values()), ids=list(SPECS))
def test_no_silent_failure_every_refused_or_waiting_plan_says_why(spec):
    rt = spec.record_types[0]
    s = settings_for(spec, {f"mandatory_fields.{rt}": ["phone"], f"add_{rt}": "reply",
                            "sync_manual_updates": False})
    plans = [run(spec, "added", s), run(spec, "reply", s, person=ada(phone=None)),
             run(spec, "manual_update", s, data={"title": "x"}),
             plan(EventInfo("teleported", at(0)), s, ada(), target(spec), None,
                  capabilities=spec.capabilities, intent_key="k")]
    if "notes" in spec.capabilities:
        plans.append(run(spec, "call", settings_for(spec, {"note_sources": ["call"]}), state=not_found(spec)))
    for p in plans:
        assert p.outcome != PUSH and p.reason
        assert len(p.operations) == 1 and p.operations[0].rule and p.operations[0].kind in ("skip", "refuse", "wait")


@pytest.mark.parametrize("kind,attempts,limited,retry_after,action", [
    ("auth", 0, 0, None, retry.NEEDS_ATTENTION),          # at once, never retried
    ("rejected", 0, 0, None, retry.REFUSED),
    ("not_supported", 0, 0, None, retry.REFUSED),
    ("not_found", 0, 0, None, retry.RELINK),
    ("unavailable", 0, 0, None, retry.RETRY),
    ("internal", 0, 0, None, retry.RETRY),                # a bug is retried like an outage, then parked
    ("unavailable", retry.MAX_ATTEMPTS - 1, 0, None, retry.PARK),
    ("not_found", retry.MAX_ATTEMPTS - 1, 0, None, retry.PARK),
    ("rate_limited", 1, 1, 90.0, retry.RETRY),
    ("rate_limited", 40, 3, 5.0, retry.RETRY),            # outages don't count toward the 429 ceiling
    ("rate_limited", 0, retry.MAX_RATE_LIMITED - 1, 5.0, retry.PARK),
    ("paced", 50, 50, 0.0, retry.RETRY),                  # our own budget: never counts, never parks
])
def test_no_silent_failure_auth_marks_needs_attention_at_once_and_retries_are_bounded(
        kind, attempts, limited, retry_after, action):
    d = retry.decide(kind, attempts=attempts, rate_limited=limited, retry_after=retry_after,
                     message="boom", rng=random.Random(1))
    assert d.action == action and d.reason
    if action in (retry.RETRY, retry.RELINK):
        assert d.delay is not None and d.delay >= (retry_after or 0)
        assert (d.delay > 0) == (action == retry.RETRY)
    if kind == "rate_limited" and action == retry.RETRY:
        assert d.delay == 90.0 or d.delay == 5.0
    assert d.count_attempt == (kind not in ("paced", "auth", "rejected", "not_supported"))
    assert d.count_rate_limited == (kind == "rate_limited")
    with pytest.raises(ValueError):
        retry.decide("gremlins", attempts=0)
