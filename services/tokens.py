"""Extension tokens: per-user bearer tokens for the Chrome extension (DESIGN §8).

The plain token is returned once by `issue_token` and shown once on the Account page; only its
SHA-256 is stored, so it can't be recovered from the database. `user_for_token` is what the panel
blueprint calls for `Authorization: Bearer <token>`: it ignores revoked tokens and stamps
`last_used_at`. Example::

    row, plain = issue_token(user, "Laptop")
    assert user_for_token(plain) == user
    revoke_token(user, row.id)
    assert user_for_token(plain) is None
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select, update

from core import db
from models import ExtensionToken, User, team_query, utcnow

PREFIX = "shoal_"
MAX_LABEL = 100
# Writing last_used_at on every panel request would make each read a write; a minute is precise enough.
STAMP_EVERY = timedelta(seconds=60)


def token_hash(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


SCOPES = {"extension": ("shoal_", "Chrome extension"), "api": ("shoal_api_", "API")}


def issue_token(user: User, label: str = "", scope: str = "extension") -> tuple[ExtensionToken, str]:
    """Create a token for `user`, usable only in `scope` (extension | api). Returns (row, plain
    token); the plain token is never stored."""
    prefix, default_label = SCOPES[scope]
    plain = prefix + secrets.token_urlsafe(32)
    row = ExtensionToken(team_id=user.team_id, user_id=user.id, token_hash=token_hash(plain), scope=scope,
                         label=(label or "").strip()[:MAX_LABEL] or default_label)
    db.session.add(row)
    db.session.commit()
    return row, plain


def user_for_token(plain: str | None, scope: str = "extension") -> User | None:
    """The user a live (not revoked) token of this scope belongs to, or None. Stamps last_used_at."""
    if not plain or len(plain) > 200:
        return None
    # The token and its user in one read: every panel and API request starts here.
    found = db.session.execute(select(ExtensionToken, User).join(User, User.id == ExtensionToken.user_id).where(
        ExtensionToken.token_hash == token_hash(plain), ExtensionToken.revoked_at.is_(None),
        ExtensionToken.scope == scope)).first()
    if found is None:
        return None
    row, user = found
    if user.team_id != row.team_id or user.deactivated_at is not None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= STAMP_EVERY:
        db.session.execute(update(ExtensionToken).where(ExtensionToken.id == row.id).values(last_used_at=now))
        db.session.commit()
    return user


def refusal_reason(plain: str | None) -> str | None:
    """Why a token that `user_for_token` refused is no good, when Shoal knows it: revoked (and
    when), or its user deactivated. None for a token Shoal never issued."""
    if not plain or len(plain) > 200:
        return None
    row = db.session.scalars(select(ExtensionToken).where(ExtensionToken.token_hash == token_hash(plain))).first()
    if row is None:
        return None
    if row.revoked_at is not None:
        return (f"This extension token (“{row.label}”) was revoked on {row.revoked_at.strftime('%d %b %Y at %H:%M')} "
                "UTC. Create a new token on your Account page in Shoal and paste it into the extension's options.")
    user = db.session.get(User, row.user_id)
    if user is not None and user.deactivated_at is not None:
        return "The Shoal account this token belongs to is no longer active. Ask your team admin."
    return None


def list_tokens(user: User, scope: str = "extension") -> list[ExtensionToken]:
    """The user's live tokens of one scope, newest first."""
    return list(db.session.scalars(team_query(ExtensionToken, user.team_id).where(
        ExtensionToken.user_id == user.id, ExtensionToken.revoked_at.is_(None), ExtensionToken.scope == scope)
        .order_by(ExtensionToken.created_at.desc(), ExtensionToken.id.desc())))


def revoke_token(user: User, token_id: int) -> bool:
    """Revoke one of the user's own tokens. False if it isn't theirs or is already revoked."""
    result = db.session.execute(update(ExtensionToken).where(
        ExtensionToken.id == token_id, ExtensionToken.user_id == user.id,
        ExtensionToken.team_id == user.team_id, ExtensionToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()))
    db.session.commit()
    return bool(result.rowcount)


@click.command("api-token")
@click.option("--email", required=True, help="The user the token acts as (their team, their role).")
@click.option("--label", default="API", show_default=True, help="Shown on the Account page.")
@with_appcontext
def api_token_command(email: str, label: str) -> None:
    """Print a new API token (/api/v1) for the user with this email. Shown once; revocable on the
    Account page."""
    user = db.session.scalars(select(User).where(func.lower(User.email) == email.strip().lower())).first()
    if user is None or user.deactivated_at is not None:
        raise click.ClickException(f"no active user with the email {email!r}")
    _row, plain = issue_token(user, label, scope="api")
    click.echo(plain)
