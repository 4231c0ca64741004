"""Outreach settings for the team (admins): business hours in the team's time zone, when sequence
steps may fall due; and the suppression list (addresses and @domains no sequence email goes to;
unsubscribes and bounces land here by themselves). A recruiter gets 403."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from blueprints._htmx import hx_redirect, is_htmx, render_page_or_fragment
from blueprints.auth import admin_required
from core import db
from models import MAX_ID
from services.outreach import hours as hours_svc, state as states, suppression
from services.outreach.schedule import WEEKDAYS, time_zones

bp = Blueprint("outreach_settings", __name__, url_prefix="/outreach")


def _page(status: int = 200, block: str = "main", **ctx: Any):
    team = current_user.team
    return render_page_or_fragment(
        "outreach/settings.html", block=block, status=status, team=team, hours=states.hours_for(team),
        weekdays=WEEKDAYS, zones=time_zones(), entries=suppression.listing(team.id),
        reason_labels=suppression.REASON_LABELS, errors=ctx.pop("errors", {}),
        form=ctx.pop("form", None), **ctx)


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    msgs = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return {k: v if isinstance(v, list) else [str(v)] for k, v in msgs.items()}


@bp.get("/")
@login_required
@admin_required
def index():
    """Business hours and the suppression list."""
    return _page()


@bp.post("/hours")
@login_required
@admin_required
def save_hours():
    """Save the business hours; waiting steps move to their new due times."""
    try:
        hours_svc.save(current_user.team, request.form)
    except ValidationError as exc:
        db.session.rollback()
        return _page(422, errors=_errors(exc), form=request.form)
    flash("Business hours saved; waiting steps were rescheduled.", "success")
    return hx_redirect(url_for("outreach_settings.index"), 303)


@bp.post("/suppression")
@login_required
@admin_required
def add_suppression():
    """Add an address or @domain to the suppression list."""
    value = (request.form.get("value") or "").strip()
    if suppression.normalise(value) is None:
        return _page(422, block="suppression" if is_htmx() else "main",
                     suppression_errors={"value": ["An email address (ada@example.com) or a domain (@example.com)."]},
                     suppression_value=value)
    suppression.add(current_user.team_id, value, "manual", current_user.id)
    db.session.commit()
    return _page(block="suppression" if is_htmx() else "main", suppression_notice=f"Added {suppression.normalise(value)}.")


@bp.post("/suppression/<int:entry_id>/delete")
@login_required
@admin_required
def remove_suppression(entry_id: int):
    """Take an entry off the list (emails may go to it again)."""
    if entry_id > MAX_ID or not suppression.remove(current_user.team_id, entry_id):
        abort(404, description="No such entry.")
    return _page(block="suppression" if is_htmx() else "main", suppression_notice="Removed.")
