"""A user's hand on one step run from the sequence page: Retry a failed send (it is sent only if
it never reached the server, or the user says so after checking), or Skip it and move on."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core import db
from models import SequenceState, StepRun
from services.outreach import clock, state as states
from services.outreach.scheduler import enqueue_send


def retry(run: StepRun) -> bool:
    """A failed email goes back in the queue with fresh attempts. False if it isn't failed."""
    if run.state != "failed" or run.kind != "email":
        return False
    run.state, run.attempts, run.next_attempt_at, run.reason = "queued", 0, None, None
    db.session.commit()
    enqueue_send(run.id)
    return True


def skip(run: StepRun, now: datetime | None = None) -> bool:
    """Give up on a failed step (or an open task) and schedule the person's next step."""
    if run.state not in ("failed", "open", "queued", "retry"):
        return False
    now = now or clock.now()
    claimed = db.session.execute(StepRun.__table__.update().where(
        StepRun.id == run.id, StepRun.state.in_(("failed", "open", "queued", "retry")))
        .values(state="skipped", reason="Skipped by hand", done_at=now, updated_at=now)).rowcount
    if not claimed:
        db.session.rollback()
        return False
    state = db.session.scalars(select(SequenceState).where(SequenceState.enrolment_id == run.enrolment_id)).first()
    if state is not None and state.status != "stopped":
        states.advance(state, now)
    db.session.commit()
    return True
