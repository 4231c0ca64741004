"""Campaign pages: the team's campaigns, creating one with its sync settings, and a campaign's
members with their live sync state and a form to add a person by hand. Team-scoped throughout:
another team's campaign id is a 404."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from blueprints._htmx import hx_redirect, is_htmx, render_fragment, render_page_or_fragment
from blueprints.panel_schemas import ProfileSchema
from core import db
from models import MAX_ID, Campaign
from services import campaigns as svc
from services import crm_links, crm_options
from services.campaign_locks import has_lock_inputs, locked_labels
from services.connections import active_connection
from services.enrolments import enrol
from services.people import PersonConflict

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
    """List the team's campaigns (or the archived ones), each with its members' sync state."""
    archived = request.args.get("archived") == "1"
    rows = svc.list_campaigns(current_user.team_id, archived=archived)
    choices = svc.crm_choices(current_user.team_id)
    return render_page_or_fragment("campaigns/index.html", rows=rows, types=svc.CAMPAIGN_TYPES, archived=archived,
                                   summaries=svc.sync_summary(current_user.team_id, [c.id for c, _ in rows]),
                                   record_labels=dict(choices.record_types))


@bp.get("/<int:campaign_id>/sync-summary")
@login_required
def sync_summary(campaign_id: int):
    """One campaign's sync badges in the list; polls itself while any member is being synced."""
    campaign = _campaign_or_404(campaign_id)
    summary = svc.sync_summary(current_user.team_id, [campaign.id]).get(campaign.id)
    return render_fragment("campaigns/_sync_summary.html", campaign=campaign, summary=summary)


def _options_ctx(choices: svc.CrmChoices, sync_as: str, form: Any, campaign: Campaign | None = None) -> dict[str, Any]:
    """What `_sync_options.html` needs for one record type: the CRM's pick-lists once loaded (a
    worker reads them; the fragment polls while `loading`), and the values already chosen. On a
    campaign's page also its locks, with "Recruiters can't change this" boxes for an admin."""
    options, loading = None, False
    conn = active_connection(current_user.team_id)
    if conn is not None and choices.option_inputs and sync_as in dict(choices.record_types):
        options = crm_options.options_for(conn, sync_as)
        loading = options is None
    return {"sync_as": sync_as, "options": options, "loading": loading, "areas": svc.PICK_AREAS,
            "pick_labels": svc.PICK_LABELS, "selected": {k: svc.many_values(form, k) for k in ("tags", "lists")},
            "lock_campaign": campaign.id if campaign else None, "locks": list(campaign.sync_locks or []) if campaign else [],
            "lock_inputs": bool(campaign) and current_user.is_admin}


def _new_page(status: int = 200, **ctx: Any):
    choices = svc.crm_choices(current_user.team_id)
    form = ctx.pop("form", {})
    sync_as = form.get("sync_as") or (choices.record_types[0][0] if choices.record_types else "none")
    # From the campaigns list the form opens in a dialog; a plain visit (or no JS) gets a page.
    block = "dialog" if is_htmx() and request.method == "GET" else "main"
    errors = ctx.pop("errors", {})
    return render_page_or_fragment("campaigns/new.html", block=block, status=status, choices=choices,
                                   types=svc.CAMPAIGN_TYPES, errors=errors, form=form,
                                   add_when=form.get("add_when") or svc.TEAM_SETTING,
                                   team_trigger_label=svc.team_trigger_label(current_user, sync_as),
                                   options_open=any(k in errors for k in svc.OPTION_LABELS), in_dialog=is_htmx(),
                                   **_options_ctx(choices, sync_as, form), **ctx)


@bp.get("/options")
@login_required
def sync_options():
    """The sync options inputs for the chosen "Sync as" (polls while the CRM's lists load)."""
    choices = svc.crm_choices(current_user.team_id)
    sync_as = request.args.get("sync_as", "")[:40]
    campaign_id = request.args.get("campaign", type=int)
    if campaign_id is not None and not 1 <= campaign_id <= MAX_ID:
        abort(404, description="No such campaign in your team.")
    campaign = _campaign_or_404(campaign_id) if campaign_id is not None else None
    # On a campaign's page, its own record type starts from what it has stored (the poll that
    # follows the lists' loading carries no values of its own).
    form = _stored_form(campaign) if campaign is not None and sync_as == campaign.sync_as else request.args
    return render_fragment("campaigns/_sync_options.html", choices=choices, form=form, errors={},
                           **_options_ctx(choices, sync_as, form, campaign))


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


def _stored_form(campaign: Campaign) -> MultiDict:
    """The campaign's stored sync settings as its form would post them."""
    options = campaign.sync_options or {}
    form = MultiDict([(k, str(v)) for k, v in options.items() if not isinstance(v, list)]
                     + [(k, str(x)) for k, v in options.items() if isinstance(v, list) for x in v])
    form["sync_as"] = campaign.sync_as
    return form


def _settings_ctx(campaign: Campaign, form: Any = None) -> dict[str, Any]:
    """What `campaigns/_settings.html` needs: the form starts from the campaign's stored values."""
    choices = svc.crm_choices(current_user.team_id)
    if form is None:
        form = _stored_form(campaign)
    sync_as = form.get("sync_as") or campaign.sync_as
    return {"choices": choices, "form": form, "add_when": form.get("add_when") or svc.add_when(campaign),
            "override_set": svc.add_when(campaign) != svc.TEAM_SETTING, "options_open": bool(campaign.sync_options),
            "team_trigger_label": svc.team_trigger_label(current_user, sync_as),
            "options_summary": svc.describe_options(campaign), "locked_labels": locked_labels(campaign),
            **_options_ctx(choices, sync_as, form, campaign)}


def _sentence_ctx(campaign: Campaign) -> dict[str, Any]:
    """What `_sync_sentence.html` needs."""
    choices = svc.crm_choices(current_user.team_id)
    return {"record_label": dict(choices.record_types).get(campaign.sync_as, campaign.sync_as),
            "crm": choices.provider, "override_label": dict(choices.triggers).get(svc.add_when(campaign))}


def _show_page(campaign: Campaign, status: int = 200, block: str = "main", **ctx: Any):
    choices = svc.crm_choices(current_user.team_id)
    record_label = dict(choices.record_types).get(campaign.sync_as, campaign.sync_as)
    settings_ctx = _settings_ctx(campaign)
    settings_ctx.update({k: ctx.pop(k) for k in ("saved", "synced") if k in ctx})
    members = svc.members(campaign)
    crm_links.prefetch(intent for _e, _p, intent in members)   # each member's CRM link, in one read
    return render_page_or_fragment(
        "campaigns/show.html", block=block, status=status, campaign=campaign,
        members=members, crm=choices.provider, record_label=record_label,
        override_label=dict(choices.triggers).get(svc.add_when(campaign)),
        types=svc.CAMPAIGN_TYPES, profile_inputs=PROFILE_INPUTS, errors=ctx.pop("errors", {}),
        form=ctx.pop("form", {}), settings=settings_ctx, **ctx)


@bp.get("/<int:campaign_id>")
@login_required
def show(campaign_id: int):
    """A campaign: its sync settings (editable), members and their sync state, the add-person form."""
    return _show_page(_campaign_or_404(campaign_id))


@bp.get("/<int:campaign_id>/settings")
@login_required
def settings(campaign_id: int):
    """The sync settings card (it polls itself while the CRM's pick-lists load)."""
    campaign = _campaign_or_404(campaign_id)
    if not is_htmx():
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_fragment("campaigns/_settings.html", campaign=campaign, errors={}, **_settings_ctx(campaign))


@bp.post("/<int:campaign_id>/settings")
@login_required
def update(campaign_id: int):
    """Change Sync as, sync options and Sync Override; they apply to future pushes, and the answer
    names the members already in the CRM, with a button to re-sync them."""
    campaign = _campaign_or_404(campaign_id)
    if has_lock_inputs(request.form) and not current_user.is_admin:
        abort(403, description="Only a team admin can lock sync options for recruiters.")
    try:
        svc.update_sync_settings(current_user, campaign, request.form)
    except ValidationError as exc:
        db.session.rollback()
        db.session.refresh(campaign)
        if not is_htmx():
            flash("Nothing was saved: " + "; ".join(m for v in _errors(exc).values() for m in v), "error")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id), 303)
        return render_fragment("campaigns/_settings.html", status=422, campaign=campaign, errors=_errors(exc),
                               **{**_settings_ctx(campaign, request.form), "options_open": True})
    synced = svc.synced_members(campaign)
    if not is_htmx():
        flash("Saved. Applies to people pushed from now on.", "success")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id), 303)
    resp = render_fragment("campaigns/_settings.html", campaign=campaign, errors={}, saved=True, synced=synced,
                           **_settings_ctx(campaign))
    # The page's sentence under the title says how the campaign syncs: re-sent out of band.
    sentence = render_template("campaigns/_sync_sentence.html", campaign=campaign, oob_sentence=True,
                               **_sentence_ctx(campaign))
    resp.set_data(resp.get_data(as_text=True) + sentence)
    return resp


@bp.post("/<int:campaign_id>/resync")
@login_required
def resync(campaign_id: int):
    """Push the members already in the CRM again, with the campaign's current settings."""
    campaign = _campaign_or_404(campaign_id)
    n = svc.resync(current_user, campaign)
    notice = (f"Re-syncing {n} {'member' if n == 1 else 'members'} with the new settings." if n
              else "Nobody in this campaign is in the CRM yet: there is nothing to re-sync.")
    if not is_htmx():
        flash(notice, "success")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id), 303)
    return _show_page(campaign, block="members", notice=notice)


def _owner_or_admin(campaign: Campaign) -> None:
    if campaign.owner_id != current_user.id and not current_user.is_admin:
        abort(403, description="Only the campaign's owner or a team admin can archive or delete it.")


@bp.post("/<int:campaign_id>/archive")
@login_required
def archive(campaign_id: int):
    """Archive: hidden from the list and the extension, no new members; people and history stay."""
    campaign = _campaign_or_404(campaign_id)
    _owner_or_admin(campaign)
    svc.set_archived(campaign, True)
    flash(f"Archived “{campaign.name}”. Restore it from the archived campaigns.", "success")
    return hx_redirect(url_for("campaigns.index"), 303)


@bp.post("/<int:campaign_id>/unarchive")
@login_required
def unarchive(campaign_id: int):
    """Bring an archived campaign back."""
    campaign = _campaign_or_404(campaign_id)
    _owner_or_admin(campaign)
    svc.set_archived(campaign, False)
    flash(f"Restored “{campaign.name}”.", "success")
    return hx_redirect(url_for("campaigns.show", campaign_id=campaign.id), 303)


@bp.post("/<int:campaign_id>/delete")
@login_required
def delete(campaign_id: int):
    """Delete a campaign nobody was added to (one with members is archived instead: 409)."""
    campaign = _campaign_or_404(campaign_id)
    _owner_or_admin(campaign)
    if request.form.get("confirm") != "yes":
        abort(422, description="Confirm the deletion.")
    name = campaign.name
    if not svc.delete_campaign(campaign):
        abort(409, description="This campaign has people in it, so it can't be deleted: archive it instead.")
    flash(f"Deleted “{name}”.", "success")
    return hx_redirect(url_for("campaigns.index"), 303)


@bp.post("/<int:campaign_id>/members")
@login_required
def add_member(campaign_id: int):
    """Add a person by hand (same path as the extension: services.enrolments.enrol)."""
    campaign = _campaign_or_404(campaign_id)
    if campaign.archived_at is not None:
        abort(409, description="This campaign is archived: restore it to add people.")
    raw = {k: v for k, v in request.form.to_dict().items() if k in dict(PROFILE_INPUTS)}
    try:
        profile = ProfileSchema().load(raw)
    except ValidationError as exc:
        return _show_page(campaign, 422, block="members", errors=_errors(exc), form=request.form)
    try:
        enrolment, created = enrol(current_user, campaign, profile)
    except PersonConflict as exc:   # raised before anything was written
        db.session.rollback()
        return _show_page(campaign, 409, block="members", errors=_errors(exc), form=request.form)
    notice = (f"Added {enrolment.person.full_name}." if created
              else f"{enrolment.person.full_name} is already in this campaign; nothing new was queued.")
    if not is_htmx():
        flash(notice, "success")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id), 303)
    return _show_page(campaign, block="members", notice=notice)
