"""SMTP for one mailbox: connect (plain, STARTTLS or implicit TLS), log in, send one message or
just check the login. Errors come back typed, so the caller knows whether the message may have
been accepted (never retried) or certainly wasn't (retried with backoff).

No decision about who gets what lives here: see services.outreach.sending."""
from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

SECURITY = {"starttls": "STARTTLS (usually port 587)", "tls": "SSL/TLS (usually port 465)",
            "none": "None (local test servers only)"}
TIMEOUT = 20.0


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    username: str | None
    password: str | None
    ca_file: str | None = None   # extra CA to trust (a company relay with its own CA; tests)


class SmtpFailure(Exception):
    """The message was certainly not accepted: safe to try again later. `auth` = login refused."""

    def __init__(self, message: str, *, auth: bool = False, permanent: bool = False,
                 recipient: bool = False) -> None:
        super().__init__(message)
        self.auth, self.permanent, self.recipient = auth, permanent, recipient


@dataclass(frozen=True)
class Outgoing:
    from_name: str
    from_address: str
    to_name: str
    to_address: str
    subject: str
    text: str
    html: str
    message_id: str
    unsubscribe_url: str
    in_reply_to: str | None = None


def new_message_id(domain: str) -> str:
    return make_msgid(domain=domain or None)


def build(out: Outgoing) -> EmailMessage:
    """The MIME message: text and HTML alternatives, Message-ID, List-Unsubscribe (RFC 2369) with
    one-click (RFC 8058). Setting a header with a line break raises ValueError (email.policy)."""
    msg = EmailMessage()
    msg["From"] = formataddr((out.from_name, out.from_address))
    msg["To"] = formataddr((out.to_name, out.to_address))
    msg["Subject"] = out.subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = out.message_id
    if out.in_reply_to:
        msg["In-Reply-To"] = out.in_reply_to
        msg["References"] = out.in_reply_to
    msg["List-Unsubscribe"] = f"<{out.unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(out.text)
    msg.add_alternative(out.html, subtype="html")
    return msg


def _connect(s: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=s.ca_file) if s.security != "none" else None
    try:
        if s.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=TIMEOUT, context=context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT)
            if s.security == "starttls":
                client.starttls(context=context)
        if s.username:
            client.login(s.username, s.password or "")
        return client
    except smtplib.SMTPAuthenticationError as exc:
        raise SmtpFailure(f"The mail server refused the login ({exc.smtp_code}): check the username "
                          "and password", auth=True) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise SmtpFailure("The mail server doesn't offer what this mailbox's settings need (STARTTLS or a "
                          "login): check the security setting and the username", permanent=True) from exc
    except ssl.SSLError as exc:
        raise SmtpFailure(f"A secure connection to {s.host}:{s.port} failed: {_tls_why(exc)}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpFailure(f"Could not connect to {s.host}:{s.port}: {_why(exc)}") from exc


def check(s: SmtpSettings) -> str:
    """Connect and log in (nothing sent). Returns the server's greeting name. Raises SmtpFailure."""
    client = _connect(s)
    try:
        client.noop()
        return (client.ehlo_resp or b"").decode(errors="replace").split("\n")[0][:200]
    finally:
        _quit(client)


def send(s: SmtpSettings, msg: EmailMessage, sender: str, recipient: str) -> None:
    """Send one message. SmtpFailure: certainly not accepted (retry is safe). Any other exception
    after the DATA command began means we can't tell, and the caller must not retry blindly."""
    client = _connect(s)
    try:
        try:
            client.send_message(msg, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise SmtpFailure(f"The mail server refused the recipient ({_reply(code)})",
                              permanent=code >= 500, recipient=True) from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            raise SmtpFailure(f"The mail server refused the message ({_reply(exc.smtp_code)})",
                              permanent=exc.smtp_code >= 500) from exc
    finally:
        _quit(client)


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


# What a reply code means, in our words: the server's own text after the code is never shown (it
# can carry anything the server wants a user to read, internal names included).
_REPLIES = {421: "it is closing the connection", 450: "the mailbox is busy or unavailable", 451: "a local error",
            452: "it is out of space", 550: "no such mailbox, or it refuses mail", 551: "the user is not local",
            552: "the message is too large for the mailbox", 553: "the address is not allowed",
            554: "the transaction failed"}
_TLS = {"CERTIFICATE_VERIFY_FAILED": "the server's certificate is not trusted",
        "WRONG_VERSION_NUMBER": "the server doesn't speak TLS on this port (try STARTTLS, or port 465 for SSL/TLS)",
        "TLSV1_ALERT_PROTOCOL_VERSION": "the server only speaks an old TLS version Shoal refuses"}


def _reply(code: int) -> str:
    meaning = _REPLIES.get(code) or ("a temporary refusal" if 400 <= code < 500 else "a permanent refusal")
    return f"code {code}: {meaning}"


def _tls_why(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError) and "match" in str(exc.verify_message or ""):
        return "the server's certificate is for another host name"
    return _TLS.get(str(exc.reason or ""), "the TLS handshake did not complete")


def _why(exc: BaseException) -> str:
    """Why a connection failed, in our words (never the exception's text: a server's greeting or
    refusal lands there)."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server refused ({_reply(exc.smtp_code)})"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return "the server closed the connection"
    if isinstance(exc, OSError) and exc.errno in (113, 101):   # EHOSTUNREACH, ENETUNREACH
        return "no route to the server"
    return "the connection failed"
