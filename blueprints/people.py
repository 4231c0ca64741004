"""People: a person's page (captured details, campaigns, CRM links, a timeline of outreach events
with their sync status) with an "Edit details" form, and the "Record activity" action of a campaign
member row. Every state change goes through `services.people_edits` → `services.enrolments`; the
response shows THE intent status fragment (activity/_intent_status.html), which polls itself.
Team-scoped throughout: another team's person or enrolment is a 404."""
from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from blueprints._htmx import is_htmx, render_page_or_fragment
from blueprints.panel_schemas import FIELD_LABELS, ProfileSchema
from core import db
from models import Enrolment, Person
from providers import get_provider
from providers.errors import NotSupported
from services import cvs as cv_svc
from services import people_edits as svc
from services import people_list
from services import person_fields
from services.people import PROFILE_FIELDS
from sync.ops import KIND_LABELS

bp = Blueprint("people", __name__, url_prefix="/people")

NOTE_MAX = 5000
EDIT_INPUTS = tuple((k, FIELD_LABELS[k]) for k in PROFILE_FIELDS)


class ActivitySchema(Schema):
    """The "Record activity" form. Unknown keys (the CSRF token) are ignored, not errors."""

    class Meta:
        unknown = EXCLUDE

    kind = fields.String(required=True, validate=validate.OneOf(tuple(svc.RECORDABLE), error=(
        "Unknown activity {input!r}: choose one of "
        + ", ".join(label for label, _channel in svc.RECORDABLE.values()) + ".")))
    note = fields.String(load_default=None, validate=validate.Length(max=NOTE_MAX))
    submission = fields.String(load_default=None, validate=validate.Regexp(
        r"^[A-Za-z0-9_-]{8,64}$", error="This form has expired; reload the page and try again."))
    back = fields.String(load_default="campaign", validate=validate.OneOf(("campaign", "person")))

    @pre_load
    def _drop_blanks(self, data: Any, **_: Any) -> Any:
        return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    msgs = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return {k: v if isinstance(v, list) else [str(v)] for k, v in msgs.items()}


@bp.app_template_global()
def activity_kinds() -> dict[str, tuple[str, str | None]]:
    """The activities a user may record, for `campaigns/_member_actions.html` on any page."""
    return svc.RECORDABLE


@bp.app_template_global()
def submission_token() -> str:
    """A one-time token per rendered form, so a double submit records one event."""
    return secrets.token_urlsafe(16)


def _person_or_404(person_id: int) -> Person:
    person = svc.get_person(current_user.team_id, person_id)
    if person is None:
        abort(404, description="No such person in your team.")
    return person


def _enrolment_or_404(enrolment_id: int) -> Enrolment:
    enrolment = svc.get_enrolment(current_user.team_id, enrolment_id)
    if enrolment is None:
        abort(404, description="No such campaign member in your team.")
    return enrolment


def _crm_name(provider_key: str) -> str:
    try:
        return get_provider(provider_key).display_name
    except NotSupported:   # a connection to a provider no longer installed: still show its history
        return provider_key


def _show(person: Person, status: int = 200, **ctx: Any):
    form = ctx.pop("form", None)
    if form is None:
        form = {k: getattr(person, k) or "" for k in PROFILE_FIELDS}
    return render_page_or_fragment(
        "people/show.html", block="person", status=status, person=person, form=form,
        errors=ctx.pop("errors", {}), inputs=EDIT_INPUTS, kind_labels=KIND_LABELS, field_labels=FIELD_LABELS,
        campaigns=svc.person_campaigns(person),
        links=[(link, conn, _crm_name(conn.provider_key)) for link, conn in svc.person_links(person)],
        timeline=svc.timeline(person), cvs=cv_svc.person_cvs(person), **ctx)


@bp.get("/")
@login_required
def index():
    """Everyone the team has sourced, with search; typing swaps only the results."""
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    found = people_list.search_people(current_user.team_id, request.args.get("q", ""), page)
    return render_page_or_fragment("people/index.html", block="results", found=found)


@bp.get("/<int:person_id>")
@login_required
def show(person_id: int):
    """A person: details, campaigns, CRM links, and what happened with the sync of each event."""
    return _show(_person_or_404(person_id))


@bp.post("/<int:person_id>")
@login_required
def edit(person_id: int):
    """Save "Edit details": 422 with the errors and nothing written, else one manual_update event."""
    person = _person_or_404(person_id)
    raw = {k: v for k, v in request.form.to_dict().items() if k in PROFILE_FIELDS}
    try:
        values = ProfileSchema().load(raw)
        result = svc.edit_person(current_user, person, values)
    except ValidationError as exc:
        db.session.rollback()
        return _show(person, 422, errors=_errors(exc), form=request.form)
    if not result.changed:
        notice = "Nothing changed."
    elif result.intent is not None:
        notice = f"Saved {', '.join(FIELD_LABELS[k] for k in result.changed)}."
    else:
        notice = f"Saved {', '.join(FIELD_LABELS[k] for k in result.changed)}; not in a synced campaign."
    if not is_htmx():
        flash(notice, "success")
        return redirect(url_for("people.show", person_id=person.id), 303)
    return _show(person, notice=notice)


@bp.post("/enrolments/<int:enrolment_id>/activity")
@login_required
def record(enrolment_id: int):
    """Record that an activity happened for a campaign member; answer with its sync status."""
    enrolment = _enrolment_or_404(enrolment_id)
    back = "person" if request.form.get("back") == "person" else "campaign"
    ctx: dict[str, Any] = {"enrolment": enrolment, "back": back}
    try:
        data = ActivitySchema().load(request.form.to_dict())
    except ValidationError as exc:
        return render_page_or_fragment("people/record.html", block="activity", status=422,
                                       activity_errors=_errors(exc), activity_form=request.form, **ctx)
    done = svc.record_activity(current_user, enrolment, data["kind"], data["note"], data["submission"])
    label = svc.RECORDABLE[data["kind"]][0]
    if done.duplicate:
        notice = f"{label} was already recorded; nothing new was queued."
    elif done.intent is None:
        notice = f"Recorded: {label}. No CRM is connected, so nothing is synced."
    else:
        notice = f"Recorded: {label}."
    if not is_htmx():
        flash(notice, "success")
        if data["back"] == "person":
            return redirect(url_for("people.show", person_id=enrolment.person_id), 303)
        back_url = url_for("campaigns.show", campaign_id=enrolment.campaign_id)
        return redirect(f"{back_url}#member-{enrolment.id}", 303)
    return render_page_or_fragment("people/record.html", block="activity", activity_notice=notice,
                                   recorded_intent=done.intent, **ctx)


# -- CRM fields (the panel's Displayed / Mandatory Fields, fillable here too) ---------------------

def _crm_fields(person: Person, status: int = 200, **ctx: Any):
    values = ctx.pop("values", None)
    return render_page_or_fragment("people/_crm_fields.html", block="crm_fields", status=status, person=person,
                                   pf=person_fields.person_fields(current_user, person, values),
                                   crm_errors=ctx.pop("errors", {}), **ctx)


@bp.get("/<int:person_id>/crm-fields")
@login_required
def crm_fields(person_id: int):
    """The person's CRM fields; polls itself while the CRM's field list loads in a worker."""
    return _crm_fields(_person_or_404(person_id))


@bp.post("/<int:person_id>/crm-fields")
@login_required
def save_crm_fields(person_id: int):
    """Save CRM field values: 422 naming the field and nothing written, else one edit event that
    wakes a push waiting on them."""
    person = _person_or_404(person_id)
    submitted = {k[2:]: (request.form.getlist(k) if len(request.form.getlist(k)) > 1 else request.form.get(k))
                 for k in request.form if k.startswith("x:")}
    try:
        changed = person_fields.save(current_user, person, submitted)
    except ValidationError as exc:
        db.session.rollback()
        return _crm_fields(person, 422, errors=_errors(exc), values=submitted)
    notice = "Saved." if changed else "Nothing changed."
    if not is_htmx():
        flash(notice, "success")
        return redirect(url_for("people.show", person_id=person.id), 303)
    return _crm_fields(person, crm_notice=notice)
