"""A stateful SmartRecruiters customer-API simulator (`https://api.smartrecruiters.com`; API root =
host root).

Wire format from ../shared/providers/API-FACTS.md §2 (SRPY, the swagger-generated client of the
vendor spec; SRRB fixtures; passport-/oauth2-smartrecruiters; client-credentials examples):
`X-SmartToken: <key>` or an OAuth `Authorization: Bearer <token>` (authorization-code consent pop-up,
refresh, client credentials at `/identity/oauth/token`), camelCase `CandidateInput` bodies, create
returning the full candidate, `GET /candidates?q=&limit=&offset=` → `{totalFound, offset, limit, content}`
with `limit` ≤ 100, tags / attachments / properties / consent sub-resources, per-job status, notes as
`POST /messages/shares` with `#[CANDIDATE:<id>]`, error body `{message, errors: [{code, message}]}`,
and 10 req/s + 8 concurrent per credential → 429 with `X-RateLimit-*`.

Everything AF marks [inferred]/[not found] (Retry-After, error codes, required fields, token lifetime,
applying an existing candidate to a job, listing shares, consent values) is ASSUMED in one place, the
constants block of `sandbox.smartrecruiters.wire`, and in docs/assumptions.md (SmartRecruiters section).

Sandbox-only switches, besides sandbox.common's (/__sandbox/reset restores all of them):
- POST /__sandbox/smartrecruiters/token_lifetime {"seconds": 1}: lifetime of tokens issued from now on.
- POST /__sandbox/smartrecruiters/expire_tokens: every access token issued so far expires now.
- POST /__sandbox/smartrecruiters/consent {"candidate_id", "status"}: set a candidate's GDPR consent
  (the customer API can't), e.g. "DECLINED" to make them off-limits.
"""
from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify, request

from sandbox import webapp
from sandbox.common import RateWindow, make_app, sandbox_of, set_seed
from sandbox.smartrecruiters import catalog, extras, oauth, people
from sandbox.smartrecruiters.wire import (API_ROOT, CONSENT_STATUSES, RATE_CALLS, RATE_SECONDS,
                                          TOKEN_LIFETIME, find, install, now)

DEFAULT_CREDENTIALS = {"api_key": "smartrecruiters-sandbox-key"}
# The OAuth client the sandbox knows (a partner app's id/secret) for the consent + token flows.
OAUTH_CLIENT = {"client_id": "shoal-sandbox-client", "client_secret": "shoal-sandbox-secret"}

__all__ = ["API_ROOT", "DEFAULT_CREDENTIALS", "OAUTH_CLIENT", "create_app"]


def create_app(api_key: str | None = None, client_id: str | None = None, client_secret: str | None = None,
               token_lifetime: float = TOKEN_LIFETIME, redirect_uris: list[str] | None = None,
               rate_calls: int = RATE_CALLS, rate_seconds: float = RATE_SECONDS, **options: object) -> Flask:
    """Build the SmartRecruiters simulator. `api_key` is the X-SmartToken it accepts; `client_id` /
    `client_secret` the OAuth client; `token_lifetime` seconds per access token (small values force
    refreshes); `redirect_uris` restricts the consent redirect (default: any http(s) URL)."""
    app = make_app("smartrecruiters", RateWindow(rate_calls, rate_seconds))
    app.config.update(SR_API_KEY=api_key or DEFAULT_CREDENTIALS["api_key"],
                      SR_CLIENT_ID=client_id or OAUTH_CLIENT["client_id"],
                      SR_CLIENT_SECRET=client_secret or OAUTH_CLIENT["client_secret"],
                      SR_TOKEN_LIFETIME=float(token_lifetime), SR_REDIRECT_URIS=list(redirect_uris or []))
    sb = sandbox_of(app)

    bp = Blueprint("smartrecruiters", __name__, url_prefix=API_ROOT or None)
    people.register(bp)
    extras.register(bp)
    catalog.register(bp)
    install(app)
    oauth.register(app)
    app.register_blueprint(bp)
    app.register_blueprint(webapp.blueprint("SmartRecruiters", {
        "/app/people/candidates/<rid>": lambda rid: ("Candidate", rid, find(sb.store, "candidates", rid))}))

    @app.post("/__sandbox/smartrecruiters/token_lifetime")
    def _token_lifetime() -> Response:
        seconds = (request.get_json(silent=True) or {}).get("seconds")
        app.config["SR_TOKEN_LIFETIME"] = float(seconds) if seconds else float(token_lifetime)
        return jsonify({"ok": True, "seconds": app.config["SR_TOKEN_LIFETIME"]})

    @app.post("/__sandbox/smartrecruiters/expire_tokens")
    def _expire_tokens() -> Response:
        with sb.store.lock:
            for row in sb.store.all("oauth_tokens"):
                sb.store.update("oauth_tokens", row["id"], {"expires_at": 0})
        return jsonify({"ok": True})

    @app.post("/__sandbox/smartrecruiters/consent")
    def _consent() -> Response | tuple[Response, int]:
        body = request.get_json(silent=True) or {}
        cand = find(sb.store, "candidates", str(body.get("candidate_id")))
        if cand is None or body.get("status") not in CONSENT_STATUSES:
            return jsonify({"error": f"need a known candidate_id and status in {CONSENT_STATUSES}"}), 400
        sb.store.update("candidates", cand["id"], {"consent": {"status": body["status"], "date": now()}})
        return jsonify({"ok": True})

    def seed_sandbox() -> None:
        # Tests may shorten the token lifetime: reset restores what create_app was given.
        app.config["SR_TOKEN_LIFETIME"] = float(token_lifetime)
        catalog.seed(sb.store)

    set_seed(app, seed_sandbox)
    return app
