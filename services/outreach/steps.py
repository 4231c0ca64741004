"""The sequence editor: steps validated and saved (templates checked here, not at send time),
moved, archived; the sequence started, paused and resumed. Every function is given a campaign the
caller already scoped to the user's team; a ValidationError means nothing was written.

A campaign's type decides which steps it may have: "Email only" takes emails, "LinkedIn only"
LinkedIn messages, "Sourcing list" none at all."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import func, select

from core import db
from models import Campaign, Sequence, SequenceState, SequenceStep, StepRun
from services.outreach import clock, state as states
from services.outreach.templating import check

KIND_LABELS = {"email": "Email", "linkedin": "LinkedIn message", "call": "Call"}
KINDS_BY_CAMPAIGN_TYPE = {"outreach": ("email", "linkedin", "call"), "email": ("email",),
                          "linkedin": ("linkedin",), "sourcing": ()}
MAX_STEPS = 20


def allowed_kinds(campaign: Campaign) -> tuple[str, ...]:
    return KINDS_BY_CAMPAIGN_TYPE.get(campaign.type, ("email", "linkedin", "call"))


class StepSchema(Schema):
    """One step from the editor form. Unknown keys (the CSRF token) are ignored."""

    class Meta:
        unknown = EXCLUDE

    kind = fields.String(required=True, validate=validate.OneOf(tuple(KIND_LABELS)))
    delay_days = fields.Integer(load_default=0, validate=validate.Range(0, 365, error="Between 0 and 365 days."))
    delay_hours = fields.Integer(load_default=0, validate=validate.Range(0, 200, error="Between 0 and 200 hours."))
    subject = fields.String(load_default=None, validate=validate.Length(max=300))
    body_text = fields.String(load_default="", validate=validate.Length(max=20000))
    body_html = fields.String(load_default=None, validate=validate.Length(max=50000))

    @validates_schema(skip_on_field_errors=False)   # a bad delay and a bad template show together
    def _templates(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        if data.get("kind") == "email":
            if not (data.get("subject") or "").strip():
                errors["subject"] = ["An email needs a subject."]
            else:
                errors["subject"] = check(data["subject"], subject=True)
            if not (data.get("body_text") or "").strip():
                errors["body_text"] = ["An email needs a plain-text body (the HTML one is optional)."]
            else:
                errors["body_text"] = check(data["body_text"])
            if (data.get("body_html") or "").strip():
                errors["body_html"] = check(data["body_html"], html=True)
        else:
            errors["body_text"] = check(data.get("body_text") or "")
        errors = {k: v for k, v in errors.items() if v}
        if errors:
            raise ValidationError(errors)


def load_step(campaign: Campaign, form: Mapping[str, Any]) -> dict[str, Any]:
    raw = {k: v.strip() if isinstance(v, str) and k not in ("body_text", "body_html") else v
           for k, v in form.items()}
    for key in ("delay_days", "delay_hours"):
        if raw.get(key) in ("", None):
            raw.pop(key, None)
    data = StepSchema().load(raw)
    if data["kind"] not in allowed_kinds(campaign):
        kinds = allowed_kinds(campaign)
        raise ValidationError({"kind": [
            "This campaign's type has no outreach steps." if not kinds else
            f"This campaign's type takes only: {', '.join(KIND_LABELS[k] for k in kinds)}."]})
    if data["kind"] != "email":
        data["subject"], data["body_html"] = None, None
    data["body_html"] = (data.get("body_html") or "").strip() or None
    return data


def sequence_for(campaign: Campaign) -> Sequence:
    seq = states.sequence_of(campaign.id)
    if seq is None:
        seq = Sequence(team_id=campaign.team_id, campaign_id=campaign.id, status="draft")
        db.session.add(seq)
        db.session.flush()
    return seq


def add_step(campaign: Campaign, form: Mapping[str, Any]) -> SequenceStep:
    data = load_step(campaign, form)
    if len(states.live_steps(campaign.id)) >= MAX_STEPS:
        raise ValidationError({"_schema": [f"A sequence has at most {MAX_STEPS} steps."]})
    position = (db.session.scalar(select(func.max(SequenceStep.position))
                                  .where(SequenceStep.campaign_id == campaign.id)) or 0) + 1
    sequence_for(campaign)
    step = SequenceStep(team_id=campaign.team_id, campaign_id=campaign.id, position=position, **data)
    db.session.add(step)
    db.session.flush()
    states.reschedule_campaign(campaign)
    db.session.commit()
    return step


def update_step(campaign: Campaign, step: SequenceStep, form: Mapping[str, Any]) -> SequenceStep:
    """Change a step. People who already had it are not sent it again; waiting people get the new
    text and delay."""
    data = load_step(campaign, form)
    for key, value in data.items():
        setattr(step, key, value)
    db.session.flush()
    states.reschedule_campaign(campaign)
    db.session.commit()
    return step


def archive_step(campaign: Campaign, step: SequenceStep) -> None:
    """Remove a step: deleted if nobody had it yet, else archived (its history stays explained)."""
    used = db.session.scalar(select(func.count()).select_from(StepRun).where(StepRun.step_id == step.id))
    if used:
        step.archived = True
        db.session.execute(StepRun.__table__.update().where(StepRun.step_id == step.id,
                                                            StepRun.state.in_(("queued", "retry", "open")))
                           .values(state="cancelled", reason="The step was removed from the sequence"))
    else:
        db.session.execute(StepRun.__table__.delete().where(StepRun.step_id == step.id))
        db.session.execute(SequenceState.__table__.update()
                           .where(SequenceState.next_step_id == step.id).values(next_step_id=None))
        db.session.delete(step)
    db.session.flush()
    states.reschedule_campaign(campaign)
    db.session.commit()


def move_step(campaign: Campaign, step: SequenceStep, direction: int) -> None:
    """Swap the step with its live neighbour above (-1) or below (+1)."""
    steps = states.live_steps(campaign.id)
    i = next(n for n, s in enumerate(steps) if s.id == step.id)
    j = i + (1 if direction > 0 else -1)
    if 0 <= j < len(steps):
        steps[i].position, steps[j].position = steps[j].position, steps[i].position
        db.session.flush()
        states.reschedule_campaign(campaign)
    db.session.commit()


def start(campaign: Campaign, now: datetime | None = None) -> Sequence:
    """Run the sequence: everyone already in the campaign starts at step 1 (counted from now)."""
    if not states.live_steps(campaign.id):
        raise ValidationError({"_schema": ["Add at least one step before starting the sequence."]})
    seq = sequence_for(campaign)
    now = now or clock.now()
    seq.status, seq.started_at, seq.paused_at = "running", seq.started_at or now, None
    states.start_all(campaign, now)
    db.session.commit()
    return seq


def pause(campaign: Campaign, now: datetime | None = None) -> Sequence:
    seq = sequence_for(campaign)
    if seq.status == "running":
        seq.status, seq.paused_at = "paused", now or clock.now()
    db.session.commit()
    return seq


def resume(campaign: Campaign, now: datetime | None = None) -> Sequence:
    """Carry on where each person was: overdue steps go at the next tick inside business hours."""
    seq = sequence_for(campaign)
    if seq.status == "paused":
        seq.status, seq.paused_at = "running", None
        states.start_all(campaign, now or clock.now())
    db.session.commit()
    return seq


def delete_sequence(campaign: Campaign) -> None:
    """Remove a memberless campaign's sequence and steps before the campaign itself (no commit)."""
    db.session.execute(SequenceStep.__table__.delete().where(SequenceStep.campaign_id == campaign.id))
    db.session.execute(Sequence.__table__.delete().where(Sequence.campaign_id == campaign.id))


def get_step(campaign: Campaign, step_id: int) -> SequenceStep | None:
    return db.session.scalars(select(SequenceStep).where(SequenceStep.id == step_id,
                                                         SequenceStep.campaign_id == campaign.id,
                                                         SequenceStep.team_id == campaign.team_id,
                                                         SequenceStep.archived.is_(False))).first()
