"""A person's CVs on their page: upload one (PDF, DOC or DOCX, judged by content; too large or an
executable is refused with the reason and nothing is kept) and download what Shoal holds.
Team-scoped: another team's person or file is a 404."""
from __future__ import annotations

import io

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, send_file, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from blueprints._htmx import is_htmx, render_fragment
from core import db
from models import CvFile, Person, team_query
from services import cvs as svc
from services.documents import describe_size

bp = Blueprint("cvs", __name__, url_prefix="/people")

# Multipart framing around the file: a body this much over the limit still holds an acceptable file.
FORM_SLACK = 64 * 1024


def _person_or_404(person_id: int) -> Person:
    person = db.session.scalars(team_query(Person, current_user.team_id).where(Person.id == person_id)).first()
    if person is None:
        abort(404, description="No such person in your team.")
    return person


def _answer(person: Person, status: int = 200, error: str | None = None, notice: str | None = None):
    if not is_htmx():
        flash(error or notice or "", "error" if error else "success")
        return redirect(url_for("people.show", person_id=person.id) + "#cvs", 303)
    return render_fragment("people/_cvs.html", status=status, person=person, cvs=svc.person_cvs(person),
                           cv_error=error, cv_notice=notice)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge):
    """The app's body limit (or the CSRF check reading the form) stopped the upload: say why."""
    if not current_user.is_authenticated:
        return exc
    person = _person_or_404(int((request.view_args or {}).get("person_id") or 0))
    limit = current_app.config["CV_MAX_BYTES"]
    size = f"{describe_size(request.content_length)}" if request.content_length else "too large"
    return _answer(person, 422, error=f"Not kept: the file is {size}; the limit for a CV is {describe_size(limit)}.")


@bp.post("/<int:person_id>/cv")
@login_required
def upload(person_id: int):
    """Keep an uploaded CV for this person and send it to their CRM record (rule 6)."""
    person = _person_or_404(person_id)
    limit = current_app.config["CV_MAX_BYTES"]
    if (request.content_length or 0) > limit + FORM_SLACK:
        # Refuse before reading the body: the reason is already known.
        return _answer(person, 422, error=f"Not kept: the file is {describe_size(request.content_length)}; "
                                          f"the limit for a CV is {describe_size(limit)}.")
    request.max_content_length = limit + FORM_SLACK
    file = request.files.get("cv")
    if file is None or not file.filename:
        return _answer(person, 422, error="Choose a file to upload (PDF, DOC or DOCX).")
    try:
        done = svc.upload(current_user, person, file.read(limit + 1), file.filename)
    except svc.Refused as exc:
        db.session.rollback()
        return _answer(person, 422, error=f"Not kept: {exc}.")
    sent = " It is being sent to the CRM." if done.intent is not None else ""
    return _answer(person, notice=f"CV {done.cv.filename} kept.{sent}")


@bp.get("/<int:person_id>/cv/<int:cv_id>")
@login_required
def download(person_id: int, cv_id: int) -> Response:
    """The stored file, as an attachment (never rendered inline: it came from outside)."""
    person = _person_or_404(person_id)
    cv = db.session.scalars(team_query(CvFile, current_user.team_id)
                            .where(CvFile.id == cv_id, CvFile.person_id == person.id)).first()
    if cv is None:
        abort(404, description="No such CV for this person.")
    try:
        content = svc.content_of(cv)
    except KeyError:
        abort(404, description="The file is no longer in storage.")
    return send_file(io.BytesIO(content), mimetype=cv.content_type, as_attachment=True,
                     download_name=cv.filename)
