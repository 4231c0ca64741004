"""A CRM id is a link to the record in the CRM, on every page that shows one: a person synced to
the CATS sandbox by a real worker shows as "Candidate #<id> in CATS", linking (new tab, no opener,
no referrer) to the record's page in the connection's web app, which the sandbox serves. Without a
web address the id is plain text; a bad one is refused on the connect form."""
from __future__ import annotations

import html as htmllib
import re

import pytest
import requests
from sqlalchemy import select
from sync_support import connect, team_settings

from core import db
from crypto import decrypt_credentials, encrypt_credentials
from models import AuditEntry, Campaign, Connection, CrmLink, Person, SyncIntent
from sandbox import cats as cats_sandbox
from services import enrolments
from services.tokens import issue_token

ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
       "linkedin_url": "https://www.linkedin.com/in/ada-lovelace"}


@pytest.fixture
def synced(logged_in, sandbox, run_worker):
    """An admin whose CATS connection's web address is the sandbox; Ada added and synced."""
    b = logged_in("admin")
    cats = sandbox("cats")
    conn = connect(b.user, "cats", cats, credentials={**cats_sandbox.DEFAULT_CREDENTIALS, "web_url": cats.base})
    camp = Campaign(team_id=b.user.team_id, owner_id=b.user.id, name="Analysts", sync_as="candidate",
                    sync_override={"add_candidate": "added"})
    db.session.add(camp)
    db.session.commit()
    enrolments.enrol(b.user, camp, ADA)
    run_worker()
    link = db.session.scalars(select(CrmLink)).one()
    person = db.session.get(Person, link.person_id)
    url = f"{cats.base}/index.php?m=candidates&a=show&candidateID={link.remote_id}"
    return {"b": b, "cats": cats, "conn": conn, "camp": camp, "link": link, "person": person, "url": url}


def anchor(url: str, text: str) -> str:
    return (f'<a class="crm-link" href="{htmllib.escape(url)}" target="_blank" rel="noopener noreferrer"'
            f' title="Open {text} (new tab)">')


def assert_linked(html: str, world: dict, text: str | None = None) -> None:
    text = text or f"Candidate #{world['link'].remote_id} in CATS"
    assert anchor(world["url"], f"Candidate #{world['link'].remote_id} in CATS") + text in html, html


def test_the_link_opens_the_record_in_the_crm(synced):
    page = requests.get(synced["url"], timeout=5)
    assert page.status_code == 200 and "Lovelace" in page.text


def test_people_list_and_person_page(synced):
    b, person = synced["b"], synced["person"]
    assert_linked(b.get("/people/").get_data(as_text=True), synced)
    assert_linked(b.get("/people/?q=ada", headers={"HX-Request": "true"}).get_data(as_text=True), synced)
    assert_linked(b.get(f"/people/{person.id}").get_data(as_text=True), synced)


def test_campaign_members(synced):
    html = synced["b"].get(f"/campaigns/{synced['camp'].id}").get_data(as_text=True)
    assert "Synced" in html
    assert_linked(html, synced)


def test_audit_log_and_trail(synced):
    b, person = synced["b"], synced["person"]
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.remote_id == synced["link"].remote_id)).first()
    html = b.get("/activity").get_data(as_text=True)
    assert_linked(html, synced)
    # The summary beside the link names no id of its own ("created candidate 83" was a bare id).
    rid = synced["link"].remote_id
    assert "created the record" in html and f"candidate {rid}" not in html.lower()
    assert_linked(b.get("/activity?result=ok", headers={"HX-Request": "true"}).get_data(as_text=True), synced)
    assert_linked(b.get(f"/people/{person.id}/audit").get_data(as_text=True), synced)
    assert_linked(b.get(f"/people/{person.id}/audit", headers={"HX-Request": "true"}).get_data(as_text=True), synced)


def test_intent_status_and_sync_health(synced):
    b, conn = synced["b"], synced["conn"]
    intent = db.session.scalars(select(SyncIntent)).one()
    assert_linked(b.get(f"/intents/{intent.id}/status", headers={"HX-Request": "true"}).get_data(as_text=True), synced)
    # A later push for Ada that CATS kept refusing: sync health lists it with her record.
    parked = SyncIntent(team_id=conn.team_id, connection_id=conn.id, person_id=synced["person"].id,
                        idempotency_key="later", state="parked", record_type="candidate", reason="CATS refused it")
    db.session.add(parked)
    db.session.commit()
    html = b.get(f"/health/{conn.id}").get_data(as_text=True)
    assert 'id="parked-syncs"' in html
    assert_linked(html.split('id="parked-syncs"')[1], synced)


def test_crm_search_results(synced, run_worker):
    b = synced["b"]
    team_settings(b.user, "cats", {"filterable_fields.candidate": ["first_name"]})
    html = b.post("/search", {"record_type": "candidate", "f-first_name": "Ada"}, page="/search",
                  htmx=True).get_data(as_text=True)
    sid = re.search(r"/search/results/(\w+)", html).group(1)
    run_worker()
    assert_linked(b.get(f"/search/results/{sid}", headers={"HX-Request": "true"}).get_data(as_text=True), synced)


def test_panel_match_from_shoals_link_and_from_the_live_lookup(synced, run_worker):
    user, link = synced["b"].user, synced["link"]
    _row, token = issue_token(user)
    client = synced["b"].client
    headers = {"Authorization": f"Bearer {token}"}
    short = f"Candidate #{link.remote_id}"
    html = client.post("/panel/profile", data=ADA, headers=headers).get_data(as_text=True)
    assert "Already in CATS as " + anchor(synced["url"], f"{short} in CATS") + short in html
    # Without Shoal's own link, the worker's lookup finds her in CATS and the panel links the same record.
    db.session.delete(link)
    db.session.commit()
    client.post("/panel/match", data=ADA, headers=headers)
    run_worker()
    html = client.post("/panel/match", data=ADA, headers=headers).get_data(as_text=True)
    assert "Already in CATS as " + anchor(synced["url"], f"{short} in CATS") + short in html


def test_without_a_web_address_the_id_is_plain_text(synced):
    conn = synced["conn"]
    conn.credentials_encrypted = encrypt_credentials(dict(cats_sandbox.DEFAULT_CREDENTIALS))
    db.session.commit()
    html = synced["b"].get(f"/people/{synced['person'].id}").get_data(as_text=True)
    assert f'<span class="crm-id">Candidate #{synced["link"].remote_id} in CATS</span>' in html
    assert 'class="crm-link"' not in html


def test_another_teams_connection_never_lends_its_address(synced, logged_in):
    other = logged_in("admin")
    link = synced["link"]
    db.session.add(AuditEntry(team_id=other.user.team_id, connection_id=synced["conn"].id, operation="create",
                              record_type="candidate", remote_id=link.remote_id, result="ok", summary="forged"))
    db.session.commit()
    html = other.get("/activity").get_data(as_text=True)
    assert "forged" in html and synced["url"] not in htmllib.unescape(html) and "in CATS" not in html


@pytest.mark.parametrize("value,error", [("javascript:alert(1)", "Enter the address only"),
                                         ("https://crm.example/path", "Enter the address only"),
                                         ("http://crm.example", "Enter an https address")])
def test_connect_form_refuses_a_bad_web_address(logged_in, sandbox, value, error):
    b = logged_in("admin")
    cats = sandbox("cats")
    r = b.post("/integrations/cats/activate", {"api_key": "cats-sandbox-key", "base_url": cats.base + "/v3",
                                               "web_url": value}, page="/integrations/cats", htmx=True)
    assert r.status_code == 422 and error in r.get_data(as_text=True)
    assert db.session.scalars(select(Connection)).first() is None


def test_connect_form_keeps_a_good_web_address(logged_in, sandbox):
    b = logged_in("admin")
    cats = sandbox("cats")
    page = b.get("/integrations/cats").get_data(as_text=True)
    assert "Web address of your CATS (optional)" in page
    r = b.post("/integrations/cats/activate", {"api_key": "cats-sandbox-key", "base_url": cats.base + "/v3",
                                               "web_url": "https://Acme.CatsOne.com/"}, page="/integrations/cats", htmx=True)
    assert r.status_code == 200
    conn = db.session.scalars(select(Connection)).one()
    assert decrypt_credentials(conn.credentials_encrypted)["web_url"] == "https://acme.catsone.com"
    # http is fine for a host the operator allow-listed (the demo's sandbox).
    b.post("/integrations/cats/activate", {"api_key": "cats-sandbox-key", "base_url": cats.base + "/v3",
                                           "web_url": cats.base}, page="/integrations/cats", htmx=True)
    assert decrypt_credentials(db.session.get(Connection, conn.id).credentials_encrypted)["web_url"] == cats.base


def test_panel_company_links_to_the_company_in_the_crm(synced, run_worker):
    user, cats = synced["b"].user, synced["cats"]
    team_settings(user, "cats", {"company_info": True, "company_warning": True})
    _row, token = issue_token(user)
    headers = {"Authorization": f"Bearer {token}", "HX-Request": "true"}
    client = synced["b"].client
    acme = next(c for c in requests.get(f"{cats.base}/__sandbox/state", timeout=5).json()["tables"]["companies"]
                if c["name"] == "Acme Ltd")
    form = {**ADA, "company": "Acme Ltd", "campaign_id": synced["camp"].id}
    client.post("/panel/extras", data=form, headers=headers)
    run_worker()
    html = client.post("/panel/extras", data=form, headers=headers).get_data(as_text=True)
    url = f"{cats.base}/index.php?m=companies&a=show&companyID={acme['id']}"
    assert anchor(url, f"Company #{acme['id']} in CATS") + f"Company #{acme['id']} in CATS" in html
    assert "Acme" in requests.get(url, timeout=5).text


def test_campaign_page_reads_its_members_records_together(synced, run_worker):
    from sqlalchemy import event
    b, camp = synced["b"], synced["camp"]
    for n in range(3):
        enrolments.enrol(b.user, camp, {"first_name": f"Member{n}", "last_name": "Example",
                                        "email": f"member{n}@example.com"})
    run_worker()
    links = db.session.scalars(select(CrmLink)).all()
    assert len(links) == 4
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])   # noqa: E731  (before_cursor_execute's statement)
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        html = b.get(f"/campaigns/{camp.id}").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    for link in links:
        assert f"Candidate #{link.remote_id} in CATS" in html
    # Not one read per member (other parts of the page may read links for their own reasons).
    assert sum("FROM crm_link" in s for s in statements) < len(links), [s for s in statements if "crm_link" in s]


def test_the_json_api_gives_the_records_address(synced):
    _row, token = issue_token(synced["b"].user, scope="api")
    person = synced["b"].client.get(f"/api/v1/people/{synced['person'].id}",
                                    headers={"Authorization": f"Bearer {token}"}).get_json()
    assert person["crm_links"] == [{"provider": "cats", "record_type": "candidate",
                                    "remote_id": synced["link"].remote_id, "url": synced["url"]}]


def test_a_long_id_is_shown_short_and_kept_whole_in_the_title(app):
    """SmartRecruiters' UUIDs would fill a table cell: the link shows the first 8 characters."""
    from flask import render_template_string

    from services.crm_links import CrmRef

    uuid = "f7e3c367-fc79-4c94-9a2c-77fc85eb833d"
    template = '{% from "_macros.html" import crm_link %}{{ crm_link(ref) }}|{{ crm_link(ref, short=true) }}'
    with app.test_request_context():
        linked = render_template_string(template, ref=CrmRef("SmartRecruiters", "Candidate", uuid,
                                                             f"https://www.smartrecruiters.com/app/people/candidates/{uuid}"))
        plain = render_template_string(template, ref=CrmRef("SmartRecruiters", "Candidate", uuid, None))
        short_id = render_template_string(template, ref=CrmRef("CATS", "Candidate", "42", None))
    assert ">Candidate #f7e3c367… in SmartRecruiters<" in linked and ">Candidate #f7e3c367…<" in linked
    assert f'title="Open Candidate #{uuid} in SmartRecruiters (new tab)"' in linked
    assert f'<span class="crm-id" title="Candidate #{uuid} in SmartRecruiters">Candidate #f7e3c367… in' in plain
    assert short_id == '<span class="crm-id">Candidate #42 in CATS</span>|<span class="crm-id">Candidate #42</span>'
