"""SmartRecruiters' "Allow access" (the OAuth authorization-code flow), with the code exchanged in a
worker: the web process never calls a CRM, the token endpoint included.

    begin()   "Allow access": a state and a PKCE verifier; the sign-in is kept server-side (Redis,
              encrypted, FLOW_SECONDS) under the state, and only the state goes in the admin's session.
    accept()  the callback: takes the sign-in once (GETDEL) for the admin who began it, keeps the code
              encrypted for EXCHANGE_SECONDS under a fresh random handle and queues the
              `oauth_exchange` task with that handle (never the code: RQ keeps a job's arguments).
    exchange() the job: takes the code once, calls the token endpoint, stores the connection (which
              queues its check) and writes the outcome, in our words, for the pop-up to read.
    outcome() what the pop-up's self-polling fragment shows: running, connected or failed.

Every record is single use and short-lived; the code never appears in a URL of ours or in a log."""
from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError

from core import db, get_redis
from crypto import CredentialsKeyMissing, decrypt_credentials, encrypt_credentials
from models import User
from providers import get_provider
from providers.base import Provider
from providers.errors import NotSupported, ProviderError, RateLimited, Unavailable
from services import background
from services.connections import default_base_url, store
from services.crm_hosts import allowlist, check_base_url, oauth_app

log = logging.getLogger("shoal.oauth")

FLOW_SECONDS = 600        # from "Allow access" to the CRM sending the admin back
EXCHANGE_SECONDS = 300    # from the callback to a worker redeeming the code (codes live minutes)
OUTCOME_SECONDS = 900     # how long the pop-up (or a reload of it) can read the outcome
PREFIX = "shoal:oauth:"


class StaleSignIn(Exception):
    """The callback's state names no sign-in this admin began (expired, used, or someone else's)."""


@dataclass(frozen=True)
class Outcome:
    state: str            # "running" | "connected" | "failed"
    message: str


def _key(kind: str, token: str) -> str:
    return f"{PREFIX}{kind}:{token}"


def _take(key: str) -> dict[str, Any] | None:
    """Read and delete in one step (single use, also between two workers)."""
    blob = get_redis().getdel(key)
    if blob is None:
        return None
    try:
        return decrypt_credentials(blob)
    except CredentialsKeyMissing:
        return None


def begin(user: User, provider_cls: type[Provider], redirect_uri: str, base_url: str) -> tuple[str, str]:
    """Start a sign-in: returns (state, the CRM's consent URL). `base_url` is already checked."""
    app = oauth_app(provider_cls)
    if app is None:
        raise NotSupported(f"OAuth is not configured for {provider_cls.display_name} on this server.")
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    record = {"team_id": user.team_id, "user_id": user.id, "provider_key": provider_cls.key,
              "base_url": base_url, "verifier": verifier, "redirect_uri": redirect_uri}
    get_redis().set(_key("flow", state), encrypt_credentials(record), ex=FLOW_SECONDS)
    url = provider_cls.authorization_url(app, redirect_uri, state, code_verifier=verifier)  # type: ignore[attr-defined]
    return state, url


def accept(user: User, provider_key: str, state: str, code: str | None) -> str | None:
    """The callback: consume the sign-in begun under `state` (StaleSignIn if there is none for this
    admin and CRM). With a code, queue its exchange and return the handle the pop-up polls with;
    without one (consent denied) return None: the sign-in is used up either way."""
    flow = _take(_key("flow", state))
    if flow is None or flow["user_id"] != user.id or flow["provider_key"] != provider_key:
        raise StaleSignIn()
    if not code:
        return None
    handle = secrets.token_urlsafe(18)
    redis = get_redis()
    redis.set(_key("code", handle), encrypt_credentials({**flow, "code": code}), ex=EXCHANGE_SECONDS)
    _write_outcome(handle, flow, "running", f"Connecting to {get_provider(provider_key).display_name}…")
    background.run("oauth_exchange", handle, job_id=f"oauth_exchange-{handle}")
    return handle


def _write_outcome(handle: str, flow: dict[str, Any], state: str, message: str) -> None:
    get_redis().set(_key("outcome", handle), json.dumps(
        {"user_id": flow["user_id"], "state": state, "message": message}), ex=OUTCOME_SECONDS)


def exchange(handle: str) -> str:
    """In a worker: redeem the code kept under `handle` and store the connection. Returns the state
    written for the pop-up. Whatever happens, the code is gone afterwards."""
    flow = _take(_key("code", handle))
    if flow is None:
        outcome = _read_outcome(handle)
        if outcome is not None and outcome["state"] == "running":   # the code expired before a worker got to it
            _write_outcome(handle, outcome, "failed", "The sign-in took too long and expired. Allow access again.")
        return "gone"
    try:
        provider_cls = get_provider(flow["provider_key"])
    except NotSupported:
        _write_outcome(handle, flow, "failed", "This CRM is no longer enabled on this server.")
        return "failed"
    state, message = _redeem(flow, provider_cls)
    _write_outcome(handle, flow, state, message)
    return state


def _redeem(flow: dict[str, Any], provider_cls: type[Provider]) -> tuple[str, str]:
    name = provider_cls.display_name
    user = db.session.get(User, flow["user_id"])
    app = oauth_app(provider_cls)
    if user is None or not user.is_admin or user.team_id != flow["team_id"] or app is None:
        return "failed", f"Shoal can't finish connecting {name} for this account. Allow access again."
    try:
        creds = provider_cls.exchange_code(flow["code"], app, flow["redirect_uri"], allowlist(),  # type: ignore[attr-defined]
                                           code_verifier=flow["verifier"])
        base_url = flow["base_url"]
        url = check_base_url(base_url, provider_cls) if base_url else default_base_url(provider_cls, creds)
        store(user, provider_cls, creds, url)
    except (RateLimited, Unavailable):   # our words: the token endpoint's own text is not repeated
        log.info("oauth exchange for team %s: %s unreachable", flow["team_id"], name)
        return "failed", f"Shoal couldn't reach {name} to finish the sign-in. Try again in a minute."
    except ProviderError:
        log.info("oauth exchange for team %s: %s refused the code", flow["team_id"], name)
        return "failed", f"{name} refused the sign-in. Try again."
    except ValidationError:   # the operator's allow-list changed since the sign-in began
        return "failed", f"Shoal no longer connects to that {name} address."
    return "connected", f"Access allowed. Shoal is checking the connection to {name}."


def _read_outcome(handle: str) -> dict[str, Any] | None:
    raw = get_redis().get(_key("outcome", handle))
    return json.loads(raw) if raw else None


def outcome(user: User, handle: str | None) -> Outcome:
    """Where this admin's sign-in stands; someone else's handle reads as expired."""
    found = _read_outcome(handle) if handle else None
    if found is None or found.get("user_id") != user.id:
        return Outcome("failed", "This sign-in has expired. Allow access again.")
    return Outcome(found["state"], found["message"])
