"""Sign-up doesn't tell whether an email has an account: the page answers "check your email" for
every address, after the same work (one email queued, nothing written), and the email itself says
which it is: a link that creates the team, or "you already have an account"."""
from __future__ import annotations

import re

import pytest
from outreach_support import smtp_server_for_test
from sqlalchemy import func, select

from attack_support import Client, make_user
from core import db, get_redis
from jobs import get_queue
from models import Team, User

FORM = {"team_name": "Northwind Talent", "name": "Nora North", "password": "a long enough password"}
TOKEN = re.compile(r'"X-CSRFToken": "[^"]+"|name="csrf-token" content="[^"]+"')   # one per session
LINK = re.compile(r"http://shoal\.test/signup/confirm/([\w-]+)")


@pytest.fixture
def smtp(app, monkeypatch):
    server = smtp_server_for_test(app, monkeypatch)
    monkeypatch.setitem(app.config, "SYSTEM_MAIL_URL", f"smtp://127.0.0.1:{server.port}?security=none")
    monkeypatch.setitem(app.config, "SYSTEM_MAIL_FROM", "Shoal <no-reply@shoal.test>")
    return server


@pytest.fixture
def known(app):
    team = Team(name="Acme")
    db.session.add(team)
    db.session.commit()
    return make_user(team.id, "admin", "ada@acme.test")


def _rows() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Team)),
            db.session.scalar(select(func.count()).select_from(User)))


def _answer(app, email: str, addr: str) -> tuple[int, str, int]:
    """(status, the page with the address and the CSRF token blanked, jobs queued)."""
    queue = get_queue("interactive")
    before = queue.count
    r = Client(app, addr=addr).post("/signup", {**FORM, "email": email.upper()})
    page = TOKEN.sub("", r.get_data(as_text=True)).replace(email, "EMAIL")
    return r.status_code, page, queue.count - before


def test_known_and_unknown_addresses_get_the_same_answer_after_the_same_work(app, smtp, known):
    rows = _rows()
    unknown = _answer(app, "new@northwind.test", "198.51.100.20")
    taken = _answer(app, "ada@acme.test", "198.51.100.21")
    assert unknown == taken
    assert unknown[0] == 200 and "Check your email" in unknown[1] and unknown[2] == 1
    assert "already" not in taken[1] and _rows() == rows


def test_the_email_decides_a_link_for_a_new_address_a_notice_for_a_known_one(app, smtp, known, run_worker):
    client = Client(app, addr="198.51.100.22")
    client.post("/signup", {**FORM, "email": "new@northwind.test"})
    client.post("/signup", {**FORM, "email": "ada@acme.test"})
    run_worker()
    received = smtp.catcher.received()
    [exists] = [m for m in received if "ada@acme.test" in str(m.summary())]
    [new] = [m for m in received if "new@northwind.test" in str(m.summary())]
    assert "already has an account" in exists.part("plain") and not LINK.search(exists.part("plain"))
    token = LINK.search(new.part("plain")).group(1)
    assert _rows() == (1, 1)                                  # nothing created before the link is used

    page = client.get(f"/signup/confirm/{token}")
    assert page.status_code == 200 and "Northwind Talent" in page.get_data(as_text=True)
    r = client.post(f"/signup/confirm/{token}")
    assert r.status_code == 302 and r.headers["Location"].endswith("/integrations/")
    user = db.session.scalars(select(User).where(User.email == "new@northwind.test")).one()
    assert user.role == "admin" and user.team.name == "Northwind Talent" and user.password_hash != FORM["password"]
    assert "Northwind Talent" in client.get("/campaigns/").get_data(as_text=True)   # logged in
    assert Client(app, addr="198.51.100.23").post(f"/signup/confirm/{token}").status_code == 404   # one use
    assert Client(app).login("new@northwind.test", FORM["password"]).status_code == 302


def test_the_pending_sign_up_is_encrypted_and_expires(app, smtp):
    Client(app, addr="198.51.100.24").post("/signup", {**FORM, "email": "new@northwind.test"})
    [key] = get_redis().keys("shoal:signup:*")
    blob = get_redis().get(key)
    assert b"northwind" not in blob.lower() and b"pbkdf2" not in blob and b"scrypt" not in blob
    assert 0 < get_redis().ttl(key) <= 24 * 3600


def test_form_mistakes_are_named_the_same_for_every_address(app, smtp, known):
    r = Client(app).post("/signup", {**FORM, "email": "ada@acme.test", "password": "short"})
    assert r.status_code == 422 and "at least 10 characters" in r.get_data(as_text=True)


def test_without_a_mail_server_sign_up_says_it_is_closed(app):
    assert "Sign-up is not available" in Client(app).get("/signup").get_data(as_text=True)
    r = Client(app).post("/signup", {**FORM, "email": "new@northwind.test"})
    assert r.status_code == 503 and get_redis().keys("shoal:signup:*") == [] and _rows() == (0, 0)
