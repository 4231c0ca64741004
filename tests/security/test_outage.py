"""A CRM outage shows (issue #10): on the connection ("CATS unreachable since …: it answered HTTP
503", not "Connected", and not "needs attention" either: nothing for the admin to fix) and on the
pushes waiting for it ("Waiting: CATS is unreachable, retrying in ~N s", not a bare "Queued");
both clear with the next call that gets an answer. Against the CATS sandbox's fault switch."""
from __future__ import annotations

import re
import time

import pytest
from sync_support import campaign, connect, faults, intents, profile

from attack_support import Client
from core import db
from models import Connection
from services import enrolments
from services.connections import run_check


@pytest.fixture
def slow_retries(app, monkeypatch):
    """Retries a few seconds out, so the page catches the intent waiting (then sped up to finish)."""
    monkeypatch.setitem(app.config, "SYNC_BACKOFF_BASE", 30.0)
    monkeypatch.setitem(app.config, "SYNC_BACKOFF_CAP", 60.0)


def _drain(run_worker, until, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run_worker()
        if until():
            return True
        time.sleep(0.2)
    return False


def test_an_outage_shows_on_the_connection_and_the_waiting_members_then_clears(
        app, make_user, sandbox, run_worker, slow_retries, monkeypatch):
    server = sandbox("cats")
    recruiter = make_user("recruiter")
    admin = make_user("admin", team=recruiter.team)
    conn = connect(recruiter, "cats", server)
    camp = campaign(recruiter)
    faults(server, mode="503", count=50)
    enrolments.enrol(recruiter, camp, profile(1))
    run_worker()
    [intent] = intents()
    assert intent.state == "queued" and intent.attempts == 1
    db.session.refresh(conn)
    assert conn.status == "connected"   # an outage is not "needs attention"
    assert conn.unreachable_since is not None and conn.unreachable_reason == "it answered HTTP 503"

    page = Client(app).login_as(admin).get("/integrations/cats").get_data(as_text=True)
    assert "Unreachable" in page and "CATS unreachable since" in page and "it answered HTTP 503" in page
    assert ">Connected<" not in page
    listing = Client(app).login_as(admin).get("/integrations/").get_data(as_text=True)
    assert re.search(r'id="provider-cats"[\s\S]*?>Unreachable<', listing)

    members = Client(app).login_as(recruiter).get(f"/campaigns/{camp.id}").get_data(as_text=True)
    waiting = re.search(r"Waiting</span> CATS is unreachable, retrying in ~(\d+) s", members)
    assert waiting and 0 < int(waiting.group(1)) <= 60, members
    status = Client(app).login_as(recruiter).get(f"/intents/{intent.id}/status",
                                                 headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "CATS is unreachable, retrying in ~" in status and "Queued" not in status

    # The CRM is back: the next attempt gets an answer and the outage is over everywhere.
    faults(server, mode=None)
    monkeypatch.setitem(app.config, "SYNC_BACKOFF_BASE", 0.1)
    intent.next_attempt_at = None
    db.session.commit()
    from services.push.dispatch import dispatch
    dispatch([intent.id])
    assert _drain(run_worker, lambda: intents()[0].state == "synced")
    db.session.refresh(conn)
    assert conn.unreachable_since is None and conn.unreachable_reason is None
    page = Client(app).login_as(admin).get("/integrations/cats").get_data(as_text=True)
    assert "Unreachable" not in page and "Connected" in page


def test_a_check_that_cannot_connect_says_so_in_our_words_and_a_good_one_clears_it(app, make_user, sandbox,
                                                                                   monkeypatch):
    server = sandbox("cats")
    user = make_user("admin")
    conn = connect(user, "cats", server)
    good = conn.base_url
    conn.base_url, conn.status = "http://127.0.0.1:1/v3", "pending"   # nothing listens on port 1
    db.session.commit()
    assert run_check(conn.id) == "needs_attention"
    db.session.refresh(conn)
    assert conn.last_error == "Could not reach CATS: the connection failed."
    assert conn.unreachable_reason == "the connection failed" and conn.unreachable_since is not None
    conn.base_url, conn.status = good, "pending"
    db.session.commit()
    assert run_check(conn.id) == "connected"
    db.session.refresh(conn)
    assert conn.unreachable_since is None
