"""Server-side request forgery, tried the way an attacker would: sign up, become an admin, and point
a CRM connection somewhere inside. Every CRM's connect form, the stored connections a worker calls,
redirects from an allowed CRM, names that resolve to loopback, and SmartRecruiters' OAuth host.

The victim is a real server on a loopback port that is NOT allow-listed (only the CRM sandbox's
own port is, the way an operator would list it): each test checks it was never called. Nothing
of ours is mocked; the names resolve through the machine's own resolver (/etc/hosts).
"""
from __future__ import annotations

import re
import socket
import time
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask, jsonify, request
from sqlalchemy import select
from sync_support import connect

from attack_support import Client, make_user
from core import db
from crypto import decrypt_credentials, encrypt_credentials
from models import Connection, Team
from sandbox.common import ServerThread, serve_in_thread
from services.connections import run_check

# A valid-looking credential set per CRM (what the form needs besides a base URL).
CREDENTIALS = {
    "cats": {"api_key": "k-123"},
    "tracker": {"bearer_token": "t-123", "region": "uk"},
    "smartrecruiters": {"api_key": "k-123"},
    "itris": {"username": "api", "password": "p-123", "subdomain": "acme"},
    "pinpoint": {"api_key": "k-123", "subdomain": "acme"},
}
SECRET_BODY = "internal-secret-7f3a"


# -- the victim: an internal service that must never be called --------------------------------

class Victim:
    def __init__(self) -> None:
        self.hits: list[str] = []
        app = Flask("victim")

        @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "PATCH"])
        @app.route("/<path:path>", methods=["GET", "POST", "PUT", "PATCH"])
        def _any(path: str):
            self.hits.append(f"{request.method} /{path} {dict(request.headers)}")
            if path.startswith("html400"):   # a "CRM" answering with an HTML page full of secrets
                return f"<html><body><h1>{SECRET_BODY}</h1><script>x()</script></body></html>", 400
            return jsonify({"name": SECRET_BODY, "id": 1, "access_token": "t", "expires_in": 3600})

        self.server: ServerThread = serve_in_thread(app)
        self.port = self.server.port

    def url(self, host: str = "127.0.0.1", path: str = "/api") -> str:
        return f"http://{host}:{self.port}{path}"


_VICTIM: list[Victim] = []


@pytest.fixture
def victim() -> Iterator[Victim]:
    if not _VICTIM:
        _VICTIM.append(Victim())
    v = _VICTIM[0]
    v.hits.clear()
    yield v


@pytest.fixture
def crm_only(app, monkeypatch, sandbox):
    """The operator's allow-list: exactly the CRM sandbox's port (as `make run` lists its sandboxes)."""
    def _allow(key: str) -> ServerThread:
        server = sandbox(key)
        monkeypatch.setitem(app.config, "CRM_HOST_ALLOWLIST", f"127.0.0.1:{server.port}")
        return server
    return _allow


def _admin(app) -> Client:
    team = Team(name="Mallory Ltd")
    db.session.add(team)
    db.session.commit()
    return Client(app).login_as(make_user(team.id, "admin", "mallory@example.com"))


def _connections() -> list[Connection]:
    db.session.expire_all()
    return db.session.scalars(select(Connection)).all()


# -- 1. the connect form ------------------------------------------------------------------------

def _targets(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/api",             # loopback, another port than the CRM's
        f"http://localhost:{port}/api",             # a name that resolves to loopback (/etc/hosts)
        f"http://[::1]:{port}/api",                 # IPv6 loopback
        f"http://[::ffff:127.0.0.1]:{port}/api",    # IPv4-mapped IPv6
        f"http://2130706433:{port}/api",            # 127.0.0.1 as one decimal number
        f"http://0.0.0.0:{port}/api",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
        "http://10.0.0.5/api",
        "http://192.168.1.10/api",
        "http://[fd00::1]/api",                     # IPv6 unique local
        f"https://api.catsone.com@127.0.0.1:{port}/api",   # user info in front of the real host
        "https://api.catsone.com.evil.example/v3",  # a lookalike host
        "http://[",                                 # not even a URL: a 422, not a 500
        "http://[::1",
        "https://a]b/v3", "https://api.catsone.com:99999/v3", "[",   # more of what urlsplit can't read
    ]


@pytest.mark.parametrize("key", sorted(CREDENTIALS))
def test_connect_form_refuses_internal_addresses(app, key, crm_only, victim, run_worker):
    crm_only(key)
    client = _admin(app)
    for target in _targets(victim.port):
        r = client.post(f"/integrations/{key}/activate", {**CREDENTIALS[key], "base_url": target}, htmx=True)
        html = r.get_data(as_text=True)
        assert r.status_code == 422, (target, r.status_code)
        assert "only at its own address" in html or "full https URL" in html, target
    assert _connections() == []
    run_worker()
    assert victim.hits == []


@pytest.mark.parametrize("key", ["pinpoint", "itris"])
@pytest.mark.parametrize("subdomain", ["evil.example#", "evil.example/", "evil.example?x=", "evil.example",
                                       "127.0.0.1", "acme:8080", "acme\nevil", "ac me", "-acme", "a" * 64, "acme@evil",
                                       "[", "ac[me", "http://[", "https://[::1"])
def test_a_subdomain_is_one_dns_label(app, key, subdomain, victim):
    client = _admin(app)
    r = client.post(f"/integrations/{key}/activate", {**CREDENTIALS[key], "subdomain": subdomain}, htmx=True)
    assert r.status_code == 422
    assert "subdomain only" in r.get_data(as_text=True)
    assert _connections() == []


def test_production_offers_no_base_url_and_takes_only_the_crms_own(app, monkeypatch, victim):
    monkeypatch.setitem(app.config, "CRM_HOST_ALLOWLIST", "")
    client = _admin(app)
    assert 'name="base_url"' not in client.get("/integrations/cats").get_data(as_text=True)
    r = client.post("/integrations/cats/activate", {"api_key": "k", "base_url": victim.url()}, htmx=True)
    assert r.status_code == 422 and _connections() == []
    r = client.post("/integrations/cats/activate", {"api_key": "k", "base_url": "https://api.catsone.com/v3"},
                    htmx=True)
    assert r.status_code == 200
    [conn] = _connections()
    assert conn.base_url == "https://api.catsone.com/v3"


# -- 2. what a worker calls ---------------------------------------------------------------------

@pytest.mark.parametrize("key", sorted(CREDENTIALS))
def test_a_stored_connection_to_an_internal_host_is_never_called(app, key, crm_only, victim, make_user):
    """A row that points inside (saved before the fix, or before the operator shrank the
    allow-list): the check refuses it in our words and the connection needs attention."""
    crm_only(key)
    user = make_user("admin")
    conn = Connection(team_id=user.team_id, provider_key=key, base_url=victim.url(path="/v3"),
                      credentials_encrypted=encrypt_credentials(CREDENTIALS[key]), status="pending")
    db.session.add(conn)
    db.session.commit()
    assert run_check(conn.id) == "needs_attention"
    db.session.refresh(conn)
    assert conn.last_error.startswith("Shoal did not call") and "not one of this CRM's hosts" in conn.last_error
    assert victim.hits == []


def test_the_pinpoint_subdomain_of_an_old_row_cannot_pick_the_host(app, make_user):
    user = make_user("admin")
    conn = Connection(team_id=user.team_id, provider_key="pinpoint",
                      base_url="https://evil.example#.pinpointhq.com/api/v1",
                      credentials_encrypted=encrypt_credentials({"api_key": "k", "subdomain": "evil.example#"}),
                      status="pending")
    db.session.add(conn)
    db.session.commit()
    assert run_check(conn.id) == "needs_attention"
    db.session.refresh(conn)
    assert "evil.example is not one of this CRM's hosts" in conn.last_error


@pytest.mark.parametrize("key", sorted(CREDENTIALS))
def test_a_redirect_from_an_allowed_crm_is_not_followed(app, key, crm_only, victim, make_user):
    """The allow-listed CRM answers 302 towards an internal service: no second request is made,
    the connection needs attention with our reason."""
    server = crm_only(key)
    user = make_user("admin")
    conn = connect(user, key, server)
    conn.status = "pending"
    db.session.commit()
    requests.post(f"{server.base}/__sandbox/faults", json={"mode": "302", "count": 5, "location": victim.url()},
                  timeout=5).raise_for_status()
    try:
        assert run_check(conn.id) == "needs_attention"
    finally:
        requests.post(f"{server.base}/__sandbox/faults", json={"mode": None}, timeout=5)
    db.session.refresh(conn)
    assert "redirect" in conn.last_error, conn.last_error
    assert victim.hits == []


# -- 3. names resolving to private addresses, checked when the socket is opened ------------------

def _loopback_names() -> list[str]:
    names = ["localhost"]
    try:
        host = socket.gethostname()
        if host and all(info[4][0].startswith("127.") for info in socket.getaddrinfo(host, 80)):
            names.append(host)
    except OSError:
        pass
    return names


@pytest.mark.parametrize("name", _loopback_names())
def test_a_vendor_name_that_resolves_to_loopback_is_refused_at_connect_time(name, victim):
    """Even a host the policy allows by name (as if a CRM's DNS pointed inside) is refused once
    it resolves to loopback, before any connection (without the check this would be a refused
    connection on port 443); the same name allow-listed with the victim's port goes through."""
    from providers.errors import HostNotAllowed
    from providers.hosts import Allowlist, HostPolicy
    from providers.guard import guard
    from providers.http import make_session

    session = guard(make_session(), HostPolicy((name,), Allowlist()))
    with pytest.raises(HostNotAllowed, match="resolves to a loopback address"):
        session.get(f"https://{name}/api", timeout=5)
    assert victim.hits == []
    allowed = guard(make_session(), HostPolicy((), Allowlist.parse(f"{name}:{victim.port}")))
    assert allowed.get(victim.url(host=name), timeout=5).status_code == 200
    assert len(victim.hits) == 1


# -- 4. SmartRecruiters' OAuth host and client --------------------------------------------------

def _sr_tokens(server: ServerThread, app) -> dict[str, Any]:
    """A real consent on the sandbox (what the Allow access pop-up does), traded for tokens."""
    from sandbox.smartrecruiters import OAUTH_CLIENT

    redirect = "http://127.0.0.1:9/callback"
    page = requests.get(f"{server.base}/identity/oauth/allow", timeout=5, params={
        "client_id": OAUTH_CLIENT["client_id"], "redirect_uri": redirect, "response_type": "code",
        "scope": "candidates_read users_read", "state": "s"})
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1)
    allowed = requests.post(server.base + action, data={**fields, "decision": "allow"}, allow_redirects=False,
                            timeout=5)
    code = parse_qs(urlsplit(allowed.headers["Location"]).query)["code"][0]
    token = requests.post(f"{server.base}/identity/oauth/token", timeout=5, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect, **OAUTH_CLIENT}).json()
    return {"access_token": token["access_token"], "refresh_token": token["refresh_token"],
            "expires_at": time.time() - 60}   # expired: the next call refreshes first


def test_the_form_takes_no_oauth_host_or_client(app, crm_only, victim):
    crm_only("smartrecruiters")
    client = _admin(app)
    r = client.post("/integrations/smartrecruiters/activate", {
        "api_key": "k-123", "auth_base_url": victim.url(), "client_id": "mine", "client_secret": "leak"}, htmx=True)
    assert r.status_code == 200
    [conn] = _connections()
    assert decrypt_credentials(conn.credentials_encrypted) == {"api_key": "k-123"}


def test_a_refresh_uses_the_apps_oauth_client_never_the_rows(app, crm_only, monkeypatch, victim, make_user):
    """A row holding an `auth_base_url` (the victim) and a client secret from before the fix: the
    refresh goes to the configured identity host with the configured client, and the stale keys
    are not written back."""
    from sandbox.smartrecruiters import OAUTH_CLIENT

    server = crm_only("smartrecruiters")
    monkeypatch.setitem(app.config, "SMARTRECRUITERS_CLIENT_ID", OAUTH_CLIENT["client_id"])
    monkeypatch.setitem(app.config, "SMARTRECRUITERS_CLIENT_SECRET", OAUTH_CLIENT["client_secret"])
    monkeypatch.setitem(app.config, "SMARTRECRUITERS_AUTH_BASE_URL", server.base)
    user = make_user("admin")
    legacy = {**_sr_tokens(server, app), "client_id": OAUTH_CLIENT["client_id"],
              "client_secret": OAUTH_CLIENT["client_secret"], "auth_base_url": victim.url()}
    conn = connect(user, "smartrecruiters", server, credentials=legacy)
    conn.status = "pending"
    db.session.commit()
    assert run_check(conn.id) == "connected", conn.last_error
    assert victim.hits == []
    db.session.refresh(conn)
    stored = decrypt_credentials(conn.credentials_encrypted)
    assert stored["expires_at"] > time.time()
    assert not {"client_id", "client_secret", "auth_base_url"} & set(stored)


# -- 5. a changed address asks for the secret again ------------------------------------------------

def test_blank_secret_with_a_new_address_is_refused(app, monkeypatch, sandbox, victim, run_worker):
    """With two allowed hosts (the operator's), a tenant who changes the address must type the key
    again: the stored key is never sent to the new host."""
    server = sandbox("cats")
    monkeypatch.setitem(app.config, "CRM_HOST_ALLOWLIST", "127.0.0.1:*")
    client = _admin(app)
    good = {"api_key": "cats-sandbox-key", "base_url": f"{server.base}/v3"}
    assert client.post("/integrations/cats/activate", good, htmx=True).status_code == 200
    run_worker()
    r = client.post("/integrations/cats/activate", {"api_key": "", "base_url": victim.url()}, htmx=True)
    assert r.status_code == 422 and "Enter the API key again" in r.get_data(as_text=True)
    run_worker()
    assert victim.hits == []
    assert [c.base_url for c in _connections()] == [f"{server.base}/v3"]
    # The same address with a blank key keeps the stored one (the form's "leave blank").
    assert client.post("/integrations/cats/activate", {"api_key": "", "base_url": f"{server.base}/v3"},
                       htmx=True).status_code == 200


@pytest.mark.parametrize("key,change,secret", [
    ("pinpoint", {"subdomain": "other"}, "api_key"),
    ("itris", {"subdomain": "other"}, "password"),
    ("tracker", {"region": "us"}, "bearer_token"),
])
def test_a_new_subdomain_or_region_asks_for_the_secret(app, key, change, secret, make_user):
    user = make_user("admin")
    creds = CREDENTIALS[key]
    from providers import get_provider

    db.session.add(Connection(team_id=user.team_id, provider_key=key, base_url=get_provider(key).base_url_for(creds),
                              credentials_encrypted=encrypt_credentials(creds), status="connected", active=True))
    db.session.commit()
    client = Client(app).login_as(user)
    r = client.post(f"/integrations/{key}/activate", {**creds, secret: "", **change}, htmx=True)
    assert r.status_code == 422 and "again: the address changed" in r.get_data(as_text=True)
    assert len(_connections()) == 1


# -- 6. what comes back to the page is ours -------------------------------------------------------

def test_a_crms_error_page_and_our_exception_names_never_reach_the_page(app, monkeypatch, victim, make_user):
    monkeypatch.setitem(app.config, "CRM_HOST_ALLOWLIST", f"127.0.0.1:{victim.port} 127.0.0.1:1")
    user = make_user("admin")
    html_crm = Connection(team_id=user.team_id, provider_key="cats", base_url=victim.url(path="/html400"),
                          credentials_encrypted=encrypt_credentials({"api_key": "k"}), status="pending",
                          active=True)
    db.session.add(html_crm)
    db.session.commit()
    assert run_check(html_crm.id) == "needs_attention"
    db.session.refresh(html_crm)
    assert SECRET_BODY not in html_crm.last_error and "<" not in html_crm.last_error
    page = Client(app).login_as(user).get("/integrations/cats").get_data(as_text=True)
    assert SECRET_BODY not in page
    html_crm.base_url, html_crm.status = "http://127.0.0.1:1/v3", "pending"   # nothing listens there
    db.session.commit()
    assert run_check(html_crm.id) == "needs_attention"
    db.session.refresh(html_crm)
    assert html_crm.last_error == "Could not reach CATS: the connection failed."
