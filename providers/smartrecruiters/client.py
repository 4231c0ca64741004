"""Thin HTTP client for the SmartRecruiters Customer API.

Wire format from API-FACTS §2 (sources: roksela/smartrecruiters-python-client, generated from the
vendor's Swagger; davejcameron/smartrecruiters fixtures; passport-/oauth2-smartrecruiters for OAuth):

- auth: `X-SmartToken: <api key>`, or `Authorization: Bearer <access token>` (OAuth);
- lists: `limit` (≤100) + `offset`, answered as `{"totalFound": n, "content": [...]}`;
- errors: `{"message": ..., "errors": [{"code", "message"}]}`.

OAuth (authorization code + refresh) goes through Authlib's `OAuth2Session`; the token endpoint is
on the identity host (`www.smartrecruiters.com`), not the API host, unless the operator configured
another (`OAuthApp.auth_base_url`). The client id and secret are the app's (`OAuthApp`, from config
at each use), never a team's stored credentials, so no team can send them elsewhere (issue #10).
Token calls go through a session guarded like the API's (the adapter's HostPolicy), following no
redirect. Tokens are refreshed shortly before `expires_at` and once after a 401; rotated tokens are
handed to `on_refresh` so the caller can persist them. Nothing here retries otherwise.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterator

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from providers.base import OAuthApp
from providers.errors import AuthError, HostNotAllowed, RateLimited, Unavailable
from providers.hosts import HostPolicy
from providers.guard import guard
from providers.http import HttpClient, parse_retry_after
from providers.smartrecruiters.assumed import PKCE_METHOD

# ---- documented constants (API-FACTS §2.1, §2.4; the ASSUMED ones are in provider.py) ---------
DEFAULT_AUTH_BASE_URL = "https://www.smartrecruiters.com"          # [seen-3p] identity host
AUTHORIZE_PATH = "/identity/oauth/allow"                            # [seen-3p]
TOKEN_PATH = "/identity/oauth/token"                                # [seen-3p]
OAUTH_SCOPES = ("candidates_read", "candidates_create", "candidates_manage", "jobs_read", "users_read")
PAGE_LIMIT = 100                                                    # [seen] max `limit`
REFRESH_MARGIN_SECONDS = 60                                         # [seen-3p] clients refresh ~60 s early
WIRE_TO_OURS = {"firstName": "first_name", "lastName": "last_name", "email": "email",
                "phoneNumber": "phone", "location": "location", "web": "linkedin_url", "experience": "title"}


def token_url(auth_base_url: str | None) -> str:
    return (auth_base_url or DEFAULT_AUTH_BASE_URL).rstrip("/") + TOKEN_PATH


def authorize_url(auth_base_url: str | None) -> str:
    return (auth_base_url or DEFAULT_AUTH_BASE_URL).rstrip("/") + AUTHORIZE_PATH


def oauth_session(app: OAuthApp, redirect_uri: str | None = None, policy: HostPolicy | None = None,
                  token: dict[str, Any] | None = None) -> OAuth2Session:
    """Authlib's session for the app's client; with `policy`, guarded like the API calls."""
    # SmartRecruiters reads client_id/client_secret from the form body, not HTTP basic auth.
    sess = OAuth2Session(app.client_id, app.client_secret or None, redirect_uri=redirect_uri,
                         scope=" ".join(OAUTH_SCOPES), token=token, token_endpoint_auth_method="client_secret_post",
                         code_challenge_method=PKCE_METHOD)
    for hook in ("access_token_response", "refresh_token_response"):
        sess.register_compliance_hook(hook, _throttled_or_down)
    if policy is not None:
        guard(sess, policy)
    return sess


def _throttled_or_down(resp: requests.Response) -> requests.Response:
    """A 429/5xx from the token endpoint is not a credentials problem: don't let it read as one
    (Authlib would parse a JSON 429 body as a token without an access token)."""
    if resp.status_code == 429:
        raise RateLimited("SmartRecruiters OAuth token endpoint → 429",
                          retry_after=parse_retry_after(resp.headers.get("Retry-After")))
    if resp.status_code >= 500:
        raise Unavailable(f"SmartRecruiters OAuth token endpoint → {resp.status_code}", status=resp.status_code)
    if 300 <= resp.status_code < 400:
        raise HostNotAllowed(f"the SmartRecruiters OAuth token endpoint answered with a redirect "
                             f"(HTTP {resp.status_code}); Shoal does not follow redirects", status=resp.status_code)
    return resp


def token_to_credentials(token: dict[str, Any]) -> dict[str, Any]:
    """Authlib's token dict → the credential keys the schema stores."""
    expires_at = token.get("expires_at")
    if expires_at is None and token.get("expires_in") is not None:
        expires_at = time.time() + float(token["expires_in"])
    out = {"access_token": token["access_token"], "expires_at": expires_at}
    if token.get("refresh_token"):
        out["refresh_token"] = token["refresh_token"]
    return out


def call_token_endpoint(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run an Authlib token call, mapping its failures onto our error types."""
    try:
        token = fn()
    except OAuthError as exc:   # the error code is the protocol's; the description is remote text
        raise AuthError(f"SmartRecruiters OAuth refused: {str(exc.error)[:60]}") from exc
    except requests.Timeout as exc:
        raise Unavailable("SmartRecruiters OAuth token endpoint timed out") from exc
    except requests.ConnectionError as exc:
        raise Unavailable("cannot reach the SmartRecruiters OAuth token endpoint") from exc
    except requests.TooManyRedirects as exc:
        raise HostNotAllowed("the SmartRecruiters OAuth token endpoint answered with a redirect; "
                             "Shoal does not follow redirects") from exc
    except requests.HTTPError as exc:
        code = exc.response.status_code if exc.response is not None else 0
        if code >= 500 or code == 429:
            raise Unavailable(f"SmartRecruiters OAuth token endpoint answered {code}", status=code) from exc
        raise AuthError(f"SmartRecruiters OAuth token endpoint refused the request ({code})", status=code) from exc
    except ValueError as exc:   # a non-JSON answer from the token endpoint
        raise Unavailable("SmartRecruiters OAuth token endpoint answered something that is not JSON") from exc
    if not token.get("access_token"):
        raise AuthError("SmartRecruiters OAuth token endpoint returned no access token")
    return token


class SmartRecruitersClient(HttpClient):
    def __init__(self, base_url: str, credentials: dict[str, Any], session: requests.Session | None = None,
                 on_refresh: Callable[[dict[str, Any]], None] | None = None, oauth_app: OAuthApp | None = None,
                 policy: HostPolicy | None = None):
        super().__init__(base_url, session)
        self.credentials = credentials
        self.on_refresh = on_refresh
        self.oauth_app, self.policy = oauth_app, policy

    def error_message(self, resp: requests.Response) -> tuple[str, dict[str, str]]:
        """`{"message", "errors": [{"code", "message"}]}`: a message shaped "<field>: <text>" names
        the field (camelCase, mapped to our key when it is one of ours); otherwise key by code."""
        msg, _ = super().error_message(resp)
        try:
            body = resp.json()
        except ValueError:
            return msg, {}
        fields: dict[str, str] = {}
        for err in (body.get("errors") or []) if isinstance(body, dict) else []:
            if not isinstance(err, dict):
                continue
            text = str(err.get("message") or err.get("code") or "error")
            name, sep, rest = text.partition(": ")
            if sep and name.replace(".", "").replace("_", "").isalnum():
                fields[WIRE_TO_OURS.get(name.split(".")[0], name)] = rest
            else:
                fields[str(err.get("code") or "error")] = text
        return msg, fields

    # -- auth ---------------------------------------------------------------------------------
    @property
    def uses_oauth(self) -> bool:
        return bool(self.credentials.get("access_token")) and not self.credentials.get("api_key")

    def auth_headers(self) -> dict[str, str]:
        if self.credentials.get("api_key"):
            return {"X-SmartToken": str(self.credentials["api_key"])}
        if self.credentials.get("access_token"):
            return {"Authorization": f"Bearer {self.credentials['access_token']}"}
        raise AuthError("SmartRecruiters: no API key or access token configured")

    def refresh(self) -> None:
        """Trade the refresh token for a new access token and hand the rotated credentials on."""
        creds, app = self.credentials, self.oauth_app
        if app is None:
            raise AuthError("SmartRecruiters OAuth is not configured on this server any more "
                            "(SMARTRECRUITERS_CLIENT_ID): connect with an API key instead")
        if not creds.get("refresh_token"):
            raise AuthError("SmartRecruiters access token expired and cannot be refreshed "
                            "(no refresh token): reconnect the account")
        sess = oauth_session(app, policy=self.policy)
        self.calls += 1
        token = call_token_endpoint(lambda: sess.refresh_token(
            token_url(app.auth_base_url), refresh_token=creds["refresh_token"], timeout=self.timeout))
        creds.update(token_to_credentials(token))
        if self.on_refresh:
            self.on_refresh(dict(creds))

    def _expiring(self) -> bool:
        expires_at = self.credentials.get("expires_at")
        return bool(expires_at) and float(expires_at) - REFRESH_MARGIN_SECONDS <= time.time()

    def request(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> requests.Response:
        if auth and self.uses_oauth and self._expiring():
            self.refresh()
        try:
            return super().request(method, path, auth=auth, **kwargs)
        except AuthError as exc:
            # An access token can be revoked or expire early: refresh once, then give up for real.
            if not (auth and self.uses_oauth and exc.status == 401 and self.credentials.get("refresh_token")):
                raise
            self.refresh()
            return super().request(method, path, auth=auth, **kwargs)

    # -- paging -------------------------------------------------------------------------------
    def page(self, path: str, params: dict[str, Any] | None = None, offset: int = 0,
             limit: int = PAGE_LIMIT) -> tuple[list[dict[str, Any]], int | None]:
        """One `limit`/`offset` page: (rows, totalFound)."""
        query = dict(params or {})
        query.update(limit=min(limit, PAGE_LIMIT), offset=offset)
        body = self.json("GET", path, params=query) or {}
        total = body.get("totalFound")
        return list(body.get("content") or []), (int(total) if total is not None else None)

    def iterate(self, path: str, params: dict[str, Any] | None = None, max_rows: int = 10_000
                ) -> Iterator[dict[str, Any]]:
        """Every row of a list, page by page, stopping at `totalFound` or a short page."""
        offset = 0
        while offset < max_rows:
            rows, total = self.page(path, params, offset)
            yield from rows
            offset += len(rows)
            if not rows or len(rows) < PAGE_LIMIT or (total is not None and offset >= total):
                return
