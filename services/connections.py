"""Connecting a team to its CRM (the Integrations page): the connect form built from the provider's
credentials schema, Activate (validate, store encrypted as `pending`, queue a check), the check
itself (run by the `check_connection` task in a worker) and disconnect. SmartRecruiters' OAuth
sign-in is `services.oauth_flow`; it ends in `store` like the form does.

A team has one active connection: activating a new one deactivates the previous one, which keeps
its history (intents, audit rows). Secrets are never rendered back: a blank secret input means
"unchanged" and reuses the value stored on the team's current connection to the same CRM.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests
from marshmallow import ValidationError, validate
from sqlalchemy import select, update

from crypto import CredentialsKeyMissing, decrypt_credentials, encrypt_credentials
from core import db
from models import Connection, User, utcnow
from providers import get_provider
from providers.base import Provider
from providers.errors import (AuthError, HostNotAllowed, NotSupported, ProviderError, RateLimited, Rejected,
                              Unavailable)
from providers.weblinks import WEB_URL
from services import background
from services.crm_hosts import base_url_editable, check_base_url, check_web_address, oauth_app
from services.outage import mark_reachable, mark_unreachable, our_reason
from sync.ops import humanize

log = logging.getLogger("shoal.connections")

# Token fields an OAuth flow fills in; typed in by hand only by someone who knows why (advanced).
# (The OAuth client id, secret and identity host are the app's config, never a team's: issue #10.)
OAUTH_FIELDS = frozenset({"access_token", "refresh_token", "expires_at"})


def active_connection(team_id: int) -> Connection | None:
    """The team's one active CRM connection (None when it has none)."""
    return db.session.scalars(select(Connection).where(
        Connection.team_id == team_id, Connection.active.is_(True))).first()


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    secret: bool = False
    required: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()
    default: str = ""
    advanced: bool = False


def form_fields(provider_cls: type[Provider]) -> list[FormField]:
    """The connect form's inputs, from the credentials schema (fields marked `internal` are skipped)."""
    out = []
    for name, f in provider_cls.credentials_schema().fields.items():
        meta = f.metadata or {}
        if meta.get("internal"):
            continue
        choices: tuple[str, ...] = ()
        for v in f.validators:
            if isinstance(v, validate.OneOf):
                choices = tuple(str(c) for c in v.choices)
        default = f.load_default if isinstance(f.load_default, str) else ""
        out.append(FormField(name, meta.get("label") or humanize(name),
                             secret=bool(meta.get("secret")), required=f.required, help=meta.get("help", ""),
                             choices=choices, default=default,
                             advanced=name in OAUTH_FIELDS and not f.required))
    return out


def team_connection(team_id: int, connection_id: int) -> Connection | None:
    return db.session.scalars(select(Connection).where(
        Connection.team_id == team_id, Connection.id == connection_id)).first()


def latest_connection(team_id: int, provider_key: str) -> Connection | None:
    """The team's connection to this CRM that holds its credentials: the active one, else the newest
    one not disconnected (a CRM the team switched away from, or one still being checked)."""
    return db.session.scalars(select(Connection).where(
        Connection.team_id == team_id, Connection.provider_key == provider_key,
        Connection.status != "disconnected", Connection.credentials_encrypted.is_not(None))
        .order_by(Connection.active.desc(), Connection.id.desc())).first()


def _credentials_of(conn: Connection | None) -> dict[str, Any]:
    if conn is None:
        return {}
    try:
        return decrypt_credentials(conn.credentials_encrypted)
    except CredentialsKeyMissing:
        return {}


def stored_values(team_id: int, provider_key: str) -> tuple[dict[str, Any], str | None]:
    """Non-secret values and base URL of the team's stored connection to this CRM (to pre-fill),
    also after switching to another CRM, so switching back needs nothing typed again."""
    conn = latest_connection(team_id, provider_key)
    creds = _credentials_of(conn)
    secrets = set(get_provider(provider_key).secret_fields())
    return {k: v for k, v in creds.items() if k not in secrets}, conn.base_url if conn else None


def stored_secret_names(team_id: int, provider_key: str) -> set[str]:
    """Which secret fields have a stored value (the form says "leave blank to keep it")."""
    creds = _credentials_of(latest_connection(team_id, provider_key))
    return {k for k in get_provider(provider_key).secret_fields() if creds.get(k)}


def default_base_url(provider_cls: type[Provider], creds: dict[str, Any]) -> str:
    return provider_cls.base_url_for(creds)


def _base_url(raw: str, provider_cls: type[Provider], creds: dict[str, Any]) -> str:
    return check_base_url((raw or "").strip() or default_base_url(provider_cls, creds), provider_cls)


def activate(user: User, provider_key: str, form: dict[str, Any]) -> Connection:
    """Validate the connect form and store a `pending` connection; the caller queues its check.

    A blank secret reuses the stored one only for the address it was saved for: with a new API
    root (a base URL, subdomain or region that changed) the secret must be typed again, or the
    stored key would be sent to the new host. Raises ValidationError (nothing written)."""
    provider_cls = get_provider(provider_key)
    raw, reused = _form_values(user, provider_cls, form)
    creds = _credentials(provider_cls, raw)
    base_url = _base_url(str(form.get("base_url") or ""), provider_cls, creds)
    saved = latest_connection(user.team_id, provider_key)
    if reused and base_url != (saved.base_url if saved else None):
        raise ValidationError({f.name: [f"Enter the {f.label} again: the address changed, and Shoal sends a "
                                        "saved secret only to the address it was saved for."] for f in reused})
    return store(user, provider_cls, creds, base_url)


def _form_values(user: User, provider_cls: type[Provider], form: dict[str, Any]) -> tuple[dict[str, Any], list[FormField]]:
    """The typed values, a blank secret standing for the stored one ("unchanged"), and which were."""
    previous = _credentials_of(latest_connection(user.team_id, provider_cls.key))
    raw: dict[str, Any] = {}
    reused: list[FormField] = []
    for f in form_fields(provider_cls):
        value = str(form.get(f.name) or "").strip()
        if f.secret and not value and previous.get(f.name):
            value = previous[f.name]   # a blank secret input means "unchanged"
            reused.append(f)
        if value:
            raw[f.name] = value
    return raw, reused


def _credentials(provider_cls: type[Provider], raw: dict[str, Any], partial: Any = False) -> dict[str, Any]:
    """The credentials schema's load, then the checks it can't make (the record-link web address)."""
    creds = {k: v for k, v in provider_cls.credentials_schema().load(raw, partial=partial).items() if v is not None}
    if creds.get(WEB_URL):
        creds[WEB_URL] = check_web_address(creds[WEB_URL])
    return creds


def field_errors(user: User, provider_key: str, form: dict[str, Any], name: str) -> list[str]:
    """What Activate would say about one connect-form field as it stands (its checks, nothing written):
    inline validation as the admin leaves the field; fields not typed yet are not held against it."""
    provider_cls = get_provider(provider_key)
    partial = tuple(n for n in provider_cls.credentials_schema().fields if n != name)
    try:
        creds = _credentials(provider_cls, _form_values(user, provider_cls, form)[0], partial)
        if name == "base_url":
            _base_url(str(form.get("base_url") or ""), provider_cls, creds)
    except ValidationError as exc:
        found = exc.messages.get(name, []) if isinstance(exc.messages, dict) else []
        return [found] if isinstance(found, str) else [str(m) for m in found]
    except (KeyError, ValueError):   # blank base URL, and the CRM's own address needs fields not typed yet
        pass
    return []


def store(user: User, provider_cls: type[Provider], creds: dict[str, Any], base_url: str) -> Connection:
    """Store the credentials (pending until checked) and queue the check.

    Reconnecting the same CRM at the same API root updates the active connection in place, so its
    CRM links and the syncs parked on it carry on. Switching to another CRM (or API root) checks
    first: the new connection is a *candidate* (inactive, pending) and the working one stays in
    service until the check passes (`_record` switches them); a failed check leaves the team as it
    was. Switching back to a CRM used before reuses its row (links, history, credentials)."""
    active = active_connection(user.team_id)
    if active is not None and active.provider_key == provider_cls.key and active.base_url == base_url:
        conn = active
    else:
        conn = db.session.scalars(select(Connection).where(
            Connection.team_id == user.team_id, Connection.provider_key == provider_cls.key,
            Connection.base_url == base_url, Connection.active.is_(False))
            .order_by(Connection.id.desc())).first()
        if conn is None:
            conn = Connection(team_id=user.team_id, provider_key=provider_cls.key, base_url=base_url)
            db.session.add(conn)
        # With no CRM in service there is nothing to protect: the new one is the team's at once.
        conn.active = active is None
    conn.credentials_encrypted = encrypt_credentials(creds)
    conn.status, conn.last_error = "pending", None
    db.session.commit()
    enqueue_check(conn.id)
    return conn


def candidate_connection(team_id: int, provider_key: str) -> Connection | None:
    """A connection to this CRM being checked, or whose check failed, before it replaces the
    team's active one (see `store`)."""
    return db.session.scalars(select(Connection).where(
        Connection.team_id == team_id, Connection.provider_key == provider_key, Connection.active.is_(False),
        Connection.status.in_(("pending", "needs_attention")), Connection.credentials_encrypted.is_not(None))
        .order_by(Connection.id.desc())).first()


def enqueue_check(connection_id: int) -> None:
    background.run("check_connection", connection_id, job_id=f"check_connection-{connection_id}")


def secret_label(provider_cls: type[Provider]) -> str:
    """How the CRM calls its credential ("API key", "API bearer token"), for error messages."""
    return next((f.label for f in form_fields(provider_cls) if f.secret and not f.advanced), "credentials")


def run_check(connection_id: int) -> str:
    """Check a connection with one cheap authenticated call and record the outcome.

    connected: resume intents parked on this connection. Otherwise needs_attention + a message the
    admin can act on. A connection deactivated or disconnected meanwhile is left alone."""
    conn = db.session.get(Connection, connection_id)
    if conn is None or conn.status == "disconnected" or (not conn.active and conn.status != "pending"):
        return "gone"
    try:
        provider_cls = get_provider(conn.provider_key)
    except NotSupported:   # the provider was disabled in config after this connection was made
        return _record(conn, "needs_attention", f"{conn.provider_key} is not enabled on this server.", None)
    name = provider_cls.display_name
    status, error, account = "needs_attention", None, None
    try:
        from services.push.context import build_adapter
        info = build_adapter(conn, provider_cls).check_connection()
        status, account = "connected", getattr(info, "name", None)
    except HostNotAllowed as exc:   # our words: which rule the address broke
        error = f"Shoal did not call {name}: {exc.message}."
    except AuthError:
        error = f"The {secret_label(provider_cls)} was rejected by {name}."
    except RateLimited as exc:
        error = f"{name} is rate limiting requests; try again in {int(exc.retry_after)} seconds."
    except Unavailable as exc:
        error = f"Could not reach {name}: {our_reason(exc)}."
        mark_unreachable(conn.id, our_reason(exc))
    except Rejected as exc:
        error = f"{name} refused the check (HTTP {exc.status or 'error'})."
    except CredentialsKeyMissing:
        error = "The stored credentials can't be decrypted any more (the server key changed). Reconnect."
    except (ProviderError, requests.RequestException):
        log.info("connection check %s failed", connection_id, exc_info=True)
        error = f"Could not reach {name}."
    except Exception:  # the check must always end in a visible state, never stay "pending"
        log.exception("connection check %s crashed", connection_id)
        error = f"Checking {name} failed unexpectedly; see the server log."
    return _record(conn, status, error, account)


def _record(conn: Connection, status: str, error: str | None, account: str | None) -> str:
    # The admin may have disconnected or replaced the connection while the check ran.
    db.session.refresh(conn)
    if conn.status == "disconnected" or (not conn.active and conn.status != "pending"):
        return "gone"
    conn.status, conn.last_error, conn.last_checked_at = status, error, utcnow()
    if account:
        conn.account_name = str(account)[:200]
    if status == "connected" and not conn.active:
        # A candidate passed its check: it becomes the team's CRM, the old one retires (credentials kept).
        db.session.execute(update(Connection).where(Connection.team_id == conn.team_id, Connection.id != conn.id,
                                                    Connection.active.is_(True)).values(active=False))
        conn.active = True
    db.session.commit()
    if status == "connected":
        mark_reachable(conn)
        _resume_parked(conn.id)
    return status


def _resume_parked(connection_id: int) -> None:
    from services.push.runner import resume_parked

    resume_parked(connection_id)


def disconnect(team_id: int, connection_id: int) -> bool:
    """Stop using a connection and forget its credentials; its history stays."""
    conn = team_connection(team_id, connection_id)
    if conn is None:
        return False
    conn.status, conn.active, conn.credentials_encrypted = "disconnected", False, None
    conn.last_error = None
    db.session.commit()
    return True
