"""A stateful Pinpoint (pinpointhq.com) API simulator, served under the real root path `/api/v1`
(the tenant's host `https://<subdomain>.pinpointhq.com` is the sandbox root).

Wire format from ../shared/providers/API-FACTS.md §5 (PP-MAP notes on developers.pinpointhq.com,
cross-checked against Ruby/Rails and HiBob client snippets): `X-API-KEY` auth, JSON:API documents
(`application/vnd.api+json`) with errors `{"errors": [{status, title, detail, source}]}`, candidates
without POST, applications (lookup by `filter[candidate_email]`, `include`, `extra_fields`) that create
candidates as a side effect, job_seekers, comments with `body_text` on a polymorphic `commentable`,
write-only tag attributes, base64 CVs read back as `pdf_cv` attachments, read-only stages, custom
fields/attributes, a `blocked` candidate flag, `page[number]`/`page[size]` ≤ 1000 and `stats[total]`.

Everything AF marks [inferred]/[not found] (rate budget, 404 for missing verbs, CV file-name key,
comment filters, custom-attribute write shape, email dedupe of candidates) is ASSUMED in one place,
the constants block of `sandbox.pinpoint.wire`, and in docs/assumptions.md (Pinpoint section).

Sandbox-only: `GET /files/<key>/<filename>` serves uploaded documents (the attachment `url`, like a
pre-signed storage link: no API key), and sandbox.common's `/__sandbox/` switches.
"""
from __future__ import annotations

import base64

from flask import Blueprint, Flask, Response

from sandbox import webapp
from sandbox.common import RateWindow, make_app, sandbox_of, set_seed
from sandbox.pinpoint import catalog, people
from sandbox.pinpoint.wire import API_ROOT, RATE_CALLS, RATE_SECONDS, install

DEFAULT_CREDENTIALS = {"api_key": "pinpoint-sandbox-key", "subdomain": "sandbox"}

__all__ = ["API_ROOT", "DEFAULT_CREDENTIALS", "create_app"]


def create_app(api_key: str | None = None, rate_calls: int = RATE_CALLS, rate_seconds: float = RATE_SECONDS,
               **options: object) -> Flask:
    """Build the Pinpoint simulator. `api_key` is the X-API-KEY it accepts (default
    DEFAULT_CREDENTIALS); `rate_calls`/`rate_seconds` the rolling budget /__sandbox/reset restores."""
    app = make_app("pinpoint", RateWindow(rate_calls, rate_seconds))
    app.config["PINPOINT_API_KEY"] = api_key or DEFAULT_CREDENTIALS["api_key"]
    sb = sandbox_of(app)

    bp = Blueprint("pinpoint", __name__, url_prefix=API_ROOT)
    people.register(bp)
    catalog.register(bp)
    install(app)
    app.register_blueprint(bp)

    @app.get("/files/<key>/<filename>")
    def _file(key: str, filename: str) -> Response:
        for table in ("applications", "job_seekers", "candidates"):
            for row in sb.store.all(table):
                for doc in row.get("attachments") or []:
                    if doc["key"] == key and doc["filename"] == filename:
                        return Response(base64.b64decode(doc["data"]), mimetype="application/octet-stream")
        return Response("Not Found", status=404, mimetype="text/plain")

    def with_candidate(table: str, kind: str, rid: str) -> tuple[str, str, dict | None]:
        row = sb.store.get(table, rid)   # the person's own fields live on their candidate row
        return kind, rid, None if row is None else {**(sb.store.get("candidates", row.get("candidate_id")) or {}), **row}

    app.register_blueprint(webapp.blueprint("Pinpoint", {
        "/admin/applications/<rid>": lambda rid: with_candidate("applications", "Application", rid),
        "/admin/job_seekers/<rid>": lambda rid: with_candidate("job_seekers", "Job seeker", rid)}))
    set_seed(app, lambda: catalog.seed(sb.store))
    return app
