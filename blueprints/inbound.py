"""The Inbox page: replies the inbound-mail webhook received, the unmatched ones first (kept for
someone to assign to a campaign member or dismiss, never dropped), and for admins the webhook's
address and the team's secret (shown, and rotatable). Team-scoped: another team's message is a 404;
a recruiter rotating the secret is a 403."""
from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user, login_required

from blueprints._htmx import hx_redirect, render_page_or_fragment
from blueprints._inputs import parse_id
from core import db
from models import Enrolment, InboundMessage, team_query
from services import inbound as svc

bp = Blueprint("inbound", __name__, url_prefix="/inbox")

FILTERS = {"unmatched": "Unmatched", "matched": "Matched", "assigned": "Assigned", "dismissed": "Dismissed",
           "all": "All"}


def _message_or_404(message_id: int) -> InboundMessage:
    msg = db.session.scalars(team_query(InboundMessage, current_user.team_id)
                             .where(InboundMessage.id == message_id)).first()
    if msg is None:
        abort(404, description="No such message in your team.")
    return msg


def _page(status: int = 200, **ctx):
    show = request.args.get("show", "unmatched")
    show = show if show in FILTERS else "unmatched"
    messages = svc.inbox(current_user.team_id, show)
    secret = svc.current_secret(current_user.team) if current_user.is_admin else None
    return render_page_or_fragment(
        "inbound/index.html", status=status, messages=messages, show=show, filters=FILTERS,
        counts=svc.counts(current_user.team_id), secret=secret,
        hook_url=url_for("hooks.inbound_mail", _external=True),
        candidates={m.id: svc.candidates_for(m) for m in messages if m.status == "unmatched"}, **ctx)


@bp.get("/")
@login_required
def index():
    """Received replies (unmatched first) and, for admins, the webhook settings."""
    return _page()


@bp.post("/secret")
@login_required
def rotate_secret():
    """Make a new webhook secret (admins); the old one stops working at once."""
    if not current_user.is_admin:
        abort(403, description="Only an admin can change the webhook secret.")
    had = current_user.team.inbound_secret_hash is not None
    svc.rotate_secret(current_user.team)
    flash("New webhook secret made: update it in your mail provider now; the old one no longer works."
          if had else "Webhook secret made: give it, with the address, to your mail provider.", "success")
    return hx_redirect(url_for("inbound.index", show="unmatched") + "#webhook", 303)


@bp.post("/<int:message_id>/assign")
@login_required
def assign(message_id: int):
    """Record an unmatched reply as the reply of one campaign member of the team."""
    msg = _message_or_404(message_id)
    raw = request.form.get("enrolment_id", "")
    enrolment = None
    if parse_id(raw) is not None:
        enrolment = db.session.scalars(team_query(Enrolment, current_user.team_id)
                                       .where(Enrolment.id == parse_id(raw))).first()
    if msg.status != "unmatched":
        flash("This reply was already handled.", "success")
    elif enrolment is None:
        return _page(422, errors={message_id: "Choose the campaign member this reply is from."})
    else:
        svc.assign(current_user, msg, enrolment)
        flash(f"Recorded as {enrolment.person.full_name}'s reply in {enrolment.campaign.name}.", "success")
    return hx_redirect(url_for("inbound.index"), 303)


@bp.post("/<int:message_id>/dismiss")
@login_required
def dismiss(message_id: int):
    """Set an unmatched message aside (not a reply to outreach); it stays listed under Dismissed."""
    msg = _message_or_404(message_id)
    if msg.status == "unmatched":
        msg.status = "dismissed"
        db.session.commit()
    flash("Message dismissed.", "success")
    return hx_redirect(url_for("inbound.index"), 303)
