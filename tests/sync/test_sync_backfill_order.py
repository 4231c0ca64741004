"""DESIGN §5 rule 5, "notes wait for the record and are back-filled in order": the back-filled
notes go before the trigger's own note (`sync.planner.with_backfill`), so the CRM receives the notes
in the order the events happened, for every CRM that takes notes."""
from __future__ import annotations

import pytest

from planner_cases import at, ids, kinds, matched, not_found, providers_with, run, settings_for
from sync.planner import backfill_notes, with_backfill
from sync.types import OP_ADD_NOTE, OP_CREATE, OP_LINK, PUSH, EventInfo, WaitingNote

NOTES = providers_with("notes")
WAITING = [("email_sent", 3, 10), ("call", 5, 30), ("linkedin_sent", 4, 20)]   # event order: 3, 4, 5


def waiting_notes() -> list[WaitingNote]:
    return [WaitingNote(f"evt{eid}-conn1", EventInfo(kind, at(minute), event_id=eid))
            for kind, eid, minute in WAITING]


@pytest.mark.parametrize("spec", NOTES, ids=ids(NOTES))
@pytest.mark.parametrize("found", ["none", "matched"])
def test_waiting_notes_go_before_the_triggers_own_note_in_event_order(spec, found):
    rt = spec.record_types[0]
    s = settings_for(spec, {f"add_{rt}": "reply"})
    state = not_found(spec) if found == "none" else matched(spec)
    push = run(spec, "reply", s, state=state, event_id=6, minutes=40, key="evt6-conn1")
    assert push.outcome == PUSH and push.backfill
    assert kinds(push)[0] == (OP_CREATE if found == "none" else OP_LINK)
    remote_id = None if found == "none" else state.remote_id   # a create's id is known once it ran
    backfill = backfill_notes(waiting_notes(), s, rt, remote_id, capabilities=spec.capabilities)
    ops = with_backfill(push.operations, backfill)

    notes = [op for op in ops if op.kind == OP_ADD_NOTE]
    assert [op.params["event_id"] for op in notes] == [3, 4, 5, 6]
    assert {op.remote_id for op in notes} == {remote_id}
    # Everything else is the plan as it was, in its order, ahead of every note.
    others = [op for op in push.operations if op.kind != OP_ADD_NOTE]
    assert list(ops[:len(others)]) == others and len(ops) == len(push.operations) + 3


def test_without_a_note_of_its_own_the_back_fill_goes_last():
    spec = NOTES[0]
    rt = spec.record_types[0]
    s = settings_for(spec, {f"add_{rt}": "added", "note_sources": ["email_sent", "call", "linkedin_sent"]})
    push = run(spec, "added", s, state=not_found(spec), key="evt2-conn1")
    assert OP_ADD_NOTE not in kinds(push)
    backfill = backfill_notes(waiting_notes(), s, rt, None, capabilities=spec.capabilities)
    assert with_backfill(push.operations, backfill) == push.operations + tuple(backfill)
    assert with_backfill(push.operations, []) == push.operations


def test_a_waiting_note_with_settings_of_its_own_is_made_under_them():
    """Another recruiter's waiting note: made (or not) under the settings its own run resolves."""
    spec = NOTES[0]
    rt = spec.record_types[0]
    push_settings = settings_for(spec, {"note_sources": ["call"]})
    theirs = settings_for(spec, {"note_sources": ["email_sent", "linkedin_sent"]})
    notes = [WaitingNote(n.intent_key, n.event, theirs if n.event.kind != "call" else None)
             for n in waiting_notes()]
    made = backfill_notes(notes, push_settings, rt, "7", capabilities=spec.capabilities)
    assert [op.params["event_kind"] for op in made] == ["email_sent", "linkedin_sent", "call"]
    assert backfill_notes(waiting_notes(), theirs, rt, "7", capabilities=spec.capabilities) == made[:2]
