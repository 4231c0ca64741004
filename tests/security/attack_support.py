"""What the attacker's tests share: a client that carries a CSRF token like a browser page would
and can come from any address, and the world they attack (two teams with one of everything)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, g
from werkzeug.security import generate_password_hash

from blueprints.auth import SESSION_VERSION
from core import db
from models import Campaign, Team, User

PASSWORD = "correct horse battery"
_HASH: list[str] = []
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def password_hash() -> str:
    """One real hash for every test user (hashing per user would cost ~0.1 s each)."""
    if not _HASH:
        _HASH.append(generate_password_hash(PASSWORD))
    return _HASH[0]


class Client:
    """A test client from `addr`, logged in or not, that fetches a CSRF token once per session."""

    def __init__(self, app: Flask, addr: str = "198.51.100.7"):
        self.app, self.addr = app, addr
        self.http = app.test_client()
        self._csrf: str | None = None

    def _env(self, kw: dict[str, Any]) -> dict[str, Any]:
        kw.setdefault("environ_base", {})["REMOTE_ADDR"] = self.addr
        g.pop("csrf_token", None)   # the suite shares one app context; let each request mint its own
        g.pop("_login_user", None)
        return kw

    def csrf(self) -> str:
        if self._csrf is None:
            html = self.get("/signup").get_data(as_text=True)   # renders whether logged in or not
            self._csrf = CSRF.search(html).group(1)
        return self._csrf

    def get(self, url: str, **kw: Any):
        return self.http.get(url, **self._env(kw))

    def open(self, url: str, method: str = "GET", **kw: Any):
        return self.http.open(url, method=method, **self._env(kw))

    def post(self, url: str, data: Any = None, *, csrf: bool = True, htmx: bool = False, **kw: Any):
        headers = dict(kw.pop("headers", None) or {})
        if csrf:
            headers.setdefault("X-CSRFToken", self.csrf())
        if htmx:
            headers["HX-Request"] = "true"
        return self.http.post(url, data=data, headers=headers, **self._env(kw))

    def login_as(self, user: User) -> "Client":
        """A logged-in session, set the way flask-login sets it (the login form is tested elsewhere)."""
        with self.http.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            session[SESSION_VERSION] = user.session_version or 0
        self._csrf = None
        return self

    def login(self, email: str, password: str = PASSWORD):
        return self.post("/login", {"email": email, "password": password})


def make_user(team_id: int, role: str, email: str) -> User:
    user = User(team_id=team_id, email=email, name=email.split("@")[0].title(), role=role,
                password_hash=password_hash())
    db.session.add(user)
    db.session.commit()
    return user


def team_with_campaign(role: str, email: str) -> tuple[Team, User, Campaign]:
    """Team "Acme", one user of `role` and a campaign of theirs that syncs nobody."""
    team = Team(name="Acme")
    db.session.add(team)
    db.session.commit()
    user = make_user(team.id, role, email)
    campaign = Campaign(team_id=team.id, owner_id=user.id, name="C", sync_as="none")
    db.session.add(campaign)
    db.session.commit()
    return team, user, campaign


@dataclass
class World:
    """Team A (the victim: an admin, a recruiter and one of every object) and team B (an admin)."""
    ids: dict[str, Any] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
