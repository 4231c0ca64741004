"""CRM search: find records in the team's CRM by the fields the admin made filterable, then add one
or a selection to a campaign. The search runs in a worker; the results fragment polls itself until
the page is there. Team-scoped: a search or campaign of another team is a 404."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from blueprints._htmx import hx_redirect, render_page_or_fragment
from blueprints._inputs import parse_id
from services import campaigns as campaigns_svc
from services import crm_search as svc

bp = Blueprint("search", __name__, url_prefix="/search")


def _page(block: str = "main", status: int = 200, **ctx: Any):
    scope = svc.scope_for(current_user)
    record_type = ctx.pop("record_type", None) or request.args.get("record_type", "")
    if scope is not None and record_type not in scope.filterable:
        record_type = next(iter(scope.filterable), "")
    return render_page_or_fragment(
        "search/index.html", block=block, status=status, scope=scope, record_type=record_type,
        campaigns=[c for c, _n in campaigns_svc.list_campaigns(current_user.team_id)],
        errors=ctx.pop("errors", {}), form=ctx.pop("form", {}), key_fields=svc.KEY_FIELDS,
        labels=svc.STANDARD_LABELS, **ctx)


def _entry_or_404(sid: str) -> dict[str, Any]:
    entry = svc.result(current_user.team_id, sid)
    if entry is None:
        abort(404, description="This search has expired or isn't yours; search again.")
    scope = svc.scope_for(current_user)
    if scope is None or scope.connection.id != entry.get("connection_id"):
        # The CRM was disconnected or switched since: its results would link people to a gone record.
        abort(409, description="The CRM this search ran against is no longer connected. Search again.")
    return entry


@bp.get("")
@login_required
def index():
    """The search form (the filter inputs of the chosen record type)."""
    return _page()


@bp.get("/fields")
@login_required
def fields():
    """The filter inputs for another record type."""
    return _page(block="filters")


@bp.post("")
@login_required
def run():
    """Validate the filters and queue the search; answer with the self-polling results."""
    scope = svc.scope_for(current_user)
    if scope is None or not scope.filterable:
        abort(409, description="There is nothing to search: no CRM with Filterable Fields is connected.")
    try:
        record_type, filters = svc.read_filters(scope, request.form)
    except ValidationError as exc:
        msgs = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return _page(status=422, errors=msgs, form=request.form, record_type=request.form.get("record_type"))
    cursor = (request.form.get("cursor") or "").strip()[:40] or None
    sid = svc.start(scope, current_user.team_id, record_type, filters, cursor)
    target = url_for("search.results", sid=sid)
    if request.headers.get("HX-Request") != "true":
        return hx_redirect(target, 303)
    entry = _entry_or_404(sid)
    return _page(block="results", entry=entry, sid=sid, record_type=record_type, form=request.form)


@bp.get("/results/<sid>")
@login_required
def results(sid: str):
    """One search's results; polls itself while the worker is still searching."""
    entry = _entry_or_404(sid)
    form = {f"f-{k}": v for k, v in entry["filters"].items()}
    return _page(block="results", entry=entry, sid=sid, record_type=entry["record_type"], form=form)


@bp.post("/add")
@login_required
def add():
    """Add one result or the selected ones to a campaign (linked to their CRM record)."""
    sid = (request.form.get("sid") or "")[:64]
    entry = _entry_or_404(sid)
    raw = request.form.get("campaign_id", "")
    campaign = campaigns_svc.get_campaign(current_user.team_id, parse_id(raw)) if parse_id(raw) else None
    chosen = [r for r in request.form.getlist("remote_id") if r][:100]
    errors: dict[str, list[str]] = {}
    if campaign is None:
        errors["campaign_id"] = ["Choose one of your team's campaigns."]
    if not chosen:
        errors["remote_id"] = ["Tick the people to add first."]
    if errors:
        return _page(block="results", status=422, entry=entry, sid=sid, record_type=entry["record_type"],
                     add_errors=errors)
    added, already, refused = svc.add_to_campaign(current_user, campaign, entry, chosen)
    notice = (f"Added {added} to {campaign.name}." + (f" {already} already there." if already else "")
              + "".join(f" Not added: {why}" for why in refused))
    return _page(block="results", entry=entry, sid=sid, record_type=entry["record_type"], notice=notice,
                 added_campaign=campaign)
