"""The sequence scheduler: `tick(now)` turns due steps into step runs. The worker calls it every
OUTREACH_TICK_SECONDS (jobs/schedule.py); tests call it with their own `now`.

- An email step becomes a `queued` StepRun on the campaign owner's mailbox and a send job, spaced
  `spacing_seconds` apart per mailbox, never more per day than its `daily_cap` (the team's day).
- A LinkedIn message or call becomes an `open` task on the owner's "My tasks" page.
- Nothing falls due outside the team's business hours; a paused sequence sends nothing.
- A send interrupted mid-way (worker killed) is shown as failed, never re-sent by itself; a send
  job lost with Redis is enqueued again (the run's claim keeps it from going twice)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from core import db
from models import Campaign, Mailbox, Sequence, SequenceState, SequenceStep, StepRun, Team, User
from services import background
from services.outreach import clock, state as states

TASK_KINDS = ("linkedin", "call")
IN_FLIGHT = ("queued", "sending", "retry")
BATCH = 500


def send_job_id(run_id: int) -> str:
    return f"step-run-{run_id}"


def enqueue_send(run_id: int, delay: float | None = None) -> None:
    background.run("send_step", run_id, queue=background.SYNC, job_id=send_job_id(run_id), delay=delay)


def tick(now: datetime | None = None) -> dict[str, int]:
    """One pass (see the module docstring). Returns counts, for logs and tests."""
    now = now or clock.now()
    out = {"emails": 0, "tasks": 0, "outside_hours": 0, "held": 0, "interrupted": _interrupted(now),
           "requeued": _lost(now)}
    for campaign in db.session.scalars(select(Campaign).join(Sequence, Sequence.campaign_id == Campaign.id)
                                       .where(Sequence.status == "running")):
        states.start_all(campaign, now)   # anyone enrolled while the hook couldn't see the sequence
    db.session.commit()
    due = db.session.execute(
        select(SequenceState, Campaign, Team).join(Campaign, Campaign.id == SequenceState.campaign_id)
        .join(Sequence, Sequence.campaign_id == Campaign.id).join(Team, Team.id == SequenceState.team_id)
        .where(SequenceState.status == "scheduled", SequenceState.due_at <= now, Sequence.status == "running")
        .order_by(SequenceState.due_at, SequenceState.id).limit(BATCH)).all()
    emails: dict[int, list[tuple[SequenceState, SequenceStep, Team]]] = defaultdict(list)
    mailboxes: dict[int, Mailbox] = {}
    for state, campaign, team in due:
        if not states.hours_for(team).is_open(now):
            out["outside_hours"] += 1
            continue
        step = db.session.get(SequenceStep, state.next_step_id) if state.next_step_id else None
        if step is None or step.archived:
            states.schedule(state, team)
            continue
        if step.kind in TASK_KINDS:
            _run_for(state, step, state="open", assignee_id=campaign.owner_id)
            out["tasks"] += 1
            continue
        mailbox = db.session.scalars(select(Mailbox).where(Mailbox.user_id == campaign.owner_id,
                                                           Mailbox.team_id == campaign.team_id)).first()
        if mailbox is None:
            owner = db.session.get(User, campaign.owner_id)
            state.reason = (f"Waiting for a mailbox: {owner.name or owner.email} (the campaign's owner) hasn't "
                            "set one up on the Account page")
            out["held"] += 1
            continue
        mailboxes[mailbox.id] = mailbox
        emails[mailbox.id].append((state, step, team))
    db.session.commit()
    queued: list[tuple[int, float]] = []
    for mailbox_id, items in emails.items():
        queued += _queue_emails(mailboxes[mailbox_id], items, now, out)
    db.session.commit()
    for run_id, delay in queued:
        enqueue_send(run_id, delay)
    out["emails"] = len(queued)
    return out


def _queue_emails(mailbox: Mailbox, items: list, now: datetime, out: dict[str, int]) -> list[tuple[int, float]]:
    """Runs for as many of `items` as the mailbox's cap and spacing allow now; the rest wait."""
    team = items[0][2]
    day_start = states.hours_for(team).day_start(now)
    sent_today = db.session.scalar(select(func.count()).select_from(StepRun).where(
        StepRun.mailbox_id == mailbox.id, StepRun.sent_at >= day_start)) or 0
    in_flight = db.session.scalar(select(func.count()).select_from(StepRun).where(
        StepRun.mailbox_id == mailbox.id, StepRun.state.in_(IN_FLIGHT))) or 0
    room = mailbox.daily_cap - sent_today - in_flight
    spacing = max(0, mailbox.spacing_seconds)
    tick_seconds = float(current_app.config.get("OUTREACH_TICK_SECONDS", 30))
    per_tick = max(1, int(tick_seconds // spacing)) if spacing else len(items)
    slots = per_tick - (in_flight if spacing else 0)
    take = max(0, min(room, slots))
    for state, _step, _team in items[take:]:
        if room <= slots:   # the cap is what holds them
            state.reason = (f"Daily limit of {mailbox.daily_cap} emails reached for {mailbox.from_address}; "
                            "continues tomorrow")
        else:
            state.reason = f"Waiting for a sending slot ({mailbox.from_address} sends one email every {spacing} s)"
    out["held"] += len(items) - take
    base = 0.0
    if spacing and mailbox.last_sent_at is not None:
        base = max(0.0, (mailbox.last_sent_at + timedelta(seconds=spacing) - now).total_seconds())
    runs = []
    for i, (state, step, _team) in enumerate(items[:take]):
        delay = base + i * spacing
        run = _run_for(state, step, state="queued", mailbox_id=mailbox.id,
                       next_attempt_at=now + timedelta(seconds=delay))
        runs.append((run, delay))
    db.session.flush()
    return [(run.id, delay) for run, delay in runs]


def _run_for(seq_state: SequenceState, step: SequenceStep, **values) -> StepRun:
    """The run of this step for this enrolment (one per pair, ever), set going."""
    run = db.session.scalars(select(StepRun).where(StepRun.enrolment_id == seq_state.enrolment_id,
                                                   StepRun.step_id == step.id)).first()
    if run is None:
        run = StepRun(team_id=seq_state.team_id, enrolment_id=seq_state.enrolment_id, step_id=step.id,
                      campaign_id=seq_state.campaign_id, kind=step.kind)
        db.session.add(run)
    if run.state not in StepRun.FINAL and run.state not in ("sending", "failed"):
        for key, value in values.items():
            setattr(run, key, value)
    seq_state.status, seq_state.due_at, seq_state.reason = "in_progress", None, None
    return run


def _interrupted(now: datetime) -> int:
    """Sends that began long ago and never finished (the worker died mid-send): shown as failed.
    Re-sending could deliver the email twice, so a person decides (Retry on the sequence page)."""
    cutoff = now - timedelta(seconds=float(current_app.config.get("OUTREACH_SENDING_TIMEOUT", 600)))
    n = db.session.execute(update(StepRun).where(StepRun.state == "sending", StepRun.updated_at < cutoff).values(
        state="failed", updated_at=now,
        reason="Interrupted while sending: it may have been delivered, so it isn't sent again by itself. "
               "Check the mailbox's Sent folder, then Retry or Skip.")).rowcount
    db.session.commit()
    return n or 0


def _lost(now: datetime) -> int:
    """Queued or retrying sends whose time is long past: their job was lost (Redis restarted)."""
    cutoff = now - timedelta(seconds=float(current_app.config.get("OUTREACH_LOST_AFTER", 300)))
    ids = db.session.scalars(select(StepRun.id).where(StepRun.state.in_(("queued", "retry")),
                                                      StepRun.kind == "email",
                                                      func.coalesce(StepRun.next_attempt_at, StepRun.updated_at) < cutoff,
                                                      StepRun.updated_at < cutoff)).all()
    for run_id in ids:
        enqueue_send(run_id)
    return len(ids)
