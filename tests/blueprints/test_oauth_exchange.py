"""SmartRecruiters' "Allow access" against its sandbox on a real socket, the code exchanged by a real
RQ worker: the callback never calls the CRM, the code is kept out of URLs, job arguments and
plain-text Redis, each sign-in and each code is used once, and the pop-up's fragment polls
"Connecting…" until it says connected (and closes itself) or failed, in our words."""
from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select
from sync_support import sandbox_state

from core import db, get_redis
from crypto import decrypt_credentials
from jobs import get_queue
from models import Connection
from services import oauth_flow

CONNECTING = "/integrations/smartrecruiters/oauth/connecting"


@pytest.fixture
def sr(app, sandbox, monkeypatch):
    from sandbox.smartrecruiters import OAUTH_CLIENT
    server = sandbox("smartrecruiters")
    monkeypatch.setitem(app.config, "SMARTRECRUITERS_CLIENT_ID", OAUTH_CLIENT["client_id"])
    monkeypatch.setitem(app.config, "SMARTRECRUITERS_CLIENT_SECRET", OAUTH_CLIENT["client_secret"])
    monkeypatch.setitem(app.config, "SMARTRECRUITERS_AUTH_BASE_URL", server.base)
    return server


def consent(b, sr, decision: str = "allow"):
    """Allow access (or deny) on the sandbox's consent page; returns the callback's path and query."""
    from sandbox.smartrecruiters import API_ROOT
    r = b.get("/integrations/smartrecruiters/oauth/start", query_string={"base_url": sr.base + API_ROOT})
    assert r.status_code == 302 and r.headers["Location"].startswith(sr.base)
    params = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]     # PKCE
    allowed = requests.post(f"{sr.base}/identity/oauth/allow", data={**params, "decision": decision},
                            allow_redirects=False, timeout=5)
    callback = urlsplit(allowed.headers["Location"])
    assert callback.path == "/integrations/smartrecruiters/oauth/callback"
    return callback


def frag(b) -> str:
    r = b.get(CONNECTING, headers={"HX-Request": "true"})
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_allow_access_exchanges_the_code_in_a_worker(app, logged_in, sr, run_worker, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    b = logged_in("admin")
    page = b.get("/integrations/smartrecruiters").get_data(as_text=True)
    assert 'id="oauth-connect"' in page and "data-oauth-popup" in page and "Allow access" in page
    assert "<script>" not in page and "onclick" not in page            # no inline script (CSP)
    callback = consent(b, sr)
    code = parse_qs(callback.query)["code"][0]

    r = b.get(callback.path, query_string=callback.query)
    # The pop-up moves on to a page without the code; the web process called nobody.
    assert r.status_code == 303 and r.headers["Location"].endswith(CONNECTING) and code not in r.headers["Location"]
    assert db.session.scalars(select(Connection)).first() is None
    assert not sandbox_state(sr)["tables"].get("oauth_tokens")
    redis = get_redis(app)
    (job,) = get_queue("interactive").jobs                      # the exchange: its one argument is a handle
    assert job.func_name.endswith("exchange_oauth_code") and code not in json.dumps([job.args, job.kwargs])
    handle = job.args[0]
    assert not any(code.encode() in (redis.dump(k) or b"") for k in redis.scan_iter("*"))   # encrypted at rest
    page = b.get(CONNECTING)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and "Connecting…" in html and "hx-get" in html
    assert "data-close-window" not in html
    assert frag(b).lstrip().startswith('<div id="oauth-exchange" data-state="running"')

    run_worker()                                   # the exchange, then the connection check it queues
    done = frag(b)
    assert 'data-state="connected"' in done and "data-close-window" in done and "Access allowed" in done
    assert "hx-get" not in done
    conn = db.session.scalars(select(Connection)).one()
    creds = decrypt_credentials(conn.credentials_encrypted)
    assert creds["access_token"] and creds["refresh_token"] and conn.status == "connected", conn.last_error
    page = b.get("/integrations/smartrecruiters").get_data(as_text=True)
    assert "Connected" in page and creds["access_token"] not in page and creds["refresh_token"] not in page

    # Replaying the callback (the sign-in is used up) is refused and changes nothing.
    assert b.get(callback.path, query_string=callback.query).status_code == 400
    assert len(db.session.scalars(select(Connection)).all()) == 1
    # Another admin can't read this sign-in's outcome.
    other = logged_in("admin", team=b.user.team)
    with other.client.session_transaction() as sess:
        sess["oauth_exchange_smartrecruiters"] = handle
    assert "expired" in frag(other) and "Access allowed" not in frag(other)
    # Nothing of ours logged the code: the request lines name the route, the job its handle.
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "oauth" in logged and code not in logged


def test_a_code_redeemed_elsewhere_fails_in_our_words(app, logged_in, sr, run_worker):
    """Someone replays the code from the redirect before our worker does: without our PKCE verifier
    it gets nothing, and the code is used up, so the pop-up says the CRM refused the sign-in."""
    from sandbox.smartrecruiters import OAUTH_CLIENT
    b = logged_in("admin")
    callback = consent(b, sr)
    code = parse_qs(callback.query)["code"][0]
    assert b.get(callback.path, query_string=callback.query).status_code == 303
    stolen = requests.post(f"{sr.base}/identity/oauth/token", timeout=5, data={
        "grant_type": "authorization_code", "code": code, **OAUTH_CLIENT})
    assert stolen.status_code == 400 and "access_token" not in stolen.text
    run_worker()
    html = frag(b)
    assert 'data-state="failed"' in html and "SmartRecruiters refused the sign-in. Try again." in html
    assert "data-close-window" not in html and "data-close-self" in html and "invalid_grant" not in html
    assert db.session.scalars(select(Connection)).first() is None


def test_a_code_no_worker_took_in_time_expires(app, logged_in, sr, run_worker):
    b = logged_in("admin")
    callback = consent(b, sr)
    assert b.get(callback.path, query_string=callback.query).status_code == 303
    redis = get_redis(app)
    for key in redis.scan_iter(f"{oauth_flow.PREFIX}code:*"):   # as if EXCHANGE_SECONDS had passed
        redis.delete(key)
    run_worker()
    html = frag(b)
    assert 'data-state="failed"' in html and "took too long and expired" in html
    assert db.session.scalars(select(Connection)).first() is None


def test_denied_consent_says_so_in_the_pop_up(logged_in, sr, run_worker):
    b = logged_in("admin")
    callback = consent(b, sr, decision="deny")
    r = b.get(callback.path, query_string=callback.query)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "did not grant access: Deny was chosen on the SmartRecruiters page" in html
    assert "access_denied" not in html
    assert "data-close-self" in html and "data-close-window" not in html
    assert run_worker() == 0 and db.session.scalars(select(Connection)).first() is None
    assert b.get(callback.path, query_string=callback.query).status_code == 400     # used up


def test_a_callback_not_started_here_is_refused(logged_in, sr, run_worker):
    b = logged_in("admin")
    callback = consent(b, sr)
    stranger = logged_in("admin", team=b.user.team)    # another admin's browser, handed the same link
    assert stranger.get(callback.path, query_string=callback.query).status_code == 400
    assert logged_in("recruiter", team=b.user.team).get(callback.path, query_string=callback.query).status_code == 403
    assert run_worker() == 0 and db.session.scalars(select(Connection)).first() is None


def test_an_odd_oauth_error_is_said_in_our_words(logged_in, sr):
    """The CRM's error code is looked up, never echoed: an unknown one reads as a refused request."""
    b = logged_in("admin")
    r = b.get("/integrations/smartrecruiters/oauth/start")
    state = parse_qs(urlsplit(r.headers["Location"]).query)["state"][0]
    r = b.get("/integrations/smartrecruiters/oauth/callback",
              query_string={"state": state, "error": "<b>weird</b>", "error_description": "Stack trace here"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "refused the sign-in request" in html
    assert "weird" not in html and "Stack trace" not in html
