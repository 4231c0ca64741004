"""The panel's "What happened" box for a person Shoal already knows: record an outreach event
(sent, reply, interested, not interested, bounced, opted out, ...) on one of their campaigns, and
upload their CV. Same services as the person page (`services.people_edits.record_activity`,
`services.cvs.upload`), so each event goes through the sync engine and a CV through rule 6.
Token-authenticated like every panel route (blueprints.panel); another team's person or
enrolment is a 404."""
from __future__ import annotations

from typing import Any

from flask import current_app, request
from marshmallow import ValidationError

from blueprints.panel import PanelError, _render, _user, bp
from blueprints.panel_schemas import MAX_ID
from blueprints.people import ActivitySchema
from core import db
from models import Enrolment, Person, team_query
from services import cvs
from services import people_edits as svc

def _person(person_id: int) -> Person:
    person = None
    if person_id <= MAX_ID:
        person = db.session.scalars(team_query(Person, _user().team_id).where(Person.id == person_id)).first()
    if person is None:
        raise PanelError(404, "That person is not in your team.")
    return person


def _box(person: Person, status: int = 200, **ctx: Any):
    return _render("panel/_activity.html", person=person, campaigns=svc.person_campaigns(person),
                   kinds=svc.RECORDABLE, cv=cvs.latest_cv(person.team_id, person.id),
                   cv_limit=current_app.config["CV_MAX_BYTES"], **ctx), status


@bp.get("/people/<int:person_id>/activity")
def activity(person_id: int):
    """The box: the person's campaigns with a record form, and their CV."""
    return _box(_person(person_id))


@bp.post("/activity")
def record_activity():
    """Record what happened for one campaign member (`enrolment_id`); answer with the box and the
    sync status."""
    raw = request.form.get("enrolment_id", "")
    enrolment_id = int(raw) if raw.isdigit() and len(raw) < 12 else 0
    enrolment = None
    if 0 < enrolment_id <= MAX_ID:
        enrolment = db.session.scalars(team_query(Enrolment, _user().team_id)
                                       .where(Enrolment.id == enrolment_id)).first()
    if enrolment is None:
        raise PanelError(404, "That campaign member is not in your team.")
    person = db.session.get(Person, enrolment.person_id)
    try:
        data = ActivitySchema().load(request.form.to_dict())
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return _box(person, 422, errors=[m for msgs in messages.values() for m in msgs], chosen=enrolment.id)
    done = svc.record_activity(_user(), enrolment, data["kind"], data["note"], data["submission"])
    label = svc.RECORDABLE[data["kind"]][0]
    notice = (f"{label} was already recorded." if done.duplicate else
              f"Recorded: {label}." if done.intent is not None else f"Recorded: {label}. No CRM is connected.")
    return _box(person, notice=notice, intent=done.intent, chosen=enrolment.id)


@bp.post("/people/<int:person_id>/cv")
def upload_cv(person_id: int):
    """Keep a CV for this person (checked by content) and send it to their CRM record (rule 6)."""
    person = _person(person_id)
    limit = current_app.config["CV_MAX_BYTES"]
    file = request.files.get("cv")
    if file is None or not file.filename:
        return _box(person, 422, cv_error="Choose a file to upload (PDF, DOC or DOCX).")
    try:
        done = cvs.upload(_user(), person, file.read(limit + 1), file.filename, source="panel")
    except cvs.Refused as exc:
        db.session.rollback()
        return _box(person, 422, cv_error=f"Not kept: {exc}.")
    return _box(person, cv_notice=f"CV {done.cv.filename} kept." + (" Sending it to the CRM." if done.intent else ""))

