"""/api/v1/enrolments and /api/v1/events: add people to campaigns, and record what happened in
outreach (sent, reply, interested, not interested, bounced, opted out, ...). Every event goes
through the sync engine (`services.enrolments.record_event`), exactly like one recorded on the
campaign page; `Idempotency-Key` makes a retried POST record it once."""
from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint, abort

from blueprints.api.campaigns import campaign_or_404
from blueprints.api.common import api_user, setup
from blueprints.api.people import create_or_find, person_or_404
from blueprints.api.schemas import (EnrolmentArgs, EnrolmentIn, EnrolmentOut, ErrorSchema, EventIn, EventOut,
                                    IdempotencyHeader, PageArgs)
from blueprints.panel_schemas import MAX_ID
from core import db
from models import Enrolment, OutreachEvent, SyncIntent, team_query
from services import api_events
from services.connections import active_connection
from services.enrolments import enrol
from providers import get_provider

blp = setup(Blueprint("api_enrolments", __name__, url_prefix="/enrolments",
                      description="Campaign members and their events"))
events_blp = setup(Blueprint("api_events", __name__, url_prefix="/events", description="Outreach events"))


def enrolment_out(e: Enrolment, created: bool | None = None) -> dict[str, Any]:
    out = {"id": e.id, "campaign_id": e.campaign_id, "person_id": e.person_id, "status": e.status,
           "sync_as": e.sync_as, "created_at": e.created_at}
    if created is not None:
        out["created"] = created
    return out


def event_out(ev: OutreachEvent) -> dict[str, Any]:
    intents = db.session.scalars(team_query(SyncIntent, ev.team_id).where(SyncIntent.event_id == ev.id)
                                 .order_by(SyncIntent.id)).all()
    return {"id": ev.id, "enrolment_id": ev.enrolment_id, "person_id": ev.person_id, "kind": ev.kind,
            "channel": ev.channel, "body": ev.body, "occurred_at": ev.occurred_at,
            "sync": [{"intent_id": i.id, "state": i.state, "reason": i.reason} for i in intents]}


def enrolment_or_404(enrolment_id: int) -> Enrolment:
    enrolment = None
    if enrolment_id <= MAX_ID:
        enrolment = db.session.scalars(team_query(Enrolment, api_user().team_id)
                                       .where(Enrolment.id == enrolment_id)).first()
    if enrolment is None:
        abort(404, message="No such campaign member in your team.")
    return enrolment


def _check_sync_as(sync_as: str | None) -> None:
    if sync_as in (None, "none"):
        return
    conn = active_connection(api_user().team_id)
    kinds = {rt.key for rt in get_provider(conn.provider_key).record_types} if conn else set()
    if sync_as not in kinds:
        abort(422, message="The enrolment is not valid.",
              errors={"json": {"sync_as": [f"{sync_as!r} is not a record type of the connected CRM."]}})


@blp.get("/")
@blp.arguments(EnrolmentArgs, location="query")
@blp.response(200, EnrolmentOut(many=True))
@blp.alt_response(401, schema=ErrorSchema)
def list_enrolments(args: dict[str, Any]):
    """The team's campaign members, newest first, optionally of one campaign or one person."""
    q = team_query(Enrolment, api_user().team_id)
    for key in ("campaign_id", "person_id"):
        if args.get(key):
            q = q.where(getattr(Enrolment, key) == args[key])
    rows = db.session.scalars(q.order_by(Enrolment.id.desc()).offset(args["offset"]).limit(args["limit"]))
    return [enrolment_out(e) for e in rows]


@blp.post("/")
@blp.arguments(EnrolmentIn)
@blp.response(201, EnrolmentOut)
@blp.alt_response(200, schema=EnrolmentOut, description="The person was already in the campaign")
@blp.alt_response(401, schema=ErrorSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema)
def create_enrolment(data: dict[str, Any]):
    """Add a person (by `person_id`, or `person` to create or find) to a campaign; it syncs as set."""
    if ("person_id" in data) == ("person" in data):
        abort(422, message="The enrolment is not valid.",
              errors={"json": {"person_id": ["Give exactly one of person_id and person."]}})
    campaign = campaign_or_404(data["campaign_id"])
    _check_sync_as(data.get("sync_as"))
    person = person_or_404(data["person_id"]) if "person_id" in data else create_or_find(data["person"])[0]
    enrolment, created = enrol(api_user(), campaign, {}, sync_as=data.get("sync_as"), person=person)
    return enrolment_out(enrolment, created), 201 if created else 200


@blp.get("/<int:enrolment_id>")
@blp.response(200, EnrolmentOut)
@blp.alt_response(401, schema=ErrorSchema)
@blp.alt_response(404, schema=ErrorSchema)
def get_enrolment(enrolment_id: int):
    """One campaign member."""
    return enrolment_out(enrolment_or_404(enrolment_id))


@blp.get("/<int:enrolment_id>/events")
@blp.arguments(PageArgs, location="query")
@blp.response(200, EventOut(many=True))
@blp.alt_response(401, schema=ErrorSchema)
@blp.alt_response(404, schema=ErrorSchema)
def list_events(args: dict[str, Any], enrolment_id: int):
    """A member's events, oldest first, each with its sync state."""
    enrolment = enrolment_or_404(enrolment_id)
    rows = db.session.scalars(team_query(OutreachEvent, enrolment.team_id)
                              .where(OutreachEvent.enrolment_id == enrolment.id).order_by(OutreachEvent.id)
                              .offset(args["offset"]).limit(args["limit"]))
    return [event_out(e) for e in rows]


@blp.post("/<int:enrolment_id>/events")
@blp.arguments(IdempotencyHeader, location="headers")
@blp.arguments(EventIn)
@blp.response(201, EventOut)
@blp.alt_response(401, schema=ErrorSchema)
@blp.alt_response(404, schema=ErrorSchema)
@blp.alt_response(409, schema=ErrorSchema, description="The Idempotency-Key was used for another request")
def post_event(headers: dict[str, Any], data: dict[str, Any], enrolment_id: int):
    """Record an outreach event; the sync engine decides what it means for the CRM."""
    enrolment = enrolment_or_404(enrolment_id)
    try:
        posted = api_events.post_event(api_user(), enrolment, data, headers.get("idempotency_key"))
    except api_events.KeyConflict as exc:
        abort(409, message=str(exc))
    return event_out(posted.event), 201, {"Idempotent-Replayed": "true" if posted.replayed else "false"}


@events_blp.get("/<int:event_id>")
@events_blp.response(200, EventOut)
@events_blp.alt_response(401, schema=ErrorSchema)
@events_blp.alt_response(404, schema=ErrorSchema)
def get_event(event_id: int):
    """One event with its sync state."""
    event = None
    if event_id <= MAX_ID:
        event = db.session.scalars(team_query(OutreachEvent, api_user().team_id)
                                   .where(OutreachEvent.id == event_id)).first()
    if event is None:
        abort(404, message="No such event in your team.")
    return event_out(event)
