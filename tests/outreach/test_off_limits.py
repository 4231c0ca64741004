"""Rule 7 at send time, against the CATS sandbox over loopback: step 1 goes out; then someone marks
the person off-limits in CATS (the CRM's own API, not our adapter); step 2 is blocked with the
reason, shows as blocked, stops the sequence and is never sent later. With "Block emails to
recipients marked as off-limits" off, the same person gets the email."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from outreach_support import MONDAY_10AM, add_steps
from sqlalchemy import select

from core import db
from models import AuditEntry, CrmLink, SequenceState, StepRun
from sandbox import cats as cats_sandbox
from services.enrolments import enrol
from services.outreach import scheduler, steps
from sync_support import campaign, connect, profile, team_settings


def _mark_off_limits(server, remote_id: str) -> None:
    """What a CATS user does: set the candidate's consent to declined, through CATS's API."""
    resp = requests.put(f"{server.base}{cats_sandbox.API_ROOT}/candidates/{remote_id}",
                        json={"consent_status": "declined"},
                        headers={"Authorization": f"Token {cats_sandbox.DEFAULT_CREDENTIALS['api_key']}"},
                        timeout=10)
    assert resp.status_code in (200, 204), resp.text


def _setup(make_user, sandbox, mailbox_for, run_worker, blocking: bool):
    owner = make_user("recruiter")
    mailbox_for(owner)
    server = sandbox("cats")
    connect(owner, "cats", server)
    team_settings(owner, "cats", {"block_off_limits": blocking, "add_candidate": "added"})
    c = campaign(owner, sync_as="candidate")
    add_steps(c, {"subject": "Hello {{ first_name }}", "body_text": "Hi"},
              {"subject": "Following up", "body_text": "Again", "delay_days": 1})
    ada, _ = enrol(owner, c, profile(1))
    run_worker()                                     # the push creates the candidate in CATS
    link = db.session.scalars(select(CrmLink).where(CrmLink.person_id == ada.person_id)).one()
    steps.start(c)
    scheduler.tick()
    run_worker()
    return server, ada, link


@pytest.mark.parametrize("blocking", [True, False])
def test_off_limits_marked_between_two_steps(make_user, sandbox, mailbox_for, run_worker, smtp, clock, blocking):
    server, ada, link = _setup(make_user, sandbox, mailbox_for, run_worker, blocking)
    assert [m.summary()["subject"] for m in smtp.catcher.received()] == ["Hello Ada1"]

    _mark_off_limits(server, link.remote_id)
    clock.at = MONDAY_10AM + timedelta(days=1)
    scheduler.tick()
    run_worker()
    second = db.session.scalars(select(StepRun).where(StepRun.enrolment_id == ada.id)
                                .order_by(StepRun.id.desc())).first()
    if not blocking:
        assert second.state == "sent"
        assert len(smtp.catcher.received()) == 2
        return
    assert second.state == "blocked"
    assert "off-limits" in second.reason and "CATS" in second.reason and "declined" in second.reason
    state = db.session.scalars(select(SequenceState).where(SequenceState.enrolment_id == ada.id)).one()
    assert state.status == "stopped" and "off-limits" in state.reason
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.operation == "block")).one()
    assert audit.result == "refused" and audit.rule == "rule 7: off-limits"

    # Never sent later by mistake: days of ticks and workers, still one email.
    for day in (2, 3, 7):
        clock.at = MONDAY_10AM + timedelta(days=day)
        scheduler.tick()
        run_worker()
    assert len(smtp.catcher.received()) == 1
    assert db.session.get(StepRun, second.id).state == "blocked"


def test_a_crm_that_cannot_answer_holds_the_email_back(app, make_user, sandbox, mailbox_for, run_worker, smtp,
                                                      clock):
    """CATS down when the email is due: never sent unchecked; retried, then shown as failed."""
    server, ada, _link = _setup(make_user, sandbox, mailbox_for, run_worker, True)
    app.config["OUTREACH_RETRY_DELAYS"] = (0, 0)      # retries at once: one burst runs them all
    requests.post(f"{server.base}/__sandbox/faults", json={"mode": "503", "count": 100}, timeout=5)
    clock.at = MONDAY_10AM + timedelta(days=1)
    scheduler.tick()
    run_worker()
    run = db.session.scalars(select(StepRun).where(StepRun.enrolment_id == ada.id)
                             .order_by(StepRun.id.desc())).first()
    assert run.state == "failed" and run.attempts == 3
    assert "Gave up after 3 attempts" in run.reason and "off-limits" in run.reason
    assert len(smtp.catcher.received()) == 1
