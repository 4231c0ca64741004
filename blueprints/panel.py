"""The extension side panel's server side: HTMX fragments and a small JSON API under /panel.

Every route authenticates by the user's extension token (`Authorization: Bearer <token>`), never by
the session cookie, so the routes are CSRF-exempt: a cross-site page cannot make the browser attach
a bearer token. CORS is answered only for the extension ids in EXTENSION_IDS. Data sent by the
extension was scraped from a third-party page and is validated by `blueprints.panel_schemas`."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request
from markupsafe import Markup
from marshmallow import ValidationError
from werkzeug.http import HTTP_STATUS_CODES

from blueprints._htmx import is_htmx
from blueprints.panel_schemas import (MAX_BODY_BYTES, MAX_ID, EnrolJsonSchema, EnrolTargetSchema,
                                      ProfileSchema, describe, split_form)
from core import csrf, db, login_manager
from models import Campaign, CrmLink, Enrolment, SyncIntent, User, team_query
from providers import get_provider
from providers.errors import NotSupported
from services.connections import active_connection
from services.enrolments import enrol
from services.panel_preview import known_person, preview_enrolment
from services.tokens import user_for_token

bp = Blueprint("panel", __name__, url_prefix="/panel")
csrf.exempt(bp)

ALLOW_HEADERS = ("Authorization, Content-Type, HX-Request, HX-Current-URL, HX-Target, HX-Trigger, "
                 "HX-Trigger-Name, HX-Boosted, HX-Prompt")
EXPOSE_HEADERS = "HX-Trigger, HX-Trigger-After-Swap, HX-Redirect, HX-Retarget, HX-Reswap, HX-Refresh"
NEED_TOKEN = ("Shoal doesn't know this extension yet. Create a token on your Account page in Shoal and "
              "paste it, with the server address, into the extension options.")


class PanelError(Exception):
    """A refusal with a message for the user: rendered as JSON under /panel/api/, else a fragment."""

    def __init__(self, status: int, message: str, fields: dict[str, Any] | None = None):
        super().__init__(message)
        self.status, self.message, self.fields = status, message, fields or {}


def _is_api() -> bool:
    return request.path.startswith("/panel/api/")


def _allowed_origin() -> str | None:
    origin = request.headers.get("Origin", "")
    ids = current_app.config.get("EXTENSION_IDS") or ()
    return origin if origin in {f"chrome-extension://{i}" for i in ids} else None


@bp.before_request
def _authenticate() -> Response | None:
    """Answer CORS preflights, refuse oversized bodies, then require a live extension token."""
    # Pin flask-login's current_user (anonymous until the token checks out) so nothing rendered
    # here, shared templates included, ever falls back to the session cookie.
    g._login_user = login_manager.anonymous_user()
    if request.method == "OPTIONS":
        if _allowed_origin() is None:
            return Response(status=403)
        resp = Response(status=204)
        resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        resp.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        resp.headers["Access-Control-Max-Age"] = "600"
        return resp
    # Backstop for bodies without a Content-Length (chunked): reading past it raises 413.
    request.max_content_length = MAX_BODY_BYTES
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise PanelError(400, f"The request is too large (limit {MAX_BODY_BYTES // 1024} KB).")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if user is None:
        raise PanelError(401, NEED_TOKEN)
    g.panel_user = g._login_user = user
    return None


@bp.after_request
def _cors(resp: Response) -> Response:
    resp.vary.add("Origin")
    origin = _allowed_origin()
    if origin:
        resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    return resp


@bp.errorhandler(PanelError)
def _panel_error(exc: PanelError):
    if _is_api():
        # Same shape as the app's JSON errors (blueprints/errors.py), plus the per-field messages.
        return jsonify({"error": HTTP_STATUS_CODES.get(exc.status, "Error"), "message": exc.message,
                        "fields": exc.fields}), exc.status
    return _render("panel/_error.html", status=exc.status, message=exc.message,
                   lines=describe(exc.fields)), exc.status


@bp.errorhandler(429)
def _rate_limited(_exc):
    # Counted only for requests whose token was refused (blueprints/_limits.py).
    return _panel_error(PanelError(429, "Too many requests with a token Shoal doesn't know. Wait a "
                                        "minute, then check the token in the extension options."))


@bp.errorhandler(413)
def _too_large(_exc):
    return _panel_error(PanelError(400, f"The request is too large (limit {MAX_BODY_BYTES // 1024} KB)."))


def _render(template: str, **ctx: Any) -> str:
    """A fragment for htmx; the same fragment inside panel/base.html when opened in a tab."""
    fragment = render_template(template, **ctx)
    if is_htmx() or request.method != "GET":
        return fragment
    # The fragment was rendered (and escaped) by our own template, so it is safe to embed as is.
    return render_template("panel/base.html", content=Markup(fragment))


def _user() -> User:
    return g.panel_user


def _provider_info(team_id: int) -> tuple[Any, Any]:
    """(active connection, its provider class), or (None, None) when the team has no CRM yet."""
    conn = active_connection(team_id)
    if conn is None:
        return None, None
    try:
        return conn, get_provider(conn.provider_key)
    except NotSupported:  # a provider disabled in config: the panel still works, without "sync as"
        return conn, None


def _known(team_id: int, profile: dict[str, Any], conn: Any) -> dict[str, Any] | None:
    """What Shoal (and, through CrmLinks, the CRM) already knows about this person, if anything."""
    person = known_person(team_id, profile)
    if person is None:
        return None
    links = []
    if conn is not None:
        links = db.session.scalars(team_query(CrmLink, team_id).where(
            CrmLink.person_id == person.id, CrmLink.connection_id == conn.id)).all()
    campaigns = db.session.scalars(team_query(Campaign, team_id).join(
        Enrolment, Enrolment.campaign_id == Campaign.id).where(Enrolment.person_id == person.id)).all()
    return {"person": person, "links": links, "campaigns": campaigns}


def _card_context(user: User, raw: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    try:
        profile = ProfileSchema(partial=True).load(raw)
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {}
        profile = {k: v for k, v in raw.items() if k not in errors and isinstance(v, str)}
    conn, provider = _provider_info(user.team_id)
    campaigns = db.session.scalars(team_query(Campaign, user.team_id).order_by(Campaign.name)).all()
    return {"profile": profile, "errors": describe(errors), "campaigns": campaigns, "connection": conn,
            "provider": provider, "known": _known(user.team_id, profile, conn)}


@bp.route("/", methods=["GET", "POST"])
@bp.route("/profile", methods=["POST"])
def profile_card():
    """The person card for a captured profile, with the campaign picker and the Add form.

    POST so the scraped profile (personal data) stays out of URLs and access logs."""
    raw = split_form(request.form.to_dict())[1] if request.method == "POST" else {}
    return _render("panel/_card.html", **_card_context(_user(), raw))


def _load_enrol_form() -> tuple[dict[str, Any], dict[str, Any]]:
    target_raw, profile_raw = split_form(request.form.to_dict())
    errors: dict[str, Any] = {}
    target: dict[str, Any] = {}
    profile: dict[str, Any] = {}
    try:
        target = EnrolTargetSchema().load(target_raw)
    except ValidationError as exc:
        errors.update(exc.messages if isinstance(exc.messages, dict) else {})
    try:
        profile = ProfileSchema().load(profile_raw)
    except ValidationError as exc:
        errors.update(exc.messages if isinstance(exc.messages, dict) else {})
    if errors:
        raise PanelError(422, "Please fix these before adding:", errors)
    return target, profile


def _load_enrol_json() -> tuple[dict[str, Any], dict[str, Any]]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise PanelError(400, "The body must be a JSON object.")
    try:
        data = EnrolJsonSchema().load(body)
    except ValidationError as exc:
        raise PanelError(422, "The profile is not valid.",
                         exc.messages if isinstance(exc.messages, dict) else {}) from None
    return data, data.pop("profile")


def _campaign_and_sync_as(target: dict[str, Any]) -> tuple[Campaign, str | None]:
    """The user's team's campaign (404 otherwise) and a sync-as the connected CRM has (422 otherwise)."""
    user = _user()
    campaign = db.session.scalars(team_query(Campaign, user.team_id).where(
        Campaign.id == target["campaign_id"])).first()
    if campaign is None:
        raise PanelError(404, "That campaign does not exist in your team.")
    sync_as = target.get("sync_as") or None
    if sync_as is not None and sync_as != "none":
        _conn, provider = _provider_info(user.team_id)
        allowed = {rt.key for rt in provider.record_types} if provider else set()
        if sync_as not in allowed:
            raise PanelError(422, "Please fix these before adding:",
                             {"sync_as": [f"{sync_as!r} is not a record type of the connected CRM."]})
    return campaign, sync_as


def _do_enrol(target: dict[str, Any], profile: dict[str, Any]) -> tuple[Enrolment, bool, list[SyncIntent]]:
    """Checks that need the database, then one enrol() (a single transaction)."""
    user = _user()
    campaign, sync_as = _campaign_and_sync_as(target)
    enrolment, created = enrol(user, campaign, profile, sync_as=sync_as)
    intents = db.session.scalars(team_query(SyncIntent, user.team_id).where(
        SyncIntent.enrolment_id == enrolment.id).order_by(SyncIntent.id)).all()
    return enrolment, created, list(intents)


@bp.post("/preview")
def preview():
    """What adding this person would write to the CRM, under the settings in force. Writes nothing."""
    target, profile = _load_enrol_form()
    campaign, sync_as = _campaign_and_sync_as(target)
    conn, provider = _provider_info(_user().team_id)
    result = preview_enrolment(_user(), campaign, conn, profile, sync_as) if provider else None
    return _render("panel/_preview.html", result=result, campaign=campaign)


@bp.post("/enrol")
def enrol_form():
    """Add the person to the chosen campaign (htmx form); answer with the live sync status."""
    enrolment, created, intents = _do_enrol(*_load_enrol_form())
    return _render("panel/_added.html", enrolment=enrolment, created=created, intents=intents)


@bp.post("/api/enrol")
def enrol_json():
    """JSON twin of /panel/enrol: {enrolment_id, person_id, intent_ids, created}."""
    enrolment, created, intents = _do_enrol(*_load_enrol_json())
    return jsonify({"enrolment_id": enrolment.id, "person_id": enrolment.person_id,
                    "intent_ids": [i.id for i in intents], "created": created}), 201 if created else 200


@bp.get("/intents/<int:intent_id>/status")
def intent_status(intent_id: int):
    """The self-polling status of one sync intent, reachable with the extension token."""
    intent = db.session.scalars(team_query(SyncIntent, _user().team_id).where(
        SyncIntent.id == intent_id)).first() if intent_id <= MAX_ID else None
    if intent is None:
        raise PanelError(404, "No such sync in your team.")
    return _render("activity/_intent_status.html", intent=intent,
                   status_url=f"/panel/intents/{intent.id}/status")


@bp.get("/api/me")
def me():
    """Who the token belongs to: the options page's "Test" button."""
    user = _user()
    conn, provider = _provider_info(user.team_id)
    crm = None
    if conn is not None:
        crm = {"provider": conn.provider_key, "name": provider.display_name if provider else None,
               "status": conn.status}
    return jsonify({"user": {"id": user.id, "email": user.email, "name": user.name, "role": user.role},
                    "team": {"id": user.team_id, "name": user.team.name}, "crm": crm})
