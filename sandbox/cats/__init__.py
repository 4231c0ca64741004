"""A stateful CATS (catsone.com) API v3 simulator, served under the real root path `/v3`.

Wire format from ../shared/providers/API-FACTS.md §3 (CATS-MCP endpoint map, Pipedream's CATS
components, MindCloud docs): `Authorization: Token <key>` (or `Bearer <key>`), snake_case bodies,
201 with an empty body and a `Location` header on create, HAL lists (`_embedded.<collection>`,
`_links`, `count`, `total`) paged by `page`/`per_page`, and a 500-per-hour rolling budget reported in
`X-Rate-Limit-Limit` / `X-Rate-Limit-Remaining` with 429 + `Retry-After`.

Everything API-FACTS marks [inferred]/[not found] (error body, duplicate response, consent values,
resume upload path, per_page > 100) is ASSUMED in one place, the constants block of `sandbox.cats.wire`,
and written down in docs/assumptions.md (CATS section).

Sandbox-only extras live under `/__sandbox/` (see sandbox.common).
"""
from __future__ import annotations

from flask import Blueprint, Flask, request

from sandbox.cats import catalog, people
from sandbox.cats.wire import API_ROOT, RATE_CALLS, RATE_SECONDS, install
from sandbox import webapp
from sandbox.common import RateWindow, make_app, sandbox_of, set_seed

DEFAULT_CREDENTIALS = {"api_key": "cats-sandbox-key"}

__all__ = ["API_ROOT", "DEFAULT_CREDENTIALS", "create_app"]
WEB_RECORDS = {"candidates": ("Candidate", "candidateID"), "contacts": ("Contact", "contactID"),
               "companies": ("Company", "companyID")}


def create_app(api_key: str | None = None, rate_calls: int = RATE_CALLS,
               rate_seconds: float = RATE_SECONDS, **options: object) -> Flask:
    """Build the CATS simulator. `api_key` is the one key it accepts (default DEFAULT_CREDENTIALS);
    `rate_calls`/`rate_seconds` set the rolling budget that /__sandbox/reset restores."""
    app = make_app("cats", RateWindow(rate_calls, rate_seconds))
    app.config["CATS_API_KEY"] = api_key or DEFAULT_CREDENTIALS["api_key"]
    sb = sandbox_of(app)

    bp = Blueprint("cats", __name__, url_prefix=API_ROOT)
    people.register(bp)
    catalog.register(bp)
    install(app, bp)
    app.register_blueprint(bp)

    def record_page() -> tuple[str, str, dict | None]:
        # The CATS web app's classic record route: /index.php?m=candidates&a=show&candidateID=7.
        coll = request.args.get("m", "")
        kind, param = WEB_RECORDS.get(coll, ("Record", "id"))
        rid = request.args.get(param, "")
        found = coll in WEB_RECORDS and request.args.get("a") == "show"
        return kind, rid, sb.store.get(coll, rid) if found else None

    app.register_blueprint(webapp.blueprint("CATS", {"/index.php": record_page}))
    set_seed(app, lambda: catalog.seed(sb.store))
    return app
