"""The Integrations seed flow against the CATS sandbox on a real socket: search › credentials ›
Activate › the check runs in an RQ worker › the polled status ends Connected (or a clear error)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from crypto import decrypt_credentials, encrypt_credentials
from core import db
from models import Connection, Team
from providers import all_providers

GOOD_KEY = "cats-sandbox-key"


@pytest.fixture
def cats(sandbox):
    from sandbox.cats import API_ROOT, DEFAULT_CREDENTIALS
    server = sandbox("cats")
    assert DEFAULT_CREDENTIALS["api_key"] == GOOD_KEY
    return server.base + API_ROOT


def activate(b, key: str, base_url: str, **extra):
    return b.post("/integrations/cats/activate", {"api_key": key, "base_url": base_url, **extra},
                  page="/integrations/cats", htmx=True)


def poll(b, html: str) -> str:
    url = re.search(r'hx-get="(/integrations/connections/\d+/status)"', html).group(1)
    r = b.get(url, headers={"HX-Request": "true"})
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_lists_every_registered_provider_with_search(logged_in):
    b = logged_in("admin")
    html = b.get("/integrations/").get_data(as_text=True)
    for p in all_providers():
        assert p.display_name in html
    r = b.get("/integrations/?q=cat", headers={"HX-Request": "true"})
    frag = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in frag and frag.lstrip().startswith('<div id="provider-list"')
    assert "CATS" in frag and "Pinpoint" not in frag and "Not connected" in frag
    assert "No CRM matches" in b.get("/integrations/?q=zzz", headers={"HX-Request": "true"}).get_data(as_text=True)


def test_connect_form_is_generated_from_the_schema(logged_in):
    html = logged_in("admin").get("/integrations/cats").get_data(as_text=True)
    assert 'name="api_key" type="password"' in html and 'name="base_url"' in html
    assert "https://api.catsone.com/v3" in html and ">Activate<" in html
    assert logged_in("admin").get("/integrations/nosuchcrm").status_code == 404


def test_right_key_ends_connected(logged_in, cats, run_worker):
    b = logged_in("admin")
    r = activate(b, GOOD_KEY, cats)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html and "Checking" in html
    assert 'hx-trigger="load delay:1s"' in html
    conn = db.session.scalars(select(Connection)).one()
    assert conn.status == "pending" and conn.active and conn.base_url == cats
    assert decrypt_credentials(conn.credentials_encrypted) == {"api_key": GOOD_KEY}
    run_worker()
    status = poll(b, html)
    assert "badge-ok" in status and "Connected" in status and "hx-trigger" not in status
    db.session.refresh(conn)
    assert conn.status == "connected" and conn.last_error is None and conn.last_checked_at
    page = b.get("/integrations/").get_data(as_text=True)
    assert 'badge badge-ok">Connected' in page
    for text in (html, status, page, b.get("/integrations/cats").get_data(as_text=True)):
        assert GOOD_KEY not in text


def test_wrong_key_shows_the_error_and_is_not_connected(logged_in, cats, run_worker):
    b = logged_in("admin")
    html = activate(b, "not-the-key", cats).get_data(as_text=True)
    run_worker()
    status = poll(b, html)
    assert "The API key was rejected by CATS" in status and "Connected<" not in status
    conn = db.session.scalars(select(Connection)).one()
    assert conn.status == "needs_attention"
    page = b.get("/integrations/").get_data(as_text=True)
    assert "Needs attention" in page and "badge-ok" not in page
    # Every page now carries the red banner for the admin, with a Reconnect link.
    camp = b.get("/campaigns/").get_data(as_text=True)
    assert 'id="attention-banner"' in camp and 'href="/integrations/cats">Reconnect' in camp
    assert "not-the-key" not in page + camp + status


def test_unreachable_host_says_so(logged_in, run_worker):
    b = logged_in("admin")
    html = activate(b, GOOD_KEY, "http://127.0.0.1:9/v3").get_data(as_text=True)
    run_worker()
    assert "Could not reach CATS" in poll(b, html)


def test_missing_or_bad_input_is_422_and_writes_nothing(logged_in):
    b = logged_in("admin")
    r = activate(b, "", "")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "<html" not in html and 'id="connect-form"' in html
    assert "field-error" in html
    r = activate(b, "k", "ftp://example.com")
    assert r.status_code == 422 and "full http(s) URL" in r.get_data(as_text=True)
    assert db.session.scalars(select(Connection)).first() is None


def test_blank_secret_on_reconnect_means_unchanged(logged_in, cats, run_worker):
    b = logged_in("admin")
    activate(b, GOOD_KEY, cats)
    run_worker()
    form = b.get("/integrations/cats").get_data(as_text=True)
    assert "(unchanged)" in form and GOOD_KEY not in form and cats in form
    r = activate(b, "", cats)
    assert r.status_code == 200
    # Same CRM, same API root: the connection is updated in place (its links and parked syncs stay).
    conn = db.session.scalars(select(Connection)).one()
    assert conn.status == "pending" and decrypt_credentials(conn.credentials_encrypted) == {"api_key": GOOD_KEY}
    run_worker()
    db.session.refresh(conn)
    assert conn.status == "connected"


def test_reconnect_resumes_syncs_parked_on_auth(logged_in, cats, run_worker):
    from models import Person, SyncIntent
    b = logged_in("admin")
    activate(b, "wrong-key", cats)
    run_worker()
    conn = db.session.scalars(select(Connection)).one()
    assert conn.status == "needs_attention"
    person = Person(team_id=b.user.team_id, first_name="Ada", email="ada@example.com")
    db.session.add(person)
    db.session.flush()
    parked = SyncIntent(team_id=b.user.team_id, connection_id=conn.id, person_id=person.id,
                        idempotency_key="parked-1", state="parked", reason="auth: The API key was rejected")
    db.session.add(parked)
    db.session.commit()
    activate(b, GOOD_KEY, cats)
    run_worker(("interactive",))
    db.session.refresh(conn)
    db.session.refresh(parked)
    assert conn.status == "connected" and conn.last_error is None
    assert parked.state == "queued" and parked.reason is None
    assert 'id="attention-banner"' not in b.get("/campaigns/").get_data(as_text=True)


def test_switching_crm_checks_first_and_keeps_the_old_credentials(logged_in, cats, sandbox, run_worker):
    """What a new user tripped on: switching took the working CRM out of service before the new key
    was checked, and switching back had forgotten the old key and URL."""
    from sandbox.tracker import API_ROOT as TRACKER_ROOT, DEFAULT_CREDENTIALS as TRACKER_CREDS
    b = logged_in("admin")
    activate(b, GOOD_KEY, cats)
    run_worker()
    cats_conn = db.session.scalars(select(Connection)).one()
    assert cats_conn.status == "connected" and cats_conn.active
    # A CRM whose check fails never replaces the working one.
    r = b.post("/integrations/pinpoint/activate", {"api_key": "pp", "subdomain": "acme",
                                                   "base_url": "http://127.0.0.1:9/api/v1"},
               page="/integrations/pinpoint", htmx=True)
    assert r.status_code == 200 and "Checking" in r.get_data(as_text=True)
    db.session.refresh(cats_conn)
    assert cats_conn.active and cats_conn.status == "connected"
    run_worker()
    pinpoint = db.session.scalars(select(Connection).where(Connection.provider_key == "pinpoint")).one()
    db.session.refresh(cats_conn)
    assert not pinpoint.active and pinpoint.status == "needs_attention" and cats_conn.active
    page = b.get("/integrations/pinpoint").get_data(as_text=True)
    assert "Not connected" in page and "CATS keeps syncing" in page
    # One whose check passes takes over; the old one keeps its credentials.
    tracker = sandbox("tracker")
    b.post("/integrations/tracker/activate", {**TRACKER_CREDS, "base_url": tracker.base + TRACKER_ROOT},
           page="/integrations/tracker", htmx=True)
    run_worker()
    active = db.session.scalars(select(Connection).where(Connection.active.is_(True))).one()
    db.session.refresh(cats_conn)
    assert active.provider_key == "tracker" and active.status == "connected"
    assert not cats_conn.active and cats_conn.credentials_encrypted is not None
    # Switching back: URL pre-filled, key kept ("leave blank"), the same connection (links, history) returns.
    page = b.get("/integrations/cats").get_data(as_text=True)
    assert f'value="{cats}"' in page and "leave blank to keep it" in page and "(required)" not in page
    r = b.post("/integrations/cats/activate", {"api_key": "", "base_url": cats}, page="/integrations/cats", htmx=True)
    assert r.status_code == 200
    run_worker()
    db.session.refresh(cats_conn)
    assert cats_conn.active and cats_conn.status == "connected"
    assert decrypt_credentials(cats_conn.credentials_encrypted)["api_key"] == GOOD_KEY
    assert db.session.scalars(select(Connection).where(Connection.active.is_(True))).one().id == cats_conn.id


def test_a_connected_crm_offers_a_credentials_change_not_activate(logged_in, cats, run_worker):
    b = logged_in("admin")
    page = b.get("/integrations/cats").get_data(as_text=True)
    assert ">Activate</button>" in page and "(required)" in page
    activate(b, GOOD_KEY, cats)
    run_worker()
    page = b.get("/integrations/cats").get_data(as_text=True)
    assert ">Activate</button>" not in page and "(required)" not in page
    assert "Change credentials" in page and "Save and check again" in page and "Connected" in page


def test_one_active_connection_and_disconnect(logged_in, cats, run_worker):
    b = logged_in("admin")
    activate(b, GOOD_KEY, cats)
    activate(b, GOOD_KEY, cats + "/")
    activate(b, GOOD_KEY, cats + "/other-root")   # another API root on an allowed host: a new connection
    assert len(db.session.scalars(select(Connection)).all()) == 2
    active = db.session.scalars(select(Connection).where(Connection.active.is_(True))).all()
    assert len(active) == 1
    r = b.post(f"/integrations/connections/{active[0].id}/disconnect", page="/integrations/cats")
    assert r.status_code == 303
    db.session.refresh(active[0])
    assert active[0].status == "disconnected" and not active[0].active
    assert active[0].credentials_encrypted is None
    # A check still queued for the old connection leaves it alone.
    run_worker()
    db.session.refresh(active[0])
    assert active[0].status == "disconnected"


def test_other_teams_connection_is_invisible(logged_in, make_user):
    b = logged_in("admin")
    other = Team(name="Elsewhere")
    db.session.add(other)
    db.session.flush()
    theirs = Connection(team_id=other.id, provider_key="cats", base_url="http://x/v3",
                        credentials_encrypted=encrypt_credentials({"api_key": "theirs"}), status="connected")
    db.session.add(theirs)
    db.session.commit()
    assert b.get(f"/integrations/connections/{theirs.id}/status").status_code == 404
    assert b.post(f"/integrations/connections/{theirs.id}/disconnect", page="/integrations/").status_code == 404
    db.session.refresh(theirs)
    assert theirs.status == "connected"
    assert "Not connected" in b.get("/integrations/").get_data(as_text=True)


def test_check_again_reruns_the_check(logged_in, run_worker):
    b = logged_in("admin")
    activate(b, GOOD_KEY, "http://127.0.0.1:9/v3")
    run_worker()
    conn = db.session.scalars(select(Connection)).one()
    assert conn.status == "needs_attention"
    r = b.post(f"/integrations/connections/{conn.id}/recheck", page="/integrations/cats", htmx=True)
    assert r.status_code == 200 and "Checking" in r.get_data(as_text=True)
    run_worker()
    db.session.refresh(conn)
    assert conn.status == "needs_attention" and "Could not reach CATS" in conn.last_error
    assert logged_in("recruiter").post(f"/integrations/connections/{conn.id}/recheck",
                                       page="/campaigns/").status_code == 403


def test_check_of_a_provider_no_longer_enabled_is_a_clear_error(logged_in):
    from services.connections import run_check
    b = logged_in("admin")
    conn = Connection(team_id=b.user.team_id, provider_key="retired_crm", base_url="http://x", status="pending")
    db.session.add(conn)
    db.session.commit()
    assert run_check(conn.id) == "needs_attention"
    assert "not enabled" in conn.last_error
    for url in ("/integrations/", "/campaigns/new", "/campaigns/", f"/integrations/connections/{conn.id}/status"):
        assert b.get(url).status_code in (200, 404), url
    assert "retired_crm needs attention" in b.get("/campaigns/").get_data(as_text=True)


def test_without_an_oauth_client_smartrecruiters_offers_the_api_key_form(app, logged_in, monkeypatch):
    monkeypatch.setitem(app.config, "SMARTRECRUITERS_CLIENT_ID", None)
    page = logged_in("admin").get("/integrations/smartrecruiters").get_data(as_text=True)
    assert 'id="oauth-connect"' not in page and "data-oauth-popup" not in page
    assert 'action="/integrations/smartrecruiters/activate"' in page and ">Activate</button>" in page


def validate_field(b, key: str, field: str, form: dict):
    return b.post(f"/integrations/{key}/validate", {"field": field, **form}, page=f"/integrations/{key}", htmx=True)


def test_connect_fields_are_checked_as_the_admin_leaves_them(logged_in):
    """Inline validation: each input posts the form to /validate on change and gets its message slot
    back, with Activate's own checks; fields not filled in yet are not held against it; nothing is stored."""
    b = logged_in("admin")
    page = b.get("/integrations/cats").get_data(as_text=True)
    key_input = re.search(r'<input id="f-api_key"[^>]*>', page).group(0)
    assert 'hx-post="/integrations/cats/validate"' in key_input and 'hx-trigger="change"' in key_input
    assert 'hx-vals=\'{"field": "api_key"}\'' in key_input and 'id="f-api_key-errors"' in page
    r = validate_field(b, "cats", "base_url", {"api_key": "", "base_url": "ftp://example.com"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.startswith('<span class="field-messages" id="f-base_url-errors"')
    assert "full http(s) URL" in html
    html = validate_field(b, "cats", "api_key", {"api_key": "", "base_url": "ftp://example.com"}).get_data(as_text=True)
    assert "Missing data for required field" in html and "http(s)" not in html
    html = validate_field(b, "cats", "api_key", {"api_key": "k", "base_url": ""}).get_data(as_text=True)
    assert 'id="f-api_key-errors"' in html and "field-error" not in html
    html = validate_field(b, "pinpoint", "subdomain", {"subdomain": "acme.evil.example"}).get_data(as_text=True)
    assert "Enter the subdomain only" in html
    html = validate_field(b, "cats", "web_url", {"web_url": "https://acme.example.com/some/path"}).get_data(as_text=True)
    assert "Enter the address only" in html                      # the record-link address's own check
    assert db.session.scalars(select(Connection)).first() is None
    assert validate_field(b, "cats", "password_hash", {}).status_code == 404
    assert logged_in("recruiter").post("/integrations/cats/validate", {"field": "api_key"},
                                       page="/campaigns/").status_code == 403
