"""itris 9 REST wire conventions for the sandbox: the token login, bearer auth, the JSON error
envelope, page/pageSize paging and the per-user rate limit.

API-FACTS §4 knows only the applicant inbox and that an itris API user has a username, password and
subdomain; every convention here is ASSUMED and specified in docs/assumptions.md (itris section).
"""
from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from sandbox.common import answer_routing_errors, json_object, sandbox_of, with_retry_after

API_ROOT = "/api/v2"

# ---- ASSUMED (see docs/assumptions.md, itris) ------------------------------------------------
# Every route and field of this package except POST /applicant/inbox is assumed; these are the numbers.
TOKEN_SECONDS = 3600
PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX = 50, 200
RATE_CALLS, RATE_SECONDS = 120, 60.0
RECORD_TYPES = ("applicant", "contact")
ERROR_CODES = {400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 429: "rate_limited"}
# -----------------------------------------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None,
                 details: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.details = status, message, code, details


def invalid(details: dict[str, str]) -> ApiError:
    return ApiError(400, "One or more fields are invalid.", "validation_failed", details)


def error_response(status: int, message: str, code: str | None = None,
                   details: dict[str, str] | None = None) -> Response:
    code = code or ERROR_CODES.get(status, "server_error")
    resp = jsonify({"error": {"code": code, "message": message, "details": [
        {"field": f, "message": m} for f, m in (details or {}).items()]}})
    resp.status_code = status
    return resp


def json_body() -> dict[str, Any]:
    return json_object(ApiError(400, "The request body must be a JSON object."))


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_type() -> str:
    kind = request.args.get("recordType", "")
    if kind not in RECORD_TYPES:
        raise ApiError(400, "recordType must be 'applicant' or 'contact'.")
    return kind


def paged(rows: list[dict[str, Any]]) -> Response:
    try:
        page = int(request.args.get("page", 1))
        size = int(request.args.get("pageSize", PAGE_SIZE_DEFAULT))
    except ValueError:
        raise ApiError(400, "page and pageSize must be integers.")
    if page < 1 or not 1 <= size <= PAGE_SIZE_MAX:
        raise ApiError(400, f"page must be >= 1 and pageSize between 1 and {PAGE_SIZE_MAX}.")
    return jsonify({"items": rows[(page - 1) * size: page * size], "page": page, "pageSize": size,
                    "totalItems": len(rows), "totalPages": -(-len(rows) // size)})


def created(body: dict[str, Any], location: str | None = None) -> Response:
    resp = jsonify(body)
    resp.status_code = 201
    if location:
        resp.headers["Location"] = request.host_url.rstrip("/") + API_ROOT + location
    return resp


def install(app: Flask, bp: Blueprint) -> None:
    """Token login route, bearer auth + rate limit before each call, rate headers after."""
    sb = sandbox_of(app)
    sb.error_response = lambda status, message: error_response(status, message)
    tokens: dict[str, tuple[str, float]] = {}        # access token → (username, expiry); survives reset

    @app.post(API_ROOT + "/token")
    def login() -> Response:
        body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
        if not isinstance(body, dict) or not body.get("username") or not body.get("password"):
            return error_response(400, "username and password are required.")
        expected = (app.config["ITRIS_USERNAME"], app.config["ITRIS_PASSWORD"])
        if (body["username"], body["password"]) != expected:
            return error_response(401, "Invalid username or password.")
        token = secrets.token_urlsafe(32)
        tokens[token] = (body["username"], time.time() + app.config["ITRIS_TOKEN_SECONDS"])
        return jsonify({"access_token": token, "token_type": "Bearer",
                        "expires_in": int(app.config["ITRIS_TOKEN_SECONDS"])})

    @bp.before_request
    def _auth_and_rate() -> Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user, expires = tokens.get(token.strip(), (None, 0.0)) if scheme.lower() == "bearer" else (None, 0.0)
        if user is None:
            return error_response(401, "A valid access token is required.")
        if expires <= time.time():
            return error_response(401, "The access token has expired.", "token_expired")
        allowed, remaining, retry = sb.rate.hit(user)
        g.rate_remaining = remaining
        if not allowed:
            return with_retry_after(error_response(429, "Rate limit exceeded."), retry)
        return None

    @bp.after_request
    def _rate_headers(resp: Response) -> Response:
        if "rate_remaining" in g and sb.rate.calls:
            resp.headers["X-RateLimit-Limit"] = str(sb.rate.calls)
            resp.headers["X-RateLimit-Remaining"] = str(g.rate_remaining)
        return resp

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, exc.code, exc.details)

    answer_routing_errors(app, "Resource not found.", "Method not allowed.")


def current_store() -> Any:
    return sandbox_of(current_app).store


def found(table: str, row_id: Any, what: str) -> dict[str, Any]:
    """A stored row, or itris's 404 naming it ("Job 7 was not found.")."""
    row = current_store().get(table, row_id)
    if row is None:
        raise ApiError(404, f"{what} {row_id} was not found.")
    return row
