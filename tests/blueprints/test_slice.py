"""The Foundation slice end to end, every piece real: an admin connects CATS on the Integrations
page (checked against the CATS sandbox over a socket by an RQ worker), a recruiter creates a
campaign, the panel API enrols a person, the worker creates the candidate in CATS's wire format,
the audit log and the status fragment show it, and re-adding or re-running leaves one record."""
from __future__ import annotations

import re

import requests
from sqlalchemy import select

from core import db
from jobs import enqueue, intent_job_id
from jobs.push import run_intent
from models import AuditEntry, Campaign, CrmLink, SyncIntent
from services.tokens import issue_token

PROFILE = {"first_name": "Grace", "last_name": "Hopper", "email": "grace.hopper@example.com",
           "title": "Rear Admiral", "company": "US Navy", "location": "Arlington, VA",
           "linkedin_url": "https://www.linkedin.com/in/grace-hopper-example/"}


def cats_candidates(base: str) -> list[dict]:
    state = requests.get(f"{base}/__sandbox/state", timeout=5).json()
    return state["tables"].get("candidates", [])


def test_panel_to_cats_candidate_end_to_end(logged_in, sandbox, run_worker, make_user):
    from sandbox.cats import API_ROOT, DEFAULT_CREDENTIALS

    server = sandbox("cats")
    admin = logged_in("admin")

    # The admin searches for CATS and activates it: a wrong key first, then the right one.
    listing = admin.get("/integrations/?q=CATS", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "CATS" in listing and "Pinpoint" not in listing
    bad = admin.post("/integrations/cats/activate", {"api_key": "nope", "base_url": server.base + API_ROOT},
                     page="/integrations/cats", htmx=True)
    run_worker()
    status_url = re.search(r'hx-get="(/integrations/connections/\d+/status)"', bad.get_data(as_text=True)).group(1)
    assert "Connected" not in admin.get(status_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    # (The token comes from the list: CATS's own page would load its settings' options from CATS too,
    # and this test counts on the CRM's small rate budget for the push below.)
    good = admin.post("/integrations/cats/activate", {"api_key": DEFAULT_CREDENTIALS["api_key"],
                      "base_url": server.base + API_ROOT}, page="/integrations/", htmx=True)
    run_worker()
    status_url = re.search(r'hx-get="(/integrations/connections/\d+/status)"', good.get_data(as_text=True)).group(1)
    assert "Connected" in admin.get(status_url, headers={"HX-Request": "true"}).get_data(as_text=True)

    # A recruiter of the same team creates a campaign: sync as Candidate, add when added.
    recruiter = logged_in("recruiter", team=admin.user.team)
    r = recruiter.post("/campaigns/", {"name": "Compiler people", "type": "outreach", "sync_as": "candidate",
                                       "add_when": "added"}, page="/campaigns/new")
    assert r.status_code == 303
    campaign = db.session.scalars(select(Campaign)).one()

    # The panel API (the extension's token) enrols the person.
    _, token = issue_token(recruiter.user, "test")
    auth = {"Authorization": f"Bearer {token}"}
    body = {"campaign_id": campaign.id, "profile": PROFILE}
    r = recruiter.client.post("/panel/api/enrol", json=body, headers=auth)
    assert r.status_code == 201, r.get_data(as_text=True)
    intent_id = r.get_json()["intent_ids"][0]
    status = recruiter.client.get(f"/panel/intents/{intent_id}/status", headers=auth).get_data(as_text=True)
    assert "Queued" in status and 'hx-trigger="load delay:1s"' in status

    run_worker()
    status = recruiter.client.get(f"/panel/intents/{intent_id}/status", headers=auth).get_data(as_text=True)
    assert "Synced" in status and "hx-trigger" not in status

    # CATS holds one candidate, written in CATS v3's wire format.
    [cand] = cats_candidates(server.base)
    assert cand["first_name"] == "Grace" and cand["last_name"] == "Hopper"
    assert cand["emails"]["primary"] == PROFILE["email"]
    link = db.session.scalars(select(CrmLink)).one()
    assert link.remote_id == str(cand["id"]) and link.record_type == "candidate"

    # The audit log shows what was written.
    creates = db.session.scalars(select(AuditEntry).where(AuditEntry.operation == "create")).all()
    assert len(creates) == 1 and creates[0].result == "ok"
    assert creates[0].fields_after.get("email") == PROFILE["email"]
    page = recruiter.get("/activity").get_data(as_text=True)
    assert "Grace Hopper" in page and "create" in page

    # Adding the same person again, or running the job twice, leaves one CATS record.
    again = recruiter.client.post("/panel/api/enrol", json=body, headers=auth)
    assert again.status_code == 200 and again.get_json()["created"] is False
    enqueue(run_intent, intent_id, job_id=intent_job_id(intent_id))
    enqueue(run_intent, intent_id, job_id=intent_job_id(intent_id) + "-dup")
    run_worker()
    assert len(cats_candidates(server.base)) == 1
    assert db.session.get(SyncIntent, intent_id).state == "synced"

    # Another team can't see the person or the campaign.
    outsider = logged_in("recruiter")
    _, other_token = issue_token(outsider.user, "x")
    r = outsider.client.post("/panel/api/enrol", json=body, headers={"Authorization": f"Bearer {other_token}"})
    assert r.status_code == 404
    assert "Grace Hopper" not in outsider.get("/activity").get_data(as_text=True)
