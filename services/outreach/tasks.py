"""LinkedIn message and call steps: tasks on the recruiter's "My tasks" page (the campaign owner's).
Ticking one off records `linkedin_sent` or `call` through services.enrolments (so the sync engine
makes its note) and schedules the person's next step; skipping moves on without an event."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core import db
from models import Campaign, Enrolment, Person, SequenceState, SequenceStep, StepRun, User
from services.enrolments import record_event
from services.outreach import clock, state as states
from services.outreach.templating import TemplateProblem, context_for, render

EVENT_FOR_KIND = {"linkedin": "linkedin_sent", "call": "call"}
CHANNEL_FOR_KIND = {"linkedin": "linkedin", "call": "phone"}


@dataclass(frozen=True)
class Task:
    run: StepRun
    step: SequenceStep
    person: Person
    campaign: Campaign
    script: str   # the step's text for this person (what to write or say)


def open_tasks(user: User, limit: int = 200) -> list[Task]:
    rows = db.session.execute(
        select(StepRun, SequenceStep, Person, Campaign).join(SequenceStep, SequenceStep.id == StepRun.step_id)
        .join(Enrolment, Enrolment.id == StepRun.enrolment_id).join(Person, Person.id == Enrolment.person_id)
        .join(Campaign, Campaign.id == StepRun.campaign_id)
        .where(StepRun.team_id == user.team_id, StepRun.assignee_id == user.id, StepRun.state == "open")
        .order_by(StepRun.created_at, StepRun.id).limit(limit)).all()
    out = []
    for run, step, person, campaign in rows:
        try:
            script = render(step.body_text, context_for(person, user, None, campaign))
        except TemplateProblem:
            script = step.body_text
        out.append(Task(run, step, person, campaign, script))
    return out


def get_task(user: User, run_id: int) -> StepRun | None:
    return db.session.scalars(select(StepRun).where(StepRun.id == run_id, StepRun.team_id == user.team_id,
                                                    StepRun.assignee_id == user.id,
                                                    StepRun.kind.in_(tuple(EVENT_FOR_KIND)))).first()


def complete(user: User, run: StepRun, note: str | None = None, now: datetime | None = None) -> bool:
    """Tick the task off (once: a second click changes nothing). True if it was open."""
    return _close(user, run, "done", note, now)


def skip(user: User, run: StepRun, now: datetime | None = None) -> bool:
    return _close(user, run, "skipped", None, now)


def _close(user: User, run: StepRun, new_state: str, note: str | None, now: datetime | None) -> bool:
    now = now or clock.now()
    claimed = db.session.execute(StepRun.__table__.update().where(StepRun.id == run.id, StepRun.state == "open")
                                 .values(state=new_state, done_at=now, updated_at=now)).rowcount
    if not claimed:
        db.session.rollback()
        return False
    state = db.session.scalars(select(SequenceState).where(SequenceState.enrolment_id == run.enrolment_id)).first()
    if state is not None and state.status != "stopped":
        states.advance(state, now)
    enrolment = db.session.get(Enrolment, run.enrolment_id)
    if new_state == "done":
        record_event(enrolment, EVENT_FOR_KIND[run.kind], channel=CHANNEL_FOR_KIND[run.kind],
                     body=(note or "").strip() or None, created_by_id=user.id,
                     data={"run_id": run.id, "step_id": run.step_id})
    else:
        db.session.commit()
    return True
