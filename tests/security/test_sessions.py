"""Sessions end on the server: a session cookie copied before logout, or held by a user who was
deactivated since, opens nothing. Login answers the same, in the same work, whether the email is
known or not."""
from __future__ import annotations

import hashlib
import re
import sys

from attack_support import Client, make_user
from core import db
from models import Team
from services import accounts
from services.team import deactivate
from services.tokens import issue_token

SESSION = "session"


def _team(name: str = "Acme") -> Team:
    team = Team(name=name)
    db.session.add(team)
    db.session.commit()
    return team


def _cookie(client: Client) -> str:
    return client.http.get_cookie(SESSION).value


def test_a_session_cookie_saved_before_logout_no_longer_works(app):
    user = make_user(_team().id, "admin", "ada@example.com")
    alice = Client(app)
    assert alice.login(user.email).status_code == 302
    assert alice.get("/campaigns/").status_code == 200
    saved = _cookie(alice)
    assert alice.post("/logout").status_code == 302
    thief = Client(app, addr="203.0.113.9")
    thief.http.set_cookie(SESSION, saved)
    r = thief.get("/campaigns/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_logout_ends_the_users_other_sessions_too(app):
    user = make_user(_team().id, "recruiter", "rita@example.com")
    laptop, phone = Client(app), Client(app, addr="192.0.2.44")
    laptop.login(user.email)
    phone.login(user.email)
    laptop.post("/logout")
    assert phone.get("/campaigns/").status_code == 302


def test_deactivation_ends_sessions_and_tokens(app):
    team = _team()
    admin = make_user(team.id, "admin", "ada@example.com")
    user = make_user(team.id, "recruiter", "rita@example.com")
    client = Client(app).login_as(user)
    _row, token = issue_token(user)
    assert client.get("/campaigns/").status_code == 200
    assert Client(app).get("/panel/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    deactivate(admin, user)
    assert client.get("/campaigns/").status_code == 302
    assert Client(app).get("/panel/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_forged_or_stale_session_ids_are_refused_never_500(app):
    """A session whose version is not the user's, or whose id is no id at all (a cookie signed with
    a leaked key, or one from an older version of Shoal)."""
    user = make_user(_team().id, "admin", "ada@example.com")
    client = Client(app)
    cases = [(str(user.id), user.session_version + 1), (str(user.id), -1), (str(2**40), 0),
             (str(2**31), 0), ("1.1", 0), ("", 0), ("x", 0), ("-1", 0), ("١", 0)]
    for user_id, version in cases:
        with client.http.session_transaction() as session:
            session["_user_id"] = user_id
            session["_sv"] = version
        assert client.get("/campaigns/").status_code == 302, (user_id, version)


def _login_answer(app, email: str, password: str) -> tuple[int, str]:
    r = Client(app, addr="192.0.2.1").post("/login", {"email": email, "password": password}, htmx=True)
    html = re.sub(r'name="csrf_token" value="[^"]+"', "", r.get_data(as_text=True))
    return r.status_code, html.replace(email, "EMAIL")


def test_known_unknown_and_deactivated_emails_get_the_same_answer(app):
    team = _team()
    make_user(team.id, "admin", "known@example.com")
    admin = make_user(team.id, "admin", "admin@example.com")
    deactivate(admin, make_user(team.id, "recruiter", "gone@example.com"))
    wrong_password = _login_answer(app, "known@example.com", "not the password")
    unknown = _login_answer(app, "nobody@example.com", "not the password")
    deactivated = _login_answer(app, "gone@example.com", "not the password")
    assert wrong_password[0] == unknown[0] == deactivated[0] == 422
    assert wrong_password[1] == unknown[1] == deactivated[1]


def _scrypt_calls(fn) -> int:   # noqa: ANN001
    """How many times `fn()` runs hashlib's scrypt (werkzeug's default password hash)."""
    calls = []

    def profile(_frame, event, arg):   # noqa: ANN001
        if event == "c_call" and arg is hashlib.scrypt:
            calls.append(1)

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return len(calls)


def test_an_unknown_email_costs_the_same_password_check_as_a_known_one(app):
    """Timing: an unknown email must not answer faster (the hash check is the slow part)."""
    make_user(_team().id, "admin", "known@example.com")
    accounts.authenticate("warm@example.com", "x")   # the dummy hash is made once, before measuring
    known = _scrypt_calls(lambda: accounts.authenticate("known@example.com", "wrong password"))
    unknown = _scrypt_calls(lambda: accounts.authenticate("nobody@example.com", "wrong password"))
    assert known == unknown == 1
