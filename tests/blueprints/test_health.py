"""Sync health and a person's audit trail: pages and fragments, real failures from the CATS sandbox
(a candidate without a last name is refused), grouped by reason and retried together, the chart's
counts, the live budget/queue fragment, and the team scoping."""
from __future__ import annotations

import re

from sqlalchemy import select
from sync_support import connect, sandbox_state

from core import db, get_redis
from models import Campaign, Person, SyncIntent
from providers import get_provider
from services import enrolments, sync_health
from services.rate_budget import RateBudget, pace_for


def _world(logged_in, sandbox, run_worker):
    b = logged_in("admin")
    cats = sandbox("cats")
    conn = connect(b.user, "cats", cats)
    camp = Campaign(team_id=b.user.team_id, owner_id=b.user.id, name="Backend", sync_as="candidate")
    db.session.add(camp)
    db.session.commit()
    enrolments.enrol(b.user, camp, {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"})
    for n in (1, 2):   # CATS refuses a candidate without a last name: parked, same reason
        enrolments.enrol(b.user, camp, {"first_name": f"Nolast{n}", "email": f"nolast{n}@example.com"})
    run_worker()
    return b, cats, conn


def test_health_page_chart_groups_and_retry_all(logged_in, sandbox, run_worker):
    b, cats, conn = _world(logged_in, sandbox, run_worker)
    states = sorted(i.state for i in db.session.scalars(select(SyncIntent)))
    assert states == ["parked", "parked", "synced"]
    assert b.get("/health").headers["Location"].endswith(f"/health/{conn.id}")
    page = b.get(f"/health/{conn.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and "<svg" in html
    assert "3 syncs, 2 with a failure" in html
    assert re.search(r"<title>\d\d \w{3}: 3 syncs, 2 failures</title>", html)    # today's bars
    assert "no limit set on this connection" in html and "jobs in the sync queue" in html
    frag = b.get(f"/health/{conn.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in frag and frag.lstrip().startswith('<section id="health"')
    live = b.get(f"/health/{conn.id}/live", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert live.lstrip().startswith('<div class="card" id="health-live"') and "hx-trigger" in live

    groups = sync_health.failure_groups(conn.id)
    assert len(groups) == 1 and groups[0].count == 2 and "Retry all 2" in html
    # Fix the people, then retry the whole group at once.
    for p in db.session.scalars(select(Person).where(Person.last_name == "")):
        p.last_name = "Fixed"
    db.session.commit()
    r = b.post(f"/health/{conn.id}/retry/{groups[0].key}", page=f"/health/{conn.id}")
    assert r.status_code == 303
    run_worker()
    assert sorted(i.state for i in db.session.scalars(select(SyncIntent))) == ["synced"] * 3
    assert sorted(c["last_name"] for c in sandbox_state(cats)["tables"]["candidates"]) == ["Fixed", "Fixed", "Lovelace"]
    assert b.post(f"/health/{conn.id}/retry/{groups[0].key}", page=f"/health/{conn.id}").status_code == 404
    assert "Nothing is waiting for you" in b.get(f"/health/{conn.id}").get_data(as_text=True)


def test_budget_usage_reads_the_shared_pace(logged_in, sandbox):
    b = logged_in("admin")
    conn = connect(b.user, "cats", sandbox("cats"), rate_limit_per_minute=60)
    usage, source = sync_health.budget(conn)
    assert (usage.reserved, usage.wait, usage.burst) == (0, 0.0, 1) and "60 calls per minute" in source
    # A worker takes a slot (the same RateBudget every adapter call draws on): the page sees it.
    RateBudget(get_redis(), conn.id, pace_for(get_provider("cats"), 60)).take()
    usage, _source = sync_health.budget(conn)
    assert usage.reserved == 1 and 0.9 < usage.wait <= 60 / usage.per_minute + 0.01
    html = b.get(f"/health/{conn.id}/live", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "1</strong>call slot taken now" in html


def test_person_audit_trail_fragment_and_page(logged_in, sandbox, run_worker):
    b, _cats, _conn = _world(logged_in, sandbox, run_worker)
    ada = db.session.scalars(select(Person).where(Person.first_name == "Ada")).one()
    show = b.get(f"/people/{ada.id}").get_data(as_text=True)
    assert f'hx-get="/people/{ada.id}/audit"' in show
    frag = b.get(f"/people/{ada.id}/audit", headers={"HX-Request": "true"})
    html = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div class="card" id="person-audit"') and "Create" in html and "Done" in html
    full = b.get(f"/people/{ada.id}/audit").get_data(as_text=True)
    assert "<html" in full and "everything written to the CRM" in full


def test_health_and_trail_are_team_scoped_and_admin_only(logged_in, sandbox, run_worker, make_user):
    b, _cats, conn = _world(logged_in, sandbox, run_worker)
    ada = db.session.scalars(select(Person).where(Person.first_name == "Ada")).one()
    key = sync_health.failure_groups(conn.id)[0].key
    stranger = logged_in("admin")
    assert stranger.get(f"/health/{conn.id}").status_code == 404
    assert stranger.get(f"/health/{conn.id}/live").status_code == 404
    assert stranger.post(f"/health/{conn.id}/retry/{key}", page="/campaigns/").status_code == 404
    assert stranger.get(f"/people/{ada.id}/audit").status_code == 404
    rec = logged_in("recruiter", team=b.user.team)
    assert rec.get(f"/health/{conn.id}").status_code == 403
    assert rec.post(f"/health/{conn.id}/retry/{key}", page="/campaigns/").status_code == 403
    assert rec.get(f"/people/{ada.id}/audit").status_code == 200
    assert sorted(i.state for i in db.session.scalars(select(SyncIntent))) == ["parked", "parked", "synced"]
