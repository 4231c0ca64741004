"""The panel's per-person options and CRM fields on SmartRecruiters and Pinpoint (the CATS path is in
test_panel_flow.py): a job and two tags from the CRM, a mandatory custom field, Add, and the
simulator's state afterwards. Pinpoint without a job lands in the talent pipeline (API-FACTS §5.2)."""
from __future__ import annotations

import pytest
import requests
from sqlalchemy import select
from sync_support import connect, sandbox_state, tag_a_pinpoint_application, team_settings

from core import db
from models import Campaign, Enrolment, SyncIntent
from services import panel_lookup
from services.crm_options import cached
from services.tokens import issue_token

PERSON = {"first_name": "Lin", "last_name": "Park", "email": "lin.park@example.com", "title": "Staff Engineer",
          "company": "Nimbus", "linkedin_url": "https://www.linkedin.com/in/lin-park/"}
CRMS = {"smartrecruiters": ("candidate", "Sourced by", "Open to relocation"),
        "pinpoint": ("application", "Notice period", "Right to work")}


def _world(app, sandbox, make_user, key: str):
    server = sandbox(key)
    # The panel reads a handful of pick-lists at once; pacing is bench/sync.py's subject, not this.
    requests.post(f"{server.base}/__sandbox/rate_limit", json={"calls": 0}, timeout=5).raise_for_status()
    user = make_user("recruiter")
    conn = connect(user, key, server)
    rt = CRMS[key][0]
    campaign = Campaign(team_id=user.team_id, owner_id=user.id, name="Platform", sync_as=rt,
                        sync_override={f"add_{rt}": "added"})
    db.session.add(campaign)
    db.session.commit()
    _row, token = issue_token(user)
    return server, user, conn, campaign, {"Authorization": f"Bearer {token}", "HX-Request": "true"}


def _field_key(conn, rt: str, label: str) -> str:
    defs = panel_lookup.peek("fields", conn, {"record_type": rt})["fields"]
    return next(d["key"] for d in defs if d["label"] == label)


@pytest.mark.parametrize("key", list(CRMS))
def test_job_two_tags_and_a_mandatory_custom_field(app, sandbox, make_user, run_worker, key):
    server, user, conn, campaign, headers = _world(app, sandbox, make_user, key)
    if key == "pinpoint":
        tag_a_pinpoint_application(server)
    rt, text_label, other_label = CRMS[key]
    client = app.test_client()
    form = {**PERSON, "campaign_id": campaign.id, "sync_as": rt}
    client.post("/panel/extras", data=form, headers=headers)
    panel_lookup.cached("fields", conn, {"record_type": rt})    # what the settings page would show
    run_worker()
    mandatory, other = _field_key(conn, rt, text_label), _field_key(conn, rt, other_label)
    team_settings(user, key, {f"mandatory_fields.{rt}": [mandatory], f"displayed_fields.{rt}": [other]})
    client.post("/panel/extras", data=form, headers=headers)
    run_worker()
    html = client.post("/panel/extras", data=form, headers=headers).get_data(as_text=True)
    assert "load delay" not in html and f"{text_label} <span class=\"mandatory\">" in html
    assert "panel-company" not in html         # neither CRM has companies: no info, no warning
    picks = cached(conn.id, rt)
    job_id, job_label = picks["jobs"][0]
    tags = [t for t, _name in picks["tags"]][:2]
    assert len(tags) == 2, picks
    choice = {**form, "opt_shown": "1", "opt_job_id": job_id, "opt_tags": [""] + tags, "fields_shown": "1",
              f"x:{mandatory}": ""}
    r = client.post("/panel/enrol", data=choice, headers=headers)
    assert r.status_code == 422 and text_label in r.get_data(as_text=True)
    assert db.session.scalars(select(Enrolment)).first() is None
    choice[f"x:{mandatory}"] = "Four weeks"
    preview = client.post("/panel/preview", data=choice, headers=headers).get_data(as_text=True)
    assert job_label.split(" · ")[0] in preview and "(this person)" in preview and "Four weeks" in preview
    r = client.post("/panel/enrol", data=choice, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    run_worker()
    intent = db.session.scalars(select(SyncIntent)).one()
    db.session.refresh(intent)
    assert intent.state == "synced", intent.reason
    tables = sandbox_state(server)["tables"]
    if key == "smartrecruiters":
        [cand] = [c for c in tables["candidates"] if c["email"] == PERSON["email"]]
        assert sorted(cand["tags"]) == sorted(tags)
        assert "Four weeks" in str(cand.get("properties"))
        job = next(j for j in tables["jobs"] if job_id in (str(j["id"]), j.get("uid")))
        assert [a["job_id"] for a in tables["assignments"] if a["candidate_id"] == cand["id"]] == [job["id"]]
    else:
        [cand] = [c for c in tables["candidates"] if c["email"] == PERSON["email"]]
        [app_row] = [a for a in tables["applications"] if a["candidate_id"] == cand["id"]]
        assert str(app_row["job_id"]) == job_id
        assert sorted(t["name"] for t in app_row["tags"]) == sorted(tags)
        assert any(a["value"] == "Four weeks" for a in tables["custom_attributes"])


def test_pinpoint_without_a_job_lands_in_the_talent_pipeline(app, sandbox, make_user, run_worker):
    server, user, conn, campaign, headers = _world(app, sandbox, make_user, "pinpoint")
    client = app.test_client()
    form = {**PERSON, "campaign_id": campaign.id}
    preview = client.post("/panel/preview", data=form, headers=headers).get_data(as_text=True)
    assert "Will be written" in preview and "Create Application in Pinpoint" in preview
    r = client.post("/panel/enrol", data=form, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    run_worker()
    intent = db.session.scalars(select(SyncIntent)).one()
    db.session.refresh(intent)
    assert intent.state == "synced", intent.reason
    tables = sandbox_state(server)["tables"]
    [cand] = [c for c in tables["candidates"] if c["email"] == PERSON["email"]]
    assert [j["candidate_id"] for j in tables["job_seekers"]] == [cand["id"]]
    assert not [a for a in tables["applications"] if a["candidate_id"] == cand["id"]]
