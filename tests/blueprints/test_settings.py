"""Integration settings on the integration page of the team's CRM: options read from the CATS
sandbox by a worker, sections in the articles' order and words, a changed value saved without any
separate "Set" box, section (partial) saves that write all or nothing, locks and "inherited from
team", roles, and page vs fragment."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from core import db, get_redis
from crypto import encrypt_credentials
from models import Campaign, Connection, Enrolment, Person, SettingsLayer, SyncIntent
from services.push.context import load_context

TEAM = "/integrations/cats?for=team"
MINE = "/integrations/cats?for=mine"
SAVE = "/settings/{which}/sections/{section}"


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


def save(b, section: str, pairs: list[tuple[str, str]], which: str = "team"):
    page = TEAM if which == "team" else MINE
    return b.client.post(SAVE.format(which=which, section=section),
                         data=MultiDict([("csrf_token", b.token(page))] + pairs), headers={"HX-Request": "true"})


def values_of(html: str, name: str) -> list[str]:
    """The choices a control offers: checkboxes named `name`, or the options of select `name`."""
    boxes = re.findall(rf'name="{re.escape(name)}" value="([^"]+)"', html)
    if boxes:
        return boxes
    block = html.split(f'name="{name}"')[1].split("</select>")[0]
    return [v for v in re.findall(r'<option value="([^"]*)"', block) if v]


def row_of(html: str, key: str) -> str:
    dom = "row-" + key.replace(".", "-")
    return re.split(r'<div class="setting[ "]', html.split(f'id="{dom}"')[1])[0]


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


def test_sections_follow_the_articles_on_the_integration_page(cats_admin):
    html = cats_admin.get(TEAM).get_data(as_text=True)
    titles = re.findall(r'<h3 id="settings-[^"]+-title">([^<]+)</h3>', html)
    assert titles == ["Contact Settings", "Adding to CATS", "Candidate Fields", "Contact Fields", "Advanced Settings",
                      "Activity Notes",
                      "Contact Fields mapping", "General Settings"], titles
    assert "Sync manual contact updates to CATS" in html and "Add Candidate to CATS" in html
    assert "Add Contact to CATS" in html and "Displayed company warning" in html
    assert "<h4>Note creation</h4>" in html and "<h4>Displayed Company Information</h4>" in html
    assert 'id="connection-status"' in html and "For my team" in html and "For me" in html


def test_a_changed_value_is_saved_without_a_set_box_and_reaches_the_runtime(cats_admin):
    b = cats_admin
    html = b.get(TEAM).get_data(as_text=True)
    fields = values_of(html, "v:displayed_fields.candidate")
    custom = [f for f in fields if f.startswith("custom:")]
    assert "email" in fields and custom, fields
    assert values_of(html, "v:job_status_whitelist"), "job statuses from the CRM"
    # "Add Candidate" changed to "When they reply": saved, no other box to tick.
    r = save(b, "adding", [("shown", "add_candidate"), ("v:add_candidate", "reply"),
                           ("shown", "add_contact"), ("v:add_contact", "added")])
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "Saved." in body and body.lstrip().startswith('<form id="settings-adding"')
    # Only the changed value is set; the untouched one keeps following the default.
    assert team_layer().values == {"add_candidate": "reply"}
    settings = runtime_settings(b.user, b.conn)
    assert settings.values["add_candidate"].value == "reply" and settings.layer("add_candidate") == "team"
    assert settings.layer("add_contact") == "provider"
    assert "set for the team" in row_of(body, "add_candidate")
    assert "Shoal&#39;s default" in row_of(body, "add_contact") or "Shoal's default" in row_of(body, "add_contact")

    r = save(b, "fields-candidate", [("shown", "displayed_fields.candidate"),
                                     ("v:displayed_fields.candidate", custom[0]), ("v:displayed_fields.candidate", "email")])
    assert r.status_code == 200
    assert runtime_settings(b.user, b.conn).values["displayed_fields.candidate"].value == [custom[0], "email"]
    # A different section saved later leaves this one alone (partial saves).
    assert team_layer().values["add_candidate"] == "reply"

    note_types = values_of(html, "v:note_mapping.candidate:reply")
    r = save(b, "notes", [("tab", "candidate"), ("shown", "note_mapping.candidate"),
                          ("v:note_mapping.candidate:reply", note_types[0]), ("v:note_mapping.candidate:call", "")])
    assert r.status_code == 200
    assert runtime_settings(b.user, b.conn).note_type("candidate", "reply") == note_types[0]

    # "Go back to Shoal's default" un-sets a value.
    r = save(b, "adding", [("shown", "add_candidate"), ("v:add_candidate", "reply"), ("inherit", "add_candidate")])
    assert r.status_code == 200 and "add_candidate" not in team_layer().values


def test_a_section_with_one_refused_value_saves_nothing(cats_admin):
    b = cats_admin
    r = save(b, "fields-candidate", [("shown", "update_mode.candidate"), ("v:update_mode.candidate", "always"),
                                     ("shown", "displayed_fields.candidate"),
                                     ("v:displayed_fields.candidate", "no_such_field")])
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Must be one of" in row_of(html, "displayed_fields.candidate")
    assert html.lstrip().startswith('<form id="settings-fields-candidate"') and "Nothing was saved" in html
    assert 'aria-invalid="true"' in row_of(html, "displayed_fields.candidate")
    assert db.session.scalar(select(func.count()).select_from(SettingsLayer)) == 0


@pytest.mark.parametrize("section, pairs, key, message", [
    ("contact", [("shown", "default_status.candidate"), ("v:default_status.candidate", "1")],
     "default_status.candidate", "Not available for CATS"),
    ("adding", [("shown", "add_contact"), ("v:add_contact", "sometimes")], "add_contact", "Must be one of"),
])
def test_refused_values_write_nothing(cats_admin, section, pairs, key, message):
    b = cats_admin
    ok = [("shown", "sync_manual_updates"), ("v:sync_manual_updates", "on")]
    r = save(b, section, ok + pairs)
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SettingsLayer)) == 0


def test_options_expired_unchanged_values_still_save(cats_admin):
    b = cats_admin
    html = b.get(TEAM).get_data(as_text=True)
    custom = [f for f in values_of(html, "v:displayed_fields.candidate") if f.startswith("custom:")]
    kept = [("shown", "displayed_fields.candidate"), ("v:displayed_fields.candidate", custom[0])]
    assert save(b, "fields-candidate", kept).status_code == 200
    get_redis().delete(f"shoal:settings-options:{b.conn.id}")
    r = save(b, "fields-candidate", kept + [("shown", "update_mode.candidate"), ("v:update_mode.candidate", "always")])
    assert r.status_code == 200 and team_layer().values["update_mode.candidate"] == "always"
    r = save(b, "fields-candidate", [("shown", "displayed_fields.candidate"), ("v:displayed_fields.candidate", "email")])
    assert r.status_code == 422 and "refresh the options" in r.get_data(as_text=True)
    assert team_layer().values["displayed_fields.candidate"] == [custom[0]]


def test_lock_beats_a_personal_value_and_shows_inherited_from_team(cats_admin, logged_in):
    b = cats_admin
    rb = logged_in("recruiter", team=b.user.team)
    recruiter = rb.user
    # The recruiter chose "never" before the admin locked the trigger.
    db.session.add(SettingsLayer(team_id=recruiter.team_id, user_id=recruiter.id, provider_key="cats",
                                 values={"add_candidate": "never", "sync_manual_updates": True}, locks=[]))
    db.session.commit()
    r = save(b, "adding", [("shown", "add_candidate"), ("v:add_candidate", "interested"), ("lock", "add_candidate")])
    assert r.status_code == 200 and team_layer().locks == ["add_candidate"]

    settings = runtime_settings(recruiter, b.conn)
    assert settings.values["add_candidate"].value == "interested"
    assert settings.values["add_candidate"].layer == "team" and settings.values["add_candidate"].locked
    assert settings.values["sync_manual_updates"].layer == "user"   # unlocked personal values still apply

    html = rb.get(MINE).get_data(as_text=True)
    assert "For my team" not in html and "For me" in html
    row = row_of(html, "add_candidate")
    assert "inherited from team" in row and "Locked by your admin" in row and 'name="shown"' not in row
    assert "inherited from team" in row_of(html, "add_contact") or "default" in row_of(html, "add_contact")
    assert "Mandatory Fields" not in html            # admin-only settings are not personal
    r = save(rb, "adding", [("shown", "add_candidate"), ("v:add_candidate", "added")], which="mine")
    assert r.status_code == 422 and "Locked by your admin" in r.get_data(as_text=True)
    r = save(rb, "fields-candidate", [("shown", "mandatory_fields.candidate"),
                                      ("v:mandatory_fields.candidate", "email")], which="mine")
    assert r.status_code in (404, 422)
    mine = db.session.scalars(select(SettingsLayer).where(SettingsLayer.user_id == recruiter.id)).one()
    db.session.refresh(mine)
    assert mine.values == {"add_candidate": "never", "sync_manual_updates": True}


def test_a_personal_value_equal_to_the_team_s_keeps_inheriting(cats_admin, logged_in):
    b = cats_admin
    rb = logged_in("recruiter", team=b.user.team)
    assert save(b, "adding", [("shown", "add_candidate"), ("v:add_candidate", "reply")]).status_code == 200
    # The recruiter saves the section without changing anything: nothing is pinned on their layer.
    r = save(rb, "adding", [("shown", "add_candidate"), ("v:add_candidate", "reply"),
                            ("shown", "only_notes_to_synced")], which="mine")
    assert r.status_code == 200
    assert db.session.scalars(select(SettingsLayer).where(SettingsLayer.user_id == rb.user.id)).first() is None \
        or not db.session.scalars(select(SettingsLayer).where(SettingsLayer.user_id == rb.user.id)).one().values
    assert save(b, "adding", [("shown", "add_candidate"), ("v:add_candidate", "interested")]).status_code == 200
    assert runtime_settings(rb.user, b.conn).values["add_candidate"].value == "interested"


def test_roles(logged_in):
    b = logged_in("recruiter")
    admin = logged_in("admin", team=b.user.team)
    assert b.get("/integrations/cats").status_code == 403          # no CRM yet: nothing for a recruiter
    connect(admin.user, "http://127.0.0.1:9/v3", {"api_key": "k"})
    assert b.get("/integrations/cats").status_code == 200
    assert b.get("/integrations/tracker").status_code == 403
    assert b.get("/settings/team", headers={"HX-Request": "true"}).status_code == 403
    r = b.post(SAVE.format(which="team", section="contact"), {"shown": "sync_manual_updates"}, page=MINE)
    assert r.status_code == 403
    page = b.get(MINE).get_data(as_text=True)
    assert 'id="connect-form"' in page and "Activate" not in page and "Disconnect" not in page
    # Without a CSRF token nothing is written.
    r = admin.client.post(SAVE.format(which="team", section="contact"),
                          data={"shown": "sync_manual_updates", "v:sync_manual_updates": "on"})
    assert r.status_code == 400 and db.session.scalar(select(func.count()).select_from(SettingsLayer)) == 0


def test_no_crm_yet(logged_in):
    b = logged_in("admin")
    r = b.get("/settings/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/integrations/")
    assert b.get("/settings/team/sections/contact", headers={"HX-Request": "true"}).status_code == 409


def test_full_page_and_fragments(logged_in):
    b = logged_in("admin")
    connect(b.user, "http://127.0.0.1:9/v3", {"api_key": "secret-key-xyz"})
    r = b.get("/settings/")
    assert r.status_code == 302 and "/integrations/cats?for=team" in r.headers["Location"]
    page = b.get(TEAM)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and 'id="crm-settings"' in html
    assert "HX-Request" in page.headers.get("Vary", "")
    whole = b.get(TEAM, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in whole and '<section id="connect">' in whole and 'id="crm-settings"' in whole
    frag = b.get("/settings/mine", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert frag.lstrip().startswith('<section id="crm-settings"') and "<html" not in frag
    assert 'aria-selected="true"' in frag.split("For me")[0].rsplit("<a", 1)[1]
    assert b.get("/settings/mine").status_code == 302              # a plain visit goes to the page
    section = b.get("/settings/team/sections/notes?tab=contact", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert section.lstrip().startswith('<form id="settings-notes"') and 'value="contact"' in section
    assert b.get("/settings/team/sections/nope", headers={"HX-Request": "true"}).status_code == 404
    assert b.get("/settings/other", headers={"HX-Request": "true"}).status_code == 404
    assert "secret-key-xyz" not in html + frag


def test_unreachable_crm_still_allows_settings_without_options(logged_in, run_worker):
    b = logged_in("admin")
    connect(b.user, "http://127.0.0.1:9/v3", {"api_key": "k"})
    b.get(TEAM)
    run_worker()
    html = b.get(TEAM).get_data(as_text=True)
    assert "Couldn't reach CATS" in html
    assert 'name="shown"' not in row_of(html, "displayed_fields.candidate")
    r = save(b, "contact", [("shown", "sync_manual_updates"), ("v:sync_manual_updates", "on")])
    assert r.status_code == 200 and team_layer().values == {"sync_manual_updates": True}
    # An option-backed value can't be checked now, so it is refused rather than stored unchecked.
    r = save(b, "fields-candidate", [("shown", "displayed_fields.candidate"), ("v:displayed_fields.candidate", "email")])
    assert r.status_code == 422 and team_layer().values == {"sync_manual_updates": True}


def test_refresh_from_crm_reloads_the_options(cats_admin, run_worker):
    b = cats_admin
    r = b.client.post("/settings/team/options/refresh", data={"csrf_token": b.token(TEAM)},
                      headers={"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'hx-trigger="load delay:1s"' in html and "Loading fields" in html
    run_worker()
    frag = b.get("/settings/team/options", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="load delay:1s"' not in frag and 'hx-swap-oob="true"' in frag
    assert values_of(frag, "v:mandatory_fields.contact")
    # A section whose every row waited for the options (Contact Fields) had no Save button: it comes
    # with the rows, out of band, or the section could never be saved without a reload.
    actions = re.search(r'<div class="section-actions" id="settings-mapping-actions" hx-swap-oob="true">(.*?)</div>',
                        frag, re.S)
    assert actions and "<button type=\"submit\">Save contact fields mapping</button>" in actions.group(1)


@pytest.mark.parametrize("key, sections, setting", [
    ("tracker", ["Contact Settings", "Adding to Tracker", "Candidate Fields", "Contact Fields"], "Add Candidate to Tracker"),
    ("smartrecruiters", ["Contact Settings", "Adding to SmartRecruiters", "Candidate Fields", "Advanced Settings",
                         "Activity Notes", "Contact Fields", "General Settings"], "Job status whitelist"),
    ("itris", ["Contact Settings", "Adding to itris", "Applicant Fields", "Contact Fields", "Applicant Status"],
     "Default Status"),
    ("pinpoint", ["Contact Settings", "Adding to Pinpoint", "Application Fields"], "Add Application to Pinpoint"),
])
def test_every_crm_loads_its_options_and_speaks_its_vocabulary(logged_in, sandbox, run_worker, key, sections, setting):
    import importlib
    module = importlib.import_module(f"sandbox.{key}")
    server = sandbox(key)
    b = logged_in("admin")
    connect(b.user, server.base + module.API_ROOT, dict(module.DEFAULT_CREDENTIALS), key=key)
    b.get(f"/integrations/{key}")
    run_worker()
    html = b.get(f"/integrations/{key}").get_data(as_text=True)
    assert "Couldn't reach" not in html and "Loading fields" not in html, html.split('id="crm-options"')[1][:400]
    titles = re.findall(r'<h3 id="settings-[^"]+-title">([^<]+)</h3>', html)
    assert [t for t in titles if t in sections] == sections, titles
    assert setting in html
    rt = {"tracker": "candidate", "smartrecruiters": "candidate", "itris": "applicant", "pinpoint": "application"}[key]
    assert values_of(html, f"v:displayed_fields.{rt}"), "fields read from the CRM"


def validate(b, key: str, pairs: list[tuple[str, str]], which: str = "team"):
    page = TEAM if which == "team" else MINE
    return b.client.post(f"/settings/{which}/validate", headers={"HX-Request": "true"},
                         data=MultiDict([("csrf_token", b.token(page)), ("row", key)] + pairs))


def test_a_setting_is_checked_as_the_user_leaves_it_and_nothing_is_saved(cats_admin, logged_in):
    """Inline validation: the row's controls post the section to /validate on change; the answer is
    the row's message slot with what a save would say, and nothing is written."""
    b = cats_admin
    html = b.get(TEAM).get_data(as_text=True)
    row = row_of(html, "displayed_fields.candidate")
    assert 'hx-post="/settings/team/validate"' in row and 'hx-trigger="change"' in row
    assert 'hx-target="#row-displayed_fields-candidate-errors"' in row
    assert 'id="row-displayed_fields-candidate-errors"' in row
    section = [("shown", "update_mode.candidate"), ("v:update_mode.candidate", "always"),
               ("shown", "displayed_fields.candidate"), ("v:displayed_fields.candidate", "no_such_field")]
    r = validate(b, "displayed_fields.candidate", section)
    frag = r.get_data(as_text=True)
    assert r.status_code == 200 and frag.startswith('<div class="row-errors" id="row-displayed_fields-candidate-errors"')
    assert "Must be one of" in frag and "<html" not in frag
    # Another row of the same section, fine as it stands: an empty slot (the bad one is not its business).
    frag = validate(b, "update_mode.candidate", section).get_data(as_text=True)
    assert 'id="row-update_mode-candidate-errors"' in frag and "field-error" not in frag
    assert db.session.scalar(select(func.count()).select_from(SettingsLayer)) == 0      # nothing saved
    # A save of the same values says the same thing.
    assert "Must be one of" in row_of(save(b, "fields-candidate", section).get_data(as_text=True),
                                      "displayed_fields.candidate")

    # Locked by the admin: a recruiter's personal value is refused as they leave the field.
    assert save(b, "adding", [("shown", "add_candidate"), ("v:add_candidate", "reply"),
                              ("lock", "add_candidate")]).status_code == 200
    rb = logged_in("recruiter", team=b.user.team)
    frag = validate(rb, "add_candidate", [("shown", "add_candidate"), ("v:add_candidate", "added")],
                    which="mine").get_data(as_text=True)
    assert "Locked by your admin" in frag
    assert db.session.scalars(select(SettingsLayer).where(SettingsLayer.user_id == rb.user.id)).first() is None
    assert validate(b, "no_such_setting", []).status_code == 404
