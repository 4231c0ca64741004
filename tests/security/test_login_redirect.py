"""The login's `next` never sends a browser to another site: every redirect it produces (Location,
or HX-Redirect for htmx) is parsed the way a browser parses it (WHATWG URL, via ada) and must stay
on this host. The cases are the classic bypasses: backslashes, slashes, tabs and newlines browsers
drop, control characters, schemes, an unclosed "[" and encoded forms."""
from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from ada_url import URL

from attack_support import Client, make_user
from core import db
from models import Team

BASE = "http://localhost/"
EVIL = [
    "/\\evil.example", "/\\/evil.example", "\\\\evil.example", "//evil.example", "///evil.example",
    "/\t/evil.example", "/\n/evil.example", "\t//evil.example", " //evil.example", "/\r\n/evil.example",
    "\x01//evil.example", "/\x00/evil.example", "\x7f//evil.example", "/\u3000/evil.example",
    "https://evil.example/", "http:evil.example", "https:/evil.example", "HTTPS://evil.example",
    "javascript:alert(1)", "//evil.example@localhost/", "/[", "//[", "//[::1", "/%5C/evil.example",
    "%2F%2Fevil.example", "%5C%5Cevil.example", "/." * 1500 + "//evil.example",
]
LOCAL = ["/activity", "/campaigns/3?tab=members#m", "/%2F%2Fevil.example", "/people/1", "/..//x"]


def _stays_here(location: str) -> bool:
    return URL(location, BASE).hostname == "localhost"


@pytest.fixture
def user(app):
    team = Team(name="Acme")
    db.session.add(team)
    db.session.commit()
    return make_user(team.id, "admin", "ada@example.com")


@pytest.mark.parametrize("target", EVIL)
def test_login_never_redirects_off_site(app, user, target):
    if "\x00" in target:   # refused before the view runs (a NUL can't be stored): no redirect at all
        r = Client(app).post("/login", {"email": user.email, "password": "x", "next": target})
        assert r.status_code == 422 and "Location" not in r.headers
        return
    r = Client(app).post("/login", {"email": user.email, "password": "correct horse battery", "next": target})
    assert r.status_code == 302 and _stays_here(r.headers["Location"]), r.headers["Location"]
    r = Client(app).post("/login", {"email": user.email, "password": "correct horse battery", "next": target},
                         htmx=True)
    assert r.status_code == 204 and _stays_here(r.headers["HX-Redirect"]), r.headers["HX-Redirect"]
    # Already logged in, the login page sends you on at once: the same check applies.
    client = Client(app).login_as(user)
    r = client.get("/login", query_string={"next": target})
    assert r.status_code == 302 and _stays_here(r.headers["Location"]), r.headers["Location"]


@pytest.mark.parametrize("target", LOCAL)
def test_login_follows_local_paths(app, user, target):
    r = Client(app).post("/login", {"email": user.email, "password": "correct horse battery", "next": target})
    assert r.headers["Location"] == target


def test_a_page_behind_login_comes_back_after_it(app, user):
    r = Client(app).get("/activity?person=ada")
    assert r.status_code == 302
    nxt = parse_qs(URL(r.headers["Location"], BASE).search[1:])["next"][0]
    assert nxt == "/activity?person=ada"
    r = Client(app).post("/login", {"email": user.email, "password": "correct horse battery", "next": nxt})
    assert r.headers["Location"] == "/activity?person=ada"
