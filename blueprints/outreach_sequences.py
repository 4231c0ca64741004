"""A campaign's sequence: the steps (email with subject/body templates, LinkedIn message, call;
delays in days then business hours), start / pause / resume, and every person's place in it with
what was sent, blocked or failed (Retry, Skip). Team-scoped: another team's campaign, step or run
is a 404. Editing a running sequence never resends a step someone already had."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from blueprints._htmx import is_htmx, render_fragment, render_page_or_fragment
from core import db
from models import MAX_ID, Campaign
from services import campaigns as campaign_svc
from services.outreach import overview, runs, state as states, steps as svc
from services.outreach.schedule import from_utc_naive
from services.outreach.templating import PERSON_VARIABLES, SENDER_VARIABLES

bp = Blueprint("sequences", __name__, url_prefix="/campaigns/<int:campaign_id>/sequence")

STATUS_LABELS = {"draft": "Not started", "running": "Running", "paused": "Paused"}


@bp.app_template_filter("team_time")
def team_time(at: Any) -> str:
    """A naive-UTC time as the user's team reads it: "Mon 07 Dec 10:00 GMT"."""
    if not at:
        return ""
    local = from_utc_naive(at).astimezone(states.hours_for(current_user.team).tz)
    return local.strftime("%a %d %b %H:%M ") + (local.tzname() or "")


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    msgs = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return {k: v if isinstance(v, list) else [str(v)] for k, v in msgs.items()}


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = campaign_svc.get_campaign(current_user.team_id, campaign_id) if campaign_id <= MAX_ID else None
    if campaign is None:
        abort(404, description="No such campaign in your team.")
    return campaign


def _page(campaign: Campaign, status: int = 200, block: str = "main", **ctx: Any):
    seq = states.sequence_of(campaign.id)
    team = current_user.team
    rows = overview.people(campaign)
    return render_page_or_fragment(
        "outreach/sequence.html", block=block, status=status, campaign=campaign,
        seq_status=seq.status if seq else "draft", status_labels=STATUS_LABELS,
        steps=states.live_steps(campaign.id), all_steps=overview.all_steps(campaign),
        rows=rows, poll=overview.should_poll(rows, seq.status if seq else "draft"),
        counts=states.counts(campaign.id), kinds=svc.KIND_LABELS,
        allowed=svc.allowed_kinds(campaign), mailbox=overview.owner_mailbox(campaign),
        hours=states.hours_for(team), person_vars=PERSON_VARIABLES, sender_vars=SENDER_VARIABLES,
        types=campaign_svc.CAMPAIGN_TYPES, errors=ctx.pop("errors", {}), form=ctx.pop("form", {}),
        edit_step=ctx.pop("edit_step", None), **ctx)


@bp.get("/")
@login_required
def show(campaign_id: int):
    """The sequence editor and who is where."""
    return _page(_campaign_or_404(campaign_id))


@bp.get("/people")
@login_required
def people(campaign_id: int):
    """The people table alone (it polls itself while sends are under way)."""
    campaign = _campaign_or_404(campaign_id)
    rows = overview.people(campaign)
    return render_fragment("outreach/_people.html", campaign=campaign, all_steps=overview.all_steps(campaign),
                           rows=rows, poll=overview.should_poll(rows, overview.sequence_status(campaign)),
                           kinds=svc.KIND_LABELS)


def _done(campaign: Campaign, notice: str):
    if not is_htmx():
        flash(notice, "success")
        return redirect(url_for("sequences.show", campaign_id=campaign.id), 303)
    return _page(campaign, block="sequence", notice=notice)


@bp.post("/steps")
@login_required
def add_step(campaign_id: int):
    """Add a step at the end; 422 with the form and its errors (unknown variables, ...)."""
    campaign = _campaign_or_404(campaign_id)
    try:
        step = svc.add_step(campaign, request.form)
    except ValidationError as exc:
        db.session.rollback()
        return _page(campaign, 422, block="sequence", errors=_errors(exc), form=request.form)
    return _done(campaign, f"Step {len(states.live_steps(campaign.id))} added ({svc.KIND_LABELS[step.kind]}).")


def _step_or_404(campaign: Campaign, step_id: int):
    step = svc.get_step(campaign, step_id) if step_id <= MAX_ID else None
    if step is None:
        abort(404, description="No such step in this sequence.")
    return step


@bp.get("/steps/<int:step_id>")
@login_required
def edit_step(campaign_id: int, step_id: int):
    """The sequence page with one step's form open for editing."""
    campaign = _campaign_or_404(campaign_id)
    step = _step_or_404(campaign, step_id)
    form = {k: getattr(step, k) or "" for k in ("kind", "delay_days", "delay_hours", "subject", "body_text", "body_html")}
    return _page(campaign, edit_step=step, form=form)


@bp.post("/steps/<int:step_id>")
@login_required
def update_step(campaign_id: int, step_id: int):
    """Save a step; people who already had it are not sent it again."""
    campaign = _campaign_or_404(campaign_id)
    step = _step_or_404(campaign, step_id)
    try:
        svc.update_step(campaign, step, request.form)
    except ValidationError as exc:
        db.session.rollback()
        return _page(campaign, 422, block="sequence", errors=_errors(exc), form=request.form, edit_step=step)
    return _done(campaign, "Step saved. People who already had it won't get it again.")


@bp.post("/steps/<int:step_id>/delete")
@login_required
def delete_step(campaign_id: int, step_id: int):
    campaign = _campaign_or_404(campaign_id)
    svc.archive_step(campaign, _step_or_404(campaign, step_id))
    return _done(campaign, "Step removed.")


@bp.post("/steps/<int:step_id>/move")
@login_required
def move_step(campaign_id: int, step_id: int):
    campaign = _campaign_or_404(campaign_id)
    svc.move_step(campaign, _step_or_404(campaign, step_id), -1 if request.form.get("direction") == "up" else 1)
    return _done(campaign, "Step moved.")


@bp.post("/<any(start, pause, resume):action>")
@login_required
def control(campaign_id: int, action: str):
    """Start, pause or resume the whole sequence."""
    campaign = _campaign_or_404(campaign_id)
    try:
        getattr(svc, action)(campaign)
    except ValidationError as exc:
        return _page(campaign, 422, block="sequence", errors=_errors(exc))
    return _done(campaign, {"start": "Sequence started: step 1 goes out in business hours.",
                            "pause": "Sequence paused: nothing more is sent until you resume.",
                            "resume": "Sequence resumed."}[action])


@bp.post("/runs/<int:run_id>/<any(retry, skip):action>")
@login_required
def run_action(campaign_id: int, run_id: int, action: str):
    """Retry a failed send, or skip a step for one person."""
    campaign = _campaign_or_404(campaign_id)
    run = overview.get_run(campaign, run_id) if run_id <= MAX_ID else None
    if run is None:
        abort(404, description="No such step for this campaign.")
    ok = getattr(runs, action)(run)
    notice = ({"retry": "Queued to send again.", "skip": "Skipped; their next step is scheduled."}[action] if ok
              else "Nothing to do: that step has moved on meanwhile.")
    return _done(campaign, notice)
