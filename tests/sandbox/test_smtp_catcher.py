"""The local mail catcher (sandbox/smtp.py): a real SMTP server that keeps what it receives and a
page listing it; `flask smtp-catcher` is what `make run` starts."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

import requests

from sandbox.common import ServerThread
from sandbox.smtp import Catcher, SmtpServer, web_app


def test_the_catcher_keeps_and_lists_what_it_receives():
    smtp = SmtpServer(Catcher()).start()
    web = ServerThread(web_app(smtp.catcher, smtp.port))
    web.start()
    try:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "r@agency.test", "ada@example.com", "Hello <Ada>"
        msg["Message-ID"] = "<m1@agency.test>"
        msg.set_content("Hi Ada")
        msg.add_alternative("<p>Hi <b>Ada</b></p>", subtype="html")
        with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as client:
            client.send_message(msg)
        listed = requests.get(f"{web.base}/api/messages", timeout=10).json()
        assert [(m["subject"], m["message_id"], m["text"].strip()) for m in listed] == [
            ("Hello <Ada>", "<m1@agency.test>", "Hi Ada")]
        page = requests.get(web.base, timeout=10).text
        assert "Hello &lt;Ada&gt;" in page and "ada@example.com" in page     # escaped, listed
        one = requests.get(f"{web.base}/messages/1", timeout=10).text
        assert "&lt;p&gt;Hi &lt;b&gt;Ada&lt;/b&gt;&lt;/p&gt;" in one          # HTML shown as source, not run
        assert requests.get(f"{web.base}/messages/9", timeout=10).status_code == 404
        requests.post(f"{web.base}/api/reset", timeout=10)
        assert requests.get(f"{web.base}/api/messages", timeout=10).json() == []
    finally:
        web.stop()
        smtp.stop()


def test_the_smtp_catcher_command_is_registered(app):
    result = app.test_cli_runner().invoke(args=["smtp-catcher", "--help"])
    assert result.exit_code == 0 and "--smtp-port" in result.output
