"""Tracker RMS REST wire conventions: the JWT exchange, bearer auth on /api/v1, case-insensitive
paths, the rate limit and its headers, error bodies, and the 10-rows-a-page search envelope.

Sources: API-FACTS §1.1 (ExchangeToken `{"bearerToken"}` → `{"token", "expiration"}`, ~7-day JWT,
`Authorization: Bearer`), §1.4 (page-number paging, 10 rows whatever pageSize says, ~100 req/min).
Error bodies, rate headers and the envelope are ASSUMED (docs/assumptions.md, Tracker).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from sandbox.common import answer_routing_errors, json_object, sandbox_of, with_retry_after

API_ROOT = ""

# ---- ASSUMED (see docs/assumptions.md, Tracker) ----------------------------------------------
PAGE_SIZE = 10                    # reported by integrators: the server ignores pageSize
RATE_CALLS, RATE_SECONDS = 100, 60.0
JWT_SECONDS = 7 * 24 * 3600
MARKETING_PREFERENCES = ("No Preference", "Opted In", "Opted Out")   # "Opted Out" = off-limits
DEFAULT_STATUS = "Active"
ALREADY_LONGLISTED = 409          # the resource is already on that opportunity
# Notes: POST /api/v1/Activity {recordType, recordId, subject, note, activityTypeId} (of the two
# unverified shapes in API-FACTS). Documents: GET .../Documents (AF) and an ASSUMED multipart upload
# on the same path (people.py).
# Reference lists: GET /api/v1/MetaData/{Resource,Contact,Opportunity}Statuses, ActivityTypes, Tags,
# CustomFields/{Resource,Contact}. Errors: ProblemDetails; 401 empty; 429 plain text.
# -----------------------------------------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, status: int, title: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(title)
        self.status, self.title, self.errors = status, title, errors


def problem(status: int, title: str, errors: dict[str, list[str]] | None = None) -> Response:
    """ASP.NET Core ProblemDetails; 401 is empty with WWW-Authenticate, 429 is plain text."""
    if status == 401:
        resp = Response(status=401)
        del resp.headers["Content-Type"]
        resp.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return resp
    if status == 429:
        return Response(f"API calls quota exceeded! maximum admitted {sandbox_of(current_app).rate.calls} "
                        f"per {_period()}.", status=429, mimetype="text/plain")
    body: dict[str, Any] = {"type": f"https://tools.ietf.org/html/rfc9110#status-{status}",
                            "title": title, "status": status}
    if errors:
        body["errors"] = errors
    else:
        body["detail"] = title
    resp = jsonify(body)
    resp.status_code = status
    resp.content_type = "application/problem+json; charset=utf-8"
    return resp


def _period() -> str:
    seconds = int(sandbox_of(current_app).rate.seconds)
    return {60: "1m", 3600: "1h"}.get(seconds, f"{seconds}s")


def json_body() -> dict[str, Any]:
    return json_object(ApiError(400, "A non-empty JSON object request body is required."))


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def page(rows: list[dict[str, Any]], body: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Slice one page of 10; `pageSize`/`maxResults` are read (must be ints) and then ignored."""
    try:
        number = int(body.get("pageNumber") or 1)
        int(body.get("pageSize") or body.get("maxResults") or PAGE_SIZE)
    except (TypeError, ValueError):
        raise ApiError(400, "One or more validation errors occurred.",
                       {"pageNumber": ["pageNumber and pageSize must be integers."]})
    if number < 1:
        raise ApiError(400, "One or more validation errors occurred.", {"pageNumber": ["Must be >= 1."]})
    return rows[(number - 1) * PAGE_SIZE: number * PAGE_SIZE], number


def envelope(rows: list[dict[str, Any]], body: dict[str, Any]) -> Response:
    chunk, number = page(rows, body)
    return jsonify({"data": chunk, "totalRecords": len(rows), "pageNumber": number, "pageSize": PAGE_SIZE})


def created(row_id: int) -> Response:
    resp = jsonify({"id": row_id, "success": True})
    resp.status_code = 201
    return resp


# -- JWTs: stateless (HMAC), so they survive /__sandbox/reset like a real server's would --------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def issue_jwt(bearer: str) -> tuple[str, float]:
    exp = time.time() + current_app.config["TRACKER_JWT_SECONDS"]
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = _b64(json.dumps({"sub": hashlib.sha256(bearer.encode()).hexdigest()[:16], "exp": exp}).encode())
    sig = hmac.new(current_app.config["TRACKER_SECRET"], f"{head}.{claims}".encode(), "sha256").digest()
    return f"{head}.{claims}.{_b64(sig)}", exp


def check_jwt(token: str) -> str | None:
    """The database key (subject) of a valid, unexpired JWT from the current bearer token, else None."""
    try:
        head, claims, sig = token.split(".")
        want = hmac.new(current_app.config["TRACKER_SECRET"], f"{head}.{claims}".encode(), "sha256").digest()
        if not hmac.compare_digest(_b64(want), sig):
            return None
        data = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    except (ValueError, TypeError):
        return None
    current = hashlib.sha256(current_app.config["TRACKER_BEARER"].encode()).hexdigest()[:16]
    if data.get("exp", 0) <= time.time() or data.get("sub") != current:
        return None
    return str(data["sub"])


class LowerPath:
    """ASP.NET routing is case-insensitive (clients send both /api/Auth/ExchangeToken and
    /api/auth/exchangetoken), so every route here is lower case and the path is folded first."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ["PATH_INFO"] = environ.get("PATH_INFO", "").lower()
        return self.wsgi_app(environ, start_response)


def install(app: Flask, bp: Blueprint) -> None:
    sb = sandbox_of(app)
    sb.error_response = lambda status, message: problem(status, message)
    app.wsgi_app = LowerPath(app.wsgi_app)  # type: ignore[method-assign]

    @app.post("/api/auth/exchangetoken")
    def exchange_token() -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not body.get("bearerToken"):
            return problem(400, "One or more validation errors occurred.",
                           {"bearerToken": ["The bearerToken field is required."]})
        if body["bearerToken"] != app.config["TRACKER_BEARER"]:
            return problem(401, "invalid bearer token")
        token, exp = issue_jwt(body["bearerToken"])
        return jsonify({"token": token, "expiration": datetime.fromtimestamp(exp, UTC)
                        .strftime("%Y-%m-%dT%H:%M:%SZ")})

    @bp.before_request
    def _auth_and_rate() -> Response | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        subject = check_jwt(token.strip()) if scheme.lower() == "bearer" else None
        if subject is None:
            return problem(401, "invalid token")
        allowed, remaining, retry = sb.rate.hit(subject)
        g.rate = (subject, remaining)
        if not allowed:
            return with_retry_after(problem(429, "quota exceeded"), retry)
        return None

    @bp.after_request
    def _rate_headers(resp: Response) -> Response:
        if "rate" in g and sb.rate.calls:
            subject, remaining = g.rate
            hits = sb.rate.hits.get(subject)
            # the window frees its oldest slot `seconds` after that call was made
            frees_in = sb.rate.seconds - (time.monotonic() - hits[0]) if hits else sb.rate.seconds
            reset = time.time() + frees_in
            resp.headers["X-Rate-Limit-Limit"] = _period()
            resp.headers["X-Rate-Limit-Remaining"] = str(remaining)
            resp.headers["X-Rate-Limit-Reset"] = datetime.fromtimestamp(reset, UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ")
        return resp

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return problem(exc.status, exc.title, exc.errors)

    answer_routing_errors(app)
