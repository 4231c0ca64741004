"""The team's business hours for outreach (admin setting): time zone, first and last hour, days.
Saving them moves every waiting step to its new due time."""
from __future__ import annotations

from typing import Any, Mapping

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import select

from core import db
from models import Campaign, Sequence, Team
from services.outreach import state as states
from services.outreach.schedule import validate_hours


class HoursSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    time_zone = fields.String(required=True, validate=validate.Length(min=1, max=64))
    work_start_hour = fields.Integer(required=True, validate=validate.Range(0, 23, error="An hour from 0 to 23."))
    work_end_hour = fields.Integer(required=True, validate=validate.Range(1, 24, error="An hour from 1 to 24."))
    work_days = fields.List(fields.Integer(validate=validate.Range(0, 6)), load_default=list)


def save(team: Team, form: Mapping[str, Any]) -> Team:
    """Validate and store; ValidationError (nothing written) names the field."""
    raw = {k: (form.get(k) or "").strip() for k in ("time_zone", "work_start_hour", "work_end_hour")}
    raw = {k: v for k, v in raw.items() if v}
    days = form.getlist("work_days") if hasattr(form, "getlist") else form.get("work_days", [])
    data = HoursSchema().load({**raw, "work_days": days})
    errors = validate_hours(data["time_zone"], data["work_start_hour"], data["work_end_hour"],
                            tuple(data["work_days"]))
    if errors:
        raise ValidationError({k: [v] for k, v in errors.items()})
    team.time_zone = data["time_zone"]
    team.work_start_hour, team.work_end_hour = data["work_start_hour"], data["work_end_hour"]
    team.work_days = ",".join(str(d) for d in sorted(set(data["work_days"])))
    db.session.flush()
    for campaign in db.session.scalars(select(Campaign).join(Sequence, Sequence.campaign_id == Campaign.id)
                                       .where(Campaign.team_id == team.id)):
        states.reschedule_campaign(campaign)
    db.session.commit()
    return team
