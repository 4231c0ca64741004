"""Accounts through the Flask test client, CSRF on: sign-up, login/logout, invites, roles, sessions."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core import db
from models import Invite, Team, User, utcnow
from services.accounts import sha256

GOOD = {"team_name": "Northwind Talent", "name": "Nora North", "email": "Nora@Northwind.example",
        "password": "a long enough password"}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_signup_answers_check_your_email_and_writes_nothing_yet(app, browser, monkeypatch):
    """The team is created from the emailed link (tests/security/test_signup_enumeration.py)."""
    monkeypatch.setitem(app.config, "SYSTEM_MAIL_URL", "smtp://127.0.0.1:2525?security=none")
    r = browser.post("/signup", GOOD, page="/signup")
    assert r.status_code == 200 and "Check your email" in r.get_data(as_text=True)
    assert "nora@northwind.example" in r.get_data(as_text=True)
    assert (count(Team), count(User)) == (0, 0)


def test_signup_errors_are_422_and_write_nothing(app, browser, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "SYSTEM_MAIL_URL", "smtp://127.0.0.1:2525?security=none")
    make_user("admin", email="taken@example.com")
    before = (count(Team), count(User))
    r = browser.post("/signup", {**GOOD, "password": "short"}, page="/signup", htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "at least 10 characters" in html and "<html" not in html
    r = browser.post("/signup", {"team_name": "x"}, page="/signup")
    assert r.status_code == 422
    assert (count(Team), count(User)) == before


def test_login_logout(browser, make_user):
    user = make_user("recruiter")
    r = browser.post("/login", {"email": user.email, "password": "wrong password!"})
    assert r.status_code == 422 and "Wrong email or password" in r.get_data(as_text=True)
    browser.login(user.email.upper())
    assert browser.get("/campaigns/").status_code == 200
    r = browser.post("/logout", page="/campaigns/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = browser.get("/campaigns/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_login_next_only_goes_to_local_paths(browser, make_user):
    user = make_user("admin")
    r = browser.post("/login", {"email": user.email, "password": "correct horse battery",
                                "next": "https://evil.example/x"})
    assert r.status_code == 302 and r.headers["Location"] == "/campaigns/"
    browser.post("/logout", page="/campaigns/")
    r = browser.post("/login", {"email": user.email, "password": "correct horse battery", "next": "/activity"})
    assert r.headers["Location"] == "/activity"


def test_root_redirects_by_session(browser, make_user):
    assert "/login" in browser.get("/").headers["Location"]
    browser.login(make_user("admin").email)
    assert browser.get("/").headers["Location"].endswith("/campaigns/")


def test_expired_or_missing_session_goes_to_login_never_500(app, browser, make_user):
    user = make_user("admin")
    browser.login(user.email)
    browser.client.delete_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    r = browser.get("/integrations/")
    assert r.status_code == 302 and "/login?next=" in r.headers["Location"]
    # htmx fragment requests get a full-window redirect instead of a login page swapped in place.
    r = browser.get("/activity", headers={"HX-Request": "true"})
    assert r.status_code == 401 and "/login" in r.headers["HX-Redirect"]
    # A session whose user no longer exists is the same as no session.
    browser.login(user.email)
    db.session.delete(user)
    db.session.commit()
    r = browser.get("/campaigns/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_csrf_missing_is_400(browser, make_user):
    user = make_user("admin")
    r = browser.client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert r.status_code == 400
    browser.login(user.email)
    r = browser.client.post("/campaigns/", data={"name": "No token"})
    assert r.status_code == 400 and "<html" in r.get_data(as_text=True)
    # The token works as a header too (what htmx sends from the body's hx-headers).
    token = browser.token("/campaigns/")
    r = browser.client.post("/campaigns/", data={"name": "With header", "sync_as": "none"},
                            headers={"X-CSRFToken": token})
    assert r.status_code == 303


def test_invite_then_accept_makes_a_recruiter(browser, logged_in):
    admin = logged_in("admin")
    r = admin.post("/team/invites", {"email": "rita@example.com", "role": "recruiter"}, page="/team")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "/invites/" in html
    link = html.split('id="invite-link">')[1].split("<")[0]
    token = link.rsplit("/", 1)[1]
    invite = db.session.scalars(select(Invite)).one()
    assert invite.token_hash == sha256(token) and token not in invite.token_hash
    # The link works once, for the invitee (a fresh browser).
    page = browser.get(f"/invites/{token}")
    assert page.status_code == 200 and "rita@example.com" in page.get_data(as_text=True)
    r = browser.post(f"/invites/{token}", {"name": "Rita R", "password": "rita's long password"},
                     page=f"/invites/{token}")
    assert r.status_code == 302
    rita = db.session.scalars(select(User).where(User.email == "rita@example.com")).one()
    assert rita.role == "recruiter" and rita.team_id == admin.user.team_id
    assert browser.get("/campaigns/").status_code == 200
    assert browser.get(f"/invites/{token}").status_code == 404


def test_expired_invite_is_refused(browser, logged_in):
    admin = logged_in("admin")
    admin.post("/team/invites", {"email": "late@example.com"}, page="/team")
    invite = db.session.scalars(select(Invite)).one()
    invite.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    # We don't know the plain token (only its hash is stored): any token for it is dead anyway.
    assert browser.get("/invites/not-a-token").status_code == 404
    assert browser.client.post("/invites/not-a-token", data={"name": "x"}).status_code in (400, 404)


def test_bad_invite_input_is_422(logged_in, make_user):
    admin = logged_in("admin")
    make_user("recruiter", email="exists@example.com")
    assert admin.post("/team/invites", {"email": "not an email"}, page="/team").status_code == 422
    assert admin.post("/team/invites", {"email": "exists@example.com"}, page="/team").status_code == 422
    assert admin.post("/team/invites", {"email": "x@example.com", "role": "owner"}, page="/team").status_code == 422
    assert count(Invite) == 0


def test_recruiter_cannot_reach_admin_pages(logged_in):
    rec = logged_in("recruiter")
    assert rec.get("/team").status_code == 403
    assert rec.get("/integrations/cats").status_code == 403
    assert rec.post("/team/invites", {"email": "x@example.com"}, page="/campaigns/").status_code == 403
    assert rec.post("/integrations/cats/activate", {"api_key": "k"}, page="/campaigns/").status_code == 403
    # ...but the shared pages are fine, and the nav doesn't offer the admin ones.
    html = rec.get("/integrations/").get_data(as_text=True)
    assert "Not connected" in html and 'href="/team"' not in html and ">Connect<" not in html.replace(" ", "").replace("\n", "")
    assert count(Invite) == 0
