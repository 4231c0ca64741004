"""Accounts: the sign-up form (services/signup.py does the rest), password login, and invitations.

Invite links carry a random token; only its SHA-256 is stored (models.Invite), so a database leak
doesn't hand out working links. Form input is validated by the marshmallow schemas below; every
function either writes everything it should or raises ValidationError having written nothing.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache
from typing import Any

from marshmallow import Schema, ValidationError, fields, pre_load, validate
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from core import db
from models import Invite, User, utcnow

INVITE_DAYS = 7
MIN_PASSWORD = 10


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class _Form(Schema):
    """Strips surrounding whitespace and treats blank inputs as missing; ignores the CSRF field."""

    @pre_load
    def _clean(self, data: Any, **_: Any) -> Any:
        if not hasattr(data, "items"):
            return data
        out = {}
        for k, v in data.items():
            if k in ("csrf_token", "next") or k not in self.fields:
                continue
            v = v.strip() if isinstance(v, str) and k != "password" else v
            if v != "":
                out[k] = v
        return out


_password = fields.String(required=True, validate=validate.Length(
    min=MIN_PASSWORD, max=200, error=f"Use at least {MIN_PASSWORD} characters."))


class SignupSchema(_Form):
    team_name = fields.String(required=True, validate=validate.Length(max=200))
    name = fields.String(required=True, validate=validate.Length(max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = _password


class InviteSchema(_Form):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    role = fields.String(load_default="recruiter", validate=validate.OneOf(User.ROLES))


class AcceptSchema(_Form):
    name = fields.String(required=True, validate=validate.Length(max=200))
    password = _password


def email_taken(email: str) -> bool:
    return db.session.scalar(select(func.count()).select_from(User).where(
        func.lower(User.email) == email.lower())) > 0


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Made with the same method and cost as real hashes, so checking it takes as long.
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(email: str, password: str) -> User | None:
    """The user with this email and password, else None (the caller refuses a deactivated one).

    An unknown email and a wrong password look the same and take the same time: a password hash is
    checked either way (a dummy one for an unknown email), so the timing doesn't tell whether an
    address has an account."""
    user = db.session.scalars(select(User).where(func.lower(User.email) == (email or "").strip().lower())).first()
    ok = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password or "")
    return user if user is not None and ok else None


def end_sessions(user: User) -> None:
    """End every session of this user on every device (logout): session_version moves on, and the
    user loader refuses a session that began under an older one (blueprints/auth.py)."""
    db.session.execute(update(User).where(User.id == user.id)
                       .values(session_version=func.coalesce(User.session_version, 0) + 1))
    db.session.commit()


def create_invite(admin: User, form: dict[str, Any]) -> tuple[Invite, str]:
    """Invite someone to the admin's team. Returns (invite, plain token): the token is shown once."""
    data = InviteSchema().load(form)
    email = data["email"].lower()
    if email_taken(email):
        raise ValidationError({"email": ["This person already has a Shoal account."]})
    plain = secrets.token_urlsafe(32)
    invite = Invite(team_id=admin.team_id, email=email, role=data["role"], token_hash=sha256(plain),
                    created_by_id=admin.id, expires_at=utcnow() + timedelta(days=INVITE_DAYS))
    db.session.add(invite)
    db.session.commit()
    return invite, plain


def open_invite(plain: str) -> Invite | None:
    """The invite for a link token, if it exists, is unused and has not expired."""
    if not plain:
        return None
    invite = db.session.scalars(select(Invite).where(Invite.token_hash == sha256(plain))).first()
    if invite is None or invite.accepted_at is not None or invite.expires_at <= utcnow():
        return None
    return invite


def accept_invite(plain: str, form: dict[str, Any]) -> User:
    """Join the invite's team with a name and password. Raises LookupError for a dead link."""
    invite = open_invite(plain)
    if invite is None:
        raise LookupError("This invite link is invalid, has expired or was already used.")
    data = AcceptSchema().load(form)
    if email_taken(invite.email):
        raise ValidationError({"name": ["An account with this invite's email already exists. Log in instead."]})
    user = User(team_id=invite.team_id, email=invite.email, name=data["name"], role=invite.role,
                password_hash=generate_password_hash(data["password"]))
    invite.accepted_at = utcnow()
    db.session.add(user)
    db.session.commit()
    return user


def team_members(team_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(User.team_id == team_id).order_by(User.created_at)))


def pending_invites(team_id: int) -> list[Invite]:
    return list(db.session.scalars(select(Invite).where(
        Invite.team_id == team_id, Invite.accepted_at.is_(None), Invite.expires_at > utcnow())
        .order_by(Invite.created_at.desc())))
