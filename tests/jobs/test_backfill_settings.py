"""Rule 5 back-fill across recruiters: a note that waited for the record is back-filled under the
settings its own run would use (its recruiter's personal layer, its campaign), not the settings of
whichever push happened to create the record."""
from __future__ import annotations

from sync_support import campaign, connect, intents, profile, sandbox_state, team_settings

from core import db
from models import SettingsLayer
from services import enrolments
def personal(user, values):
    db.session.add(SettingsLayer(team_id=user.team_id, user_id=user.id, provider_key="cats", values=values))
    db.session.commit()


def two_recruiters(make_user, sandbox):
    """Ann and Bob of one team on CATS; records are created on "interested", and notes from before
    wait for the record."""
    server = sandbox("cats")
    ann = make_user("recruiter")
    bob = make_user("recruiter", team=ann.team)
    connect(ann, "cats", server)
    team_settings(ann, "cats", {"add_candidate": "interested", "only_notes_to_synced": True})
    return server, ann, bob


def test_a_waiting_note_is_back_filled_under_its_own_recruiters_settings(make_user, sandbox, run_worker):
    server, ann, bob = two_recruiters(make_user, sandbox)
    personal(ann, {"note_sources": ["call", "reply"]})
    personal(bob, {"note_sources": ["reply"]})   # Bob's own calls make no note; Ann's still do

    enrolment, _ = enrolments.enrol(ann, campaign(ann), profile(1))
    enrolments.record_event(enrolment, "call", channel="phone", body="Ann called: keen on a move")
    run_worker()
    assert [i.state for i in intents()] == ["skipped", "waiting"]

    # Bob adds the same person to his campaign, which pushes on add: the record is created and
    # Ann's call note goes with that push, in order, even though Bob's settings make no call notes.
    enrolments.enrol(bob, campaign(bob, sync_override={"add_candidate": "added"}), profile(1))
    run_worker()
    ann_call, bob_push = intents()[1], intents()[2]
    assert bob_push.state == "synced", bob_push.reason
    assert ann_call.state == "synced" and ann_call.reason == f"Note back-filled with intent {bob_push.id}"
    tables = sandbox_state(server)["tables"]
    [candidate] = tables["candidates"]
    notes = [a for a in tables.get("activities", []) if "Ann called" in str(a)]
    assert len(notes) == 1 and str(candidate["id"]) in str(notes[0])


def test_a_waiting_note_its_own_settings_no_longer_make_is_left_to_its_own_run(make_user, sandbox, run_worker):
    server, ann, bob = two_recruiters(make_user, sandbox)
    enrolment, _ = enrolments.enrol(ann, campaign(ann), profile(2))
    enrolments.record_event(enrolment, "call", channel="phone", body="Ann called again")
    run_worker()
    assert intents()[1].state == "waiting"
    personal(ann, {"note_sources": ["reply"]})   # Ann stops logging calls before the record exists
    personal(bob, {"note_sources": ["call", "reply"]})

    enrolments.enrol(bob, campaign(bob, sync_override={"add_candidate": "added"}), profile(2))
    run_worker()
    ann_call = intents()[1]
    assert ann_call.state == "skipped", ann_call.reason   # woken, and its own run makes no note
    assert not [a for a in sandbox_state(server)["tables"].get("activities", []) if "Ann called" in str(a)]
