"""The panel end to end against the CATS simulator on a real socket: the grey arrow's options from the
CRM (loaded by a worker, polled), Displayed / Mandatory Fields typed by the CRM field, the company
warning and choice, the live match with off-limits, Preview, Add, and what lands in the CRM."""
from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import func, select
from sync_support import connect, sandbox_state, team_settings

from core import db
from jobs import get_queue
from models import Campaign, Enrolment, Person, SyncIntent
from services.tokens import issue_token

ADA = {"first_name": "Ada", "last_name": "Example", "email": "ada.example@example.com",
       "title": "Principal Data Engineer", "company": "Acme",
       "linkedin_url": "https://www.linkedin.com/in/ada-example/"}
HX = {"HX-Request": "true"}


@pytest.fixture
def cats(app, sandbox, make_user):
    server = sandbox("cats")
    user = make_user("recruiter")
    conn = connect(user, "cats", server)
    campaign = Campaign(team_id=user.team_id, owner_id=user.id, name="Data engineers Q3", sync_as="candidate",
                        sync_override={"add_candidate": "added", "add_contact": "added"})
    db.session.add(campaign)
    db.session.commit()
    _row, token = issue_token(user)
    return {"server": server, "user": user, "conn": conn, "campaign": campaign,
            "auth": {"Authorization": f"Bearer {token}", **HX}}


def tables(server) -> dict:
    return sandbox_state(server)["tables"]


def ids_by_name(server, table: str, key: str = "name") -> dict[str, str]:
    return {row[key]: str(row["id"]) for row in tables(server)[table]}


def post(app, world, path: str, data: dict, **kw):
    return app.test_client().post(path, data=data, headers=world["auth"], **kw)


def warm(app, world, run_worker, form: dict) -> str:
    """Open the extras (queues the CRM reads), run the worker, open them again: the cached view."""
    first = post(app, world, "/panel/extras", form).get_data(as_text=True)
    assert 'hx-trigger="change from:#campaign-picker' in first
    run_worker()
    html = post(app, world, "/panel/extras", form).get_data(as_text=True)
    assert "Loading" not in html and "load delay" not in html, html
    return html


def counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Person, Enrolment, SyncIntent))


def custom(server, name: str) -> str:
    return "custom:" + ids_by_name(server, "custom_field_defs")[name]


def test_grey_arrow_offers_the_crms_choices_whitelisted_and_typed_fields(app, cats, run_worker):
    server = cats["server"]
    active = ids_by_name(server, "job_statuses", "title")["Active"]
    team_settings(cats["user"], "cats", {"job_status_whitelist": [active],
                                         "displayed_fields.candidate": [custom(server, "Notice period"),
                                                                        custom(server, "Right to work")],
                                         "mandatory_fields.candidate": [custom(server, "Desired location")]})
    form = {**ADA, "campaign_id": cats["campaign"].id}
    first = post(app, cats, "/panel/extras", form).get_data(as_text=True)
    assert "Loading jobs, tags and lists from CATS" in first and "load delay:1s" in first
    html = warm(app, cats, run_worker, form)
    assert "Senior Python Engineer" in html and "Data Engineer" in html
    assert "Finance Manager" not in html           # OnHold: not whitelisted
    assert "Python" in html and "Hot Prospect" in html and "Engineering Talent" in html
    # Fields typed by the CRM: a checkbox field is a yes/no choice; the mandatory one is marked and required.
    rtw = custom(server, "Right to work")
    assert f'name="x:{rtw}"' in html and ">Yes</option>" in html
    assert re.search(r'Desired location <span class="mandatory">\(mandatory\)</span>', html)
    assert "Add is blocked until these mandatory CATS fields are filled: Desired location" in html
    # The Sync Override shows the campaign's trigger and where it comes from.
    assert 'value="added" selected' in html and "From the campaign" in html


def test_add_with_options_fields_and_company_lands_in_cats(app, cats, run_worker):
    server = cats["server"]
    pcm = custom(server, "Preferred contact method")
    team_settings(cats["user"], "cats", {"displayed_fields.contact": [pcm], "mandatory_fields.contact": [pcm]})
    form = {**ADA, "campaign_id": cats["campaign"].id, "sync_as": "contact"}
    html = warm(app, cats, run_worker, form)
    # "Acme" is not a CATS company, but "Acme Ltd", "ACME Limited" and "Acme Holdings plc" are.
    assert "has no company named “Acme”, but has similar ones" in html
    for name in ("Acme Ltd", "ACME Limited", "Acme Holdings plc"):
        assert f'value="{name}"' in html
    lists = ids_by_name(server, "lists")
    tags = ids_by_name(server, "tags")
    choice = {**form, "opt_shown": "1", "opt_lists": ["", lists["Key Clients"]],
              "opt_tags": ["", tags["Sales"], tags["Hot Prospect"]], "fields_shown": "1",
              f"x:{pcm}": "Phone", "company_choice": "Acme Ltd"}
    # Mandatory field empty: Add is refused, naming it, and nothing is written.
    before = counts()
    r = post(app, cats, "/panel/enrol", {**choice, f"x:{pcm}": ""})
    assert r.status_code == 422 and "Preferred contact method" in r.get_data(as_text=True)
    assert counts() == before
    preview = post(app, cats, "/panel/preview", choice).get_data(as_text=True)
    assert "Sales, Hot Prospect" in preview and "(this person)" in preview
    assert "Company: Acme Ltd (chosen, an existing CATS company)" in preview
    assert "Preferred contact method" in preview and "Phone" in preview
    r = post(app, cats, "/panel/enrol", choice)
    assert r.status_code == 200, r.get_data(as_text=True)
    enrolment = db.session.scalars(select(Enrolment)).one()
    assert enrolment.sync_as == "contact"
    assert enrolment.sync_options == {"tags": [tags["Sales"], tags["Hot Prospect"]], "lists": [lists["Key Clients"]]}
    person = enrolment.person
    assert person.extra == {pcm: "Phone"} and person.company == "Acme Ltd"
    run_worker()
    intent = db.session.scalars(select(SyncIntent)).one()
    db.session.refresh(intent)
    assert intent.state == "synced", intent.reason
    state = tables(server)
    [contact] = [c for c in state["contacts"] if c["emails"]["primary"] == ADA["email"]]
    assert contact["custom_fields"] == {pcm.split(":")[1]: "Phone"}
    assert sorted(str(t) for t in contact["tag_ids"]) == sorted([tags["Sales"], tags["Hot Prospect"]])
    assert str(contact["company_id"]) == ids_by_name(server, "companies")["Acme Ltd"]
    assert [str(i["list_id"]) for i in state["list_items"] if i["data_item_id"] == contact["id"]] == \
        [lists["Key Clients"]]


def test_job_and_person_trigger_are_honoured_by_the_worker(app, cats, run_worker):
    server = cats["server"]
    form = {**ADA, "campaign_id": cats["campaign"].id}
    warm(app, cats, run_worker, form)
    job = ids_by_name(server, "jobs", "title")["Data Engineer"]
    r = post(app, cats, "/panel/enrol", {**form, "opt_shown": "1", "opt_job_id": job, "opt_add_when": "reply"})
    assert r.status_code == 200, r.get_data(as_text=True)
    enrolment = db.session.scalars(select(Enrolment)).one()
    assert enrolment.sync_override == {"add_candidate": "reply"} and enrolment.sync_options == {"job_id": job}
    run_worker()
    intent = db.session.scalars(select(SyncIntent)).one()
    db.session.refresh(intent)
    assert intent.state == "skipped" and "when they reply" in intent.reason.lower()
    assert not tables(server).get("candidates")
    # The reply fires this person's trigger: the push puts them on the job they were given.
    from services.enrolments import record_event
    record_event(enrolment, "reply", created_by_id=cats["user"].id)
    run_worker()
    state = tables(server)
    [cand] = [c for c in state["candidates"] if c["emails"]["primary"] == ADA["email"]]
    assert [str(p["job_id"]) for p in state["pipelines"] if p["candidate_id"] == cand["id"]] == [job]


def test_locked_trigger_and_bad_options_are_refused_with_nothing_enqueued(app, cats, run_worker, make_user):
    from models import SettingsLayer
    rtw = custom(cats["server"], "Right to work")
    db.session.add(SettingsLayer(team_id=cats["user"].team_id, user_id=None, provider_key="cats",
                                 values={"displayed_fields.candidate": [rtw]}, locks=["add_candidate"]))
    db.session.commit()
    form = {**ADA, "campaign_id": cats["campaign"].id}
    html = warm(app, cats, run_worker, form)
    assert "Locked by your admin" in html and 'id="opt-add-when" disabled' in html
    before = counts()
    cases = {"add_when": {"opt_shown": "1", "opt_add_when": "never"},
             "job_id": {"opt_shown": "1", "opt_job_id": "99999"},
             "tags": {"opt_shown": "1", "opt_tags": ["", "424242"]},
             rtw: {"fields_shown": "1", f"x:{rtw}": "perhaps"},
             "custom:999": {"fields_shown": "1", "x:custom:999": "x"},
             "company_choice": {"company_choice": "Not A Company"},
             "sync_as": {"sync_as": "wizard"}}
    for field, extra in cases.items():
        r = post(app, cats, "/panel/enrol", {**form, **extra})
        assert r.status_code == 422, (field, r.get_data(as_text=True))
    assert counts() == before
    r = app.test_client().post("/panel/api/enrol", json={"campaign_id": cats["campaign"].id, "profile": ADA,
                                                         "sync_options": {"job_id": "99999"}},
                               headers=cats["auth"])
    assert r.status_code == 422 and "job_id" in r.get_json()["fields"]
    r = app.test_client().post("/panel/api/enrol", json={"campaign_id": cats["campaign"].id, "profile": ADA,
                                                         "fields": {rtw: 12}}, headers=cats["auth"])
    assert r.status_code == 422 and rtw in r.get_json()["fields"]
    assert counts() == before


def test_live_match_and_off_limits_badge_come_from_a_worker_and_are_cached(app, cats, run_worker):
    server = cats["server"]
    base = server.base + "/v3"
    r = requests.post(f"{base}/candidates", json={"first_name": "Ada", "last_name": "Example",
                                                  "emails": {"primary": ADA["email"]}, "consent_status": "declined"},
                      headers={"Authorization": "Token cats-sandbox-key"}, timeout=5)
    assert r.status_code == 201, r.text
    remote = r.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    card = post(app, cats, "/panel/profile", ADA).get_data(as_text=True)
    assert "Checking CATS…" in card and 'hx-post="/panel/match"' in card
    run_worker()
    frag = post(app, cats, "/panel/match", {"email": ADA["email"], "linkedin_url": ADA["linkedin_url"]})
    html = frag.get_data(as_text=True)
    assert f"Already in CATS as <span class=\"crm-id\">Candidate #{remote}</span>" in html   # no web address: plain text
    assert "Off-limits in CATS" in html and "load delay" not in html
    # A second visit is instant: the card carries the answer, no poll, no new job.
    card = post(app, cats, "/panel/profile", ADA).get_data(as_text=True)
    assert f"Candidate #{remote}" in card and "Checking CATS" not in card
    assert get_queue("interactive").count == 0


def test_new_to_shoal_badge_polls_until_the_push_lands(app, cats, run_worker):
    """The card says "New to Shoal"; Add's answer replaces that badge (out of band) with one that
    polls while the push is on its way, and it settles on "Already in CATS" once the push lands."""
    card = post(app, cats, "/panel/profile", ADA).get_data(as_text=True)
    assert "New to Shoal" in card and "Checking CATS…" in card
    run_worker()                                   # the live lookup: nobody in CATS yet
    settled = post(app, cats, "/panel/match", ADA).get_data(as_text=True)
    assert "Not in CATS yet" in settled and "New to Shoal" in settled and "hx-trigger" not in settled

    r = post(app, cats, "/panel/enrol", {**ADA, "campaign_id": cats["campaign"].id})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Added Ada Example" in html
    oob = re.search(r'<div class="known" id="panel-match" hx-swap-oob="true"(.*?)</div>', html, re.DOTALL)
    assert oob, html
    assert 'hx-post="/panel/match"' in oob.group(1) and "load delay:2s" in oob.group(1)
    assert "New to Shoal" not in oob.group(1) and "Known to Shoal · In: Data engineers Q3" in oob.group(1)
    polling = post(app, cats, "/panel/match", ADA).get_data(as_text=True)
    assert "hx-trigger" in polling and "Already in CATS" not in polling

    run_worker()                                   # the push
    remote = db.session.scalars(select(SyncIntent)).one()
    db.session.refresh(remote)
    assert remote.state == "synced", remote.reason
    done = post(app, cats, "/panel/match", ADA).get_data(as_text=True)
    assert re.search(r"Already in CATS as <(?:span|a)[^>]*>Candidate #\d+", done), done
    assert "hx-trigger" not in done and "New to Shoal" not in done
