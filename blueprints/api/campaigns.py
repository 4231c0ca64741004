"""/api/v1/campaigns: list, create and read the team's campaigns."""
from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint, abort
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from blueprints.api.common import api_user, setup
from blueprints.panel_schemas import MAX_ID
from blueprints.api.schemas import CampaignIn, CampaignOut, ErrorSchema, PageArgs
from core import db
from models import Campaign
from services import campaigns as svc

blp = setup(Blueprint("api_campaigns", __name__, url_prefix="/campaigns",
                      description="Outreach campaigns"))


def campaign_out(c: Campaign) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "type": c.type, "sync_as": c.sync_as,
            "add_when": (c.sync_override or {}).get(f"add_{c.sync_as}"), "sync_options": c.sync_options or {},
            "created_at": c.created_at}


def campaign_or_404(campaign_id: int) -> Campaign:
    campaign = svc.get_campaign(api_user().team_id, campaign_id) if campaign_id <= MAX_ID else None
    if campaign is None:
        abort(404, message="No such campaign in your team.")
    return campaign


@blp.get("/")
@blp.arguments(PageArgs, location="query")
@blp.response(200, CampaignOut(many=True))
@blp.alt_response(401, schema=ErrorSchema)
def list_campaigns(args: dict[str, Any]):
    """The team's campaigns, newest first."""
    rows = svc.list_campaigns(api_user().team_id)[args["offset"]:args["offset"] + args["limit"]]
    return [campaign_out(c) for c, _n in rows]


@blp.post("/")
@blp.arguments(CampaignIn)
@blp.response(201, CampaignOut)
@blp.alt_response(401, schema=ErrorSchema)
def create_campaign(data: dict[str, Any]):
    """Create a campaign; its sync settings are checked against the team's connected CRM."""
    form = MultiDict([(k, v) for k, v in data.items() if not isinstance(v, list)])
    for key in ("tags", "lists"):
        for value in data.get(key) or []:
            form.add(key, value)
    try:
        campaign = svc.create_campaign(api_user(), form)
    except ValidationError as exc:
        db.session.rollback()
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        abort(422, message="The campaign is not valid.", errors={"json": messages})
    return campaign_out(campaign)


@blp.get("/<int:campaign_id>")
@blp.response(200, CampaignOut)
@blp.alt_response(401, schema=ErrorSchema)
@blp.alt_response(404, schema=ErrorSchema)
def get_campaign(campaign_id: int):
    """One campaign of the team."""
    return campaign_out(campaign_or_404(campaign_id))
