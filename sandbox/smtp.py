"""A local SMTP catcher: a real SMTP server (aiosmtpd) that keeps every message it receives in
memory, and a small web page listing them. `make run` starts it (`flask smtp-catcher`) and the
demo recruiter's mailbox points at it, so a newcomer sees a sequence's emails "sent"; the tests
send through it on loopback and read what it received.

- SMTP on 127.0.0.1:<smtp_port>, AUTH PLAIN/LOGIN accepted without TLS (loopback only). With
  `username`/`password` set, other credentials are refused (535), as a real server would.
- Fault switches: `fail_next(n, code)` answers the next n messages with a temporary (451) or
  permanent (554) error, after the client has sent them.
- Web on 127.0.0.1:<web_port>: `/` the list, `/messages/<n>` one message, `/api/messages` JSON,
  `POST /api/reset` forgets everything.
"""
from __future__ import annotations

import email
import email.policy
import signal
import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import click
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask, abort, jsonify, render_template_string

from sandbox.common import ServerThread


@dataclass
class Received:
    n: int
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    received_at: datetime
    authenticated_as: str | None

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body is not None else ""

    def summary(self) -> dict[str, Any]:
        m = self.message
        return {"n": self.n, "mail_from": self.mail_from, "rcpt_tos": self.rcpt_tos,
                "received_at": self.received_at.isoformat(), "authenticated_as": self.authenticated_as,
                "subject": str(m.get("Subject", "")), "to": str(m.get("To", "")), "from": str(m.get("From", "")),
                "message_id": str(m.get("Message-ID", "")), "in_reply_to": str(m.get("In-Reply-To", "")),
                "list_unsubscribe": str(m.get("List-Unsubscribe", "")),
                "text": self.part("plain"), "html": self.part("html")}


@dataclass
class Catcher:
    """The aiosmtpd handler: stores each message; optional credentials and faults."""
    username: str | None = None
    password: str | None = None
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    failures: list[str] = field(default_factory=list)
    logins: int = 0

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.failures.clear()
            self.logins = 0

    def fail_next(self, count: int = 1, code: int = 451) -> None:
        reply = "451 4.3.0 Try again later" if code < 500 else "554 5.0.0 Message refused"
        with self.lock:
            self.failures.extend([reply] * count)

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, pw = auth_data.login.decode(), auth_data.password.decode()
        ok = self.username is None or (user == self.username and pw == self.password)
        if ok:
            with self.lock:
                self.logins += 1
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            self.messages.append(Received(len(self.messages) + 1, envelope.mail_from, list(envelope.rcpt_tos),
                                          bytes(envelope.original_content or envelope.content),
                                          datetime.now(timezone.utc), session.auth_data))
        return "250 2.0.0 Queued"

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.messages)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class SmtpServer:
    """A Catcher served by aiosmtpd on a loopback port (its own thread and event loop)."""

    def __init__(self, catcher: Catcher | None = None, port: int = 0, host: str = "127.0.0.1",
                 tls_context: ssl.SSLContext | None = None, implicit_tls: bool = False) -> None:
        """`tls_context`: offer STARTTLS (and require it before AUTH), or with `implicit_tls` speak
        TLS from the first byte, like a port-465 server."""
        self.catcher = catcher or Catcher()
        self.host, self.port = host, port or free_port(host)
        options: dict[str, Any] = {"auth_require_tls": tls_context is not None and not implicit_tls}
        if tls_context is not None and implicit_tls:
            options["ssl_context"] = tls_context
        elif tls_context is not None:
            options["tls_context"] = tls_context
        self.controller = Controller(self.catcher, hostname=host, port=self.port,
                                     authenticator=self.catcher.authenticate, ready_timeout=10, **options)

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shoal mail catcher</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem;color:#1f2937}table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #e5e7eb;vertical-align:top}.muted{color:#6b7280}
pre{white-space:pre-wrap;background:#f9fafb;padding:1rem;border:1px solid #e5e7eb}</style></head><body>
<h1>Mail catcher</h1><p class="muted">Everything Shoal "sent" through the local SMTP server on port {{ smtp_port }}.
Nothing leaves this machine.</p>
{% if one %}<p><a href="/">‹ All messages</a></p><h2>{{ one.subject }}</h2>
<table><tr><th>From</th><td>{{ one["from"] }}</td></tr><tr><th>To</th><td>{{ one.to }}</td></tr>
<tr><th>Message-ID</th><td>{{ one.message_id }}</td></tr><tr><th>List-Unsubscribe</th><td>{{ one.list_unsubscribe }}</td></tr>
<tr><th>Received</th><td>{{ one.received_at }}</td></tr></table>
<h3>Plain text</h3><pre>{{ one.text }}</pre><h3>HTML source</h3><pre>{{ one.html }}</pre>
{% elif rows %}<table><thead><tr><th>#</th><th>Received (UTC)</th><th>From</th><th>To</th><th>Subject</th></tr></thead><tbody>
{% for m in rows %}<tr><td>{{ m.n }}</td><td>{{ m.received_at[:19].replace("T", " ") }}</td><td>{{ m["from"] }}</td>
<td>{{ m.to }}</td><td><a href="/messages/{{ m.n }}">{{ m.subject or "(no subject)" }}</a></td></tr>{% endfor %}
</tbody></table>{% else %}<p>No messages yet. Start a campaign's sequence in Shoal and its emails appear here.</p>{% endif %}
</body></html>"""


def web_app(catcher: Catcher, smtp_port: int) -> Flask:
    app = Flask("sandbox.smtp")

    @app.get("/")
    def index() -> str:
        rows = [m.summary() for m in reversed(catcher.received())]
        return render_template_string(PAGE, rows=rows, one=None, smtp_port=smtp_port)

    @app.get("/messages/<int:n>")
    def show(n: int) -> str:
        found = [m for m in catcher.received() if m.n == n]
        if not found:
            abort(404)
        return render_template_string(PAGE, rows=[], one=found[0].summary(), smtp_port=smtp_port)

    @app.get("/api/messages")
    def api() -> Any:
        return jsonify([m.summary() for m in catcher.received()])

    @app.post("/api/reset")
    def reset() -> Any:
        catcher.reset()
        return jsonify({"ok": True})

    return app


def serve(smtp_port: int, web_port: int) -> tuple[SmtpServer, ServerThread]:
    smtp = SmtpServer(port=smtp_port).start()
    web = ServerThread(web_app(smtp.catcher, smtp.port), web_port)
    web.start()
    return smtp, web


SMTP_PORT = 2525   # `make run`: the demo mailbox sends here
WEB_PORT = 5125    # and the list of what was "sent" is at http://127.0.0.1:5125


@click.command("smtp-catcher")
@click.option("--smtp-port", default=SMTP_PORT, show_default=True, help="SMTP port on 127.0.0.1.")
@click.option("--web-port", default=WEB_PORT, show_default=True, help="Port of the page listing the messages.")
def smtp_catcher_command(smtp_port: int, web_port: int) -> None:
    """Catch every email sent to 127.0.0.1:SMTP_PORT and list them at http://127.0.0.1:WEB_PORT."""
    smtp, web = serve(smtp_port, web_port)
    click.echo(f"SMTP catcher on 127.0.0.1:{smtp.port}; what was sent: {web.base}")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    web.stop()
    smtp.stop()
