"""Integration settings pages: options read from the CATS sandbox by a worker, team values saved and
read back the way the sync runtime resolves them, refusals that write nothing, locks, roles, and
page vs fragment."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from crypto import encrypt_credentials
from core import db, get_redis
from models import Campaign, Connection, Enrolment, Person, SettingsLayer, SyncIntent
from services.push.context import load_context

TEAM = "/settings/team"
MINE = "/settings/mine"


def connect(user, base_url: str, credentials: dict, key: str = "cats") -> Connection:
    conn = Connection(team_id=user.team_id, provider_key=key, base_url=base_url,
                      credentials_encrypted=encrypt_credentials(credentials), status="connected")
    db.session.add(conn)
    db.session.commit()
    return conn


@pytest.fixture
def cats_admin(logged_in, sandbox, run_worker):
    """An admin whose team is connected to the CATS sandbox, with the CRM's options loaded."""
    from sandbox.cats import API_ROOT, DEFAULT_CREDENTIALS
    server = sandbox("cats")
    b = logged_in("admin")
    b.conn = connect(b.user, server.base + API_ROOT, DEFAULT_CREDENTIALS)
    assert "Loading fields" in b.get(TEAM).get_data(as_text=True)
    run_worker()
    return b


def post(b, url: str, pairs: list[tuple[str, str]], page: str):
    return b.client.post(url, data=MultiDict([("csrf_token", b.token(page))] + pairs),
                         headers={"HX-Request": "true"})


def options_of(html: str, name: str) -> list[str]:
    block = html.split(f'name="{name}"')[1].split("</select>")[0]
    return re.findall(r'<option value="([^"]+)"', block)


def team_layer() -> SettingsLayer | None:
    return db.session.scalars(select(SettingsLayer).where(SettingsLayer.user_id.is_(None))).first()


def runtime_settings(user, conn: Connection):
    """The settings the sync runtime would use for a person `user` added (its own loader)."""
    n = db.session.scalar(select(func.count()).select_from(Person)) + 1
    person = Person(team_id=user.team_id, first_name="Ada", email=f"ada{n}@example.com")
    campaign = Campaign(team_id=user.team_id, owner_id=user.id, name="C", sync_as="candidate")
    db.session.add_all([person, campaign])
    db.session.flush()
    enrolment = Enrolment(team_id=user.team_id, campaign_id=campaign.id, person_id=person.id, added_by_id=user.id)
    db.session.add(enrolment)
    db.session.flush()
    intent = SyncIntent(team_id=user.team_id, connection_id=conn.id, person_id=person.id,
                        enrolment_id=enrolment.id, idempotency_key=f"t-{person.id}")
    db.session.add(intent)
    db.session.commit()
    return load_context(intent).settings


def test_options_come_from_the_crm_and_a_team_value_reaches_the_runtime(cats_admin):
    b = cats_admin
    frag = b.get(f"{TEAM}/options", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="crm-options"' in frag and "hx-trigger" not in frag and 'hx-swap-oob="true"' in frag
    fields = options_of(frag, "v:displayed_fields.candidate")
    custom = [f for f in fields if f.startswith("custom:")]
    assert "email" in fields and custom, fields
    assert options_of(frag, "v:job_status_whitelist"), "job statuses from the CRM"

    r = post(b, TEAM, [("shown", "displayed_fields.candidate"), ("set", "displayed_fields.candidate"),
                       ("v:displayed_fields.candidate", custom[0]), ("v:displayed_fields.candidate", "email"),
                       ("shown", "add_candidate"), ("set", "add_candidate"), ("v:add_candidate", "reply")], TEAM)
    assert r.status_code == 200 and "Saved." in r.get_data(as_text=True)
    settings = runtime_settings(b.user, b.conn)
    assert settings.values["displayed_fields.candidate"].value == [custom[0], "email"]
    assert settings.values["displayed_fields.candidate"].layer == "team"
    assert settings.values["add_candidate"].value == "reply" and settings.layer("add_candidate") == "team"
    note_type = options_of(frag, "v:note_mapping.candidate:reply")[0]
    r = post(b, TEAM, [("shown", "note_mapping.candidate"), ("set", "note_mapping.candidate"),
                       ("v:note_mapping.candidate:reply", note_type), ("v:note_mapping.candidate:call", "")], TEAM)
    assert r.status_code == 200
    assert runtime_settings(b.user, b.conn).note_type("candidate", "reply") == note_type
    r = post(b, TEAM, [("shown", "note_mapping.candidate"), ("set", "note_mapping.candidate"),
                       ("v:note_mapping.candidate:reply", "no-such-type")], TEAM)
    assert r.status_code == 422 and team_layer().values["note_mapping.candidate"] == {"reply": note_type}
    r = post(b, TEAM, [("shown", "note_mapping.candidate")], TEAM)
    # Options expired: unchanged option-backed values still save with the rest, a changed one waits.
    get_redis().delete(f"shoal:settings-options:{b.conn.id}")
    kept = [("shown", "displayed_fields.candidate"), ("set", "displayed_fields.candidate"),
            ("v:displayed_fields.candidate", custom[0]), ("v:displayed_fields.candidate", "email")]
    r = post(b, TEAM, kept + [("shown", "company_info"), ("set", "company_info")], TEAM)
    assert r.status_code == 200 and team_layer().values["company_info"] is False
    r = post(b, TEAM, kept[:3] + [("shown", "company_info")], TEAM)
    assert r.status_code == 422 and "refresh the options" in r.get_data(as_text=True)
    assert team_layer().values["company_info"] is False
    r = post(b, TEAM, kept + [("shown", "company_info")], TEAM)
    # Unticking "set" goes back to the default.
    r = post(b, TEAM, [("shown", "add_candidate"), ("v:add_candidate", "reply")], TEAM)
    assert r.status_code == 200
    assert team_layer().values == {"displayed_fields.candidate": [custom[0], "email"]}


@pytest.mark.parametrize("pairs, key, message", [
    ([("shown", "default_status.candidate"), ("set", "default_status.candidate"),
      ("v:default_status.candidate", "1")], "default_status.candidate", "Not available for CATS"),
    ([("shown", "displayed_fields.candidate"), ("set", "displayed_fields.candidate"),
      ("v:displayed_fields.candidate", "no_such_field")], "displayed_fields.candidate", "Must be one of"),
    ([("shown", "add_contact"), ("set", "add_contact"), ("v:add_contact", "sometimes")], "add_contact",
     "Must be one of"),
])
def test_refused_values_write_nothing(cats_admin, pairs, key, message):
    b = cats_admin
    ok = [("shown", "sync_manual_updates"), ("set", "sync_manual_updates"), ("v:sync_manual_updates", "on")]
    r = post(b, TEAM, ok + pairs, TEAM)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and message in html
    assert html.lstrip().startswith('<form id="settings-form"')
    assert db.session.scalar(select(func.count()).select_from(SettingsLayer)) == 0


def test_lock_beats_a_personal_value_and_shows_locked(cats_admin, logged_in):
    b = cats_admin
    rb = logged_in("recruiter", team=b.user.team)
    recruiter = rb.user
    # The recruiter chose "never" before the admin locked the trigger.
    db.session.add(SettingsLayer(team_id=recruiter.team_id, user_id=recruiter.id, provider_key="cats",
                                 values={"add_candidate": "never", "sync_manual_updates": True}, locks=[]))
    db.session.commit()
    r = post(b, TEAM, [("shown", "add_candidate"), ("set", "add_candidate"), ("v:add_candidate", "interested"),
                       ("lock", "add_candidate")], TEAM)
    assert r.status_code == 200 and team_layer().locks == ["add_candidate"]

    settings = runtime_settings(recruiter, b.conn)
    assert settings.values["add_candidate"].value == "interested"
    assert settings.values["add_candidate"].layer == "team" and settings.values["add_candidate"].locked
    assert settings.values["sync_manual_updates"].layer == "user"   # unlocked personal values still apply

    html = rb.get(MINE).get_data(as_text=True)
    row = html.split('id="row-add_candidate"')[1].split('id="row-')[0]
    assert "inherited from team" in row and "Locked by your admin" in row and 'name="shown"' not in row
    assert 'class="setting setting-readonly locked"' in html
    assert "Mandatory Fields" not in html            # admin-only settings are not personal
    r = post(rb, MINE, [("shown", "add_candidate"), ("set", "add_candidate"), ("v:add_candidate", "added")], MINE)
    assert r.status_code == 422 and "Locked by your admin" in r.get_data(as_text=True)
    r = post(rb, MINE, [("shown", "mandatory_fields.candidate"), ("set", "mandatory_fields.candidate"),
                        ("v:mandatory_fields.candidate", "email")], MINE)
    assert r.status_code == 422 and "Only an admin" in r.get_data(as_text=True)
    mine = db.session.scalars(select(SettingsLayer).where(SettingsLayer.user_id == recruiter.id)).one()
    db.session.refresh(mine)
    assert mine.values == {"add_candidate": "never", "sync_manual_updates": True}


def test_recruiter_gets_403_on_the_team_page(logged_in):
    b = logged_in("recruiter")
    assert b.get(TEAM).status_code == 403
    assert b.post(TEAM, {"shown": "sync_manual_updates"}, page=MINE).status_code == 403
    assert b.get(MINE).status_code == 200
    admin = logged_in("admin")
    connect(admin.user, "http://127.0.0.1:9/v3", {"api_key": "k"})
    r = admin.client.post(TEAM, data={"shown": "sync_manual_updates", "set": "sync_manual_updates"})
    assert r.status_code == 400 and db.session.scalar(select(func.count()).select_from(SettingsLayer)) == 0
    assert "hasn't connected a CRM" in b.get(MINE).get_data(as_text=True)


def test_full_page_and_fragment(logged_in):
    b = logged_in("admin")
    connect(b.user, "http://127.0.0.1:9/v3", {"api_key": "secret-key-xyz"})
    page = b.get(TEAM)
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert "HX-Request" in page.headers.get("Vary", "")
    frag = b.get(TEAM, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert frag.lstrip().startswith('<form id="settings-form"') and "<html" not in frag
    assert "secret-key-xyz" not in page.get_data(as_text=True) + frag


def test_unreachable_crm_still_allows_settings_without_options(logged_in, run_worker):
    b = logged_in("admin")
    connect(b.user, "http://127.0.0.1:9/v3", {"api_key": "k"})
    b.get(TEAM)
    run_worker()
    html = b.get(TEAM).get_data(as_text=True)
    assert "Couldn't reach CATS" in html
    row = html.split('id="row-displayed_fields-candidate"')[1].split('id="row-')[0]
    assert 'name="shown"' not in row
    r = post(b, TEAM, [("shown", "sync_manual_updates"), ("set", "sync_manual_updates"),
                       ("v:sync_manual_updates", "on")], TEAM)
    assert r.status_code == 200 and team_layer().values == {"sync_manual_updates": True}
    # An option-backed value can't be checked now, so it is refused rather than stored unchecked.
    r = post(b, TEAM, [("shown", "displayed_fields.candidate"), ("set", "displayed_fields.candidate"),
                       ("v:displayed_fields.candidate", "email")], TEAM)
    assert r.status_code == 422 and team_layer().values == {"sync_manual_updates": True}


def test_refresh_from_crm_reloads_the_options(cats_admin, run_worker):
    b = cats_admin
    r = post(b, f"{TEAM}/options/refresh", [], TEAM)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'hx-trigger="load delay:1s"' in html and "Loading fields" in html
    run_worker()
    frag = b.get(f"{TEAM}/options", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-trigger" not in frag and options_of(frag, "v:mandatory_fields.contact")


@pytest.mark.parametrize("key, record_label, setting", [
    ("tracker", "Contact", "Add Candidate to Tracker"),
    ("smartrecruiters", "Candidate", "Job status whitelist"),
    ("itris", "Applicant", "Default Status"),
    ("pinpoint", "Application", "Add Application to Pinpoint"),
])
def test_every_crm_loads_its_options_and_speaks_its_vocabulary(logged_in, sandbox, run_worker, key,
                                                              record_label, setting):
    import importlib
    module = importlib.import_module(f"sandbox.{key}")
    server = sandbox(key)
    b = logged_in("admin")
    connect(b.user, server.base + module.API_ROOT, dict(module.DEFAULT_CREDENTIALS), key=key)
    b.get(TEAM)
    run_worker()
    html = b.get(TEAM).get_data(as_text=True)
    assert "Couldn't reach" not in html and "Loading fields" not in html, html.split('id="crm-options"')[1][:400]
    assert setting in html and f"<h2>{record_label} fields</h2>" in html
    rt = {"tracker": "candidate", "smartrecruiters": "candidate", "itris": "applicant", "pinpoint": "application"}[key]
    assert options_of(html, f"v:displayed_fields.{rt}"), "fields read from the CRM"
