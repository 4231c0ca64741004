"""Headers and cookies an attacker looks at first: a strict CSP on every response (and templates that
need nothing more: no inline script, style or event handler), framing only by the extension on the
panel, HSTS on https, nosniff, Referrer-Policy, a session cookie that is HttpOnly, SameSite and
Secure where configured, and client addresses read through the configured proxies only."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from attack_support import Client, make_user
from core import db
from models import Team
from services.tokens import issue_token

ROOT = Path(__file__).resolve().parents[2]
EXT = "chrome-extension://ljbclocmbliiojkaaeejoblleboapmpg"


def _directives(resp) -> dict[str, str]:
    csp = resp.headers.get("Content-Security-Policy", "")
    return {d.split()[0]: " ".join(d.split()[1:]) for d in (p.strip() for p in csp.split(";")) if d}


@pytest.fixture
def user(app):
    team = Team(name="Acme")
    db.session.add(team)
    db.session.commit()
    return make_user(team.id, "admin", "ada@example.com")


def test_every_kind_of_response_has_the_headers(app, user):
    client = Client(app).login_as(user)
    _row, token = issue_token(user)
    responses = {
        "page": client.get("/campaigns/"), "login": Client(app).get("/login"),
        "redirect": Client(app).get("/campaigns/"), "404": client.get("/no/such/page"),
        "static": client.get("/static/app.css"), "fragment": client.get("/campaigns/", headers={"HX-Request": "true"}),
        "panel": client.get("/panel/api/me", headers={"Authorization": f"Bearer {token}"}),
        "panel 401": client.get("/panel/api/me"),
    }
    for name, r in responses.items():
        csp = _directives(r)
        assert csp.get("script-src") == "'self'" and csp.get("style-src") == "'self'", name
        assert csp.get("object-src") == "'none'" and csp.get("base-uri") == "'none'", name
        assert csp.get("default-src") == "'self'", name
        assert r.headers["X-Content-Type-Options"] == "nosniff", name
        assert r.headers["Referrer-Policy"] == "same-origin", name
        assert "Strict-Transport-Security" not in r.headers, name   # plain http
        if name.startswith("panel"):
            assert csp["frame-ancestors"] == EXT and "X-Frame-Options" not in r.headers, name
        else:
            assert csp["frame-ancestors"] == "'none'" and r.headers["X-Frame-Options"] == "DENY", name


def test_hsts_on_https_and_behind_a_trusted_proxy_only(app, user):
    r = Client(app).get("/login", base_url="https://localhost")
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000"
    # Without trusted proxies (the default), a forged X-Forwarded-Proto changes nothing.
    r = Client(app).get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in r.headers


def test_proxy_hops_from_config(tmp_path, monkeypatch):
    """SHOAL_PROXY_HOPS=1: the load balancer's X-Forwarded-* is believed (client address for the rate
    limits, https for HSTS); with it unset they are ignored."""
    from app import create_app
    from flask import request

    def build(hops: str | None):
        if hops is None:
            monkeypatch.delenv("SHOAL_PROXY_HOPS", raising=False)
        else:
            monkeypatch.setenv("SHOAL_PROXY_HOPS", hops)
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.db'}", "TESTING": True},
                         instance_path=str(tmp_path))
        app.add_url_rule("/whoami", "whoami", lambda: {"addr": request.remote_addr, "https": request.is_secure})
        return app.test_client()

    forwarded = {"X-Forwarded-For": "203.0.113.77", "X-Forwarded-Proto": "https"}
    r = build("1").get("/whoami", headers=forwarded, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert r.get_json() == {"addr": "203.0.113.77", "https": True}
    assert "Strict-Transport-Security" in r.headers
    r = build(None).get("/whoami", headers=forwarded, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert r.get_json() == {"addr": "10.0.0.2", "https": False}


def test_session_cookie_flags(app, user):
    r = Client(app).login(user.email)
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        r = Client(app).login(user.email)
        assert "Secure" in r.headers["Set-Cookie"]
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False


def test_secure_cookies_default_on_in_production_off_embedded(tmp_path, monkeypatch):
    from config import Config, check_production

    monkeypatch.delenv("SHOAL_SECURE_COOKIES", raising=False)
    monkeypatch.delenv("SHOAL_ENV", raising=False)
    cfg = Config.from_env(str(tmp_path))
    cfg["SQLALCHEMY_DATABASE_URI"] = "sqlite:///x.db"
    check_production(cfg)
    assert cfg["SESSION_COOKIE_SECURE"] is False
    cfg = {**Config.from_env(str(tmp_path)), "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/shoal",
           "SECRET_KEY": "x" * 32, "CREDENTIALS_KEY": "k"}
    check_production(cfg)
    assert cfg["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("SHOAL_SECURE_COOKIES", "0")
    cfg = {**Config.from_env(str(tmp_path)), "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/shoal",
           "SECRET_KEY": "x" * 32, "CREDENTIALS_KEY": "k"}
    check_production(cfg)
    assert cfg["SESSION_COOKIE_SECURE"] is False


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script> (load a static file instead)"),
    (re.compile(r"<style\b", re.I), "a <style> block (put the rules in static/*.css)"),
    (re.compile(r"\sstyle\s*=", re.I), "a style= attribute (use a class)"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an on*= event handler attribute"),
    (re.compile(r"\bhx-on", re.I), "an hx-on attribute (htmx evaluates it as script)"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
    (re.compile(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I), "a resource from another origin"),
]


def test_templates_need_nothing_the_csp_forbids():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        # Jinja comments are never sent; blank them out keeping line numbers.
        text = re.sub(r"\{#.*?#\}", lambda m: re.sub(r"[^\n]", " ", m.group(0)), path.read_text(), flags=re.S)
        for pattern, what in INLINE:
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert found == [], "the CSP (blueprints/_security.py) blocks these:\n" + "\n".join(found)
    base = (ROOT / "templates" / "base.html").read_text()
    assert '"includeIndicatorStyles": false' in base   # htmx would otherwise inject a <style>
