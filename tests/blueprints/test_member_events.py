"""Every outreach trigger reachable from the campaign and person pages, end to end: the Flask test
client (CSRF on), the real outbox, a real RQ burst worker and the CATS sandbox over a socket. Team
settings are written as SettingsLayer rows (the settings UI is another slice)."""
from __future__ import annotations

import requests
from people_support import TOKEN, candidates, count, edit, intent_of, notes_on, record, start
from sqlalchemy import func, select
from sync_support import campaign, profile

from core import db
from models import AuditEntry, OutreachEvent, Person, SyncIntent
from services.push.dispatch import dispatch


def in_order(bodies, *texts):
    """The notes are exactly `texts`, one each, in this order."""
    return len(bodies) == len(texts) and all(text in body for body, text in zip(bodies, texts))


def test_reply_trigger_creates_the_candidate_with_the_reply_note(logged_in, sandbox, run_worker):
    server, b, enrolment = start(logged_in, sandbox, run_worker, 1, add_when="reply")
    added = intent_of("added", enrolment.person_id)
    assert added.state == "skipped" and "reply" in added.reason
    assert candidates(server, "ada1@example.com") == []

    r = record(b, enrolment, "reply", "Keen to talk next week")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    intent = intent_of("reply", enrolment.person_id)
    assert f'id="intent-{intent.id}-status"' in html and "Recorded: Replied" in html
    assert 'hx-trigger="load delay:1s"' in html          # the shared fragment polls itself
    run_worker()
    assert intent_of("reply", enrolment.person_id).state == "synced"
    [cand] = candidates(server, "ada1@example.com")
    [note] = notes_on(server, cand)
    assert "Keen to talk next week" in note["notes"]
    status = b.get(f"/intents/{intent.id}/status", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Synced" in status and "hx-trigger" not in status

    # The member's name on the campaign page leads to the person page, which shows the timeline.
    page = b.get(f"/campaigns/{enrolment.campaign_id}").get_data(as_text=True)
    assert f'href="/people/{enrolment.person_id}"' in page
    person_page = b.get(f"/people/{enrolment.person_id}").get_data(as_text=True)
    assert "Replied" in person_page and "Keen to talk next week" in person_page
    assert f'<span class="crm-id">Candidate #{cand["id"]} in CATS</span>' in person_page   # the CRM record (no web address: text)
    # So do the names in the Activity log.
    log_page = b.get("/activity").get_data(as_text=True)
    assert f'<a href="/people/{enrolment.person_id}">Ada1 Lovelace1</a>' in log_page


def test_interested_trigger_waits_for_interest_and_back_fills_the_reply(logged_in, sandbox, run_worker):
    server, b, enrolment = start(logged_in, sandbox, run_worker, 2, add_when="interested")
    record(b, enrolment, "reply", "Tell me more")
    run_worker()
    reply = intent_of("reply", enrolment.person_id)
    assert reply.state == "waiting" and "until this person is added" in reply.reason
    assert candidates(server, "ada2@example.com") == []

    record(b, enrolment, "interested", "Yes, let's do it")
    run_worker()
    assert intent_of("interested", enrolment.person_id).state == "synced"
    assert intent_of("reply", enrolment.person_id).state == "synced"
    [cand] = candidates(server, "ada2@example.com")
    bodies = [n["notes"] for n in notes_on(server, cand)]
    # The waiting reply is back-filled before the trigger's own note: the order they happened in.
    assert len(bodies) == 2 and "Tell me more" in bodies[0] and "Yes, let's do it" in bodies[1]


def test_email_sent_is_one_activity_on_the_linked_candidate(logged_in, sandbox, run_worker):
    server, b, enrolment = start(logged_in, sandbox, run_worker, 3)
    [cand] = candidates(server, "ada3@example.com")
    assert notes_on(server, cand) == []
    record(b, enrolment, "email_sent", "Intro: the compiler team")
    run_worker()
    [note] = notes_on(server, cand)
    assert "Email sent (email)" in note["notes"] and "Intro: the compiler team" in note["notes"]
    assert intent_of("email_sent", enrolment.person_id).state == "synced"


def test_only_notes_to_synced_records_wait_and_are_back_filled_in_order(logged_in, sandbox, run_worker):
    server, b, enrolment = start(logged_in, sandbox, run_worker, 4, add_when="reply",
                                 settings={"only_notes_to_synced": True})
    record(b, enrolment, "email_sent", "First touch")
    record(b, enrolment, "linkedin_sent", "Second touch")
    run_worker()
    for kind in ("email_sent", "linkedin_sent"):
        assert intent_of(kind, enrolment.person_id).state == "waiting"
    page = b.get(f"/people/{enrolment.person_id}").get_data(as_text=True)
    assert "Waiting" in page and "Note waits until this person is added" in page

    record(b, enrolment, "reply", "Third: a reply")
    run_worker()
    [cand] = candidates(server, "ada4@example.com")
    bodies = [n["notes"] for n in notes_on(server, cand)]
    # The waiting notes are back-filled in the order they happened, before the trigger's own note.
    assert in_order(bodies, "First touch", "Second touch", "Third: a reply")
    kinds = ("email_sent", "linkedin_sent", "reply")
    assert {intent_of(k, enrolment.person_id).state for k in kinds} == {"synced"}


def test_three_waiting_notes_and_the_trigger_are_four_notes_in_event_order(logged_in, sandbox, run_worker):
    server, b, enrolment = start(logged_in, sandbox, run_worker, 5, add_when="reply")
    touches = (("email_sent", "One: an email"), ("linkedin_sent", "Two: a message"),
               ("call", "Three: a call"))
    for kind, text in touches:
        record(b, enrolment, kind, text)
    run_worker()
    assert {intent_of(kind, enrolment.person_id).state for kind, _ in touches} == {"waiting"}

    record(b, enrolment, "reply", "Four: the reply")
    run_worker()
    [cand] = candidates(server, "ada5@example.com")
    texts = [text for _, text in touches] + ["Four: the reply"]
    assert in_order([n["notes"] for n in notes_on(server, cand)], *texts)
    reply = intent_of("reply", enrolment.person_id)
    assert reply.state == "synced"
    for kind, _ in touches:
        waited = intent_of(kind, enrolment.person_id)
        assert (waited.state, waited.reason) == ("synced", f"Note back-filled with intent {reply.id}")
    # Each back-filled note has its audit row, written by the run that made it.
    notes = db.session.scalars(select(AuditEntry).where(AuditEntry.operation == "add_note")
                               .order_by(AuditEntry.id)).all()
    assert [a.intent_id for a in notes] == [reply.id] * 4 and {a.result for a in notes} == {"ok"}
    assert [a.rule.startswith("rule 5: back-filled note") for a in notes] == [True, True, True, False]

    # Had the process died before the back-fill settled, the waiting intents would run again: their
    # own note is the back-filled one (same ledger key), so the CRM still has exactly one of each.
    again = intent_of("email_sent", enrolment.person_id)
    again.state = "pending"
    db.session.commit()
    dispatch([again.id])
    run_worker()
    assert intent_of("email_sent", enrolment.person_id).state == "synced"
    assert in_order([n["notes"] for n in notes_on(server, cand)], *texts)


def test_a_push_waiting_for_mandatory_fields_is_woken_not_back_filled(logged_in, sandbox, run_worker):
    # Campaign A fires on a reply and needs a phone; campaign B adds people straight away.
    server, b, enrolment = start(logged_in, sandbox, run_worker, 6, add_when="reply")
    enrolment.campaign.sync_override = {**enrolment.campaign.sync_override,
                                        "mandatory_fields.candidate": ["phone"]}
    db.session.commit()
    record(b, enrolment, "reply", "Sounds good")
    run_worker()
    refused = intent_of("reply", enrolment.person_id)
    assert refused.state == "waiting" and "Phone" in refused.reason

    other = campaign(b.user)
    added = b.post(f"/campaigns/{other.id}/members", profile(6), page=f"/campaigns/{other.id}")
    assert added.status_code == 303
    run_worker()
    [cand] = candidates(server, "ada6@example.com")
    # B's push created the record; A's reply is a push of its own (still missing the phone), not a
    # note to back-fill: it was run again, refused again, and wrote nothing to the CRM.
    assert notes_on(server, cand) == []
    assert intent_of("reply", enrolment.person_id).state == "waiting"
    refusals = db.session.scalars(select(AuditEntry).where(AuditEntry.intent_id == refused.id,
                                                          AuditEntry.operation == "refuse")).all()
    assert len(refusals) == 2


def test_a_double_submit_is_one_event_and_one_note(logged_in, sandbox, run_worker):
    server, b, enrolment = start(logged_in, sandbox, run_worker, 7)
    html = b.get(f"/campaigns/{enrolment.campaign_id}").get_data(as_text=True)
    token = TOKEN.search(html).group(1)
    first = record(b, enrolment, "reply", "Only once please", token=token)
    second = record(b, enrolment, "reply", "Only once please", token=token)
    assert first.status_code == second.status_code == 200
    assert "already recorded" in second.get_data(as_text=True)
    run_worker()
    assert db.session.scalar(select(func.count()).select_from(OutreachEvent)
                             .where(OutreachEvent.kind == "reply")) == 1
    [cand] = candidates(server, "ada7@example.com")
    assert len([n for n in notes_on(server, cand) if "Only once please" in n["notes"]]) == 1
    # A fresh form (a new token) is a new event.
    record(b, enrolment, "reply", "Second reply")
    run_worker()
    assert len(notes_on(server, cand)) == 2


def test_without_javascript_the_form_redirects_back(logged_in, sandbox, run_worker):
    server, b, enrolment = start(logged_in, sandbox, run_worker, 8)
    r = record(b, enrolment, "call", "Spoke for 10 minutes", htmx=False)
    assert r.status_code == 303 and r.headers["Location"].endswith(
        f"/campaigns/{enrolment.campaign_id}#member-{enrolment.id}")
    page = b.get(f"/campaigns/{enrolment.campaign_id}").get_data(as_text=True)
    assert "Recorded: Call." in page
    run_worker()
    [cand] = candidates(server, "ada8@example.com")
    assert "Spoke for 10 minutes" in notes_on(server, cand)[0]["notes"]


def test_another_team_gets_404_and_nothing_is_written(logged_in, sandbox, run_worker):
    _server, _b, enrolment = start(logged_in, sandbox, run_worker, 9)
    events, person = count(OutreachEvent), db.session.get(Person, enrolment.person_id)
    outsider = logged_in("recruiter")
    assert record(outsider, enrolment, "reply", token="a" * 22).status_code == 404
    assert outsider.get(f"/people/{person.id}").status_code == 404
    assert edit(outsider, person, title="Hijacked").status_code == 404
    assert count(OutreachEvent) == events
    db.session.expire_all()
    assert db.session.get(Person, person.id).title == "Engineer"
    assert "Ada9" not in outsider.get("/activity").get_data(as_text=True)


def test_bad_activity_inputs_are_422_and_write_nothing(logged_in, sandbox, run_worker):
    _server, b, enrolment = start(logged_in, sandbox, run_worker, 10)
    before = (count(OutreachEvent), count(SyncIntent))
    r = record(b, enrolment, "hired")
    assert r.status_code == 422 and "Unknown activity &#39;hired&#39;" in r.get_data(as_text=True)
    assert record(b, enrolment, "added").status_code == 422          # not recordable by hand
    assert record(b, enrolment, "manual_update").status_code == 422
    assert record(b, enrolment, "reply", "x" * 5001).status_code == 422
    assert record(b, enrolment, "reply", token="<bad token>").status_code == 422
    no_csrf = b.client.post(f"/people/enrolments/{enrolment.id}/activity", data={"kind": "reply"})
    assert no_csrf.status_code == 400
    no_js = record(b, enrolment, "hired", htmx=False)
    assert no_js.status_code == 422 and "Record activity for" in no_js.get_data(as_text=True)

    assert (count(OutreachEvent), count(SyncIntent)) == before


def test_not_interested_fires_the_reply_trigger_and_opted_out_says_why_nothing_was_sent(
        logged_in, sandbox, run_worker):
    server, b, enrolment = start(logged_in, sandbox, run_worker, 11, add_when="reply")
    record(b, enrolment, "opted_out")
    run_worker()
    opted = intent_of("opted_out", enrolment.person_id)
    assert opted.state == "skipped" and "doesn't create notes" in opted.reason
    assert candidates(server, "ada11@example.com") == []
    page = b.get(f"/people/{enrolment.person_id}").get_data(as_text=True)
    assert "Opted out" in page and "Skipped" in page and "doesn&#39;t create notes" in page

    record(b, enrolment, "not_interested", "Not now, maybe next year")
    run_worker()
    assert intent_of("not_interested", enrolment.person_id).state == "synced"
    [cand] = candidates(server, "ada11@example.com")
    assert ["Not now, maybe next year" in n["notes"] for n in notes_on(server, cand)] == [True]


def test_a_parked_sync_shows_on_the_person_page_with_retry(logged_in, sandbox, run_worker):
    server, b, enrolment = start(logged_in, sandbox, run_worker, 12)
    requests.post(f"{server.base}/__sandbox/faults", json={"mode": "401", "count": 5},
                  timeout=5).raise_for_status()
    record(b, enrolment, "call", "Left a voicemail")
    run_worker()
    parked = intent_of("call", enrolment.person_id)
    assert parked.state == "parked" and parked.reason.startswith("auth: ")
    page = b.get(f"/people/{enrolment.person_id}").get_data(as_text=True)
    assert "Needs attention" in page and f'action="/intents/{parked.id}/retry"' in page
    assert page.count('name="submission"') == 1          # the person page can record activity too
