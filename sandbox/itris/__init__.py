"""A stateful itris 9 REST API simulator, served under `/api/v2` (a connection's base URL is
`https://<subdomain>.itris.cloud/api/v2`; the host pattern is assumed).

Known wire format (../shared/providers/API-FACTS.md §4, from docs.itris.co.uk and SourceWhale's
setup article): an API user logs in with username, password and subdomain; `POST /api/v2/applicant/inbox`
takes `firstName`, `lastName`, `emailAddress`, `phoneNumber`, `webAddress`, `cv {fileName, fileContent,
fileDatetime}`, `source`, `applyToJobIds`, `notifyUserIds` and lands in a human-triaged inbox; itris has
applicants and contacts with statuses, note types, an off-limits/opt-out mark, companies, jobs with
statuses, and an "original CV" slot separate from attachments.

Everything else (token login, routes, field names, paging, error envelope, rate limit) is ASSUMED:
the constants block of `sandbox.itris.wire` and docs/assumptions.md (itris section), which this module
implements exactly.

Sandbox-only switch, besides sandbox.common's: POST /__sandbox/itris/token_seconds {"seconds": 2}
sets the lifetime of tokens issued from now on (reset restores it).
"""
from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify, request

from sandbox import webapp
from sandbox.common import RateWindow, make_app, sandbox_of, set_seed
from sandbox.itris import catalog, people
from sandbox.itris.wire import API_ROOT, RATE_CALLS, RATE_SECONDS, TOKEN_SECONDS, install

DEFAULT_CREDENTIALS = {"username": "shoal-api", "password": "itris-sandbox-password", "subdomain": "sandbox"}

__all__ = ["API_ROOT", "DEFAULT_CREDENTIALS", "create_app"]


def create_app(api_key: str | None = None, username: str | None = None, token_seconds: float = TOKEN_SECONDS,
               rate_calls: int = RATE_CALLS, rate_seconds: float = RATE_SECONDS, **options: object) -> Flask:
    """Build the itris simulator. `api_key` is the API user's password it accepts (itris has no API
    key; the name keeps the shared create_app signature) and `username` its user name."""
    app = make_app("itris", RateWindow(rate_calls, rate_seconds))
    app.config.update(ITRIS_USERNAME=username or DEFAULT_CREDENTIALS["username"],
                      ITRIS_PASSWORD=api_key or DEFAULT_CREDENTIALS["password"],
                      ITRIS_TOKEN_SECONDS=float(token_seconds))
    sb = sandbox_of(app)

    bp = Blueprint("itris", __name__, url_prefix=API_ROOT)
    people.register(bp)
    catalog.register(bp)
    install(app, bp)
    app.register_blueprint(bp)
    app.register_blueprint(webapp.blueprint("itris", {
        "/applicants/<rid>": lambda rid: ("Applicant", rid, sb.store.get("applicants", rid)),
        "/contacts/<rid>": lambda rid: ("Contact", rid, sb.store.get("contacts", rid)),
        "/companies/<rid>": lambda rid: ("Company", rid, sb.store.get("companies", rid))}))

    @app.post("/__sandbox/itris/token_seconds")
    def _token_seconds() -> Response:
        seconds = (request.get_json(silent=True) or {}).get("seconds") or token_seconds
        app.config["ITRIS_TOKEN_SECONDS"] = float(seconds)
        return jsonify({"ok": True})

    def seed_sandbox() -> None:
        app.config["ITRIS_TOKEN_SECONDS"] = float(token_seconds)
        catalog.seed(sb.store)

    set_seed(app, seed_sandbox)
    return app
