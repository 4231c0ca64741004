"""A stateful Tracker RMS REST API simulator (the `evo??api` regional hosts; API root = host root).

Wire format from ../shared/providers/API-FACTS.md §1 (third-party clients that call the live API):
`POST /api/Auth/ExchangeToken {"bearerToken"}` → `{"token", "expiration"}` (a ~7-day JWT, any path
casing), `Authorization: Bearer <JWT>` on `/api/v1/*`, Resource/Contact create → 201 `{"id", "success"}`,
`POST .../Search` paged by `pageNumber` at 10 rows whatever `pageSize` says, Resources read back with a
lower-case `firstname`, `tagText`, Contact `marketingPreference`, Opportunity search and longlisting.

Everything API-FACTS marks [inferred]/[not found] (notes via `POST /api/v1/Activity`, error bodies,
rate-limit headers, MetaData lists, Client rows, no CV upload) is ASSUMED in one place, the constants
block of `sandbox.tracker.wire`, and written down in docs/assumptions.md (Tracker section).

Sandbox-only switches, besides sandbox.common's:
- POST /__sandbox/tracker/ignore_search_text {"on": true}: searches ignore text filters, as
  integrators report of the live API.
- POST /__sandbox/tracker/jwt_seconds {"seconds": 2}: lifetime of JWTs issued from now on.
- POST /__sandbox/tracker/regenerate_token {"bearer_token": "new"}: the customer regenerates their
  token in Tracker; JWTs exchanged from the old one stop working at once (API-FACTS §1.1).
/__sandbox/reset restores the switches, the bearer token and the rate budget.
"""
from __future__ import annotations

import secrets

from flask import Blueprint, Flask, Response, jsonify, request

from sandbox import webapp
from sandbox.common import RateWindow, make_app, sandbox_of, set_seed
from sandbox.tracker import catalog, people
from sandbox.tracker.wire import API_ROOT, JWT_SECONDS, RATE_CALLS, RATE_SECONDS, install

DEFAULT_CREDENTIALS = {"bearer_token": "tracker-sandbox-token", "region": "uk"}

__all__ = ["API_ROOT", "DEFAULT_CREDENTIALS", "create_app"]


def create_app(api_key: str | None = None, jwt_seconds: float = JWT_SECONDS, rate_calls: int = RATE_CALLS,
               rate_seconds: float = RATE_SECONDS, **options: object) -> Flask:
    """Build the Tracker simulator. `api_key` is the customer bearer token it accepts for the JWT
    exchange (default DEFAULT_CREDENTIALS["bearer_token"]); `jwt_seconds` the JWT lifetime."""
    app = make_app("tracker", RateWindow(rate_calls, rate_seconds))
    app.config.update(TRACKER_BEARER=api_key or DEFAULT_CREDENTIALS["bearer_token"],
                      TRACKER_SECRET=secrets.token_bytes(32), TRACKER_JWT_SECONDS=float(jwt_seconds),
                      TRACKER_IGNORE_SEARCH_TEXT=False)
    sb = sandbox_of(app)

    bp = Blueprint("tracker", __name__, url_prefix=API_ROOT or None)
    people.register(bp)
    catalog.register(bp)
    install(app, bp)
    app.register_blueprint(bp)
    app.register_blueprint(webapp.blueprint("Tracker", {   # paths arrive lowercased (wire.LowerPath)
        "/resource/<rid>": lambda rid: ("Resource", rid, sb.store.get("resources", rid)),
        "/contact/<rid>": lambda rid: ("Contact", rid, sb.store.get("contacts", rid)),
        "/client/<rid>": lambda rid: ("Client", rid, sb.store.get("clients", rid))}))

    @app.post("/__sandbox/tracker/ignore_search_text")
    def _ignore_search_text() -> Response:
        app.config["TRACKER_IGNORE_SEARCH_TEXT"] = bool((request.get_json(silent=True) or {}).get("on", True))
        return jsonify({"ok": True, "on": app.config["TRACKER_IGNORE_SEARCH_TEXT"]})

    @app.post("/__sandbox/tracker/jwt_seconds")
    def _jwt_seconds() -> Response:
        seconds = (request.get_json(silent=True) or {}).get("seconds") or jwt_seconds
        app.config["TRACKER_JWT_SECONDS"] = float(seconds)
        return jsonify({"ok": True})

    @app.post("/__sandbox/tracker/regenerate_token")
    def _regenerate_token() -> Response:
        new = str((request.get_json(silent=True) or {}).get("bearer_token") or secrets.token_urlsafe(16))
        app.config["TRACKER_BEARER"] = new
        return jsonify({"ok": True, "bearer_token": new})

    def seed_sandbox() -> None:
        app.config.update(TRACKER_JWT_SECONDS=float(jwt_seconds), TRACKER_IGNORE_SEARCH_TEXT=False,
                          TRACKER_BEARER=api_key or DEFAULT_CREDENTIALS["bearer_token"])
        catalog.seed(sb.store)

    set_seed(app, seed_sandbox)
    return app
