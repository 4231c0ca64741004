"""Admin locks on a campaign's sync options ("Recruiters can't change this for a person"): set by an
admin on the campaign page (a recruiter is refused), shown read-only with a lock and why in the
panel's grey arrow, a changed locked value refused with a 422 naming the field and nothing enqueued,
and a per-person value stored before the lock ignored by the worker. Against the CATS sandbox on a
real socket, with a real RQ worker."""
from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select
from sync_support import connect, sandbox_state
from werkzeug.datastructures import MultiDict

from core import db
from jobs import get_queue
from models import Campaign, Enrolment, Person, SyncIntent
from services.push.context import load_context
from services.tokens import issue_token

ADA = {"first_name": "Ada", "last_name": "Example", "email": "ada.locks@example.com",
       "linkedin_url": "https://www.linkedin.com/in/ada-locks/"}
AREAS = ("job_id", "job_status", "tags", "lists", "status", "add_when")
CATS_AREAS = ("job_id", "job_status", "tags", "lists", "add_when")    # CATS has no record statuses


@pytest.fixture
def world(app, sandbox, logged_in, run_worker):
    """An admin and a recruiter (browsers) of a team on the CATS sandbox, a campaign on a job with a
    tag, the CRM's choices already loaded, and the recruiter's extension token."""
    server = sandbox("cats")
    admin = logged_in("admin")
    recruiter = logged_in("recruiter", team=admin.user.team)
    conn = connect(admin.user, "cats", server)
    tables = sandbox_state(server)["tables"]
    jobs = {j["title"]: str(j["id"]) for j in tables["jobs"]}
    tags = {t["name"]: str(t["id"]) for t in tables["tags"]}
    lists = {t["name"]: str(t["id"]) for t in tables["lists"]}
    campaign = Campaign(team_id=admin.user.team_id, owner_id=recruiter.user.id, name="Platform engineers",
                        sync_as="candidate", sync_options={"job_id": jobs["Data Engineer"], "tags": [tags["Python"]]},
                        sync_override={"add_candidate": "added"})
    db.session.add(campaign)
    db.session.commit()
    _row, token = issue_token(recruiter.user)
    admin.get(f"/campaigns/{campaign.id}")      # queues the CRM's pick-lists
    run_worker()
    return {"server": server, "admin": admin, "recruiter": recruiter, "conn": conn, "campaign": campaign,
            "jobs": jobs, "tags": tags, "lists": lists,
            "panel": {"Authorization": f"Bearer {token}", "HX-Request": "true"}}


def edit(b, campaign: Campaign, pairs: list[tuple[str, str]]):
    return b.client.post(f"/campaigns/{campaign.id}/settings",
                         data=MultiDict([("csrf_token", b.token(f"/campaigns/{campaign.id}"))] + pairs),
                         headers={"HX-Request": "true"})


def keep_values(w) -> list[tuple[str, str]]:
    """The campaign's current settings as its form posts them."""
    return [("sync_as", "candidate"), ("add_when", "added"), ("job_id", w["jobs"]["Data Engineer"]),
            ("tags", w["tags"]["Python"])]


def lock(w, *keys: str):
    pairs = keep_values(w) + [("lock_shown", k) for k in AREAS] + [("lock", k) for k in keys]
    return edit(w["admin"], w["campaign"], pairs)


def counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Person, Enrolment, SyncIntent))


def test_an_admin_locks_areas_on_the_campaign_page(world):
    w = world
    page = w["admin"].get(f"/campaigns/{w['campaign'].id}").get_data(as_text=True)
    for key in CATS_AREAS:
        assert f'id="lock-{key}" name="lock" value="{key}"' in page, key
    assert page.count("Recruiters can't change this for a person") == len(CATS_AREAS)

    r = lock(w, "job_id", "tags", "add_when")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.lstrip().startswith('<form id="campaign-settings"'), html[:300]
    assert "Recruiters can't change for a person: Job, Tags, Sync Override." in html
    assert re.search(r'id="lock-job_id" name="lock" value="job_id" checked', html)
    assert re.search(r'id="lock-lists" name="lock" value="lists">', html)
    db.session.refresh(w["campaign"])
    assert w["campaign"].sync_locks == ["job_id", "tags", "add_when"]
    # The values themselves are unchanged by locking.
    assert w["campaign"].sync_options == {"job_id": w["jobs"]["Data Engineer"], "tags": [w["tags"]["Python"]]}

    # Unticking a shown box unlocks it; an area the form didn't show keeps its lock.
    r = edit(w["admin"], w["campaign"], keep_values(w) + [("lock_shown", "job_id"), ("lock_shown", "tags"),
                                                          ("lock", "tags")])
    assert r.status_code == 200
    db.session.refresh(w["campaign"])
    assert w["campaign"].sync_locks == ["tags", "add_when"]

    # The options fragment (re-rendered when Sync as changes) keeps the boxes for this campaign.
    loading = w["admin"].get(f"/campaigns/options?sync_as=contact&campaign={w['campaign'].id}",
                             headers={"HX-Request": "true"}).get_data(as_text=True)
    # Its poll replaces only itself (not the settings form around it).
    assert f'hx-get="/campaigns/options?sync_as=contact&amp;campaign={w["campaign"].id}"' in loading
    assert 'hx-target="this" hx-swap="outerHTML"' in loading
    frag = w["admin"].get(f"/campaigns/options?sync_as=candidate&campaign={w['campaign'].id}",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert frag.lstrip().startswith('<fieldset id="sync-options"')
    assert re.search(r'id="lock-tags" name="lock" value="tags" checked', frag)
    assert f'<option value="{w["jobs"]["Data Engineer"]}" selected>' in frag     # the stored values
    assert f'<option value="{w["tags"]["Python"]}" selected>' in frag
    assert 'id="lock-job_id" name="lock" value="job_id">' in frag
    # The create dialog has no lock boxes (no campaign yet).
    dialog = w["admin"].get("/campaigns/new", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'name="lock"' not in dialog


def test_a_recruiter_sees_the_locks_and_cannot_set_them(world):
    w = world
    assert lock(w, "job_id", "add_when").status_code == 200
    page = w["recruiter"].get(f"/campaigns/{w['campaign'].id}").get_data(as_text=True)
    assert 'name="lock"' not in page and 'name="lock_shown"' not in page
    assert 'id="locked-job_id"' in page and 'id="locked-add_when"' in page and 'id="locked-tags"' not in page
    assert "Recruiters can't change for a person: Job, Sync Override." in page
    frag = w["recruiter"].get(f"/campaigns/options?sync_as=candidate&campaign={w['campaign'].id}",
                              headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'name="lock"' not in frag and "Locked by your admin" in frag

    # Setting (or clearing) a lock is the admin's: 403, and nothing of the form is saved.
    for pairs in ([("lock_shown", "job_id")], [("lock", "lists"), ("lock_shown", "lists")]):
        r = edit(w["recruiter"], w["campaign"], [("sync_as", "contact"), ("add_when", "never")] + pairs)
        assert r.status_code == 403, pairs
    db.session.refresh(w["campaign"])
    assert w["campaign"].sync_as == "candidate" and w["campaign"].sync_locks == ["job_id", "add_when"]
    # A recruiter's ordinary save (no lock inputs) keeps the admin's locks.
    assert edit(w["recruiter"], w["campaign"], keep_values(w)).status_code == 200
    db.session.refresh(w["campaign"])
    assert w["campaign"].sync_locks == ["job_id", "add_when"]


def test_bad_lock_input_and_another_teams_campaign(world, logged_in):
    w = world
    r = edit(w["admin"], w["campaign"], keep_values(w) + [("lock_shown", "sync_as"), ("lock", "sync_as")])
    assert r.status_code == 422 and "Not an area that can be locked: sync_as" in r.get_data(as_text=True)
    db.session.refresh(w["campaign"])
    assert not w["campaign"].sync_locks
    stranger = logged_in("admin")
    assert stranger.get(f"/campaigns/options?sync_as=candidate&campaign={w['campaign'].id}",
                        headers={"HX-Request": "true"}).status_code == 404
    assert stranger.get("/campaigns/options?sync_as=candidate&campaign=99999999999",
                        headers={"HX-Request": "true"}).status_code == 404


def test_the_grey_arrow_shows_locked_areas_read_only_and_refuses_a_change(app, world):
    w = world
    assert lock(w, "job_id", "tags", "add_when").status_code == 200
    client = app.test_client()
    form = {**ADA, "campaign_id": w["campaign"].id}
    html = unescape(client.post("/panel/extras", data=form, headers=w["panel"]).get_data(as_text=True))
    # Locked: the campaign's values by name, a lock and why; no input that could carry a change.
    job = re.search(r'<div class="locked-area" id="opt-job_id-locked">(.*?)</div>', html, re.DOTALL)
    assert job and "Data Engineer" in job.group(1) and 'class="lock-icon"' in job.group(1)
    assert "Locked by your admin for this campaign: recruiters can't change it for a person." in job.group(1)
    tags = re.search(r'id="opt-tags-locked">(.*?)</div>', html, re.DOTALL)
    assert tags and "Python" in tags.group(1)
    assert 'name="opt_job_id"' not in html and 'name="opt_tags"' not in html
    assert 'id="opt-add-when" disabled' in html
    # Not locked: still a choice.
    assert 'name="opt_lists"' in html and 'name="opt_job_status"' in html

    queue = get_queue()
    before, queued = counts(), queue.count
    other_job, other_tag = w["jobs"]["Senior Python Engineer"], w["tags"]["Hot Prospect"]
    for field, extra in {"job_id": {"opt_job_id": other_job},
                         "tags": {"opt_tags": ["", other_tag]},
                         "add_when": {"opt_add_when": "reply"}}.items():
        r = client.post("/panel/enrol", data={**form, "opt_shown": "1", **extra}, headers=w["panel"])
        text = unescape(r.get_data(as_text=True))
        assert r.status_code == 422 and "Locked by your admin for this campaign" in text, (field, text)
        r = client.post("/panel/api/enrol", headers=w["panel"], json={
            "campaign_id": w["campaign"].id, "profile": ADA,
            "sync_options": {field: extra[f"opt_{field}"] if field != "tags" else [other_tag]}})
        assert r.status_code == 422 and list(r.get_json()["fields"]) == [field], r.get_json()
    assert counts() == before and queue.count == queued

    # The campaign's own values and an unlocked area go through.
    r = client.post("/panel/enrol", headers=w["panel"], data={
        **form, "opt_shown": "1", "opt_lists": ["", w["lists"]["Engineering Talent"]]})
    assert r.status_code == 200, r.get_data(as_text=True)
    enrolment = db.session.scalars(select(Enrolment)).one()
    assert enrolment.sync_options == {"lists": [w["lists"]["Engineering Talent"]]}


def test_the_worker_ignores_a_persons_value_stored_before_the_lock(app, world, run_worker):
    w = world
    client = app.test_client()
    other_job = w["jobs"]["Senior Python Engineer"]
    r = client.post("/panel/enrol", headers=w["panel"], data={
        **ADA, "campaign_id": w["campaign"].id, "opt_shown": "1", "opt_job_id": other_job,
        "opt_tags": ["", w["tags"]["Hot Prospect"]], "opt_add_when": "reply"})
    assert r.status_code == 200, r.get_data(as_text=True)
    enrolment = db.session.scalars(select(Enrolment)).one()
    assert enrolment.sync_options["job_id"] == other_job and enrolment.sync_override == {"add_candidate": "reply"}
    # The admin locks the job and the Sync Override before the worker runs (tags stay the person's).
    assert lock(w, "job_id", "add_when").status_code == 200
    intent = db.session.scalars(select(SyncIntent)).one()
    ctx = load_context(intent)
    assert ctx.target.sync_options.job_id == w["jobs"]["Data Engineer"]
    assert ctx.settings.values["add_candidate"].value == "added"
    run_worker()
    db.session.refresh(intent)
    # Pushed now ("when added", the campaign's), onto the campaign's job, with the person's own tag.
    assert intent.state == "synced", intent.reason
    tables = sandbox_state(w["server"])["tables"]
    [cand] = [c for c in tables["candidates"] if c["emails"]["primary"] == ADA["email"]]
    assert [str(p["job_id"]) for p in tables["pipelines"] if p["candidate_id"] == cand["id"]] == \
        [w["jobs"]["Data Engineer"]]
    assert [str(t) for t in cand["tag_ids"]] == [w["tags"]["Hot Prospect"]]
