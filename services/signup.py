"""Sign-up that doesn't tell whether an email has an account (issue #10). The form's answer is
always "check your email", after the same work whichever the address: validate, hash the
password, keep the request (encrypted, in Redis, 24 hours, under the SHA-256 of a random token)
and queue one email. The worker decides what the email says:

- no account with that address: a link that creates the team and its admin once followed and
  confirmed (one use; the address is proved by receiving it);
- an account already: "you already have an account", with the login link; nothing is created.

A lookalike form can't learn more than the owner of the mailbox does."""
from __future__ import annotations

import hashlib
import secrets
from typing import Any

from flask import current_app
from marshmallow import ValidationError
from werkzeug.security import generate_password_hash

from core import db, get_redis
from crypto import decrypt_credentials, encrypt_credentials
from models import Team, User
from services import background, system_mail
from services.accounts import SignupSchema, email_taken

PENDING_SECONDS = 24 * 3600


def _key(digest: str) -> str:
    return f"shoal:signup:{digest}"


def _digest(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def request_signup(form: dict[str, Any]) -> str:
    """Check the form (ValidationError naming the field: the same for every address) and queue the
    email. Returns the address it goes to. Writes nothing to the database."""
    data = SignupSchema().load(form)
    plain = secrets.token_urlsafe(32)
    pending = {"team_name": data["team_name"], "name": data["name"], "email": data["email"].lower(),
               "password_hash": generate_password_hash(data["password"]), "token": plain}
    digest = _digest(plain)
    get_redis().set(_key(digest), encrypt_credentials(pending), ex=PENDING_SECONDS)
    background.run("signup_mail", digest, job_id=f"signup-mail-{digest[:16]}")
    return pending["email"]


def _load(digest: str) -> dict[str, Any] | None:
    blob = get_redis().get(_key(digest))
    return decrypt_credentials(blob) if blob else None


def send_mail(digest: str) -> str:
    """In the worker: the sign-up link, or "you already have an account"."""
    pending = _load(digest)
    if pending is None:
        return "gone"
    base = str(current_app.config.get("OUTREACH_PUBLIC_URL") or "").rstrip("/")
    if email_taken(pending["email"]):
        get_redis().delete(_key(digest))
        system_mail.send_mail(pending["email"], "You already have a Shoal account", (
            "Someone (you, we hope) asked to create a Shoal team with this email address, but it already "
            f"has an account, so nothing was created.\n\nLog in: {base}/login\n\nForgot your password? Your "
            "team's admin can send you a reset link.\n"))
        return "exists"
    system_mail.send_mail(pending["email"], "Finish creating your Shoal team", (
        f"To create the team “{pending['team_name']}” in Shoal, open this link "
        f"within 24 hours:\n\n{base}/signup/confirm/{pending['token']}\n\nDidn't ask for this? Ignore this "
        "email: nothing is created without the link.\n"))
    return "sent"


def pending_for(plain: str) -> dict[str, Any] | None:
    """The sign-up a link stands for, if it is still waiting."""
    if not plain or len(plain) > 200:
        return None
    return _load(_digest(plain))


def confirm(plain: str) -> User:
    """Create the team and its admin from a link (once). LookupError: no such link (used or expired);
    ValidationError: the address got an account meanwhile."""
    blob = None
    if plain and len(plain) <= 200:
        pipe = get_redis().pipeline()   # MULTI: of two clicks on the link, one gets it
        pipe.get(_key(_digest(plain)))
        pipe.delete(_key(_digest(plain)))
        blob, deleted = pipe.execute()
        blob = blob if deleted else None
    if not blob:
        raise LookupError("This sign-up link is invalid, has expired or was already used.")
    pending = decrypt_credentials(blob)
    if email_taken(pending["email"]):
        raise ValidationError({"email": ["This email has an account already. Log in instead."]})
    team = Team(name=pending["team_name"])
    db.session.add(team)
    db.session.flush()
    user = User(team_id=team.id, email=pending["email"], name=pending["name"], role="admin",
                password_hash=pending["password_hash"])
    db.session.add(user)
    db.session.commit()
    return user
