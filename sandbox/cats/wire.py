"""CATS v3 wire conventions shared by the sandbox's routes: auth, rate-limit headers, error bodies,
HAL list envelopes and 201 + Location creates.

Sources: API-FACTS §3.1 (Token/Bearer auth), §3.3 (201 with empty body and Location), §3.4 (HAL paging,
500/hour rolling budget, X-Rate-Limit-* headers). The error body and the strict per_page check are
ASSUMED (docs/assumptions.md, CATS section).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from sandbox.common import Store, answer_routing_errors, json_object, sandbox_of, with_retry_after

API_ROOT = "/v3"

# ---- ASSUMED (see docs/assumptions.md, CATS) -------------------------------------------------
PER_PAGE_DEFAULT = 25
PER_PAGE_MAX = 100                 # beyond → 400 (we reject rather than clamp)
RATE_CALLS, RATE_SECONDS = 500, 3600.0
CONSENT_VALUES = (None, "pending", "granted", "declined")    # "declined" = off-limits
ACTIVITY_TYPES = ("email", "meeting", "call_talked", "call_lvm", "call_missed", "text_message",
                  "other", "call")
INVALID = 422                      # a well-formed body that breaks a rule; malformed JSON/paging → 400
DUPLICATE = 409                    # check_duplicate=true hit, body {"message", "duplicates": [ids]}
ALREADY_IN_PIPELINE = 409          # POST /pipelines for a candidate already on that job
# Resume upload: POST /<candidates|contacts>/{id}/attachments?filename=<name>&is_resume=true, raw bytes.
# 5xx bodies are HTML (error_response below).
# -----------------------------------------------------------------------------------------------


class ApiError(Exception):
    """Raised by a route to answer with the CATS error body."""

    def __init__(self, status: int, message: str, errors: dict[str, list[str]] | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.errors, self.extra = status, message, errors, extra


def error_response(status: int, message: str, errors: dict[str, list[str]] | None = None,
                   **extra: Any) -> Response:
    """JSON `{"message", "errors"?}`; 5xx come back as HTML, as the live API's proxies do."""
    if status >= 500:
        resp = Response(f"<html><head><title>{status}</title></head><body><h1>{status}</h1>"
                        f"<p>{message}</p></body></html>", status=status, mimetype="text/html")
        return resp
    body: dict[str, Any] = {"message": message, **extra}
    if errors:
        body["errors"] = errors
    resp = jsonify(body)
    resp.status_code = status
    return resp


def json_body() -> dict[str, Any]:
    return json_object(ApiError(400, "Request body must be a JSON object"))


def store() -> Store:
    return sandbox_of(current_app).store


def row_or_404(table: str, row_id: Any) -> dict[str, Any]:
    """A stored row, or CATS's plain 404 (no message naming the resource)."""
    row = store().get(table, row_id)
    if row is None:
        raise ApiError(404, "Not Found")
    return row


def absolute(path: str) -> str:
    return request.host_url.rstrip("/") + API_ROOT + path


def created(path: str) -> Response:
    """201, empty body, Location of the new resource: the client parses the id from the header."""
    resp = Response(status=201)
    del resp.headers["Content-Type"]      # empty body: nothing to type
    resp.headers["Location"] = absolute(path)
    return resp


def no_content() -> Response:
    resp = Response(status=204)
    del resp.headers["Content-Type"]
    return resp


def page_params() -> tuple[int, int]:
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", PER_PAGE_DEFAULT))
    except ValueError:
        raise ApiError(400, "page and per_page must be integers")
    if page < 1 or not 1 <= per_page <= PER_PAGE_MAX:
        raise ApiError(400, f"page must be >= 1 and per_page between 1 and {PER_PAGE_MAX}")
    return page, per_page


def hal_list(collection: str, rows: list[dict[str, Any]], render: Callable[[dict], dict]) -> Response:
    """One page of `rows` in the HAL envelope; links keep the request's other query arguments."""
    page, per_page = page_params()
    total = len(rows)
    last = max(1, -(-total // per_page))
    chunk = rows[(page - 1) * per_page: page * per_page]
    args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}

    def link(p: int) -> dict[str, str]:
        query = urlencode({**args, "page": p, "per_page": per_page})
        return {"href": f"{request.host_url.rstrip('/')}{request.path}?{query}"}

    links = {"self": link(page), "first": link(1), "last": link(last)}
    if page > 1:
        links["prev"] = link(min(page - 1, last))
    if page < last:
        links["next"] = link(page + 1)
    return jsonify({"count": len(chunk), "total": total, "_links": links,
                    "_embedded": {collection: [render(r) for r in chunk]}})


def install(app: Flask, bp: Blueprint) -> None:
    """Auth + rate limiting before every API call, rate headers after every API response."""
    sb = sandbox_of(app)
    sb.error_response = lambda status, message: error_response(status, message)

    @bp.before_request
    def _auth_and_rate() -> Response | None:
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme not in ("Token", "Bearer") or key.strip() != current_app.config["CATS_API_KEY"]:
            return error_response(401, "Unauthorized")
        g.rate_key = key.strip()
        allowed, remaining, retry = sb.rate.hit(g.rate_key)
        g.rate_remaining = remaining
        if not allowed:
            return with_retry_after(error_response(429, "Too Many Requests"), retry)
        return None

    @app.after_request
    def _rate_headers(resp: Response) -> Response:
        if request.path.startswith(API_ROOT + "/"):
            limit = sb.rate.calls
            remaining = g.get("rate_remaining")
            if remaining is None:      # rejected before counting (auth, injected fault)
                used = len(sb.rate.hits.get(g.get("rate_key", ""), ()))
                remaining = max(0, limit - used) if limit else 1_000_000
            resp.headers["X-Rate-Limit-Limit"] = str(limit or 1_000_000)
            resp.headers["X-Rate-Limit-Remaining"] = str(remaining)
        return resp

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.message, exc.errors, **exc.extra)

    answer_routing_errors(app)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
