"""A whole sequence against a real SMTP server: emails go out in order and on schedule (days,
then business hours in the team's time zone), a LinkedIn task waits on "My tasks" until ticked
off, and a reply stops that person's sequence while the other carries on. Time is injected."""
from __future__ import annotations

from datetime import timedelta

from outreach_support import MONDAY_10AM, add_steps
from sqlalchemy import select

from core import db
from models import OutreachEvent, SequenceState, StepRun
from services.enrolments import enrol, record_event
from services.outreach import scheduler, steps, tasks
from sync_support import campaign, profile


def _state(enrolment) -> SequenceState:
    return db.session.scalars(select(SequenceState).where(SequenceState.enrolment_id == enrolment.id)).one()


def test_a_sequence_sends_in_order_on_schedule_and_stops_on_reply(make_user, mailbox_for, smtp, run_worker, clock):
    owner = make_user("recruiter")
    mailbox_for(owner)
    c = campaign(owner, sync_as="none")
    c.name = "Rust engineers"
    add_steps(c,
              {"subject": "Hello {{ first_name }}", "body_text": "Hi {{ first_name }},\n\nAre you open to a chat "
               "about {{ campaign_name }}?\n\n{{ sender_first_name }}"},
              {"kind": "linkedin", "delay_days": 1, "body_text": "Connect with {{ first_name }} at {{ company }}"},
              {"subject": "Re: Hello {{ first_name }}", "body_text": "Following up, {{ first_name }}.",
               "delay_days": 2, "delay_hours": 2})
    ada, _ = enrol(owner, c, profile(1))
    bob, _ = enrol(owner, c, profile(2, first_name="Bob"))
    steps.start(c)
    assert _state(ada).due_at == MONDAY_10AM

    # Step 1, now: one email each, through the SMTP server, with the Message-ID we recorded.
    assert scheduler.tick()["emails"] == 2
    run_worker()
    got = {m.summary()["to"]: m.summary() for m in smtp.catcher.received()}
    assert set(got) == {"Ada1 Lovelace1 <ada1@example.com>", "Bob Lovelace2 <ada2@example.com>"}
    first = got["Ada1 Lovelace1 <ada1@example.com>"]
    assert first["subject"] == "Hello Ada1" and first["from"] == "Riley Recruiter <riley@agency.test>"
    assert "Are you open to a chat about Rust engineers?" in first["text"] and "Riley" in first["text"]
    assert "<p>Hi Ada1,</p>" in first["html"]
    run = db.session.scalars(select(StepRun).where(StepRun.enrolment_id == ada.id)).one()
    assert run.state == "sent" and run.message_id == first["message_id"]
    assert first["list_unsubscribe"].startswith("<http://shoal.test/u/")
    sent = db.session.scalars(select(OutreachEvent).where(OutreachEvent.kind == "email_sent")).all()
    assert len(sent) == 2 and sent[0].data["message_id"]

    # Step 2 is a LinkedIn task a day later: nothing before, a task for the owner then.
    assert _state(ada).due_at == MONDAY_10AM + timedelta(days=1)
    clock.at = MONDAY_10AM + timedelta(hours=23)
    assert scheduler.tick()["tasks"] == 0
    clock.at = MONDAY_10AM + timedelta(days=1)
    assert scheduler.tick()["tasks"] == 2
    mine = tasks.open_tasks(owner)
    assert [t.script for t in mine] == ["Connect with Ada1 at Analytical Engines",
                                       "Connect with Bob at Analytical Engines"]

    # Bob replies: his sequence stops and his task goes away; Ada's task is ticked off.
    record_event(bob, "reply", channel="email", body="Not now, thanks")
    assert _state(bob).status == "stopped" and _state(bob).reason == "Replied"
    assert [t.person.first_name for t in tasks.open_tasks(owner)] == ["Ada1"]
    clock.at = MONDAY_10AM + timedelta(days=1, hours=6)        # Tuesday 16:00
    assert tasks.complete(owner, mine[0].run)
    assert not tasks.complete(owner, mine[0].run)              # once
    assert db.session.scalars(select(OutreachEvent.kind).where(OutreachEvent.enrolment_id == ada.id)
                              .order_by(OutreachEvent.id)).all() == ["added", "email_sent", "linkedin_sent"]

    # Step 3: two days after Tuesday 16:00, then two business hours: Thursday 16:00 + 1 h, Friday 09:00 + 1 h.
    due = _state(ada).due_at
    assert due == MONDAY_10AM + timedelta(days=4)              # Friday 10:00
    clock.at = due - timedelta(minutes=1)
    assert scheduler.tick()["emails"] == 0
    clock.at = due
    assert scheduler.tick()["emails"] == 1
    run_worker()
    subjects = [m.summary()["subject"] for m in smtp.catcher.received()]
    assert subjects.count("Re: Hello Ada1") == 1 and not any("Bob" in s for s in subjects[2:])
    last = smtp.catcher.received()[-1].summary()
    assert last["in_reply_to"] == first["message_id"]          # the follow-up threads under the first
    assert _state(ada).status == "finished"

    # Nothing is ever sent twice: more ticks and workers change nothing.
    clock.at = due + timedelta(days=3)
    scheduler.tick()
    run_worker()
    assert len(smtp.catcher.received()) == 3
