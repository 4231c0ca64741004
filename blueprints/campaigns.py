"""Campaign pages: the team's campaigns, creating one with its sync settings, and a campaign's
members with their live sync state and a form to add a person by hand. Team-scoped throughout:
another team's campaign id is a 404."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from blueprints._htmx import hx_redirect, is_htmx, render_fragment, render_page_or_fragment
from blueprints.panel_schemas import ProfileSchema
from core import db
from models import Campaign
from services import campaigns as svc
from services import crm_options
from services.connections import active_connection
from services.enrolments import enrol
from sync.settings import TRIGGER_LABELS

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

PROFILE_INPUTS = (("first_name", "First name"), ("last_name", "Last name"), ("email", "Email"),
                  ("title", "Title"), ("company", "Company"), ("location", "Location"),
                  ("linkedin_url", "LinkedIn URL"))


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    msgs = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return {k: v if isinstance(v, list) else [str(v)] for k, v in msgs.items()}


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = svc.get_campaign(current_user.team_id, campaign_id)
    if campaign is None:
        abort(404, description="No such campaign in your team.")
    return campaign


@bp.get("/")
@login_required
def index():
    """List the team's campaigns."""
    return render_page_or_fragment("campaigns/index.html", rows=svc.list_campaigns(current_user.team_id),
                                   types=svc.CAMPAIGN_TYPES)


def _options_ctx(choices: svc.CrmChoices, sync_as: str, form: Any) -> dict[str, Any]:
    """What `_sync_options.html` needs for one record type: the CRM's pick-lists once loaded (a
    worker reads them; the fragment polls while `loading`), and the values already chosen."""
    options, loading = None, False
    conn = active_connection(current_user.team_id)
    if conn is not None and choices.option_inputs and sync_as in dict(choices.record_types):
        options = crm_options.options_for(conn, sync_as)
        loading = options is None
    return {"sync_as": sync_as, "options": options, "loading": loading, "areas": svc.PICK_AREAS,
            "pick_labels": svc.PICK_LABELS, "selected": {k: svc.many_values(form, k) for k in ("tags", "lists")}}


def _new_page(status: int = 200, **ctx: Any):
    choices = svc.crm_choices(current_user.team_id)
    form = ctx.pop("form", {})
    sync_as = form.get("sync_as") or (choices.record_types[0][0] if choices.record_types else "none")
    return render_page_or_fragment("campaigns/new.html", status=status, choices=choices,
                                   types=svc.CAMPAIGN_TYPES, errors=ctx.pop("errors", {}), form=form,
                                   **_options_ctx(choices, sync_as, form), **ctx)


@bp.get("/options")
@login_required
def sync_options():
    """The sync options inputs for the chosen "Sync as" (polls while the CRM's lists load)."""
    choices = svc.crm_choices(current_user.team_id)
    sync_as = request.args.get("sync_as", "")[:40]
    return render_fragment("campaigns/_sync_options.html", choices=choices, form=request.args, errors={},
                           **_options_ctx(choices, sync_as, request.args))


@bp.get("/new")
@login_required
def new():
    """The create-campaign form."""
    return _new_page()


@bp.post("/")
@login_required
def create():
    """Create a campaign; 422 with the form and its errors if something is wrong."""
    try:
        campaign = svc.create_campaign(current_user, request.form)
    except ValidationError as exc:
        db.session.rollback()
        return _new_page(422, errors=_errors(exc), form=request.form)
    return hx_redirect(url_for("campaigns.show", campaign_id=campaign.id), 303)


def _show_page(campaign: Campaign, status: int = 200, block: str = "main", **ctx: Any):
    choices = svc.crm_choices(current_user.team_id)
    record_label = dict(choices.record_types).get(campaign.sync_as, campaign.sync_as)
    trigger = (campaign.sync_override or {}).get(f"add_{campaign.sync_as}")
    return render_page_or_fragment(
        "campaigns/show.html", block=block, status=status, campaign=campaign,
        members=svc.members(campaign), crm=choices.provider, record_label=record_label,
        trigger_label=TRIGGER_LABELS.get(trigger) if trigger else None, types=svc.CAMPAIGN_TYPES,
        profile_inputs=PROFILE_INPUTS, errors=ctx.pop("errors", {}), form=ctx.pop("form", {}), **ctx)


@bp.get("/<int:campaign_id>")
@login_required
def show(campaign_id: int):
    """A campaign: its settings, members and their sync state, and the add-person form."""
    return _show_page(_campaign_or_404(campaign_id))


@bp.post("/<int:campaign_id>/members")
@login_required
def add_member(campaign_id: int):
    """Add a person by hand (same path as the extension: services.enrolments.enrol)."""
    campaign = _campaign_or_404(campaign_id)
    raw = {k: v for k, v in request.form.to_dict().items() if k in dict(PROFILE_INPUTS)}
    try:
        profile = ProfileSchema().load(raw)
    except ValidationError as exc:
        return _show_page(campaign, 422, block="members", errors=_errors(exc), form=request.form)
    enrolment, created = enrol(current_user, campaign, profile)
    notice = (f"Added {enrolment.person.full_name}." if created
              else f"{enrolment.person.full_name} is already in this campaign; nothing new was queued.")
    if not is_htmx():
        flash(notice, "success")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id), 303)
    return _show_page(campaign, block="members", notice=notice)
