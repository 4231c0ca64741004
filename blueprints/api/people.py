"""/api/v1/people: create (or find: the same email or LinkedIn profile is the same person) and read
the team's people, with their CRM links and whether Shoal holds a CV for them."""
from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint, abort
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from blueprints.api.common import api_user, setup
from blueprints.api.schemas import ErrorSchema, PeopleArgs, PersonIn, PersonOut
from blueprints.panel_schemas import MAX_ID
from core import db
from models import Connection, CrmLink, CvFile, Person, team_query
from services import crm_links
from services.people import PersonConflict, find_or_create_person

blp = setup(Blueprint("api_people", __name__, url_prefix="/people",
                      description="People your team sourced"))


def person_out(p: Person) -> dict[str, Any]:
    links = db.session.execute(team_query(CrmLink, p.team_id).add_columns(Connection.provider_key)
                               .join(Connection, Connection.id == CrmLink.connection_id)
                               .where(CrmLink.person_id == p.id).order_by(CrmLink.id)).all()
    has_cv = db.session.scalar(team_query(CvFile, p.team_id).with_only_columns(CvFile.id)
                               .where(CvFile.person_id == p.id).limit(1)) is not None
    return {"id": p.id, "first_name": p.first_name, "last_name": p.last_name or "", "email": p.email,
            "phone": p.phone, "title": p.title, "company": p.company, "location": p.location,
            "linkedin_url": p.linkedin_url, "has_cv": has_cv, "created_at": p.created_at,
            "crm_links": [{"provider": key, "record_type": link.record_type, "remote_id": link.remote_id,
                           "url": getattr(crm_links.ref_of(link), "url", None)} for link, key in links]}


def person_or_404(person_id: int) -> Person:
    person = None
    if person_id <= MAX_ID:
        person = db.session.scalars(team_query(Person, api_user().team_id).where(Person.id == person_id)).first()
    if person is None:
        abort(404, message="No such person in your team.")
    return person


def create_or_find(profile: dict[str, Any]) -> tuple[Person, bool]:
    """(person, created). A profile whose email and LinkedIn URL name two different people is a 409."""
    team_id = api_user().team_id
    before = db.session.scalar(team_query(Person, team_id).with_only_columns(func.max(Person.id)))
    try:
        person = find_or_create_person(team_id, profile)
        db.session.commit()
    except PersonConflict as exc:
        abort(409, message=exc.message)
    except IntegrityError:   # the same conflict, made by a concurrent request
        db.session.rollback()
        abort(409, message="The email and the LinkedIn URL belong to two different people in your team.")
    return person, person.id > (before or 0)


@blp.get("/")
@blp.arguments(PeopleArgs, location="query")
@blp.response(200, PersonOut(many=True))
@blp.alt_response(401, schema=ErrorSchema)
def list_people(args: dict[str, Any]):
    """The team's people, newest first; `email` finds one by address."""
    q = team_query(Person, api_user().team_id)
    if args.get("email"):
        q = q.where(Person.email == args["email"].strip().lower())
    rows = db.session.scalars(q.order_by(Person.id.desc()).offset(args["offset"]).limit(args["limit"]))
    return [person_out(p) for p in rows]


@blp.post("/")
@blp.arguments(PersonIn)
@blp.response(201, PersonOut)
@blp.alt_response(200, schema=PersonOut, description="The person already existed (same email or LinkedIn)")
@blp.alt_response(401, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema)
def create_person(data: dict[str, Any]):
    """Create a person, or return the one with the same email or LinkedIn profile."""
    person, created = create_or_find(data)
    return person_out(person), 201 if created else 200


@blp.get("/<int:person_id>")
@blp.response(200, PersonOut)
@blp.alt_response(401, schema=ErrorSchema)
@blp.alt_response(404, schema=ErrorSchema)
def get_person(person_id: int):
    """One person of the team."""
    return person_out(person_or_404(person_id))
