"""One email step for one person, sent at most once: `send_run(run_id, now)`, called by the send
job (jobs/outreach.py) for a `queued` or `retry` StepRun.

In order, right before the send: the person's sequence must still be going (a reply stops it) and
the campaign's not paused; the address must not be on the team's suppression list; the CRM is
asked about off-limits (services.outreach.off_limits); the templates render (a subject that would
carry a line break is refused); the mailbox's spacing and daily cap hold. Then the run is claimed
(queued/retry → sending, one atomic UPDATE, so two jobs for one run can't both send) with its
Message-ID fixed before the first attempt, and the message goes over SMTP.

SMTP down or login refused: retried after OUTREACH_RETRY_DELAYS, then `failed` with the error
(the person waits on that step until someone retries or skips it). A failure after the server may
have accepted the message is never retried by itself. A permanent refusal of the recipient is a
bounce. Sent: `email_sent` recorded through services.enrolments (the sync engine sees it), the
next step scheduled."""
from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from core import db, get_redis
from models import (Campaign, Enrolment, Mailbox, Person, SequenceState, SequenceStep, StepRun, Team, User)
from providers.errors import ProviderError
from services.outage import error_text
from services.enrolments import record_event
from services.outreach import clock, mailboxes, off_limits, state as states, suppression
from services.outreach.mailer import Outgoing, SmtpFailure, build, new_message_id, send
from services.outreach.scheduler import enqueue_send
from services.outreach.templating import TemplateProblem, context_for, render, render_subject, text_to_html
from services.outreach.unsubscribe import url_for_run

log = logging.getLogger("shoal.outreach")
DEFAULT_RETRY_DELAYS = (60, 300, 900, 3600)


def send_run(run_id: int, now: datetime | None = None) -> str:
    """Send one run if everything allows it; returns the run's state afterwards."""
    now = now or clock.now()
    run = db.session.get(StepRun, run_id)
    if run is None or run.state not in ("queued", "retry"):
        return run.state if run else "gone"
    if run.next_attempt_at and run.next_attempt_at > now + timedelta(seconds=1):
        enqueue_send(run.id, (run.next_attempt_at - now).total_seconds())   # woken early: sleep on
        return run.state
    enrolment = db.session.get(Enrolment, run.enrolment_id)
    state = db.session.scalars(select(SequenceState).where(SequenceState.enrolment_id == enrolment.id)).first()
    if state is not None and state.status == "stopped":
        return _finish(run, "cancelled", f"Sequence stopped: {state.reason}")
    sequence = states.sequence_of(run.campaign_id)
    if sequence is None or sequence.status != "running":
        # Paused: nothing was sent, so the run goes away and the step is due again on resume.
        db.session.delete(run)
        if state is not None:
            state.status, state.due_at, state.reason = "scheduled", now, "Paused"
        db.session.commit()
        return "paused"
    step = db.session.get(SequenceStep, run.step_id)
    if step.archived:
        _finish(run, "cancelled", "The step was removed from the sequence", commit=False)
        return _advanced(state, now, "cancelled")
    person = db.session.get(Person, enrolment.person_id)
    campaign = db.session.get(Campaign, run.campaign_id)
    mailbox = db.session.get(Mailbox, run.mailbox_id) if run.mailbox_id else None
    if mailbox is None:
        return _fail(run, "The campaign owner's mailbox was removed; set one up on the Account page, then Retry")
    if not person.email:
        return _block(run, state, "No email address for this person")
    entry = suppression.match(run.team_id, person.email)
    if entry is not None:
        label = suppression.REASON_LABELS.get(entry.reason, entry.reason).lower()
        return _block(run, state, f"Blocked: {entry.value} is on the team's suppression list ({label})")
    try:
        reason = off_limits.blocked_reason(enrolment, person, campaign, run.id)
    except ProviderError as exc:
        return _retry(run, now, f"Couldn't ask the CRM about off-limits ({error_text(exc)})")
    if reason:
        return _block(run, state, reason)
    sender = db.session.get(User, campaign.owner_id)
    try:
        out = _outgoing(run, step, person, sender, mailbox, campaign)
    except TemplateProblem as exc:
        return _fail(run, f"{exc} Fix the step, then Retry.")
    return _send_now(run, state, mailbox, out, now)


def _outgoing(run: StepRun, step: SequenceStep, person: Person, sender: User, mailbox: Mailbox,
              campaign: Campaign) -> Outgoing:
    ctx = context_for(person, sender, mailbox, campaign)
    subject = render_subject(step.subject or "", ctx)
    unsubscribe = url_for_run(run.id)
    text = render(step.body_text, ctx).rstrip() + f"\n\n--\nNot interested? Unsubscribe: {unsubscribe}\n"
    html = render(step.body_html, ctx, html=True) if step.body_html else text_to_html(render(step.body_text, ctx))
    html += f'\n<p style="color:#6b7280;font-size:12px">Not interested? <a href="{unsubscribe}">Unsubscribe</a></p>'
    previous = db.session.scalars(select(StepRun.message_id).where(
        StepRun.enrolment_id == run.enrolment_id, StepRun.state == "sent", StepRun.message_id.is_not(None))
        .order_by(StepRun.sent_at.desc())).first()
    domain = mailbox.from_address.rsplit("@", 1)[-1]
    return Outgoing(mailbox.from_name or sender.name or "", mailbox.from_address, person.full_name, person.email,
                    subject, text, html, run.message_id or new_message_id(domain), unsubscribe, previous)


def _send_now(run: StepRun, state: SequenceState | None, mailbox: Mailbox, out: Outgoing, now: datetime) -> str:
    lock = get_redis().lock(f"shoal:mailbox:{mailbox.id}", timeout=120, blocking=False)
    if not lock.acquire():
        enqueue_send(run.id, 2.0)   # another send from this mailbox is under way
        return run.state
    try:
        db.session.refresh(mailbox)
        if mailbox.last_sent_at and mailbox.spacing_seconds:
            wait = (mailbox.last_sent_at + timedelta(seconds=mailbox.spacing_seconds) - now).total_seconds()
            if wait > 1:
                enqueue_send(run.id, wait)
                return run.state
        team = db.session.get(Team, run.team_id)
        hours = states.hours_for(team)
        sent_today = db.session.scalar(select(func.count()).select_from(StepRun).where(
            StepRun.mailbox_id == mailbox.id, StepRun.sent_at >= hours.day_start(now))) or 0
        if sent_today >= mailbox.daily_cap:
            tomorrow = hours.day_start(now) + timedelta(days=1)
            run.next_attempt_at, run.reason = tomorrow, f"Daily limit of {mailbox.daily_cap} emails reached; goes tomorrow"
            db.session.commit()
            enqueue_send(run.id, (tomorrow - now).total_seconds())
            return run.state
        # The claim: only one job gets the row; the Message-ID is fixed before the first attempt.
        claimed = db.session.execute(update(StepRun).where(StepRun.id == run.id, StepRun.state.in_(("queued", "retry")))
                                     .values(state="sending", attempts=StepRun.attempts + 1,
                                             message_id=func.coalesce(StepRun.message_id, out.message_id),
                                             subject=out.subject[:300], updated_at=now)).rowcount
        db.session.commit()
        if not claimed:
            return db.session.get(StepRun, run.id).state
        db.session.refresh(run)
        out = replace(out, message_id=run.message_id)
        try:
            send(mailboxes.smtp_settings(mailbox), build(out), mailbox.from_address, out.to_address)
        except SmtpFailure as exc:
            return _smtp_failed(run, state, mailbox, exc, now)
        except Exception:   # the message may have been accepted: never retried by itself
            log.exception("send of step run %s broke mid-way", run.id)
            return _fail(run, "The connection broke while sending; it may have been "
                              "delivered, so it isn't sent again by itself. Check the Sent folder, then Retry or Skip.")
        run.state, run.sent_at, run.reason, run.next_attempt_at = "sent", now, None, None
        mailbox.last_sent_at = now
        enrolment = db.session.get(Enrolment, run.enrolment_id)
        if state is not None and state.status != "stopped":
            states.advance(state, now)
        # One commit: the run, the mailbox, the next step, the event and its sync intent.
        record_event(enrolment, "email_sent", channel="email", body=out.subject,
                     data={"message_id": run.message_id, "step_id": run.step_id, "run_id": run.id})
        return "sent"
    finally:
        try:
            lock.release()
        except Exception:   # expired meanwhile: nothing to release
            pass


def _smtp_failed(run: StepRun, state: SequenceState | None, mailbox: Mailbox, exc: SmtpFailure, now: datetime) -> str:
    if exc.auth:
        mailbox.test_state, mailbox.test_message, mailbox.tested_at = "failed", str(exc), now
    if exc.permanent and exc.recipient:
        run.state, run.reason = "blocked", f"Bounced: {exc}"
        enrolment = db.session.get(Enrolment, run.enrolment_id)
        record_event(enrolment, "bounced", channel="email", body=str(exc), data={"run_id": run.id})
        return "blocked"
    if exc.permanent:
        return _fail(run, str(exc))
    return _retry(run, now, str(exc), counted=True)   # certainly not accepted: safe to try again


def _retry(run: StepRun, now: datetime, reason: str, counted: bool = False) -> str:
    """Try again after the next delay, or give up (`failed`) once they are used up. `counted`: the
    claim already counted this attempt."""
    delays = tuple(current_app.config.get("OUTREACH_RETRY_DELAYS") or DEFAULT_RETRY_DELAYS)
    attempts = run.attempts if counted else run.attempts + 1
    if attempts > len(delays):
        run.attempts = attempts
        return _fail(run, f"Gave up after {attempts} attempts: {reason}")
    delay = delays[attempts - 1]
    run.state, run.attempts, run.reason = "retry", attempts, f"{reason}. Trying again in {_human(delay)}."
    run.next_attempt_at = now + timedelta(seconds=delay)
    db.session.commit()
    enqueue_send(run.id, delay)
    return "retry"


def _human(seconds: float) -> str:
    return f"{int(seconds // 60)} min" if seconds >= 60 else f"{int(seconds)} s"


def _fail(run: StepRun, reason: str) -> str:
    return _finish(run, "failed", reason)


def _block(run: StepRun, state: SequenceState | None, reason: str) -> str:
    """Blocked is final: the run can never be sent later, and the person's sequence stops here."""
    _finish(run, "blocked", reason, commit=False)
    if state is not None:
        states.stop(state, reason)
    db.session.commit()
    return "blocked"


def _finish(run: StepRun, new_state: str, reason: str, commit: bool = True) -> str:
    run.state, run.reason, run.next_attempt_at = new_state, reason, None
    if commit:
        db.session.commit()
    return new_state


def _advanced(state: SequenceState | None, now: datetime, result: str) -> str:
    if state is not None and state.status != "stopped":
        states.advance(state, now)
    db.session.commit()
    return result
