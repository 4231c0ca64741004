"""Per-user mailbox settings (SMTP host, port, STARTTLS/TLS, username, password) and their Test.

The password is encrypted at rest with the CRM credentials' key (crypto.py), never rendered back
(a blank password field means "unchanged") and never put in a job's arguments: the Test and send
jobs get the mailbox id and decrypt in the worker. A mailbox may only point at a public host: an
address that resolves to a private, loopback or link-local network is refused unless the operator
lists the host in SMTP_PRIVATE_HOSTS (the local mail catcher in `make run`, tests)."""
from __future__ import annotations

import ipaddress
import socket
from typing import Any, Mapping

from flask import current_app
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from core import db
from crypto import decrypt_credentials, encrypt_credentials
from models import Mailbox, User, utcnow
from services import background
from services.outreach.mailer import SECURITY, SmtpFailure, SmtpSettings, check

HOSTNAME = r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"


class MailboxSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    from_name = fields.String(load_default="", validate=validate.Length(max=200))
    from_address = fields.Email(required=True, validate=validate.Length(max=254),
                                error_messages={"required": "The address your emails come from."})
    host = fields.String(required=True, validate=validate.Regexp(HOSTNAME, error="A host name like smtp.example.com."))
    port = fields.Integer(required=True, validate=validate.Range(1, 65535, error="A port between 1 and 65535."))
    security = fields.String(load_default="starttls", validate=validate.OneOf(tuple(SECURITY)))
    username = fields.String(load_default=None, validate=validate.Length(max=254))
    password = fields.String(load_default=None, validate=validate.Length(max=500))
    signature = fields.String(load_default=None, validate=validate.Length(max=2000))
    daily_cap = fields.Integer(load_default=200, validate=validate.Range(1, 2000, error="Between 1 and 2000 a day."))
    spacing_seconds = fields.Integer(load_default=60, validate=validate.Range(
        0, 3600, error="Between 0 and 3600 seconds."))

    @validates_schema
    def _plain_only_locally(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("security") == "none" and data.get("host") not in private_hosts():
            raise ValidationError({"security": ["Without encryption the password would cross the network in "
                                                "clear: choose STARTTLS or SSL/TLS."]})


def private_hosts() -> tuple[str, ...]:
    return tuple(current_app.config.get("SMTP_PRIVATE_HOSTS") or ())


def check_host(host: str, port: int) -> str | None:
    """Why this host may not be used (resolves to a private network, or not at all), or None."""
    if host in private_hosts():
        return None
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return f"{host} doesn't resolve to an address."
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            return f"{host} is on a private network; Shoal sends only through public mail servers."
    return None


def mailbox_of(user: User) -> Mailbox | None:
    return db.session.scalars(select(Mailbox).where(Mailbox.user_id == user.id,
                                                    Mailbox.team_id == user.team_id)).first()


def save(user: User, form: Mapping[str, Any]) -> Mailbox:
    """Validate and store the user's mailbox. ValidationError: nothing written."""
    raw = {k: v.strip() if isinstance(v, str) and k not in ("password", "signature") else v for k, v in form.items()}
    raw = {k: v for k, v in raw.items() if v not in ("", None)}
    data = MailboxSchema().load(raw)
    problem = check_host(data["host"], data["port"])
    if problem:
        raise ValidationError({"host": [problem]})
    mailbox = mailbox_of(user)
    password = data.pop("password", None)
    if mailbox is None:
        if data.get("username") and not password:
            raise ValidationError({"password": ["The password for this username."]})
        mailbox = Mailbox(team_id=user.team_id, user_id=user.id, **{k: v for k, v in data.items()})
        db.session.add(mailbox)
    else:
        for key, value in data.items():
            setattr(mailbox, key, value)
        if not data.get("username"):
            mailbox.username = None
    if password:
        mailbox.password_encrypted = encrypt_credentials({"password": password})
    if not mailbox.username:
        mailbox.password_encrypted = None
    mailbox.test_state = mailbox.test_message = None
    db.session.commit()
    return mailbox


def smtp_settings(mailbox: Mailbox) -> SmtpSettings:
    """Decrypted settings for the worker. Raises SmtpFailure if the host is no longer allowed
    (checked again at send time: a name can come to resolve elsewhere after it was saved)."""
    problem = check_host(mailbox.host, mailbox.port)
    if problem:
        raise SmtpFailure(problem, permanent=True)
    password = decrypt_credentials(mailbox.password_encrypted).get("password") if mailbox.password_encrypted else None
    return SmtpSettings(mailbox.host, mailbox.port, mailbox.security, mailbox.username, password,
                        current_app.config.get("SMTP_CA_FILE"))


def request_test(mailbox: Mailbox) -> None:
    """Queue the Test (connect, STARTTLS/TLS, log in) for a worker; the page polls test_state."""
    mailbox.test_state, mailbox.test_message, mailbox.tested_at = "queued", None, utcnow()
    db.session.commit()
    background.run("check_mailbox", mailbox.id, job_id=f"check-mailbox-{mailbox.id}")


def run_test(mailbox_id: int) -> str:
    """In the worker: try the mailbox's server and record what happened."""
    mailbox = db.session.get(Mailbox, mailbox_id)
    if mailbox is None:
        return "gone"
    try:
        greeting = check(smtp_settings(mailbox))
        mailbox.test_state = "ok"
        who = f" as {mailbox.username}" if mailbox.username else ""
        mailbox.test_message = f"Connected to {mailbox.host}:{mailbox.port} and logged in{who}. {greeting}".strip()
    except SmtpFailure as exc:
        mailbox.test_state, mailbox.test_message = "failed", str(exc)
    mailbox.tested_at = utcnow()
    db.session.commit()
    return mailbox.test_state
