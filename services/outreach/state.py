"""Each enrolment's place in its campaign's sequence (SequenceState), and the hook every outreach
event passes through.

`services.enrolments` calls `on_event` for every event it records, inside the same transaction,
whoever recorded it (the campaign page, the panel, a send, the unsubscribe link, the inbound-mail
webhook, the API): an `added` event starts the person's sequence if the campaign's is running; a
reply, interested / not interested, a bounce or an opt-out stops it, and a bounce or an opt-out
also puts the address on the team's suppression list. Nothing here commits: the caller does.

Which step comes next: the first live step, in the current order, that this person hasn't had. So
editing a running sequence never resends a step someone already had (its StepRun is unique per
enrolment and step, and final), and never silently skips one they haven't: a step added or moved
earlier goes to them next."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from core import db
from models import (Campaign, Enrolment, OutreachEvent, Person, Sequence, SequenceState, SequenceStep,
                    StepRun, Team, utcnow)
from services.outreach import clock, suppression
from services.outreach.schedule import BusinessHours, due_at

STOP_KINDS = {"reply": "Replied", "interested": "Replied (interested)", "not_interested": "Replied (not interested)",
              "bounced": "Email bounced", "opted_out": "Unsubscribed"}
SUPPRESS_KINDS = {"bounced": "bounced", "opted_out": "opted_out"}
OPEN_RUN_STATES = ("queued", "retry", "open")


def hours_for(team: Team) -> BusinessHours:
    days = tuple(int(d) for d in (team.work_days or "").split(",") if d.strip().isdigit())
    return BusinessHours(team.time_zone or "Europe/London", team.work_start_hour, team.work_end_hour, days)


def on_event(enrolment: Enrolment, event: OutreachEvent, now: datetime | None = None) -> None:
    """The sequence side of one recorded event (see the module docstring)."""
    if event.kind == "added":
        sequence = sequence_of(enrolment.campaign_id)
        if sequence is not None and sequence.status in ("running", "paused"):
            start(enrolment, now or clock.now())
        return
    if event.kind in SUPPRESS_KINDS:
        person = db.session.get(Person, enrolment.person_id)
        if person is not None and person.email:
            suppression.add(enrolment.team_id, person.email, SUPPRESS_KINDS[event.kind], event.created_by_id)
    if event.kind in STOP_KINDS:
        # Every campaign the person is in: a reply to one recruiter is an answer to the team.
        states = db.session.scalars(select(SequenceState).join(Enrolment, Enrolment.id == SequenceState.enrolment_id)
                                    .where(Enrolment.person_id == enrolment.person_id,
                                           Enrolment.team_id == enrolment.team_id,
                                           SequenceState.status.in_(("scheduled", "in_progress")))).all()
        for state in states:
            stop(state, STOP_KINDS[event.kind])


def sequence_of(campaign_id: int) -> Sequence | None:
    return db.session.scalars(select(Sequence).where(Sequence.campaign_id == campaign_id)).first()


def live_steps(campaign_id: int) -> list[SequenceStep]:
    return list(db.session.scalars(select(SequenceStep).where(SequenceStep.campaign_id == campaign_id,
                                                              SequenceStep.archived.is_(False))
                                   .order_by(SequenceStep.position, SequenceStep.id)))


def next_step(enrolment_id: int, campaign_id: int) -> SequenceStep | None:
    """The step this enrolment is on: the first live step, in the current order, that it hasn't
    finished (a run still under way counts as its current step)."""
    finished = set(db.session.scalars(select(StepRun.step_id).where(StepRun.enrolment_id == enrolment_id,
                                                                    StepRun.state.in_(StepRun.FINAL))).all())
    return next((s for s in live_steps(campaign_id) if s.id not in finished), None)


def schedule(state: SequenceState, team: Team) -> None:
    """Point `state` at its next step and when it falls due (or mark the sequence finished)."""
    step = next_step(state.enrolment_id, state.campaign_id)
    state.next_step_id = step.id if step else None
    if step is None:
        state.status, state.due_at, state.reason = "finished", None, None
        return
    run = db.session.scalars(select(StepRun).where(StepRun.enrolment_id == state.enrolment_id,
                                                   StepRun.step_id == step.id)).first()
    if run is not None:   # already under way: the run carries it
        state.status, state.due_at = "in_progress", None
        return
    state.status, state.reason = "scheduled", None
    # Possibly in the past (steps edited, a pause): the scheduler sends it at its next tick inside
    # business hours.
    state.due_at = due_at(state.anchor_at, step.delay_days, step.delay_hours, hours_for(team))


def start(enrolment: Enrolment, now: datetime) -> SequenceState:
    """The enrolment's state, created (first step scheduled from `now`) if it has none."""
    state = db.session.scalars(select(SequenceState).where(SequenceState.enrolment_id == enrolment.id)).first()
    if state is not None:
        return state
    state = SequenceState(team_id=enrolment.team_id, enrolment_id=enrolment.id, campaign_id=enrolment.campaign_id,
                          anchor_at=now)
    db.session.add(state)
    db.session.flush()
    schedule(state, db.session.get(Team, enrolment.team_id))
    return state


def advance(state: SequenceState, now: datetime) -> None:
    """The current step is finished (sent, ticked off): the next one counts from `now`."""
    state.anchor_at = now
    schedule(state, db.session.get(Team, state.team_id))


def stop(state: SequenceState, reason: str) -> None:
    """End the person's sequence; runs not yet under way are cancelled (a send in flight can't be)."""
    state.status, state.due_at, state.reason = "stopped", None, reason
    db.session.execute(update(StepRun).where(StepRun.enrolment_id == state.enrolment_id,
                                             StepRun.state.in_(OPEN_RUN_STATES))
                       .values(state="cancelled", reason=f"Sequence stopped: {reason}", updated_at=utcnow()))


def start_all(campaign: Campaign, now: datetime) -> int:
    """States for every enrolment of the campaign that has none (the sequence was just started)."""
    have = select(SequenceState.enrolment_id).where(SequenceState.campaign_id == campaign.id)
    enrolments = db.session.scalars(select(Enrolment).where(Enrolment.campaign_id == campaign.id,
                                                            Enrolment.team_id == campaign.team_id,
                                                            Enrolment.id.not_in(have))
                                     .order_by(Enrolment.created_at, Enrolment.id)).all()
    # In the order they joined, so the first added are the first sent when a mailbox's spacing
    # holds the rest (without ORDER BY, PostgreSQL's anti-join hands them back in any order).
    for enrolment in enrolments:
        start(enrolment, now)
    return len(enrolments)


def reschedule_campaign(campaign: Campaign) -> None:
    """After the steps changed: every waiting person points at the right step and due time."""
    team = db.session.get(Team, campaign.team_id)
    for state in db.session.scalars(select(SequenceState).where(SequenceState.campaign_id == campaign.id,
                                                                SequenceState.status.in_(("scheduled", "finished")))):
        schedule(state, team)


def counts(campaign_id: int) -> dict[str, int]:
    rows = db.session.execute(select(SequenceState.status, func.count()).where(SequenceState.campaign_id == campaign_id)
                              .group_by(SequenceState.status)).all()
    return {status: n for status, n in rows}
