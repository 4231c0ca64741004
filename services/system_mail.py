"""Shoal's own emails (a sign-up link, "you already have an account"), as opposed to the recruiters'
sequence emails: sent by a worker through the operator's SMTP server, SYSTEM_MAIL_URL
(`smtp://user:password@host:587?security=starttls`; security is starttls, tls or none), from
SYSTEM_MAIL_FROM. `make run` points it at the local mail catcher."""
from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from services.outreach.mailer import SmtpSettings, send

SECURITY_PORTS = {"starttls": 587, "tls": 465, "none": 25}


def settings() -> SmtpSettings | None:
    """The operator's SMTP server for Shoal's own emails; None when none is set (or it can't be read)."""
    url = str(current_app.config.get("SYSTEM_MAIL_URL") or "").strip()
    if not url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    security = (parse_qs(parts.query).get("security") or ["starttls"])[0]
    if parts.scheme != "smtp" or not parts.hostname or security not in SECURITY_PORTS:
        return None
    return SmtpSettings(parts.hostname, port or SECURITY_PORTS[security], security,
                        unquote(parts.username) if parts.username else None,
                        unquote(parts.password) if parts.password else None, current_app.config.get("SMTP_CA_FILE"))


def configured() -> bool:
    return settings() is not None


def send_mail(to: str, subject: str, text: str) -> None:
    """Send one plain-text email (in a worker). Raises SmtpFailure, or RuntimeError when no server is set."""
    smtp = settings()
    if smtp is None:
        raise RuntimeError("SYSTEM_MAIL_URL is not set (or not an smtp:// URL): Shoal can't send its own emails")
    sender = str(current_app.config.get("SYSTEM_MAIL_FROM") or "Shoal <no-reply@localhost>")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    msg.set_content(text)
    send(smtp, msg, parseaddr(sender)[1], to)
