"""The extension side panel's server side: HTMX fragments and a small JSON API under /panel.

Every route authenticates by the user's extension token (`Authorization: Bearer <token>`), never by
the session cookie, so the routes are CSRF-exempt: a cross-site page cannot make the browser attach
a bearer token. CORS is answered only for the extension ids in EXTENSION_IDS. Data sent by the
extension was scraped from a third-party page and is validated by `blueprints.panel_schemas`.

This module holds the blueprint, its authentication, CORS and errors, and the small routes; the
person card, the grey arrow's options, fields and company, the live CRM match, Preview and Add are
in `blueprints.panel_views` (registered on the same blueprint)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request
from markupsafe import Markup
from werkzeug.http import HTTP_STATUS_CODES

from blueprints._htmx import is_htmx
from blueprints.panel_schemas import MAX_BODY_BYTES, MAX_ID, describe
from core import csrf, db, login_manager
from models import SyncIntent, User, team_query
from services.documents import describe_size
from services.panel_state import provider_for
from services.tokens import refusal_reason, user_for_token

bp = Blueprint("panel", __name__, url_prefix="/panel")
csrf.exempt(bp)

ALLOW_HEADERS = ("Authorization, Content-Type, HX-Request, HX-Current-URL, HX-Target, HX-Trigger, "
                 "HX-Trigger-Name, HX-Boosted, HX-Prompt")
EXPOSE_HEADERS = "HX-Trigger, HX-Trigger-After-Swap, HX-Redirect, HX-Retarget, HX-Reswap, HX-Refresh"
CV_UPLOAD = "panel.upload_cv"    # blueprints.panel_activity
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
    # Backstop for bodies without a Content-Length (chunked): reading past it raises 413. A CV
    # upload (blueprints.panel_activity) may be as large as the CV limit, and says so in words.
    limit = current_app.config["CV_MAX_BYTES"] + 64 * 1024 if request.endpoint == CV_UPLOAD else MAX_BODY_BYTES
    request.max_content_length = limit
    if (request.content_length or 0) > limit:
        if request.endpoint == CV_UPLOAD:
            raise PanelError(422, f"Not kept: the file is {describe_size(request.content_length or 0)}; the "
                                  f"limit for a CV is {describe_size(current_app.config['CV_MAX_BYTES'])}.")
        raise PanelError(400, f"The request is too large (limit {MAX_BODY_BYTES // 1024} KB).")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if user is None:
        # A revoked token is reported as revoked, not as one Shoal never saw.
        raise PanelError(401, (refusal_reason(token.strip()) if scheme.lower() == "bearer" else None) or NEED_TOKEN)
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
    conn, provider = provider_for(user.team_id)
    crm = None
    if conn is not None:
        crm = {"provider": conn.provider_key, "name": provider.display_name if provider else None,
               "status": conn.status}
    return jsonify({"user": {"id": user.id, "email": user.email, "name": user.name, "role": user.role},
                    "team": {"id": user.team_id, "name": user.team.name}, "crm": crm})
