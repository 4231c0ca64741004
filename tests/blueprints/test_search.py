"""CRM search: the page and its fragments, a search run by a real worker against the CATS sandbox by
the team's Filterable Fields, adding results to a campaign (linked to the record they came from, so
the push updates it and creates no duplicate), and the refusals."""
from __future__ import annotations

import re

from sqlalchemy import select
from sync_support import connect, sandbox_state, team_settings

from core import db
from jobs import get_queue
from models import Campaign, CrmLink, Enrolment, Person
from providers import get_provider
from sandbox import cats as cats_sandbox
from tests.conftest import SANDBOX_ALLOWLIST


def _seed(server) -> dict[str, str]:
    adapter = get_provider("cats")(base_url=server.base + cats_sandbox.API_ROOT,
                                   credentials=dict(cats_sandbox.DEFAULT_CREDENTIALS), allowlist=SANDBOX_ALLOWLIST)
    ids = {}
    for first, last, company in (("Katherine", "Johnson", "NASA"), ("Dorothy", "Vaughan", "NASA"),
                                 ("Mary", "Jackson", "Langley")):
        rec = adapter.create("candidate", {"first_name": first, "last_name": last, "company": company,
                                           "email": f"{first.lower()}@example.com"})
        ids[first] = rec.remote_id
    return ids


def _setup(logged_in, sandbox, filterable=("first_name", "company")):
    b = logged_in("recruiter")
    cats = sandbox("cats")
    connect(b.user, "cats", cats)
    if filterable:
        team_settings(b.user, "cats", {"filterable_fields.candidate": list(filterable)})
    camp = Campaign(team_id=b.user.team_id, owner_id=b.user.id, name="Space pioneers", sync_as="candidate")
    db.session.add(camp)
    db.session.commit()
    return b, cats, camp


def test_search_page_full_and_fragments(logged_in, sandbox):
    b, _cats, _camp = _setup(logged_in, sandbox)
    page = b.get("/search")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and "Search CATS" in html
    assert 'name="f-first_name"' in html and 'name="f-company"' in html and 'name="f-email"' not in html
    frag = b.get("/search", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in frag and frag.lstrip().startswith('<section id="search"')
    fields = b.get("/search/fields?record_type=candidate", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fields.lstrip().startswith('<div class="grid" id="search-filters"') and "<html" not in fields


def test_search_runs_in_a_worker_and_adds_a_result(logged_in, sandbox, run_worker):
    b, cats, camp = _setup(logged_in, sandbox)
    ids = _seed(cats)
    before = len(sandbox_state(cats)["tables"]["candidates"])
    r = b.post("/search", {"record_type": "candidate", "f-company": "NASA"}, page="/search", htmx=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'data-state="running"' in html and "hx-trigger" in html
    sid = re.search(r'/search/results/(\w+)', html).group(1)
    # The same search again queues nothing new (one job, then the cached page).
    b.post("/search", {"record_type": "candidate", "f-company": "NASA"}, page="/search", htmx=True)
    assert get_queue("interactive").count == 1
    run_worker()
    frag = b.get(f"/search/results/{sid}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-state="done"' in frag and "hx-get" not in frag and "<html" not in frag
    assert "Katherine" in frag and "Dorothy" in frag and "Mary" not in frag
    full = b.get(f"/search/results/{sid}").get_data(as_text=True)
    assert "<html" in full and "Katherine" in full and 'value="NASA"' in full

    r = b.post("/search/add", {"sid": sid, "remote_id": ids["Katherine"], "campaign_id": str(camp.id)},
               page="/search", htmx=True)
    assert r.status_code == 200 and "Added 1 to Space pioneers" in r.get_data(as_text=True)
    person = db.session.scalars(select(Person)).one()
    link = db.session.scalars(select(CrmLink)).one()
    assert (person.first_name, link.remote_id, link.person_id) == ("Katherine", ids["Katherine"], person.id)
    run_worker()
    state = sandbox_state(cats)["tables"]["candidates"]
    assert len(state) == before                      # updated the found record, created none
    r = b.post("/search/add", {"sid": sid, "remote_id": [ids["Katherine"], ids["Dorothy"]],
                               "campaign_id": str(camp.id)}, page="/search", htmx=True)
    assert "Added 1 to Space pioneers. 1 already there." in r.get_data(as_text=True)
    assert db.session.query(Enrolment).count() == 2


def test_search_refusals(logged_in, sandbox, make_user):
    b, _cats, camp = _setup(logged_in, sandbox)
    r = b.post("/search", {"record_type": "candidate"}, page="/search")
    assert r.status_code == 422 and "at least one field" in r.get_data(as_text=True)
    r = b.post("/search", {"record_type": "candidate", "f-first_name": "x" * 201}, page="/search")
    assert r.status_code == 422 and "at most 200" in r.get_data(as_text=True)
    r = b.post("/search", {"record_type": "contact", "f-first_name": "Ada"}, page="/search")
    assert r.status_code == 422 and "Choose what to search for" in r.get_data(as_text=True)
    assert b.get("/search/results/notarealsearch").status_code == 404
    r = b.post("/search", {"record_type": "candidate", "f-first_name": "Ada"}, page="/search", htmx=True)
    sid = re.search(r'/search/results/(\w+)', r.get_data(as_text=True)).group(1)
    # Another team can't read the search, nor add to a campaign that isn't theirs.
    stranger = logged_in("admin")
    assert stranger.get(f"/search/results/{sid}").status_code == 404
    assert stranger.post("/search/add", {"sid": sid, "remote_id": "1", "campaign_id": str(camp.id)},
                         page="/search").status_code == 404
    r = b.post("/search/add", {"sid": sid, "remote_id": "1", "campaign_id": "999999"}, page="/search")
    assert r.status_code == 422 and "Choose one of your team" in r.get_data(as_text=True)
    assert db.session.query(Enrolment).count() == 0


def test_empty_states(logged_in, sandbox):
    b = logged_in("admin")
    assert "Connect your team" in b.get("/search").get_data(as_text=True)
    connect(b.user, "cats", sandbox("cats"))
    html = b.get("/search").get_data(as_text=True)
    assert "Filterable Fields" in html and "Choose Filterable Fields" in html
    assert b.post("/search", {"record_type": "candidate", "f-first_name": "x"}, page="/search").status_code == 409
