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

from sqlalchemy import select, update

from core import db
from models import ExtensionToken, User, team_query, utcnow

PREFIX = "shoal_"
MAX_LABEL = 100
# Writing last_used_at on every panel request would make each read a write; a minute is precise enough.
STAMP_EVERY = timedelta(seconds=60)


def token_hash(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def issue_token(user: User, label: str = "") -> tuple[ExtensionToken, str]:
    """Create a token for `user`. Returns (row, plain token); the plain token is never stored."""
    plain = PREFIX + secrets.token_urlsafe(32)
    row = ExtensionToken(team_id=user.team_id, user_id=user.id, token_hash=token_hash(plain),
                         label=(label or "").strip()[:MAX_LABEL] or "Chrome extension")
    db.session.add(row)
    db.session.commit()
    return row, plain


def user_for_token(plain: str | None) -> User | None:
    """The user a live (not revoked) token belongs to, or None. Stamps last_used_at."""
    if not plain or len(plain) > 200:
        return None
    row = db.session.scalars(select(ExtensionToken).where(
        ExtensionToken.token_hash == token_hash(plain), ExtensionToken.revoked_at.is_(None))).first()
    if row is None:
        return None
    user = db.session.get(User, row.user_id)
    if user is None or user.team_id != row.team_id or user.deactivated_at is not None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= STAMP_EVERY:
        db.session.execute(update(ExtensionToken).where(ExtensionToken.id == row.id).values(last_used_at=now))
        db.session.commit()
    return user


def list_tokens(user: User) -> list[ExtensionToken]:
    """The user's live tokens, newest first."""
    return list(db.session.scalars(team_query(ExtensionToken, user.team_id).where(
        ExtensionToken.user_id == user.id, ExtensionToken.revoked_at.is_(None))
        .order_by(ExtensionToken.created_at.desc(), ExtensionToken.id.desc())))


def revoke_token(user: User, token_id: int) -> bool:
    """Revoke one of the user's own tokens. False if it isn't theirs or is already revoked."""
    result = db.session.execute(update(ExtensionToken).where(
        ExtensionToken.id == token_id, ExtensionToken.user_id == user.id,
        ExtensionToken.team_id == user.team_id, ExtensionToken.revoked_at.is_(None))
        .values(revoked_at=utcnow()))
    db.session.commit()
    return bool(result.rowcount)
