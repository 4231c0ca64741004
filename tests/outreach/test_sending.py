"""Sending, when things go wrong, against the real SMTP server on loopback: SMTP down, a login the
server refuses, a temporary refusal, the same send asked for twice, an interrupted send, header
injection through a person's details, the suppression list, the daily cap, and the unsubscribe
link. In every case: the reason is shown on the step, and nothing goes out twice."""
from __future__ import annotations

from datetime import timedelta

from outreach_support import MONDAY_10AM, add_steps
from sqlalchemy import select

from core import db
from crypto import encrypt_credentials
from models import Mailbox, OutreachEvent, SequenceState, StepRun, Suppression
from sandbox.smtp import free_port
from services.enrolments import enrol
from services.outreach import runs, scheduler, sending, steps, suppression, unsubscribe
from sync_support import campaign, profile


def _one_email(make_user, mailbox_for, people=1, **mailbox):
    owner = make_user("recruiter")
    box = mailbox_for(owner, **mailbox)
    c = campaign(owner, sync_as="none")
    add_steps(c, {"subject": "Hello {{ first_name }} at {{ company }}", "body_text": "Hi {{ first_name }}"},
              {"subject": "Again", "body_text": "Second", "delay_days": 2})
    enrolments = [enrol(owner, c, profile(n))[0] for n in range(1, people + 1)]
    steps.start(c)
    return owner, box, c, enrolments


def _run(enrolment) -> StepRun:
    return db.session.scalars(select(StepRun).where(StepRun.enrolment_id == enrolment.id).order_by(StepRun.id)).first()


def test_smtp_down_retries_then_shows_the_error_and_retry_sends_once(app, make_user, mailbox_for, smtp,
                                                                     run_worker, clock):
    app.config["OUTREACH_RETRY_DELAYS"] = (0, 0)
    _owner, box, c, (ada,) = _one_email(make_user, mailbox_for, port=free_port())   # nothing listens there
    scheduler.tick()
    run_worker()
    run = _run(ada)
    assert run.state == "failed" and run.attempts == 3
    assert "connection refused" in run.reason and smtp.catcher.received() == []
    state = db.session.scalars(select(SequenceState).where(SequenceState.enrolment_id == ada.id)).one()
    assert state.status == "in_progress"          # waits on the failed step: nothing skipped behind the user's back

    box.port = smtp.port                          # the server is back
    db.session.commit()
    assert runs.retry(run)
    run_worker()
    run_worker()
    assert _run(ada).state == "sent" and len(smtp.catcher.received()) == 1


def test_a_refused_login_retries_then_fails_and_marks_the_mailbox(app, make_user, mailbox_for, smtp, run_worker, clock):
    app.config["OUTREACH_RETRY_DELAYS"] = (0,)
    smtp.catcher.username, smtp.catcher.password = "riley", "right-password"
    _owner, box, _c, (ada,) = _one_email(make_user, mailbox_for, username="riley",
                                         password_encrypted=encrypt_credentials({"password": "wrong"}))
    scheduler.tick()
    run_worker()
    run = _run(ada)
    assert run.state == "failed" and "refused the login (535)" in run.reason
    assert db.session.get(Mailbox, box.id).test_state == "failed"
    assert smtp.catcher.received() == []


def test_a_temporary_refusal_is_retried_and_delivered_once(app, make_user, mailbox_for, smtp, run_worker, clock):
    app.config["OUTREACH_RETRY_DELAYS"] = (0, 0)
    smtp.catcher.fail_next(1, 451)
    _owner, _box, _c, (ada,) = _one_email(make_user, mailbox_for)
    scheduler.tick()
    run_worker()
    run = _run(ada)
    assert run.state == "sent" and run.attempts == 2
    assert len(smtp.catcher.received()) == 1


def test_the_same_send_twice_goes_out_once(make_user, mailbox_for, smtp, run_worker, clock):
    _owner, _box, _c, (ada,) = _one_email(make_user, mailbox_for)
    scheduler.tick()
    run_id = _run(ada).id
    scheduler.enqueue_send(run_id)                 # a duplicate job (a sweep, a double enqueue)
    run_worker()
    assert sending.send_run(run_id) == "sent"      # and once more by hand
    assert len(smtp.catcher.received()) == 1
    assert len(db.session.scalars(select(OutreachEvent).where(OutreachEvent.kind == "email_sent")).all()) == 1


def test_an_interrupted_send_is_shown_failed_not_resent(app, make_user, mailbox_for, smtp, run_worker, clock):
    _owner, _box, _c, (ada,) = _one_email(make_user, mailbox_for)
    scheduler.tick()
    run = _run(ada)
    run.state = "sending"                          # the worker died after claiming it
    db.session.commit()
    clock.at = MONDAY_10AM + timedelta(hours=1)
    db.session.execute(StepRun.__table__.update().values(updated_at=MONDAY_10AM))
    db.session.commit()
    out = scheduler.tick()
    run_worker()
    assert out["interrupted"] == 1
    run = _run(ada)
    assert run.state == "failed" and "may have been delivered" in run.reason
    assert smtp.catcher.received() == []


def test_header_injection_through_a_persons_details_is_refused(make_user, mailbox_for, smtp, run_worker, clock):
    owner, _box, c, (ada,) = _one_email(make_user, mailbox_for)
    ada.person.company = "Acme\r\nBcc: everyone@example.com"
    db.session.commit()
    scheduler.tick()
    run_worker()
    run = _run(ada)
    assert run.state == "failed" and "header injection" in run.reason
    assert smtp.catcher.received() == []


def test_the_suppression_list_blocks_an_address_and_a_domain(make_user, mailbox_for, smtp, run_worker, clock):
    owner, _box, _c, (ada, bob, cy) = _one_email(make_user, mailbox_for, people=3)
    suppression.add(owner.team_id, "ada1@example.com")
    db.session.commit()
    scheduler.tick()
    run_worker()
    assert _run(ada).state == "blocked" and "suppression list" in _run(ada).reason
    assert {m.summary()["rcpt_tos"][0] for m in smtp.catcher.received()} == {"ada2@example.com", "ada3@example.com"}
    state = db.session.scalars(select(SequenceState).where(SequenceState.enrolment_id == ada.id)).one()
    assert state.status == "stopped"
    assert suppression.match(owner.team_id, "someone@EXAMPLE.com") is None
    suppression.add(owner.team_id, "@example.com")
    assert suppression.match(owner.team_id, "someone@EXAMPLE.com").value == "@example.com"


def test_the_daily_cap_holds_the_rest_until_tomorrow(make_user, mailbox_for, smtp, run_worker, clock):
    _owner, _box, _c, (ada, bob) = _one_email(make_user, mailbox_for, people=2, daily_cap=1)
    scheduler.tick()
    run_worker()
    assert len(smtp.catcher.received()) == 1
    waiting = db.session.scalars(select(SequenceState).where(SequenceState.status == "scheduled",
                                                             SequenceState.reason.is_not(None))).one()
    assert "Daily limit of 1 emails reached" in waiting.reason
    clock.at = MONDAY_10AM + timedelta(hours=3)
    scheduler.tick()
    run_worker()
    assert len(smtp.catcher.received()) == 1
    clock.at = MONDAY_10AM + timedelta(days=1)    # Tuesday
    scheduler.tick()
    run_worker()
    assert len(smtp.catcher.received()) == 2


def test_spacing_between_two_emails_of_one_mailbox(make_user, mailbox_for, smtp, run_worker, clock):
    """Three due emails on a mailbox spaced 10 s (ticks every 30 s): queued 0, 10 and 20 s apart;
    one woken early goes back to sleep. Spaced 40 s, one email per tick and the rest wait."""
    _owner, box, _c, (ada, bob, cy) = _one_email(make_user, mailbox_for, people=3, spacing_seconds=10)
    scheduler.tick()
    run_worker()
    first, second, third = _run(ada), _run(bob), _run(cy)
    assert first.state == "sent" and second.state == third.state == "queued"
    assert second.next_attempt_at == MONDAY_10AM + timedelta(seconds=10)
    assert third.next_attempt_at == MONDAY_10AM + timedelta(seconds=20)
    assert sending.send_run(third.id) == "queued"          # too early: not sent
    clock.at = MONDAY_10AM + timedelta(seconds=10)
    assert sending.send_run(second.id) == "sent"
    assert len(smtp.catcher.received()) == 2

    box.spacing_seconds = 40
    db.session.commit()
    _o, _b, _c2, people = _one_email(make_user, mailbox_for, people=2, spacing_seconds=40)
    scheduler.tick()
    held = db.session.scalars(select(SequenceState).where(SequenceState.reason.like("Waiting for a sending slot%"))).all()
    assert len(held) == 1


def test_the_unsubscribe_link_records_an_opt_out_once(app, make_user, mailbox_for, smtp, run_worker, clock):
    owner, _box, c, (ada,) = _one_email(make_user, mailbox_for)
    scheduler.tick()
    run_worker()
    header = smtp.catcher.received()[0].summary()["list_unsubscribe"]
    path = header.strip("<>").replace("http://shoal.test", "")
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200 and "ada1@example.com" in page.get_data(as_text=True)
    assert db.session.scalars(select(OutreachEvent).where(OutreachEvent.kind == "opted_out")).all() == []
    for _ in range(2):                              # the one-click POST carries no CSRF token
        resp = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert resp.status_code == 200 and "unsubscribed" in resp.get_data(as_text=True)
    assert len(db.session.scalars(select(OutreachEvent).where(OutreachEvent.kind == "opted_out")).all()) == 1
    assert db.session.scalars(select(Suppression.reason)).all() == ["opted_out"]
    state = db.session.scalars(select(SequenceState).where(SequenceState.enrolment_id == ada.id)).one()
    assert state.status == "stopped" and state.reason == "Unsubscribed"
    assert client.get("/u/not-a-token").status_code == 404
    assert client.post(path[:-3] + "abc").status_code == 404
    assert unsubscribe.run_for_token(path.rsplit("/", 1)[1]).id == _run(ada).id

