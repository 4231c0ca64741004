"""No credential in a log line (issue #10, part 5), where a leak is likeliest: every CRM adapter's
check and a push answered 401 and 500, a refused OAuth refresh, a mail server refusing the login,
and a credential requests refuses to put in a header (its error quotes the value; the traceback used
to carry it into the log). Each runs in the real worker (build_worker) with every logger at DEBUG,
formatted as production formats it (logs.JsonFormatter, tracebacks included); each checks that the
path really ran and logged, then that no secret it used is in any line. The whole suite is checked
the same way at the end of every run (tests/log_secrets.py)."""
from __future__ import annotations

import importlib
import logging
import secrets
import time

import pytest
from outreach_support import make_mailbox, smtp_server
from sync_support import campaign, connect, faults, intents, profile

import logs
from core import db
from crypto import encrypt_credentials
from jobs import get_queue
from jobs.connections import check_connection
from jobs.worker import build_worker
from log_secrets import _is_secret_name
from providers import PROVIDER_KEYS
from services import enrolments
from services.outreach.mailboxes import request_test


@pytest.fixture
def logged(caplog):
    """Every record from here on, at DEBUG, as production's JSON lines."""
    caplog.set_level(logging.DEBUG)
    formatter = logs.JsonFormatter()
    return lambda: "\n".join(formatter.format(record) for record in caplog.records)


def canaries(key: str) -> dict[str, str]:
    """The sandbox's credentials with each secret field a value of this test's own."""
    creds = dict(importlib.import_module(f"sandbox.{key}").DEFAULT_CREDENTIALS)
    return {k: f"{key}-{k}-canary-{secrets.token_hex(6)}" if _is_secret_name(k) else v for k, v in creds.items()}


def run_jobs(app) -> None:
    build_worker(app).work(burst=True, logging_level="DEBUG")


def assert_absent(text: str, *values: str) -> None:
    assert text, "nothing was logged: the path under test did not run"
    for value in values:
        assert value not in text, f"a secret ({value[:12]}...) is in the log"


@pytest.mark.parametrize("key", PROVIDER_KEYS)
def test_a_crm_answering_401_or_500_to_a_check_logs_no_credential(app, make_user, sandbox, logged, key):
    server = sandbox(key)
    creds = canaries(key)
    conn = connect(make_user("admin"), key, server, credentials=creds)
    for mode in ("401", "500"):
        faults(server, mode=mode, count=20)
        get_queue("interactive").enqueue(check_connection, conn.id)
        run_jobs(app)
    db.session.refresh(conn)
    assert conn.status == "needs_attention"
    text = logged()
    assert "401" in text and "500" in text   # both answers were logged (providers/http.py)
    assert_absent(text, *[v for k, v in creds.items() if _is_secret_name(k)])


def test_a_push_the_crm_refuses_or_fails_logs_no_credential(app, make_user, sandbox, logged):
    server = sandbox("cats")
    recruiter = make_user("recruiter")
    creds = canaries("cats")
    connect(recruiter, "cats", server, credentials=creds)
    camp = campaign(recruiter)
    faults(server, mode="500", count=1)
    enrolments.enrol(recruiter, camp, profile(1))
    run_jobs(app)
    faults(server, mode="401", count=50)
    enrolments.enrol(recruiter, camp, profile(2))
    run_jobs(app)
    assert {i.state for i in intents()} & {"queued", "parked", "waiting", "pending"}
    assert_absent(logged(), creds["api_key"])


def test_a_refused_oauth_refresh_logs_neither_the_tokens_nor_the_client_secret(app, make_user, sandbox, logged,
                                                                                monkeypatch):
    server = sandbox("smartrecruiters")
    client_secret = f"client-secret-canary-{secrets.token_hex(6)}"
    monkeypatch.setitem(app.config, "SMARTRECRUITERS_CLIENT_ID", "shoal-sandbox-client")
    monkeypatch.setitem(app.config, "SMARTRECRUITERS_CLIENT_SECRET", client_secret)
    monkeypatch.setitem(app.config, "SMARTRECRUITERS_AUTH_BASE_URL", server.base)
    creds = {"access_token": f"access-canary-{secrets.token_hex(6)}",
             "refresh_token": f"refresh-canary-{secrets.token_hex(6)}", "expires_at": time.time() - 60}
    conn = connect(make_user("admin"), "smartrecruiters", server, credentials=creds)
    get_queue("interactive").enqueue(check_connection, conn.id)
    run_jobs(app)
    db.session.refresh(conn)
    assert conn.status == "needs_attention"
    text = logged()
    assert "/identity/oauth/token" in text   # the refresh was tried (and refused)
    assert_absent(text, creds["access_token"], creds["refresh_token"], client_secret)


def test_a_mail_server_refusing_the_login_logs_no_password(app, make_user, logged):
    server = smtp_server(app)
    server.catcher.username, server.catcher.password = "riley", "the-right-password"
    password = f"smtp-canary-{secrets.token_hex(6)}"
    box = make_mailbox(make_user("recruiter"), server, username="riley",
                       password_encrypted=encrypt_credentials({"password": password}))
    try:
        request_test(box)
        run_jobs(app)
    finally:
        server.catcher.username = server.catcher.password = None
    db.session.refresh(box)
    assert box.test_state == "failed" and "refused the login" in box.test_message
    assert_absent(logged(), password)


def test_a_credential_no_header_can_carry_is_refused_without_its_value_in_the_traceback(
        app, make_user, sandbox, logged):
    """requests refuses a header value with a line break and quotes it in its error; the check logs
    the traceback of what it can't classify. The value must not ride along."""
    server = sandbox("cats")
    key = f"cats-newline-canary-{secrets.token_hex(6)}"
    conn = connect(make_user("admin"), "cats", server, credentials={"api_key": key + "\n"})
    get_queue("interactive").enqueue(check_connection, conn.id)
    run_jobs(app)
    assert_absent(logged(), key)
    db.session.refresh(conn)
    assert conn.status == "needs_attention" and "rejected" in conn.last_error   # in our words
