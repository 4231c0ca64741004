"""The SmartRecruiters OAuth 2.0 endpoints: the consent pop-up of the seed article ("Click allow access
on the SmartRecruiters pop-up window") and the token endpoint.

- `GET /identity/oauth/allow?client_id&redirect_uri&scope&state&response_type=code` renders a
  server-side consent page whose "Allow access" button posts back to the same path;
  allowing redirects to `redirect_uri?code=...&state=...`, denying to `redirect_uri?error=access_denied`.
- `POST /identity/oauth/token` (form-encoded; client credentials in the form or HTTP Basic) for
  `authorization_code` (→ access + refresh token), `refresh_token` (rotates the refresh token) and
  `client_credentials` (access token only) — AF §2.1.

Token endpoint errors use the RFC 6749 body `{"error", "error_description"}` (ASSUMED: AF shows no
error body for it). Codes are single use and live CODE_LIFETIME seconds. PKCE (RFC 7636, S256 only)
is honoured when the consent URL carried a `code_challenge`: the code is then redeemed only with the
matching `code_verifier` (ASSUMED: AF does not say whether SmartRecruiters supports PKCE).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, current_app, jsonify, render_template_string, request

from sandbox.common import sandbox_of
from sandbox.smartrecruiters.wire import CODE_LIFETIME

CONSENT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SmartRecruiters – Allow access</title></head>
<body>
  <main>
    <h1>Allow access to your SmartRecruiters account</h1>
    <p><strong>{{ client_id }}</strong> is asking to:</p>
    <ul>{% for s in scopes %}<li>{{ s }}</li>{% else %}<li>access your account</li>{% endfor %}</ul>
    <form method="post" action="{{ action }}">
      {% for name, value in fields.items() %}
      <input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}
      <button type="submit" name="decision" value="allow">Allow access</button>
      <button type="submit" name="decision" value="deny">Deny</button>
    </form>
  </main>
</body></html>"""

ERROR_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head>
<body><h1>Authorization error</h1><p>{{ message }}</p></body></html>"""


def _oauth_error(status: int, error: str, description: str) -> Response:
    resp = jsonify({"error": error, "error_description": description})
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _valid_redirect(uri: str) -> bool:
    parts = urlsplit(uri)
    allowed = current_app.config["SR_REDIRECT_URIS"]
    return parts.scheme in ("http", "https") and bool(parts.netloc) and (not allowed or uri in allowed)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _pkce_ok(row: dict[str, Any], verifier: str | None) -> bool:
    if not row.get("code_challenge"):
        return True
    return bool(verifier) and hmac.compare_digest(_s256(verifier or ""), row["code_challenge"])


def register(app: Flask) -> None:
    store = sandbox_of(app).store

    @app.route("/identity/oauth/allow", methods=["GET", "POST"])
    def allow() -> Response | str:
        args = request.values
        client_id, redirect_uri = args.get("client_id", ""), args.get("redirect_uri", "")
        # An unknown client or redirect must not be redirected to (RFC 6749 §4.1.2.1): show an error.
        if client_id != current_app.config["SR_CLIENT_ID"]:
            return render_template_string(ERROR_PAGE, message="Unknown client_id."), 400
        if not _valid_redirect(redirect_uri):
            return render_template_string(ERROR_PAGE, message="Invalid redirect_uri."), 400
        state, scope = args.get("state", ""), args.get("scope", "")

        def back(**params: str) -> Response:
            params = {**params, **({"state": state} if state else {})}
            sep = "&" if urlsplit(redirect_uri).query else "?"
            return Response(status=302, headers={"Location": f"{redirect_uri}{sep}{urlencode(params)}"})

        if args.get("response_type", "code") != "code":
            return back(error="unsupported_response_type")
        challenge, method = args.get("code_challenge", ""), args.get("code_challenge_method", "")
        if challenge and method != "S256":
            return back(error="invalid_request")
        if request.method == "GET":
            fields = {"client_id": client_id, "redirect_uri": redirect_uri, "scope": scope,
                      "state": state, "response_type": "code",
                      **({"code_challenge": challenge, "code_challenge_method": method} if challenge else {})}
            return render_template_string(CONSENT_PAGE, client_id=client_id, scopes=scope.split(),
                                          fields=fields, action=request.path)
        if request.form.get("decision") != "allow":
            return back(error="access_denied")
        code = secrets.token_urlsafe(24)
        store.insert("oauth_codes", {"code": code, "client_id": client_id, "redirect_uri": redirect_uri,
                                     "scope": scope, "expires_at": time.time() + CODE_LIFETIME,
                                     "code_challenge": challenge or None})
        return back(code=code)

    @app.post("/identity/oauth/token")
    def token() -> Response:
        form = request.form
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if request.authorization and request.authorization.type == "basic":
            client_id, client_secret = request.authorization.username, request.authorization.password
        if (client_id, client_secret) != (current_app.config["SR_CLIENT_ID"],
                                          current_app.config["SR_CLIENT_SECRET"]):
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        grant = form.get("grant_type")
        if grant == "client_credentials":
            return jsonify(_issue(client_id, form.get("scope", ""), refresh=False))
        if grant == "authorization_code":
            with store.lock:        # single use: check and consume atomically
                rows = store.all("oauth_codes", lambda r: r["code"] == form.get("code"))
                if not rows:
                    return _oauth_error(400, "invalid_grant", "Unknown or already used code")
                store.delete("oauth_codes", rows[0]["id"])
            row = rows[0]
            if row["expires_at"] <= time.time() or row["client_id"] != client_id:
                return _oauth_error(400, "invalid_grant", "Code expired or issued to another client")
            if form.get("redirect_uri") and form["redirect_uri"] != row["redirect_uri"]:
                return _oauth_error(400, "invalid_grant", "redirect_uri does not match")
            if not _pkce_ok(row, form.get("code_verifier")):
                return _oauth_error(400, "invalid_grant", "PKCE verification failed")
            return jsonify(_issue(client_id, row["scope"], refresh=True))
        if grant == "refresh_token":
            with store.lock:        # rotation: the presented refresh token dies with this call
                rows = store.all("oauth_tokens", lambda r: r.get("refresh_token") == form.get("refresh_token")
                                 and r["client_id"] == client_id)
                if not rows or not form.get("refresh_token"):
                    return _oauth_error(400, "invalid_grant", "Unknown or revoked refresh token")
                store.update("oauth_tokens", rows[0]["id"], {"refresh_token": None})
            return jsonify(_issue(client_id, rows[0]["scope"], refresh=True))
        return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")

    def _issue(client_id: str, scope: str, refresh: bool) -> dict[str, Any]:
        lifetime = float(current_app.config["SR_TOKEN_LIFETIME"])
        row = {"client_id": client_id, "scope": scope, "access_token": secrets.token_urlsafe(32),
               "refresh_token": secrets.token_urlsafe(32) if refresh else None,
               "expires_at": time.time() + lifetime}
        store.insert("oauth_tokens", row)
        body: dict[str, Any] = {"access_token": row["access_token"], "token_type": "bearer",
                                "expires_in": max(1, int(lifetime)), "scope": scope}
        if refresh:
            body["refresh_token"] = row["refresh_token"]
        return body
