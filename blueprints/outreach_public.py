"""The unsubscribe link in sequence emails (no login: the signed token is the authority).

GET shows a confirmation page (a link scanner following it unsubscribes nobody); POST records the
opt-out, from our page's button or from a mail provider's one-click List-Unsubscribe-Post
(RFC 8058), which carries no CSRF token: so this POST is exempt, and harmless to repeat."""
from __future__ import annotations

from flask import Blueprint, abort, render_template

from core import csrf, db
from models import Enrolment, Person, Team
from services.outreach import unsubscribe

bp = Blueprint("unsubscribe", __name__, url_prefix="/u")


def _context(token: str):
    run = unsubscribe.run_for_token(token) if len(token) <= 200 else None
    if run is None:
        abort(404, description="This unsubscribe link isn't valid.")
    enrolment = db.session.get(Enrolment, run.enrolment_id)
    person = db.session.get(Person, enrolment.person_id)
    return run, person, db.session.get(Team, run.team_id)


@bp.get("/<token>")
def confirm(token: str):
    """Ask before unsubscribing."""
    run, person, team = _context(token)
    return render_template("outreach/unsubscribe.html", token=token, person=person, team=team, done=False)


@bp.post("/<token>")
@csrf.exempt
def opt_out(token: str):
    """Record the opt-out (once); the person's sequences stop and the address is suppressed."""
    run, person, team = _context(token)
    unsubscribe.opt_out(run)
    return render_template("outreach/unsubscribe.html", token=token, person=person, team=team, done=True)
