"""What a user reads when sending or a mailbox test fails, and when a bulk add stops, is in our
words: never an exception's class name, an OpenSSL code or text a remote server chose to send."""
from __future__ import annotations

import socket
import threading
from typing import Iterator

import pytest
from outreach_support import started_sequence
from sqlalchemy import select

from core import db
from models import BulkImport, Mailbox, StepRun
from services import bulk_add
from services.outreach import mailboxes, scheduler
from sync_support import campaign

SECRET = "relay-7.corp.internal token=4411"


@pytest.fixture
def rude_server() -> Iterator[int]:
    """A "mail server" that greets every connection with a refusal carrying internal text."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def _serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(f"554 {SECRET} go away\r\n".encode())
    thread = threading.Thread(target=_serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    listener.close()


def _assert_ours(text: str | None) -> None:
    assert text and SECRET not in text and "relay-7" not in text, text
    assert not any(word in text for word in ("Error", "Exception", "SMTP", "WRONG_VERSION", "errno")), text


def test_a_servers_refusal_text_never_reaches_the_step(app, make_user, mailbox_for, smtp, run_worker, clock):
    app.config["OUTREACH_RETRY_DELAYS"] = ()
    owner = make_user("recruiter")
    mailbox_for(owner)
    started_sequence(owner, {"subject": "Hello", "body_text": "Hi"})
    with smtp.catcher.lock:
        smtp.catcher.failures.append(f"554 5.7.1 {SECRET}")
    scheduler.tick()
    run_worker()
    run = db.session.scalars(select(StepRun)).one()
    assert run.state == "failed" and "code 554" in run.reason
    _assert_ours(run.reason)


def test_a_mailbox_test_shows_our_words_for_a_refusing_greeting(app, make_user, mailbox_for, smtp, rude_server):
    box = mailbox_for(make_user("recruiter"), port=rude_server)
    assert mailboxes.run_test(box.id) == "failed"
    message = db.session.get(Mailbox, box.id).test_message
    assert "refused (code 554" in message
    _assert_ours(message)


def test_a_mailbox_test_explains_tls_on_a_plain_port(app, make_user, mailbox_for, smtp):
    box = mailbox_for(make_user("recruiter"), security="tls")   # the catcher speaks plain SMTP
    assert mailboxes.run_test(box.id) == "failed"
    message = db.session.get(Mailbox, box.id).test_message
    assert "doesn't speak TLS on this port" in message
    _assert_ours(message)


def test_a_bulk_add_that_breaks_says_so_without_the_exception(app, make_user):
    owner = make_user("admin")
    c = campaign(owner, sync_as="none")
    bulk = BulkImport(team_id=owner.team_id, campaign_id=c.id, created_by_id=owner.id, state="queued",
                      profiles=[None])   # a row no code path expects: the job's last-resort handler
    db.session.add(bulk)
    db.session.commit()
    assert bulk_add.run(bulk.id) == "failed"
    error = db.session.get(BulkImport, bulk.id).error
    assert "AttributeError" not in error and "Rows added so far stay added" in error
