"""Matching an inbound reply to the enrolment it answers, by the Message-IDs we sent
(for the inbound-mail webhook: its In-Reply-To and References headers)."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select

from core import db
from models import Enrolment, StepRun


def enrolment_for_message_ids(team_id: int, message_ids: Iterable[str]) -> Enrolment | None:
    """The enrolment whose sequence email carried one of `message_ids` (angle brackets optional);
    the most recently sent wins. Another team's message ids match nothing."""
    wanted = set()
    for mid in message_ids:
        mid = (mid or "").strip()
        if mid:
            bare = mid.strip("<>")
            wanted.update({bare, f"<{bare}>"})
    if not wanted:
        return None
    return db.session.scalars(select(Enrolment).join(StepRun, StepRun.enrolment_id == Enrolment.id)
                              .where(StepRun.team_id == team_id, Enrolment.team_id == team_id,
                                     StepRun.message_id.in_(wanted))
                              .order_by(StepRun.sent_at.desc(), StepRun.id.desc())).first()
