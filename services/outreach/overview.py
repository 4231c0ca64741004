"""What the sequence page shows: the steps, and each person with where they are (next step and when,
what was sent, a task waiting, why a step was blocked or failed). Read-only queries, team-scoped
through the campaign the caller already checked."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from core import db
from models import Campaign, Enrolment, Mailbox, Person, SequenceState, SequenceStep, StepRun
from services.outreach import state as states

PEOPLE_LIMIT = 500


@dataclass
class PersonRow:
    enrolment: Enrolment
    person: Person
    state: SequenceState | None
    runs: dict[int, StepRun] = field(default_factory=dict)   # step id → run

    @property
    def busy(self) -> bool:
        return any(r.state in ("queued", "sending", "retry") for r in self.runs.values())


def people(campaign: Campaign) -> list[PersonRow]:
    rows = db.session.execute(
        select(Enrolment, Person, SequenceState).join(Person, Person.id == Enrolment.person_id)
        .outerjoin(SequenceState, SequenceState.enrolment_id == Enrolment.id)
        .where(Enrolment.campaign_id == campaign.id, Enrolment.team_id == campaign.team_id)
        .order_by(Enrolment.created_at, Enrolment.id).limit(PEOPLE_LIMIT)).all()
    out = {e.id: PersonRow(e, p, s) for e, p, s in rows}
    if out:
        for run in db.session.scalars(select(StepRun).where(StepRun.enrolment_id.in_(list(out)))):
            out[run.enrolment_id].runs[run.step_id] = run
    return list(out.values())


def should_poll(rows: list[PersonRow], sequence_status: str) -> bool:
    """Whether the people table should refresh itself: a send under way, or a running sequence with
    someone waiting on a step (so a step that falls due shows up without a reload)."""
    if any(r.busy for r in rows):
        return True
    return sequence_status == "running" and any(
        r.state is not None and r.state.status in ("scheduled", "in_progress") for r in rows)


def all_steps(campaign: Campaign) -> list[SequenceStep]:
    """Live steps in order, then archived ones that were used (their runs still show)."""
    return list(db.session.scalars(select(SequenceStep).where(SequenceStep.campaign_id == campaign.id)
                                   .order_by(SequenceStep.archived, SequenceStep.position, SequenceStep.id)))


def owner_mailbox(campaign: Campaign) -> Mailbox | None:
    return db.session.scalars(select(Mailbox).where(Mailbox.user_id == campaign.owner_id,
                                                    Mailbox.team_id == campaign.team_id)).first()


def get_run(campaign: Campaign, run_id: int) -> StepRun | None:
    return db.session.scalars(select(StepRun).where(StepRun.id == run_id, StepRun.campaign_id == campaign.id,
                                                    StepRun.team_id == campaign.team_id)).first()


def sequence_status(campaign: Campaign) -> str:
    seq = states.sequence_of(campaign.id)
    return seq.status if seq else "draft"


def due_label(at: datetime | None) -> str:
    return at.strftime("%a %d %b %H:%M UTC") if at else ""
