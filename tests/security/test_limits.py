"""Rate limits on login, sign-up, invite acceptance, extension tokens and failed panel tokens, counted
in the app's own Redis (the embedded one in these runs), per client address (and per email tried)."""
from __future__ import annotations

import re
from datetime import timedelta

from attack_support import Client, make_user
from blueprints._htmx import RESPONSE_HANDLING
from blueprints._limits import LIMITED
from core import db, get_redis
from models import Invite, Team, utcnow
from services.accounts import sha256
from services.tokens import issue_token

WRONG = {"email": "ada@example.com", "password": "not the password"}


def _team() -> Team:
    team = Team(name="Acme")
    db.session.add(team)
    db.session.commit()
    return team


def _limit(app, key: str) -> int:
    """The first count of a setting like "10 per minute;100 per hour"."""
    return int(app.config[key].split()[0])


def test_login_is_limited_per_address_with_a_message_and_retry_after(app):
    make_user(_team().id, "admin", "ada@example.com")
    attacker = Client(app, addr="203.0.113.5")
    for _ in range(_limit(app, "LOGIN_RATE_LIMIT")):
        assert attacker.post("/login", {**WRONG, "email": f"x{_}@example.com"}).status_code == 422
    r = attacker.post("/login", WRONG, htmx=True)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "Too many attempts" in r.get_data(as_text=True) and "<html" not in r.get_data(as_text=True)
    # htmx swaps a 429 in place of the form, so the reason shows (not a silent dead button).
    assert '{"code":"429","swap":true}' in RESPONSE_HANDLING
    # Someone else, elsewhere, still logs in.
    assert Client(app, addr="198.51.100.20").login("ada@example.com").status_code == 302
    # The limiter keeps its counts in the app's Redis, so every web process shares them.
    assert any(k.startswith(b"shoal-limits") or b"shoal-limits" in k for k in get_redis(app).keys("*"))


def test_login_is_limited_per_email_across_addresses(app):
    make_user(_team().id, "admin", "ada@example.com")
    n = _limit(app, "LOGIN_EMAIL_RATE_LIMIT")
    for i in range(n):
        assert Client(app, addr=f"203.0.113.{i + 1}").post("/login", WRONG).status_code == 422
    assert Client(app, addr="198.51.100.99").post("/login", WRONG).status_code == 429
    # GET /login (the form itself) is never limited.
    assert Client(app, addr="203.0.113.1").get("/login").status_code == 200


def test_signup_is_limited(app, monkeypatch):
    monkeypatch.setitem(app.config, "SYSTEM_MAIL_URL", "smtp://127.0.0.1:2525?security=none")
    client = Client(app, addr="203.0.113.7")
    for i in range(_limit(app, "SIGNUP_RATE_LIMIT")):
        assert client.post("/signup", {"team_name": "T", "name": "N", "email": f"n{i}@example.com",
                                       "password": "short"}).status_code == 422
    assert client.post("/signup", {"team_name": "T"}).status_code == 429


def test_invite_links_are_limited(app):
    team = _team()
    admin = make_user(team.id, "admin", "ada@example.com")
    db.session.add(Invite(team_id=team.id, email="new@example.com", token_hash=sha256("real-token"),
                          created_by_id=admin.id, expires_at=utcnow() + timedelta(days=1)))
    db.session.commit()
    guesser = Client(app, addr="203.0.113.8")
    for i in range(_limit(app, "INVITE_RATE_LIMIT")):
        assert guesser.get(f"/invites/guess-{i}").status_code == 404
    assert guesser.get("/invites/real-token").status_code == 429
    assert Client(app, addr="198.51.100.3").get("/invites/real-token").status_code == 200


def test_extension_token_creation_is_limited(app):
    user = make_user(_team().id, "recruiter", "rita@example.com")
    client = Client(app, addr="203.0.113.9").login_as(user)
    for _ in range(_limit(app, "TOKEN_RATE_LIMIT")):
        assert client.post("/account/tokens", {"label": "x"}).status_code == 200
    assert client.post("/account/tokens", {"label": "x"}).status_code == 429


def test_failed_panel_tokens_are_limited_but_working_ones_never_counted(app):
    user = make_user(_team().id, "recruiter", "rita@example.com")
    _row, token = issue_token(user)
    good = {"Authorization": f"Bearer {token}"}
    colleague = Client(app, addr="198.51.100.50")
    n = _limit(app, "PANEL_AUTH_FAILURE_RATE_LIMIT")
    for _ in range(n + 5):   # more than the limit: successes don't count
        ok = colleague.get("/panel/api/me", headers=good)
        # ...nor are they told about a limit that only counts refusals (no header to compute).
        assert ok.status_code == 200 and not any(h.startswith("X-RateLimit") for h in ok.headers.keys())

    guesser = Client(app, addr="203.0.113.10")
    for i in range(n):
        assert guesser.get("/panel/api/me", headers={"Authorization": f"Bearer shoal_{i}"}).status_code == 401
    r = guesser.get("/panel/api/me", headers={"Authorization": "Bearer shoal_next"})
    assert r.status_code == 429 and "token" in r.get_json()["message"]
    assert 0 < int(r.headers["Retry-After"]) <= 60     # the limit's window is a minute
    r = guesser.post("/panel/profile", headers={"Authorization": "Bearer x", "HX-Request": "true"})
    assert r.status_code == 429 and "<html" not in r.get_data(as_text=True)
    assert colleague.get("/panel/api/me", headers=good).status_code == 200


def test_failed_api_tokens_are_limited(app):
    guesser = Client(app, addr="203.0.113.11")
    for i in range(_limit(app, "API_AUTH_FAILURE_RATE_LIMIT")):
        assert guesser.get("/api/v1/campaigns/", headers={"Authorization": f"Bearer shoal_api_{i}"}).status_code == 401
    r = guesser.get("/api/v1/campaigns/", headers={"Authorization": "Bearer shoal_api_x"})
    assert r.status_code == 429 and r.is_json and 0 < int(r.headers["Retry-After"]) <= 60


def test_every_endpoint_taking_a_password_token_or_invite_is_limited(app):
    """A new login-like endpoint must be added to blueprints/_limits.py LIMITED."""
    sensitive = re.compile(r"login|signup|sign_up|accept|invite|password|reset|token|verify", re.I)
    exempt = {"team.invite": "an admin creates an invite: takes no secret",
              "team.reset_link": "an admin issues a reset link: takes no secret",
              "team.revoke_token": "an admin revokes a team token",
              "account.revoke_token": "logged in; revokes one of the user's own tokens"}
    missing = [e for e in app.view_functions if sensitive.search(e) and e not in LIMITED and e not in exempt
               and not e.startswith(("panel.", "api_"))]   # limited as a whole on failed tokens
    assert missing == [], (f"rate-limit these endpoints in blueprints/_limits.py LIMITED (or add them to "
                           f"`exempt` in this test with the reason): {missing}")
