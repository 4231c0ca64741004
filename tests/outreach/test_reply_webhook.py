"""A reply arriving through the inbound-mail webhook (outreach-b's services.inbound) to an email
the sequence really sent stops that person's sequence: the stop hook sits where every event passes
(services.enrolments), so the webhook gets it without knowing about sequences."""
from __future__ import annotations

from datetime import timedelta

from outreach_support import MONDAY_10AM, add_steps
from sqlalchemy import select

from core import db
from models import SequenceState, Team
from services import inbound
from services.enrolments import enrol
from services.outreach import scheduler, steps
from sync_support import campaign, profile


def test_a_webhook_reply_to_a_sent_email_stops_the_sequence(app, make_user, mailbox_for, smtp, run_worker, clock):
    owner = make_user("recruiter")
    mailbox_for(owner)
    c = campaign(owner, sync_as="none")
    add_steps(c, {"subject": "Hello {{ first_name }}", "body_text": "Hi"},
              {"subject": "Again", "body_text": "Second", "delay_days": 1})
    ada, _ = enrol(owner, c, profile(1))
    steps.start(c)
    scheduler.tick()
    run_worker()
    sent = smtp.catcher.received()[0].summary()
    secret = inbound.rotate_secret(db.session.get(Team, owner.team_id))
    r = app.test_client().post("/hooks/inbound-mail", headers={"X-Shoal-Secret": secret}, json={
        "from": "Ada <ada1@example.com>", "to": "riley@agency.test", "subject": f"Re: {sent['subject']}",
        "text": "Yes, let's talk", "message_id": "<reply1@mail.example>", "in_reply_to": sent["message_id"]})
    assert r.status_code in (200, 201, 202), r.get_data(as_text=True)
    state = db.session.scalars(select(SequenceState).where(SequenceState.enrolment_id == ada.id)).one()
    assert state.status == "stopped" and state.reason == "Replied"
    clock.at = MONDAY_10AM + timedelta(days=2)
    scheduler.tick()
    run_worker()
    assert len(smtp.catcher.received()) == 1
