"""Passwords: changing my own, and the reset link an admin issues for a member who forgot theirs.

A reset link carries a random token; only its SHA-256 is stored (models.PasswordReset), it expires
after RESET_HOURS and works once. Issuing a new link for someone kills their older unused ones.
Setting a password (either way) ends the member's other sessions: `User.session_version` moves on
and the session that made the change is re-stamped by the caller."""
from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from core import db
from models import PasswordReset, User, utcnow
from services.accounts import MIN_PASSWORD, sha256

RESET_HOURS = 24

_new_password = fields.String(required=True, validate=validate.Length(
    min=MIN_PASSWORD, max=200, error=f"Use at least {MIN_PASSWORD} characters."))


class _NewPassword(Schema):
    password = _new_password
    confirm = fields.String(required=True)

    @validates_schema
    def _same(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("password") != data.get("confirm"):
            raise ValidationError("The two passwords don't match.", field_name="confirm")


class ChangePassword(_NewPassword):
    current = fields.String(required=True)


def _load(schema: Schema, form: Any) -> dict[str, Any]:
    data = {k: form.get(k) for k in schema.fields if form.get(k)}
    return schema.load(data)


def _set(user: User, password: str) -> None:
    user.password_hash = generate_password_hash(password)
    user.session_version = (user.session_version or 0) + 1


def change_password(user: User, form: Any) -> None:
    """Change the signed-in user's password. ValidationError names the field; nothing written."""
    data = _load(ChangePassword(), form)
    if not check_password_hash(user.password_hash, data["current"]):
        raise ValidationError({"current": ["That is not your current password."]})
    _set(user, data["password"])
    db.session.commit()


def issue_reset(admin: User, member: User) -> tuple[PasswordReset, str]:
    """A one-use reset link token for `member` (same team, active). Returns (row, plain token)."""
    if member.team_id != admin.team_id:
        raise LookupError("not in your team")
    if member.deactivated_at is not None:
        raise ValidationError({"_schema": ["Reactivate this member before resetting their password."]})
    now = utcnow()
    db.session.execute(update(PasswordReset).where(PasswordReset.user_id == member.id,
                                                   PasswordReset.used_at.is_(None)).values(used_at=now))
    plain = secrets.token_urlsafe(32)
    row = PasswordReset(team_id=member.team_id, user_id=member.id, created_by_id=admin.id,
                        token_hash=sha256(plain), expires_at=now + timedelta(hours=RESET_HOURS))
    db.session.add(row)
    db.session.commit()
    return row, plain


def open_reset(plain: str) -> PasswordReset | None:
    """The live reset for a link token: exists, unused, unexpired, and its member is active."""
    if not plain or len(plain) > 200:
        return None
    row = db.session.scalars(select(PasswordReset).where(PasswordReset.token_hash == sha256(plain))).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    user = db.session.get(User, row.user_id)
    if user is None or user.deactivated_at is not None:
        return None
    return row


def use_reset(plain: str, form: Any) -> User:
    """Set the new password through a reset link and spend the link. LookupError: dead link."""
    row = open_reset(plain)
    if row is None:
        raise LookupError("This reset link is invalid, has expired or was already used.")
    data = _load(_NewPassword(), form)
    # Spend the link with a conditional UPDATE, so two submits racing can't both use it.
    spent = db.session.execute(update(PasswordReset).where(PasswordReset.id == row.id,
                                                           PasswordReset.used_at.is_(None))
                               .values(used_at=utcnow())).rowcount
    if not spent:
        db.session.rollback()
        raise LookupError("This reset link was already used.")
    user = db.session.get(User, row.user_id)
    _set(user, data["password"])
    db.session.commit()
    return user
