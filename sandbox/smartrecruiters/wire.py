"""SmartRecruiters wire conventions shared by the sandbox's routes: auth (API key or OAuth bearer),
the per-credential rate and concurrency limits, the error body, `limit`/`offset` paging and UUID ids.

Sources: API-FACTS §2.1 (`X-SmartToken`, OAuth bearer), §2.3 (`{message, errors: [{code, message}]}`),
§2.4 (`limit` ≤ 100 + `offset` + `totalFound`; 10 req/s per credential, 8 concurrent, `GET /candidates`
1 concurrent, 429 with `X-RateLimit-*`). Everything marked ASSUMED below is written down in
docs/assumptions.md (SmartRecruiters section).
"""
from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from flask import Flask, Response, current_app, g, jsonify, request

from sandbox.common import Store, answer_routing_errors, json_object, sandbox_of

API_ROOT = ""

# ---- ASSUMED (see docs/assumptions.md, SmartRecruiters) --------------------------------------
RATE_CALLS, RATE_SECONDS = 10, 1.0          # AF [inferred]: 10 req/s per credential
CONCURRENT_LIMIT = 8                        # AF [inferred]: 8 concurrent requests per credential
SEARCH_CONCURRENT_LIMIT = 1                 # AF [inferred]: GET /candidates 1 concurrent
RETRY_AFTER_SECONDS = 1                     # AF: Retry-After [not found]; we always send it
LIMIT_DEFAULT, LIMIT_MAX = 10, 100          # limit outside 1..100 → 400 (not clamped)
TOKEN_LIFETIME = 1800                       # OAuth access token seconds (AF: value [not found])
CODE_LIFETIME = 600                         # authorization code seconds, single use
CANDIDATE_REQUIRED = ("firstName", "lastName", "email")
CANDIDATE_STATUSES = ("LEAD", "NEW", "IN_REVIEW", "INTERVIEW", "OFFERED", "HIRED", "REJECTED",
                      "WITHDRAWN", "TRANSFERRED")          # AF [seen-3p]
STATUS_ON_APPLY = "NEW"                     # AF: default on create [not found]
JOB_STATUSES = ("CREATED", "SOURCING", "INTERVIEW", "OFFER", "HIRED", "CANCELLED", "ON_HOLD")
ATTACHMENT_TYPES = ("RESUME", "COVER_LETTER", "OTHER")
CONSENT_STATUSES = ("REQUIRED", "PENDING", "ACQUIRED", "EXPIRED", "DECLINED")   # DECLINED = opted out
ALREADY_ASSIGNED = 409                      # POST /candidates/{id}/jobs/{jobId} for a job it is on
ERROR_CODES = {400: "INVALID_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
               405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 429: "TOO_MANY_REQUESTS",
               500: "INTERNAL_ERROR", 503: "SERVICE_UNAVAILABLE", 504: "GATEWAY_TIMEOUT"}
# A field rule's error message starts with the field name ("email: ..."); unknown body keys → 400.
# Ids are UUID strings. Paths: apply an existing candidate POST /candidates/{id}/jobs/{jobId}; list a
# candidate's notes GET /messages/shares?candidateId=; PATCH /candidates/{id} also takes experience
# and education. Shares: every #[CANDIDATE:id] must exist, shareWith must name an audience (400).
# OAuth: token errors are RFC 6749 {"error", "error_description"}; refresh rotates the refresh token.
# -----------------------------------------------------------------------------------------------

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ApiError(Exception):
    """Raised by a route to answer with the SmartRecruiters error body. `errors` are (code, message)
    pairs; a field rule's message starts with the JSON field name (`"email: not a valid email"`)."""

    def __init__(self, status: int, message: str, errors: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.errors = errors or [(ERROR_CODES.get(status, "ERROR"), message)]


def error_response(status: int, message: str, errors: list[tuple[str, str]] | None = None) -> Response:
    errors = errors or [(ERROR_CODES.get(status, "ERROR"), message)]
    resp = jsonify({"message": message, "errors": [{"code": c, "message": m} for c, m in errors]})
    resp.status_code = status
    return resp


def field_error(field: str, text: str) -> tuple[str, str]:
    return ("INVALID_VALUE", f"{field}: {text}")


def invalid(field: str, text: str) -> ApiError:
    """A 400 for one broken field rule."""
    return ApiError(400, "Validation failed", [field_error(field, text)])


def bad_param(name: str, text: str) -> ApiError:
    """A 400 for one bad query parameter."""
    return ApiError(400, f"Invalid parameter {name}", [("INVALID_PARAMETER", f"{name}: {text}")])


def json_body() -> dict[str, Any]:
    return json_object(ApiError(400, "Request body must be a JSON object"))


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_uid() -> str:
    return str(uuid.uuid4())


def find(store: Store, table: str, uid: str) -> dict[str, Any] | None:
    """The row whose public (UUID) id is `uid`; the Store's integer id stays internal."""
    rows = store.all(table, lambda r: r.get("uid") == uid)
    return rows[0] if rows else None


def must_find(store: Store, table: str, uid: str, what: str) -> dict[str, Any]:
    row = find(store, table, uid)
    if row is None:
        raise ApiError(404, f"{what} not found: {uid}")
    return row


def url(path: str) -> str:
    return request.host_url.rstrip("/") + API_ROOT + path


def page_params() -> tuple[int, int]:
    try:
        limit = int(request.args.get("limit", LIMIT_DEFAULT))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        raise ApiError(400, "limit and offset must be integers")
    if not 1 <= limit <= LIMIT_MAX:
        raise bad_param("limit", f"must be between 1 and {LIMIT_MAX}")
    if offset < 0:
        raise bad_param("offset", "must be >= 0")
    return limit, offset


def paged(rows: list[dict[str, Any]], render: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
    """`{totalFound, offset, limit, content}` for one `limit`/`offset` window of `rows`."""
    limit, offset = page_params()
    return jsonify({"totalFound": len(rows), "offset": offset, "limit": limit,
                    "content": [render(r) for r in rows[offset:offset + limit]]})


def _credential() -> str | None:
    """Who is calling: the API key, or the OAuth client behind a live bearer token (limits are per
    credential, so every token of one client shares them)."""
    key = request.headers.get("X-SmartToken")
    if key is not None:
        return f"key:{key}" if key == current_app.config["SR_API_KEY"] else None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    rows = sandbox_of(current_app).store.all("oauth_tokens", lambda r: r["access_token"] == token.strip())
    if not rows or rows[0]["expires_at"] <= time.time():
        return None
    return f"client:{rows[0]['client_id']}"


def install(app: Flask) -> None:
    """Auth, the rate window and the concurrency caps before every API call (ahead of the common
    fault/latency hook, so a slow request holds its concurrency slot), rate headers after it."""
    sb = sandbox_of(app)
    sb.error_response = lambda status, message: error_response(status, message)
    inflight: dict[str, int] = {}
    lock = threading.Lock()

    def is_api(path: str) -> bool:
        return request.blueprint != "webapp" and not path.startswith(("/__sandbox/", "/identity/oauth/"))

    def guard() -> Response | None:
        if not is_api(request.path):
            return None
        cred = _credential()
        if cred is None:
            return error_response(401, "Unauthorized: missing, invalid or expired credentials")
        g.sr_cred = cred
        allowed, remaining, _retry = sb.rate.hit(cred)
        g.sr_remaining = remaining
        if not allowed:
            return too_many("Rate limit exceeded")
        slots = [cred]
        if request.method == "GET" and request.path.rstrip("/") == API_ROOT + "/candidates":
            slots.append(cred + ":search")
        with lock:
            for slot in slots:
                cap = SEARCH_CONCURRENT_LIMIT if slot.endswith(":search") else CONCURRENT_LIMIT
                if inflight.get(slot, 0) >= cap:
                    return too_many("Concurrent request limit exceeded")
            for slot in slots:
                inflight[slot] = inflight.get(slot, 0) + 1
            g.sr_slots = slots
            g.sr_concurrent_left = CONCURRENT_LIMIT - inflight[cred]
        return None

    def too_many(message: str) -> Response:
        resp = error_response(429, message)
        resp.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return resp

    app.before_request_funcs.setdefault(None, []).insert(0, guard)

    @app.teardown_request
    def _release(_exc: BaseException | None) -> None:
        with lock:
            for slot in g.pop("sr_slots", ()):
                inflight[slot] -= 1

    @app.after_request
    def _rate_headers(resp: Response) -> Response:
        if is_api(request.path) and "sr_cred" in g:
            resp.headers["X-RateLimit-Limit"] = str(sb.rate.calls or 1_000_000)
            resp.headers["X-RateLimit-Remaining"] = str(g.get("sr_remaining", 0))
            resp.headers["X-RateLimit-Concurrent-Limit"] = str(CONCURRENT_LIMIT)
            resp.headers["X-RateLimit-Concurrent-Remaining"] = str(max(0, g.get("sr_concurrent_left", 0)))
        return resp

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, exc.errors)

    answer_routing_errors(app)
