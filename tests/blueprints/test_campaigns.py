"""Campaign pages: create/list, team scoping, validation against the active CRM, page vs fragment,
and adding a person by hand through the outbox (watched with the intent status fragment)."""
from __future__ import annotations


import re

import pytest
from werkzeug.datastructures import MultiDict
from sqlalchemy import func, select

from crypto import encrypt_credentials
from core import db
from models import Campaign, Connection, Enrolment, Person, SyncIntent, Team


@pytest.fixture
def cats_team(logged_in):
    """A logged-in recruiter whose team has an active CATS connection (no server needed here)."""
    b = logged_in("recruiter")
    db.session.add(Connection(team_id=b.user.team_id, provider_key="cats", base_url="http://127.0.0.1:9/v3",
                              credentials_encrypted=encrypt_credentials({"api_key": "k"}), status="connected"))
    db.session.commit()
    return b


def create(b, **form):
    return b.post("/campaigns/", form, page="/campaigns/new")


def test_create_and_list(cats_team, run_worker):
    b = cats_team
    form = b.get("/campaigns/new").get_data(as_text=True)
    assert 'value="candidate"' in form and 'value="contact"' in form and "Don't sync" in form
    # The CRM's pick-lists load in a worker; this CRM is unreachable, so text inputs and the reason.
    assert "Loading jobs, tags and lists from CATS" in form and 'hx-trigger="load delay:1s"' in form
    run_worker()
    frag = b.get("/campaigns/options?sync_as=candidate", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert frag.lstrip().startswith('<fieldset id="sync-options"') and "Couldn't load the lists from CATS" in frag
    assert 'name="tags"' in frag and 'name="job_id"' in frag and 'name="lists"' in frag
    assert 'name="status"' not in frag        # CATS doesn't declare record statuses
    assert "Sync options" not in b.get("/campaigns/options?sync_as=none").get_data(as_text=True)
    r = create(b, name="Data engineers", type="outreach", sync_as="candidate", add_when="reply",
               tags="python, london", job_id="12")
    assert r.status_code == 303
    c = db.session.scalars(select(Campaign)).one()
    assert c.sync_as == "candidate" and c.sync_override == {"add_candidate": "reply"}
    assert c.sync_options == {"tags": ["python", "london"], "job_id": "12"} and c.owner_id == b.user.id
    html = b.get("/campaigns/").get_data(as_text=True)
    assert "Data engineers" in html and f"/campaigns/{c.id}" in html
    page = b.get(f"/campaigns/{c.id}").get_data(as_text=True)
    assert "when they reply" in page and "python, london" in page


def test_bad_input_is_422_and_writes_nothing(cats_team):
    b = cats_team
    for form in ({"name": ""}, {"name": "x", "sync_as": "application"}, {"name": "x", "add_when": "someday"},
                 {"name": "x", "type": "nope"}, {"name": "x" * 201}):
        r = create(b, **form)
        assert r.status_code == 422, form
    r = b.post("/campaigns/", {"name": "x", "sync_as": "application"}, page="/campaigns/new", htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "<html" not in html and "CATS has no record type" in html
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_without_a_crm_only_dont_sync(logged_in):
    b = logged_in("recruiter")
    assert "connect one" in b.get("/campaigns/new").get_data(as_text=True)
    assert create(b, name="x", sync_as="candidate").status_code == 422
    assert create(b, name="Just a list", sync_as="none").status_code == 303
    assert db.session.scalars(select(Campaign)).one().sync_override == {}


def test_other_teams_campaign_is_404(cats_team, make_user):
    other_team = Team(name="Rival")
    db.session.add(other_team)
    db.session.flush()
    rival = make_user("admin", team=other_team)
    theirs = Campaign(team_id=other_team.id, owner_id=rival.id, name="Their secret campaign")
    db.session.add(theirs)
    db.session.commit()
    b = cats_team
    assert b.get(f"/campaigns/{theirs.id}").status_code == 404
    r = b.post(f"/campaigns/{theirs.id}/members", {"first_name": "Eve"}, page="/campaigns/")
    assert r.status_code == 404
    assert "Their secret campaign" not in b.get("/campaigns/").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_full_page_without_htmx_and_fragment_with_it(cats_team):
    b = cats_team
    full = b.get("/campaigns/")
    assert "<html" in full.get_data(as_text=True) and "HX-Request" in full.headers["Vary"]
    frag = b.get("/campaigns/", headers={"HX-Request": "true"})
    body = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in body and body.strip().startswith('<section id="campaigns">')
    assert "HX-Request" in frag.headers["Vary"]
    # A boosted navigation wants the whole page.
    boosted = b.get("/campaigns/", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)


def test_add_person_by_hand_enrols_and_shows_sync_state(cats_team):
    b = cats_team
    create(b, name="Analysts", sync_as="candidate")
    c = db.session.scalars(select(Campaign)).one()
    person = {"first_name": "Ada", "last_name": "Example", "email": "ada@example.com", "title": "Analyst",
              "company": "Acme Ltd", "location": "Leeds", "linkedin_url": "https://www.linkedin.com/in/ada-ex/"}
    r = b.post(f"/campaigns/{c.id}/members", person, page=f"/campaigns/{c.id}", htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in html and html.strip().startswith('<div id="members">')
    assert "Added Ada Example" in html and "Acme Ltd" in html
    intent = db.session.scalars(select(SyncIntent)).one()
    assert intent.state == "queued"
    assert f'id="intent-{intent.id}-status"' in html and 'hx-trigger="load delay:1s"' in html
    # Adding the same person again queues nothing.
    again = b.post(f"/campaigns/{c.id}/members", person, page=f"/campaigns/{c.id}", htmx=True)
    assert "already in this campaign" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 1
    assert db.session.scalar(select(func.count()).select_from(SyncIntent)) == 1


def test_add_person_bad_input_is_422(cats_team):
    b = cats_team
    create(b, name="Analysts", sync_as="candidate")
    c = db.session.scalars(select(Campaign)).one()
    for bad in ({"last_name": "NoFirst"}, {"first_name": "<script>x</script>"},
                {"first_name": "Ada", "email": "nope"}, {"first_name": "Ada", "linkedin_url": "https://evil.example/in/x"}):
        r = b.post(f"/campaigns/{c.id}/members", bad, page=f"/campaigns/{c.id}", htmx=True)
        assert r.status_code == 422, bad
        assert "<script>x" not in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Person)) == 0


def test_sync_options_are_picked_from_the_crm(logged_in, sandbox, run_worker):
    from sandbox.cats import API_ROOT, DEFAULT_CREDENTIALS
    server = sandbox("cats")
    b = logged_in("recruiter")
    db.session.add(Connection(team_id=b.user.team_id, provider_key="cats", base_url=server.base + API_ROOT,
                              credentials_encrypted=encrypt_credentials(DEFAULT_CREDENTIALS), status="connected"))
    db.session.commit()
    assert "Loading jobs" in b.get("/campaigns/new").get_data(as_text=True)
    run_worker()
    frag = b.get("/campaigns/options?sync_as=candidate", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-trigger" not in frag and '<select id="f-tags" name="tags" multiple' in frag
    jobs = re.findall(r'<option value="([^"]+)" >', frag.split('name="job_id"')[1].split("</select>")[0])
    tags = re.findall(r'<option value="([^"]+)" >', frag.split('name="tags"')[1].split("</select>")[0])
    assert jobs and len(tags) >= 2
    r = b.client.post("/campaigns/", data=MultiDict([("csrf_token", b.token("/campaigns/new")), ("name", "Picked"),
                                           ("sync_as", "candidate"), ("job_id", jobs[0]),
                                           ("tags", tags[0]), ("tags", tags[1])]))
    assert r.status_code == 303
    c = db.session.scalars(select(Campaign)).one()
    assert c.sync_options == {"job_id": jobs[0], "tags": [tags[0], tags[1]]}
    # A value the CRM doesn't offer is refused.
    r = create(b, name="Bad pick", sync_as="candidate", job_id="999999")
    assert r.status_code == 422 and db.session.scalar(select(func.count()).select_from(Campaign)) == 1
