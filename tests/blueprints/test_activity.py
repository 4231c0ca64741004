"""Activity: the audit log (team-scoped, newest first, filters, pages), parked syncs with Retry, and
the intent status fragment, including one real sync against the CATS sandbox seen through it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crypto import encrypt_credentials
from core import db
from models import AuditEntry, Campaign, Connection, Person, SyncIntent, Team, utcnow


@pytest.fixture
def team_world(logged_in, make_user):
    """Our admin with a connection and a person; another team with its own audit rows."""
    b = logged_in("admin")
    conn = Connection(team_id=b.user.team_id, provider_key="cats", base_url="http://127.0.0.1:9/v3",
                      credentials_encrypted=encrypt_credentials({"api_key": "k"}), status="connected")
    ada = Person(team_id=b.user.team_id, first_name="Ada", last_name="Lovelace", email="ada@example.com")
    other = Team(name="Rival")
    db.session.add_all([conn, ada, other])
    db.session.flush()
    eve = Person(team_id=other.id, first_name="Eve", last_name="Secret", email="eve@example.com")
    their_conn = Connection(team_id=other.id, provider_key="cats", base_url="http://x/v3", status="connected")
    db.session.add_all([eve, their_conn])
    db.session.flush()
    db.session.add(AuditEntry(team_id=other.id, connection_id=their_conn.id, person_id=eve.id,
                              operation="create", result="ok", summary="THEIR ROW"))
    db.session.commit()
    return {"b": b, "conn": conn, "ada": ada, "other": other, "eve": eve, "their_conn": their_conn}


def audit(w, n: int = 1, **kw) -> list[AuditEntry]:
    base = utcnow()
    rows = [AuditEntry(team_id=w["b"].user.team_id, connection_id=w["conn"].id, person_id=w["ada"].id,
                       operation=kw.get("operation", "create"), result=kw.get("result", "ok"),
                       summary=f"{kw.get('summary', 'row')} {i}", created_at=base + timedelta(seconds=i))
            for i in range(n)]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def intent(w, state: str, reason: str | None = None, team=None, conn=None, person=None) -> SyncIntent:
    row = SyncIntent(team_id=team or w["b"].user.team_id, connection_id=(conn or w["conn"]).id,
                     person_id=(person or w["ada"]).id, idempotency_key=f"k-{state}-{utcnow().timestamp()}",
                     state=state, reason=reason)
    db.session.add(row)
    db.session.commit()
    return row


def test_audit_log_is_team_scoped_newest_first(team_world):
    audit(team_world, 3)
    html = team_world["b"].get("/activity").get_data(as_text=True)
    assert "THEIR ROW" not in html and "Eve" not in html
    assert html.index("row 2") < html.index("row 1") < html.index("row 0")


def test_audit_filters_and_pages(team_world):
    w = team_world
    audit(w, 55)
    audit(w, 1, result="failed", summary="broken")
    b = w["b"]
    frag = b.get("/activity?result=failed", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert frag.strip().startswith('<div id="audit">') and "broken 0" in frag and "row 3" not in frag
    assert "Older" not in frag
    page1 = b.get("/activity?person=lovelace").get_data(as_text=True)
    assert "row 54" in page1 and "row 0<" not in page1 and "page=2" in page1
    page2 = b.get("/activity?person=lovelace&page=2").get_data(as_text=True)
    assert "row 0" in page2 and "row 54" not in page2
    assert "No CRM operations match" in b.get("/activity?person=eve").get_data(as_text=True)
    assert b.get("/activity?page=abc&result=<x>").status_code == 200


@pytest.mark.parametrize("state,text,polls", [
    ("queued", "Queued", True), ("running", "Syncing", True), ("synced", "Synced", False),
    ("waiting", "Waiting", True), ("parked", "Needs attention", False), ("skipped", "Skipped", False)])
def test_intent_status_fragment(team_world, state, text, polls):
    row = intent(team_world, state, reason="mandatory fields missing: email" if state in ("waiting", "parked") else None)
    r = team_world["b"].get(f"/intents/{row.id}/status", headers={"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html and f'id="intent-{row.id}-status"' in html
    assert text in html and ("hx-trigger" in html) is polls
    if state in ("waiting", "parked"):
        assert "mandatory fields missing: email" in html


def test_other_teams_intent_is_404(team_world):
    w = team_world
    theirs = intent(w, "parked", "auth: rejected", team=w["other"].id, conn=w["their_conn"], person=w["eve"])
    assert w["b"].get(f"/intents/{theirs.id}/status").status_code == 404
    assert w["b"].post(f"/intents/{theirs.id}/retry", page="/activity").status_code == 404
    db.session.refresh(theirs)
    assert theirs.state == "parked"


def test_parked_intents_listed_with_retry(team_world):
    w = team_world
    parked = intent(w, "parked", "CATS refused the record: email is invalid")
    html = w["b"].get("/activity").get_data(as_text=True)
    assert "CATS refused the record" in html and f"/intents/{parked.id}/retry" in html
    r = w["b"].post(f"/intents/{parked.id}/retry", page="/activity", htmx=True)
    assert r.status_code == 200 and "Queued" in r.get_data(as_text=True)
    db.session.refresh(parked)
    assert parked.state == "queued" and parked.reason is None
    # Retrying something that isn't parked is refused, not a 500.
    assert w["b"].post(f"/intents/{parked.id}/retry", page="/activity", htmx=True).status_code == 409


def test_a_real_sync_seen_through_the_fragment_and_the_log(logged_in, sandbox, run_worker):
    from sandbox.cats import API_ROOT, DEFAULT_CREDENTIALS
    server = sandbox("cats")
    b = logged_in("admin")
    db.session.add(Connection(team_id=b.user.team_id, provider_key="cats", base_url=server.base + API_ROOT,
                              credentials_encrypted=encrypt_credentials(DEFAULT_CREDENTIALS), status="connected"))
    db.session.commit()
    b.post("/campaigns/", {"name": "Live", "sync_as": "candidate", "add_when": "added"}, page="/campaigns/new")
    c = db.session.scalars(select(Campaign)).one()
    b.post(f"/campaigns/{c.id}/members", {"first_name": "Grace", "last_name": "Hopper",
                                          "email": "grace.hopper@example.com"}, page=f"/campaigns/{c.id}")
    row = db.session.scalars(select(SyncIntent)).one()
    run_worker()
    html = b.get(f"/intents/{row.id}/status", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Synced" in html and "hx-trigger" not in html
    log = b.get("/activity").get_data(as_text=True)
    assert "Grace Hopper" in log and "badge-ok" in log
    assert "Synced" in b.get(f"/campaigns/{c.id}").get_data(as_text=True)
