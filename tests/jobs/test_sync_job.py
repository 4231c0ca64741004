"""The sync job end to end: real Redis, RQ's SimpleWorker, the CATS sandbox on a socket.

Happy paths and idempotency: create, match-then-update, notes, a job run twice, an intent enqueued
twice, a ledger entry `started` without `done`, and Redis flushed then swept."""
from __future__ import annotations

import requests
from sqlalchemy import select, update
from sync_support import campaign, connect, intents, profile, sandbox_state, team_settings

from core import db, get_redis
from jobs import get_queue, intent_job_id
from jobs.push import run_intent
from models import AppliedOperation, AuditEntry, CrmLink, SyncIntent
from services import enrolments
from services.push import dispatch as push_dispatch
KEY = {"Authorization": "Token cats-sandbox-key"}


def candidates(server, email=None):
    rows = sandbox_state(server)["tables"].get("candidates", [])
    return [r for r in rows if email is None or email in str(r).lower()]


def activities(server):
    return sandbox_state(server)["tables"].get("activities", [])


def test_added_person_is_created_in_the_crm_and_linked(make_user, sandbox, run_worker):
    server = sandbox("cats")
    user = make_user("recruiter")
    conn = connect(user, "cats", server)
    enrolments.enrol(user, campaign(user), profile(1))
    run_worker()
    [intent] = intents()
    assert intent.state == "synced", intent.reason
    [row] = candidates(server, "ada1@example.com")
    link = db.session.scalars(select(CrmLink)).one()
    assert (link.remote_id, link.connection_id, link.record_type) == (str(row["id"]), conn.id, "candidate")
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.operation == "create")).one()
    assert audit.result == "ok" and audit.rule.startswith("rule 2") and audit.remote_id == str(row["id"])
    assert audit.fields_after["email"] == "ada1@example.com"
    assert "cats-sandbox-key" not in str([a.summary for a in db.session.scalars(select(AuditEntry))])
    ledger = db.session.scalars(select(AppliedOperation)).all()
    assert ledger and {op.state for op in ledger} == {"done"}


def test_existing_crm_person_is_matched_linked_and_updated_not_duplicated(make_user, sandbox, run_worker):
    server = sandbox("cats")
    resp = requests.post(f"{server.base}/v3/candidates", headers=KEY, timeout=5,
                         json={"first_name": "Ada2", "last_name": "Lovelace2",
                               "emails": {"primary": "ada2@example.com"}})
    assert resp.status_code == 201
    existing_id = resp.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    user = make_user("recruiter")
    connect(user, "cats", server)
    team_settings(user, "cats", {"update_mode.candidate": "if_blank"})
    enrolments.enrol(user, campaign(user), profile(2, title="Principal Engineer"))
    run_worker()
    [intent] = intents()
    assert intent.state == "synced", intent.reason
    [row] = candidates(server, "ada2@example.com")
    assert str(row["id"]) == existing_id and row["title"] == "Principal Engineer"
    assert db.session.scalars(select(CrmLink)).one().remote_id == existing_id
    ops = [a.operation for a in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert "link" in ops and "update" in ops and "create" not in ops


def test_a_reply_becomes_one_note_on_the_linked_record(make_user, sandbox, run_worker):
    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    enrolment, _ = enrolments.enrol(user, campaign(user), profile(3))
    run_worker()
    enrolments.record_event(enrolment, "reply", channel="email", body="Happy to talk on Tuesday")
    run_worker()
    assert [i.state for i in intents()] == ["synced", "synced"]
    [cand] = candidates(server, "ada3@example.com")
    notes = [a for a in activities(server) if "Happy to talk on Tuesday" in str(a)]
    assert len(notes) == 1 and str(cand["id"]) in str(notes[0])


def test_notes_wait_for_the_record_and_are_back_filled_once_it_exists(make_user, sandbox, run_worker):
    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    team_settings(user, "cats", {"add_candidate": "interested", "only_notes_to_synced": True})
    enrolment, _ = enrolments.enrol(user, campaign(user), profile(4))
    enrolments.record_event(enrolment, "email_sent", channel="email", body="First touch")
    run_worker()
    assert [i.state for i in intents()] == ["skipped", "waiting"]
    assert candidates(server, "ada4@example.com") == []
    enrolments.record_event(enrolment, "interested", body="Sounds great")
    run_worker()
    assert [i.state for i in intents()] == ["skipped", "synced", "synced"]
    assert len(candidates(server, "ada4@example.com")) == 1
    assert len([a for a in activities(server) if "First touch" in str(a)]) == 1


def test_a_job_run_twice_creates_one_record(make_user, sandbox, run_worker):
    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    enrolments.enrol(user, campaign(user), profile(5))
    [intent] = intents()
    assert run_intent(intent.id) == "synced"
    assert run_intent(intent.id) == "synced"      # a duplicate delivery: nothing to do
    # Even if the intent's final state had been lost, the ledger stops a second create.
    db.session.execute(update(SyncIntent).values(state="queued"))
    db.session.commit()
    assert run_intent(intent.id) == "synced"
    run_worker()                                  # the job the outbox enqueued, delivered late
    assert len(candidates(server, "ada5@example.com")) == 1
    assert db.session.scalars(select(CrmLink)).one()


def test_an_intent_enqueued_twice_creates_one_record(make_user, sandbox, run_worker):
    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    enrolments.enrol(user, campaign(user), profile(6))
    [intent] = intents()
    push_dispatch.dispatch([intent.id])
    push_dispatch.dispatch([intent.id])
    assert get_queue("sync").job_ids.count(intent_job_id(intent.id)) >= 2
    run_worker()
    assert intents()[0].state == "synced"
    assert len(candidates(server, "ada6@example.com")) == 1


def test_a_create_started_but_never_finished_is_verified_not_repeated(make_user, sandbox, run_worker):
    """The worker died after the CRM created the record but before `done` and the link were
    written: the next attempt finds the person in the CRM and links it instead of creating."""
    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    enrolments.enrol(user, campaign(user), profile(7))
    run_worker()
    assert len(candidates(server, "ada7@example.com")) == 1
    create_key = db.session.scalars(select(AuditEntry.intent_id)).first()
    db.session.execute(update(AppliedOperation).values(state="started", result={}))
    db.session.execute(CrmLink.__table__.delete())
    db.session.execute(update(SyncIntent).where(SyncIntent.id == create_key).values(state="running"))
    db.session.commit()
    assert push_dispatch.sweep(older_than=0) == 1
    run_worker()
    assert intents()[0].state == "synced"
    assert len(candidates(server, "ada7@example.com")) == 1
    assert db.session.scalars(select(CrmLink)).one()
    # Match before create (rule 2) found the record the dead attempt made, and linked it.
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.operation == "link")).one().result == "ok"


def test_a_note_started_but_never_finished_is_not_added_twice(make_user, sandbox, run_worker):
    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    enrolment, _ = enrolments.enrol(user, campaign(user), profile(8))
    enrolments.record_event(enrolment, "call", channel="phone", body="Left a voicemail")
    run_worker()
    note_intent = intents()[1]
    db.session.execute(update(AppliedOperation).where(AppliedOperation.intent_id == note_intent.id)
                       .values(state="started"))
    db.session.execute(update(SyncIntent).where(SyncIntent.id == note_intent.id).values(state="queued"))
    db.session.commit()
    assert run_intent(note_intent.id) == "synced"
    assert len([a for a in activities(server) if "Left a voicemail" in str(a)]) == 1
    summaries = [a.summary for a in db.session.scalars(select(AuditEntry))]
    assert any("verified in the CRM" in s for s in summaries)


def test_redis_flushed_then_swept_still_completes(make_user, sandbox, run_worker):
    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    enrolments.enrol(user, campaign(user), profile(9))
    get_redis().flushdb()
    assert run_worker() == 0
    assert push_dispatch.sweep(older_than=0) == 1
    run_worker()
    assert intents()[0].state == "synced"
    assert len(candidates(server, "ada9@example.com")) == 1


def test_the_adders_personal_layer_applies_unless_the_team_locked_the_key(make_user, sandbox, run_worker):
    from models import SettingsLayer

    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    team_settings(user, "cats", {"add_candidate": "added"})
    db.session.add(SettingsLayer(team_id=user.team_id, user_id=user.id, provider_key="cats",
                                 values={"add_candidate": "never"}))
    db.session.commit()
    camp = campaign(user)
    enrolments.enrol(user, camp, profile(10))
    run_worker()
    assert intents()[0].state == "skipped" and candidates(server, "ada10@example.com") == []
    team = db.session.scalars(select(SettingsLayer).where(SettingsLayer.user_id.is_(None))).one()
    team.locks = ["add_candidate"]
    db.session.commit()
    enrolments.enrol(user, camp, profile(11))
    run_worker()
    assert intents()[1].state == "synced" and len(candidates(server, "ada11@example.com")) == 1


def test_a_push_missing_mandatory_fields_waits_and_goes_once_they_are_filled(make_user, sandbox, run_worker):
    from models import Person

    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    team_settings(user, "cats", {"mandatory_fields.candidate": ["phone"]})
    enrolment, _ = enrolments.enrol(user, campaign(user), profile(12))
    run_worker()
    [intent] = intents()
    assert intent.state == "waiting" and "phone" in intent.reason.lower()
    assert candidates(server, "ada12@example.com") == []
    person = db.session.get(Person, enrolment.person_id)
    person.phone = "+44 20 7946 0000"
    db.session.commit()
    enrolments.record_event(enrolment, "manual_update", data={"phone": person.phone})
    run_worker()
    assert intents()[0].state == "synced"
    assert len(candidates(server, "ada12@example.com")) == 1


def test_a_note_on_a_linked_record_is_one_http_call(make_user, sandbox, run_worker):
    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    enrolment, _ = enrolments.enrol(user, campaign(user), profile(8))
    run_worker()
    before = sandbox_state(server)["requests"]
    enrolments.record_event(enrolment, "reply", channel="email", body="Call me next week")
    run_worker()
    after = sandbox_state(server)["requests"]
    assert after - before == 1              # the note itself (admin routes are not counted)
    assert [i.state for i in intents()] == ["synced", "synced"]


def test_a_note_for_a_record_deleted_in_the_crm_drops_the_link_and_rematches(make_user, sandbox, run_worker):
    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    enrolment, _ = enrolments.enrol(user, campaign(user), profile(9))
    run_worker()
    [cand] = candidates(server, "ada9@example.com")
    requests.delete(f"{server.base}/v3/candidates/{cand['id']}", headers=KEY, timeout=5).raise_for_status()
    enrolments.record_event(enrolment, "reply", channel="email", body="Still interested")
    run_worker()
    assert db.session.scalars(select(CrmLink).where(CrmLink.remote_id == str(cand["id"]))).first() is None
    note_intent = intents()[-1]
    # The person is no longer in CATS: the note can't go anywhere yet, and says so (never a loop).
    assert note_intent.state in ("waiting", "skipped", "synced"), note_intent.reason
    assert not [a for a in activities(server) if "Still interested" in str(a)
                and str(cand["id"]) in str(a.get("data_item", a))]


def test_a_ledger_key_already_taken_mid_run_keeps_what_the_run_already_did(make_user, sandbox):
    """The run creates the record (its `done`, audit row and link pending), then finds the next
    operation's key already in the ledger: that insert's transaction is rolled back, and what the
    run had done is written again, not lost — the record stays linked, nothing is repeated."""
    from sync.ops import op_key

    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    enrolment, _ = enrolments.enrol(user, campaign(user, sync_override={"add_candidate": "reply"}), profile(9))
    event = enrolments.record_event(enrolment, "reply", channel="email", body="Happy to talk")
    reply = intents()[-1]
    # As if another attempt had already written this reply's note.
    db.session.add(AppliedOperation(team_id=user.team_id, key=op_key(reply.idempotency_key, "add_note",
                                                                     "candidate", event.id),
                                    intent_id=reply.id, state="done", result={"note_id": "n1"}))
    db.session.commit()
    assert run_intent(reply.id) == "synced"
    [cand] = candidates(server, "ada9@example.com")
    assert activities(server) == []   # the ledger said the note was made: not made again
    link = db.session.scalars(select(CrmLink)).one()
    assert link.remote_id == str(cand["id"])
    create = db.session.scalars(select(AuditEntry).where(AuditEntry.operation == "create")).one()
    assert create.result == "ok" and create.remote_id == str(cand["id"])
    ledger = {row.key.split("-")[-2]: row.state for row in db.session.scalars(select(AppliedOperation))}
    assert ledger == {"create": "done", "add_note": "done"}
