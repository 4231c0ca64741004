"""Campaigns as the articles lay them out: created in a dialog with Sync as, sync options behind the
grey arrow and a Sync Override that defaults to the team's setting; the same settings edited after
creation (future pushes), members already in the CRM named and re-synced on request; archive and
delete; the list's self-polling sync badges; "Waiting for a reply" instead of "nothing to send".
Against the CATS sandbox on a real socket, pushes run by a real RQ worker."""
from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from core import db
from crypto import encrypt_credentials
from models import Campaign, Connection, Enrolment, OutreachEvent, SettingsLayer, SyncIntent
from services.push.context import load_context


@pytest.fixture
def cats(logged_in, sandbox):
    """An admin (browser `b`) whose team syncs to the CATS sandbox."""
    from sandbox.cats import API_ROOT, DEFAULT_CREDENTIALS
    server = sandbox("cats")
    b = logged_in("admin")
    b.server = server
    b.conn = Connection(team_id=b.user.team_id, provider_key="cats", base_url=server.base + API_ROOT,
                        credentials_encrypted=encrypt_credentials(DEFAULT_CREDENTIALS), status="connected")
    db.session.add(b.conn)
    db.session.commit()
    return b


def create(b, pairs: list[tuple[str, str]], htmx: bool = True):
    return b.client.post("/campaigns/", data=MultiDict([("csrf_token", b.token("/campaigns/"))] + pairs),
                         headers={"HX-Request": "true"} if htmx else {})


def edit(b, campaign: Campaign, pairs: list[tuple[str, str]]):
    return b.client.post(f"/campaigns/{campaign.id}/settings",
                         data=MultiDict([("csrf_token", b.token(f"/campaigns/{campaign.id}"))] + pairs),
                         headers={"HX-Request": "true"})


def add_person(b, campaign: Campaign, first: str, email: str):
    r = b.post(f"/campaigns/{campaign.id}/members", {"first_name": first, "last_name": "Tester", "email": email},
               page=f"/campaigns/{campaign.id}", htmx=True)
    assert r.status_code == 200, r.get_data(as_text=True)


def state(server) -> dict:
    return requests.get(f"{server.base}/__sandbox/state", timeout=5).json()["tables"]


def test_create_dialog_and_a_team_default_applies_to_a_campaign_made_through_the_form(cats, run_worker):
    """The bug: the form always stored an add-when override, so team defaults never applied."""
    b = cats
    db.session.add(SettingsLayer(team_id=b.user.team_id, user_id=None, provider_key="cats",
                                 values={"add_candidate": "reply"}, locks=[]))
    db.session.commit()
    listing = b.get("/campaigns/").get_data(as_text=True)
    assert 'hx-get="/campaigns/new"' in listing and 'id="dialog-slot"' in listing
    dialog = b.get("/campaigns/new", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert dialog.lstrip().startswith('<dialog id="campaign-dialog"') and "data-modal" in dialog
    assert '<summary>Sync options' in dialog and "Sync Override" in dialog
    assert re.search(r'<option value="team" selected>Use the team.s setting \(When they reply\)', dialog)
    page = b.get("/campaigns/new").get_data(as_text=True)         # without JS: a page of its own
    assert "<html" in page and "<dialog" not in page and 'id="new-campaign"' in page

    r = create(b, [("name", "Data engineers"), ("type", "outreach"), ("sync_as", "candidate"), ("add_when", "team")])
    assert r.status_code == 204 and "/campaigns/" in r.headers["HX-Redirect"]
    campaign = db.session.scalars(select(Campaign)).one()
    assert campaign.sync_override == {}
    add_person(b, campaign, "Ada", "ada@example.com")
    intent = db.session.scalars(select(SyncIntent)).one()
    settings = load_context(intent).settings
    assert settings.values["add_candidate"].value == "reply" and settings.layer("add_candidate") == "team"
    run_worker()
    db.session.refresh(intent)
    # What a new user tripped on: "Skipped: Nothing to send" for someone waiting for a reply.
    assert intent.state == "skipped" and intent.reason.startswith("Waiting for a reply")
    html = b.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Waiting for a reply" in html and "Nothing to send" not in html
    assert state(b.server).get("candidates", []) == []


def test_an_override_chosen_in_the_dialog_beats_the_team(cats, run_worker):
    b = cats
    db.session.add(SettingsLayer(team_id=b.user.team_id, user_id=None, provider_key="cats",
                                 values={"add_candidate": "never"}, locks=[]))
    db.session.commit()
    assert create(b, [("name", "Now"), ("sync_as", "candidate"), ("add_when", "added")]).status_code == 204
    campaign = db.session.scalars(select(Campaign)).one()
    assert campaign.sync_override == {"add_candidate": "added"}
    add_person(b, campaign, "Grace", "grace@example.com")
    run_worker()
    assert [c["emails"]["primary"] for c in state(b.server)["candidates"]] == ["grace@example.com"]


def test_bad_input_in_the_dialog_is_422_in_place_and_writes_nothing(cats):
    b = cats
    for pairs in ([("name", "")], [("name", "x"), ("sync_as", "application")], [("name", "x"), ("add_when", "someday")],
                  [("name", "x"), ("sync_as", "candidate"), ("job_id", "x" * 500)]):
        r = create(b, pairs)
        html = r.get_data(as_text=True)
        assert r.status_code == 422 and 'id="new-campaign"' in html and "field-error" in html, pairs
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_sync_settings_edited_after_creation_apply_to_future_pushes_and_offer_a_resync(cats, run_worker):
    b = cats
    assert create(b, [("name", "Platform"), ("sync_as", "candidate")]).status_code == 204
    campaign = db.session.scalars(select(Campaign)).one()
    add_person(b, campaign, "Ada", "ada@example.com")
    b.get(f"/campaigns/{campaign.id}")                         # queues the CRM's pick-lists
    run_worker()
    [cand] = state(b.server)["candidates"]
    assert cand["tag_ids"] == []
    page = b.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="campaign-settings"' in page and "Advanced settings" in page and "Sync Override" in page
    tags = re.findall(r'name="tags"[^>]*>(.*?)</select>', page, re.S)[0]
    tag_id, tag_name = re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', tags)[0]

    r = edit(b, campaign, [("sync_as", "candidate"), ("tags", tag_id), ("add_when", "reply")])
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.lstrip().startswith('<form id="campaign-settings"') and "Saved." in html
    db.session.refresh(campaign)
    assert campaign.sync_options == {"tags": [tag_id]} and campaign.sync_override == {"add_candidate": "reply"}
    assert "1 member is" in html and "Ada Tester" in html and "Re-sync them now" in html
    assert f"<dd>{tag_name}</dd>" in html                    # names, not ids
    r = b.post(f"/campaigns/{campaign.id}/resync", {}, page=f"/campaigns/{campaign.id}", htmx=True)
    assert r.status_code == 200 and "Re-syncing 1 member" in r.get_data(as_text=True)
    assert db.session.scalars(select(OutreachEvent).where(OutreachEvent.kind == "resync")).one()
    run_worker()
    [cand] = state(b.server)["candidates"]
    assert [str(t) for t in cand["tag_ids"]] == [tag_id]

    # Bad input: 422 in place, nothing changed.
    r = edit(b, campaign, [("sync_as", "candidate"), ("tags", "no-such-tag"), ("add_when", "added")])
    assert r.status_code == 422 and "Nothing was saved" in r.get_data(as_text=True)
    db.session.refresh(campaign)
    assert campaign.sync_options == {"tags": [tag_id]} and campaign.sync_override == {"add_candidate": "reply"}
    r = edit(b, campaign, [("sync_as", "none")])
    db.session.refresh(campaign)
    assert r.status_code == 200 and campaign.sync_as == "none" and campaign.sync_options == {}


def test_archive_delete_and_scoping(cats, logged_in):
    b = cats
    create(b, [("name", "Old"), ("sync_as", "none")])
    create(b, [("name", "Empty"), ("sync_as", "none")])
    old, empty = db.session.scalars(select(Campaign).order_by(Campaign.id)).all()
    add_person(b, old, "Ada", "ada@example.com")
    other = logged_in("admin")
    assert other.post(f"/campaigns/{old.id}/archive", {}, page="/campaigns/").status_code == 404
    assert other.post(f"/campaigns/{old.id}/settings", {"sync_as": "none"}, page="/campaigns/").status_code == 404
    recruiter = logged_in("recruiter", team=b.user.team)
    assert recruiter.post(f"/campaigns/{old.id}/archive", {}, page="/campaigns/").status_code == 403

    r = b.post(f"/campaigns/{old.id}/delete", {"confirm": "yes"}, page="/campaigns/")
    assert r.status_code == 409 and db.session.get(Campaign, old.id) is not None
    assert b.post(f"/campaigns/{old.id}/archive", {}, page="/campaigns/").status_code == 303
    listing = b.get("/campaigns/").get_data(as_text=True)
    assert f'id="campaign-{old.id}"' not in listing and f'id="campaign-{empty.id}"' in listing
    assert f'id="campaign-{old.id}"' in b.get("/campaigns/?archived=1").get_data(as_text=True)
    r = b.post(f"/campaigns/{old.id}/members", {"first_name": "Bo"}, page=f"/campaigns/{old.id}")
    assert r.status_code == 409
    assert b.post(f"/campaigns/{old.id}/unarchive", {}, page="/campaigns/").status_code == 303
    assert f'id="campaign-{old.id}"' in b.get("/campaigns/").get_data(as_text=True)

    assert b.post(f"/campaigns/{empty.id}/delete", {}, page="/campaigns/").status_code == 422
    assert b.post(f"/campaigns/{empty.id}/delete", {"confirm": "yes"}, page="/campaigns/").status_code == 303
    assert db.session.get(Campaign, empty.id) is None


def test_list_badges_poll_while_members_sync(cats, run_worker):
    b = cats
    create(b, [("name", "Live"), ("sync_as", "candidate"), ("add_when", "added")])
    campaign = db.session.scalars(select(Campaign)).one()
    add_person(b, campaign, "Ada", "ada@example.com")
    listing = b.get("/campaigns/").get_data(as_text=True)
    badge = listing.split(f'id="campaign-{campaign.id}-sync"')[1].split("</span>\n</span>")[0]
    assert "1 syncing" in badge and f'hx-get="/campaigns/{campaign.id}/sync-summary"' in badge
    run_worker()
    frag = b.get(f"/campaigns/{campaign.id}/sync-summary", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert frag.lstrip().startswith(f'<span id="campaign-{campaign.id}-sync"')
    assert "1 synced" in frag and "hx-get" not in frag


def test_pages_and_fragments(cats):
    b = cats
    create(b, [("name", "P"), ("sync_as", "candidate")])
    campaign = db.session.scalars(select(Campaign)).one()
    for url, root in ((f"/campaigns/{campaign.id}", '<div id="members">'), ("/campaigns/", '<section id="campaigns">')):
        page = b.get(url)
        assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
        frag = b.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "<html" not in frag
    frag = b.get(f"/campaigns/{campaign.id}/settings", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert frag.lstrip().startswith('<form id="campaign-settings"')
    assert b.get(f"/campaigns/{campaign.id}/settings").status_code == 302
    assert b.get("/campaigns/999999").status_code == 404


def test_an_archived_campaign_is_not_offered_in_the_extension(cats, app):
    from services.tokens import issue_token
    b = cats
    create(b, [("name", "Gone"), ("sync_as", "none")])
    campaign = db.session.scalars(select(Campaign)).one()
    b.post(f"/campaigns/{campaign.id}/archive", {}, page="/campaigns/")
    _, token = issue_token(b.user, "test")
    auth = {"Authorization": f"Bearer {token}"}
    card = b.client.post("/panel/", data={"first_name": "Ada"}, headers=auth).get_data(as_text=True)
    assert "Gone" not in card
    r = b.client.post("/panel/api/enrol", json={"campaign_id": campaign.id, "profile": {"first_name": "Ada"}},
                      headers=auth)
    assert r.status_code == 409 and "archived" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 0
