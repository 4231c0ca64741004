"""Helpers for the web pages' tests: a logged-in test client, with CSRF left ON (the token is read
from the page's meta tag, the way htmx sends it)."""
from __future__ import annotations

import re
from typing import Any, Callable

import pytest
from flask import g
from flask.testing import FlaskClient

PASSWORD = "correct horse battery"  # tests/conftest.PASSWORD (same module name, so not importable here)

META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
HIDDEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    m = META.search(html) or HIDDEN.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


class Browser:
    """A test client that fetches a CSRF token from a page before each state-changing request."""

    def __init__(self, client: FlaskClient):
        self.client = client

    @staticmethod
    def _fresh() -> None:
        # The suite runs requests inside one app context, so `g` outlives a request; Flask-WTF
        # caches the CSRF token there. Drop it so each page mints its token from its own session.
        g.pop("csrf_token", None)

    def token(self, page: str = "/login") -> str:
        return csrf_from(self.get(page).get_data(as_text=True))

    def get(self, url: str, **kw: Any):
        self._fresh()
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, *, page: str = "/login",
             htmx: bool = False, **kw: Any):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token(page))
        headers = dict(kw.pop("headers", {}) or {})
        if htmx:
            headers["HX-Request"] = "true"
        self._fresh()
        return self.client.post(url, data=data, headers=headers, **kw)

    def login(self, email: str, password: str = PASSWORD):
        r = self.post("/login", {"email": email, "password": password})
        assert r.status_code == 302, r.get_data(as_text=True)
        return r


@pytest.fixture
def browser(app) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def logged_in(app, make_user) -> Callable[..., Browser]:
    """`logged_in(role="admin", team=None)` → a Browser logged in as a new user of that role."""
    def _make(role: str = "admin", team: Any = None) -> Browser:
        user = make_user(role, team=team)
        b = Browser(app.test_client())
        b.login(user.email)
        b.user = user  # type: ignore[attr-defined]
        return b
    return _make
