"""The JSON API under /api/v1 (flask-smorest on marshmallow): campaigns, people, enrolments and
their events, for an agency's own scripts and tools. The OpenAPI document is served at
/api/v1/openapi.json.

Authentication is an API token (`Authorization: Bearer shoal_api_...`) made on the Account page or
with `flask --app app api-token --email EMAIL`, never the login session: that is why these routes,
and only these, are CSRF-exempt (a cross-site page can't make a browser attach a bearer token).
Errors are JSON `{code, status, message, errors}`: 401 without a live token, 404 for an id that is
not in the token's team (whether it exists elsewhere or not), 422 with `errors` naming each field."""
from __future__ import annotations

from flask import g, request
from flask_smorest import Api, Blueprint, abort
from werkzeug.exceptions import HTTPException

from blueprints._inputs import GuardedArgs
from blueprints.api.schemas import ErrorSchema
from core import login_manager
from models import User
from services.tokens import user_for_token

PREFIX = "/api/v1"
GUARDED_ARGS = GuardedArgs()
SECURITY = {"bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "An API token from the Account page (shoal_api_...)"}}


class ShoalApi(Api):
    """flask-smorest answers every HTTPException of the whole app with JSON; Shoal's pages keep
    their HTML error pages, so the JSON handler is installed on the API's blueprints only."""

    ERROR_SCHEMA = ErrorSchema   # one error shape in the document (ours and flask-smorest's 422s)

    def _register_error_handlers(self) -> None:
        return None


def api_error(error: HTTPException):
    """flask-smorest's JSON error ({code, status, message, errors}), for the API's blueprints."""
    return ShoalApi.handle_http_exception(None, error)  # type: ignore[arg-type]  (it uses no state)


def setup(blp: Blueprint) -> Blueprint:
    """Every API blueprint: token authentication first, JSON errors, bodies parsed depth-limited
    (set before the blueprint's routes are declared: flask-smorest binds the parser then)."""
    blp.ARGUMENTS_PARSER = GUARDED_ARGS
    blp.before_request(authenticate)
    blp.register_error_handler(HTTPException, api_error)
    blp.register_error_handler(429, api_error)   # else the app's own 429 page (blueprints/errors.py) wins
    return blp


def authenticate() -> None:
    """Require a live API token; pin current_user to its owner (never the session cookie)."""
    g._login_user = login_manager.anonymous_user()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    user = user_for_token(token.strip(), scope="api") if scheme.lower() == "bearer" and token.strip() else None
    if user is None:
        abort(401, message="A live API token is required: Authorization: Bearer <token> "
                           "(make one on the Account page).")
    g.api_user = g._login_user = user


def api_user() -> User:
    return g.api_user


