"""Pinpoint JSON:API wire conventions shared by the sandbox's routes: `X-API-KEY` auth, the
`application/vnd.api+json` envelope, the errors array, `page[number]`/`page[size]` paging,
`filter[...]`, `sort`, `include`, `extra_fields[...]` and `stats[total]=count`.

Sources: API-FACTS §5.1 (X-API-KEY, JSON:API documents), §5.3 (errors `{errors: [{status, title,
detail, source: {pointer}}]}`), §5.4 (page[size] default 100 / max 1000, offset only, stats → meta,
sort on id/created_at/updated_at, 429 exists). The query conventions match Graphiti (the Rails JSON:API
library those parameter names come from). Everything ASSUMED below is written down in
docs/assumptions.md (Pinpoint section).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, request

from sandbox.common import sandbox_of, with_retry_after

API_ROOT = "/api/v1"
MEDIA_TYPE = "application/vnd.api+json"

# ---- ASSUMED (see docs/assumptions.md, Pinpoint) ---------------------------------------------
RATE_CALLS, RATE_SECONDS = 100, 60.0        # AF: undocumented; 100 per rolling minute per key
RETRY_AFTER_MIN = 1                         # 429 carries Retry-After (integer seconds)
PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX = 100, 1000   # AF [inferred]; > max or < 1 → 400 (Graphiti)
SORTABLE = ("id", "created_at", "updated_at")
MISSING_ROUTE_STATUS = 404                  # no POST /candidates etc.: Rails answers 404 for no route
CV_CONTEXT = "pdf_cv"                       # AF [seen-3p] read side
JOB_STATUSES = ("open", "closed", "archived", "draft")
STAGE_TYPES = ("applied", "in_progress", "offer", "hired", "rejected")
CV_FILE_NAME_KEY = "cv_file_name"           # AF names only cv_base64_data
TAG_CONTEXT_DEFAULT = "custom"
ALREADY_APPLIED = 422                       # same candidate × job twice; also a 2nd job seeker
# Candidates are deduped by email (case-insensitive) when an application/job seeker is created, and
# their personal fields live on the candidate. To-one relationships always carry data linkage.
# Paths: move stage = PATCH /applications/{id} relationships.stage; list notes = GET /comments
# ?filter[commentable_id]=&filter[commentable_type]=; custom values = POST /custom_attributes
# {value, custom_attributable_type, custom_attributable_id} + relationships.custom_field.
# -----------------------------------------------------------------------------------------------


class ApiError(Exception):
    """A JSON:API error answer. `errors` are (detail, pointer or None, attribute or None) triples."""

    def __init__(self, status: int, title: str, errors: list[tuple[str, str | None]] | None = None) -> None:
        super().__init__(title)
        self.status, self.title = status, title
        self.errors = errors or [(title, None)]


def error_response(status: int, title: str, errors: list[tuple[str, str | None]] | None = None) -> Response:
    out = []
    for detail, pointer in errors or [(title, None)]:
        item: dict[str, Any] = {"status": str(status), "code": title.lower().replace(" ", "_"),
                                "title": title, "detail": detail}
        if pointer:
            item["source"] = ({"parameter": pointer[1:]} if pointer.startswith("?")
                              else {"pointer": pointer})
        out.append(item)
    return document({"errors": out}, status)


def document(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)


def invalid(*problems: tuple[str, str]) -> ApiError:
    """422 with one entry per (attribute pointer, message), Rails-style "First name can't be blank"."""
    return ApiError(422, "Validation Error", [(msg, ptr) for ptr, msg in problems])


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def url(path: str) -> str:
    return request.host_url.rstrip("/") + API_ROOT + path


def resource(kind: str, row: dict[str, Any], attributes: dict[str, Any],
             relationships: dict[str, tuple[str, Any]] | None = None) -> dict[str, Any]:
    """One resource object; to-one relationships carry data linkage (ASSUMED: always, not only when
    included) so a client can follow application → candidate without `include`."""
    rels = {}
    for name, (rtype, rid) in (relationships or {}).items():
        if isinstance(rid, list):
            rels[name] = {"data": [{"type": rtype, "id": str(i)} for i in rid]}
        else:
            rels[name] = {"data": {"type": rtype, "id": str(rid)} if rid is not None else None}
    out = {"id": str(row["id"]), "type": kind, "attributes": attributes,
           "links": {"self": url(f"/{kind}/{row['id']}")}}
    if rels:
        out["relationships"] = rels
    return out


def payload(kind: str) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """(attributes, relationships, id) of a write document whose `data.type` must be `kind`."""
    ctype = request.mimetype or ""
    if ctype not in (MEDIA_TYPE, "application/json"):
        raise ApiError(415, "Unsupported Media Type", [(f"Content-Type must be {MEDIA_TYPE}", None)])
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        raise ApiError(400, "Bad Request", [("Request body is not valid JSON", None)])
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise ApiError(400, "Bad Request", [("Request body must be a JSON:API document with data", "/data")])
    if data.get("type") != kind:
        raise ApiError(409, "Conflict", [(f"data.type must be {kind!r}", "/data/type")])
    attrs = {} if data.get("attributes") is None else data["attributes"]
    rels = {} if data.get("relationships") is None else data["relationships"]
    if not isinstance(attrs, dict) or not isinstance(rels, dict):
        raise ApiError(400, "Bad Request", [("attributes and relationships must be objects", "/data")])
    return attrs, rels, (str(data["id"]) if data.get("id") is not None else None)


def related_id(rels: dict[str, Any], name: str, kinds: tuple[str, ...]) -> tuple[str, int] | None:
    """(type, id) of a to-one relationship in a write document, None when absent; 422 when malformed."""
    if name not in rels:
        return None
    data = (rels[name] or {}).get("data") if isinstance(rels[name], dict) else None
    if not isinstance(data, dict) or data.get("type") not in kinds:
        raise invalid((f"/data/relationships/{name}", f"{name} must reference one of {', '.join(kinds)}"))
    try:
        return data["type"], int(data.get("id"))
    except (TypeError, ValueError):
        raise invalid((f"/data/relationships/{name}", f"{name} id is not valid"))


def filters(allowed: tuple[str, ...]) -> dict[str, list[str]]:
    """`filter[x]=a,b` → {"x": ["a", "b"]}; an unknown filter is a 400 as in Graphiti."""
    out = {}
    for key, value in request.args.items():
        if key.startswith("filter[") and key.endswith("]"):
            name = key[7:-1]
            if name not in allowed:
                raise ApiError(400, "Bad Request", [(f"Unknown filter {name!r}", f"?{key}")])
            out[name] = [v.strip() for v in value.split(",")]
    return out


def matches(wanted: dict[str, list[str]], values: dict[str, Any], ci: tuple[str, ...] = ()) -> bool:
    """Whether a row whose filterable values are `values` passes every filter in `wanted` (a filter
    lists acceptable values; the names in `ci` compare case-insensitively)."""
    for name, accepted in wanted.items():
        value = "" if values[name] is None else str(values[name])
        if name in ci:
            value, accepted = value.lower(), [a.lower() for a in accepted]
        if value not in accepted:
            return False
    return True


def bad_param(parameter: str, detail: str) -> ApiError:
    return ApiError(400, "Bad Request", [(detail, f"?{parameter}")])


def extra_fields(kind: str) -> set[str]:
    return {f.strip() for f in request.args.get(f"extra_fields[{kind}]", "").split(",") if f.strip()}


def includes(allowed: tuple[str, ...]) -> list[str]:
    names = [n.strip() for n in request.args.get("include", "").split(",") if n.strip()]
    for n in names:
        if n not in allowed:
            raise ApiError(400, "Bad Request", [(f"Unknown include {n!r}", "?include")])
    return names


def listing(rows: list[dict[str, Any]], render: Callable[[dict[str, Any]], dict[str, Any]],
            included: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None) -> Response:
    """Sort, page and wrap `rows`: `{data, meta, links, included?}` with `stats[total]=count`."""
    sort = request.args.get("sort", "id")
    key = sort.lstrip("-")
    if key not in SORTABLE:
        raise ApiError(400, "Bad Request", [(f"Cannot sort on {key!r}", "?sort")])
    rows = sorted(rows, key=lambda r: (r.get(key) or 0), reverse=sort.startswith("-"))
    try:
        number = int(request.args.get("page[number]", 1))
        size = int(request.args.get("page[size]", PAGE_SIZE_DEFAULT))
    except ValueError:
        raise ApiError(400, "Bad Request", [("page[number] and page[size] must be integers", "?page")])
    if number < 1 or not 1 <= size <= PAGE_SIZE_MAX:
        raise ApiError(400, "Bad Request", [(f"page[size] must be 1..{PAGE_SIZE_MAX} and page[number] >= 1",
                                             "?page[size]")])
    chunk = rows[(number - 1) * size: number * size]
    meta: dict[str, Any] = {}
    if request.args.get("stats[total]") == "count":
        meta["stats"] = {"total": {"count": len(rows)}}

    def link(n: int) -> str:
        args = {k: v for k, v in request.args.items() if k not in ("page[number]", "page[size]")}
        query = urlencode({**args, "page[number]": n, "page[size]": size}, safe="[],")
        return f"{request.host_url.rstrip('/')}{request.path}?{query}"

    links = {"self": link(number), "first": link(1)}
    if number > 1:
        links["prev"] = link(number - 1)
    if number * size < len(rows):
        links["next"] = link(number + 1)
    body: dict[str, Any] = {"data": [render(r) for r in chunk], "meta": meta, "links": links}
    if included is not None:
        body["included"] = included(chunk)
    return document(body)


def install(app: Flask) -> None:
    """X-API-KEY auth and the rolling rate window before every API call, rate headers after it."""
    sb = sandbox_of(app)
    titles = {401: "Unauthorized", 429: "Too Many Requests", 500: "Internal Server Error",
              503: "Service Unavailable", 504: "Gateway Timeout"}
    sb.error_response = lambda status, message: error_response(status, titles.get(status, "Error"),
                                                               [(message, None)])

    def is_api() -> bool:
        return request.path.startswith(API_ROOT + "/") or request.path == API_ROOT

    @app.before_request
    def _auth_and_rate() -> Response | None:
        if not is_api():
            return None
        key = request.headers.get("X-API-KEY", "")
        if key != current_app.config["PINPOINT_API_KEY"]:
            return error_response(401, "Unauthorized", [("Invalid or missing API key", None)])
        g.pp_key = key
        allowed, remaining, retry = sb.rate.hit(key)
        g.pp_remaining = remaining
        if not allowed:
            resp = error_response(429, "Too Many Requests", [("Rate limit exceeded, retry later", None)])
            return with_retry_after(resp, retry, RETRY_AFTER_MIN)
        return None

    @app.after_request
    def _rate_headers(resp: Response) -> Response:
        if is_api() and "pp_key" in g:
            resp.headers["X-RateLimit-Limit"] = str(sb.rate.calls or 1_000_000)
            resp.headers["X-RateLimit-Remaining"] = str(g.get("pp_remaining", 0))
        return resp

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.title, exc.errors)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _no_route(_exc: Exception) -> Response:
        return error_response(MISSING_ROUTE_STATUS, "Not Found",
                              [(f"No route matches [{request.method}] {request.path}", None)])
