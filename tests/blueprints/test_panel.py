"""The panel blueprint through Flask's test client: token auth, CORS for the extension only,
enrolment by JSON and by htmx form, and bad input refused with nothing written."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from crypto import encrypt_credentials
from core import db
from models import Campaign, Connection, CrmLink, Enrolment, OutreachEvent, Person, SyncIntent, Team
from services.tokens import issue_token, revoke_token

EXT_ID = "ljbclocmbliiojkaaeejoblleboapmpg"
ORIGIN = f"chrome-extension://{EXT_ID}"
ADA = {"first_name": "Ada", "last_name": "Example", "email": "ada.example@example.com",
       "title": "Principal Data Engineer", "company": "Acme Analytics Ltd",
       "location": "Bristol, England, United Kingdom",
       "linkedin_url": "https://www.linkedin.com/in/ada-example/"}


@pytest.fixture
def world(app, make_user):
    """A recruiter with a token, a CATS connection and a campaign; another team with its own."""
    user = make_user("recruiter")
    conn = Connection(team_id=user.team_id, provider_key="cats", base_url="http://127.0.0.1:9/v3",
                      credentials_encrypted=encrypt_credentials({"api_key": "k"}), status="connected")
    campaign = Campaign(team_id=user.team_id, owner_id=user.id, name="Data engineers Q3", sync_as="candidate")
    other_team = Team(name="Rival Recruiting")
    db.session.add_all([conn, campaign, other_team])
    db.session.flush()
    other = make_user("admin", team=other_team)
    theirs = Campaign(team_id=other_team.id, owner_id=other.id, name="Their secret campaign")
    db.session.add(theirs)
    db.session.commit()
    _row, plain = issue_token(user)
    return {"user": user, "conn": conn, "campaign": campaign, "theirs": theirs, "token": plain,
            "other": other}


def auth(world, **extra):
    return {"Authorization": f"Bearer {world['token']}", **extra}


def counts() -> tuple[int, int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Person, Enrolment, OutreachEvent, SyncIntent))


# -- authentication ---------------------------------------------------------------------------

def test_no_token_is_401_with_instructions(app, world):
    client = app.test_client()
    r = client.get("/panel/api/me")
    assert r.status_code == 401 and "Account page" in r.get_json()["message"]
    r = client.post("/panel/profile", data=ADA, headers={"HX-Request": "true"})
    assert r.status_code == 401
    assert b"Account page" in r.data and b"extension options" in r.data
    r = client.get("/panel/api/me", headers={"Authorization": "Bearer not-a-real-token"})
    assert r.status_code == 401


def test_token_authenticates_the_user(app, world):
    r = app.test_client().get("/panel/api/me", headers=auth(world))
    assert r.status_code == 200
    body = r.get_json()
    assert body["user"]["email"] == world["user"].email
    assert body["crm"]["provider"] == "cats"


def test_revoked_token_is_401(app, world):
    client = app.test_client()
    assert client.get("/panel/api/me", headers=auth(world)).status_code == 200
    revoke_token(world["user"], _token_id(world))
    assert client.get("/panel/api/me", headers=auth(world)).status_code == 401


def _token_id(world) -> int:
    from models import ExtensionToken
    return db.session.scalars(select(ExtensionToken.id).where(
        ExtensionToken.user_id == world["user"].id)).one()


def test_session_cookie_is_never_accepted(app, world):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(world["user"].id)
        session["_fresh"] = True
    assert client.get("/panel/api/me").status_code == 401


# -- CORS -----------------------------------------------------------------------------------

def test_preflight_allows_only_the_extension(app, world):
    client = app.test_client()
    pre = {"Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "authorization, hx-request, hx-current-url, content-type"}
    r = client.options("/panel/enrol", headers={"Origin": ORIGIN, **pre})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    allowed = r.headers["Access-Control-Allow-Headers"].lower()
    for header in ("authorization", "content-type", "hx-request", "hx-current-url", "hx-target"):
        assert header in allowed
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "Origin" in r.headers["Vary"]

    r = client.options("/panel/enrol", headers={"Origin": "chrome-extension://someotherextensionid", **pre})
    assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers
    r = client.options("/panel/enrol", headers={"Origin": "https://www.linkedin.com", **pre})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_responses_carry_cors_for_the_extension_only(app, world):
    client = app.test_client()
    r = client.get("/panel/api/me", headers=auth(world, Origin=ORIGIN))
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "HX-Trigger" in r.headers["Access-Control-Expose-Headers"]
    assert "Origin" in r.headers["Vary"]
    # A refusal must be readable by the extension too, or it could not show "paste a token".
    r = client.get("/panel/api/me", headers={"Origin": ORIGIN})
    assert r.status_code == 401 and r.headers["Access-Control-Allow-Origin"] == ORIGIN
    r = client.get("/panel/api/me", headers=auth(world, Origin="https://evil.example"))
    assert "Access-Control-Allow-Origin" not in r.headers


# -- the card -------------------------------------------------------------------------------

def test_card_shows_person_campaigns_and_crm_match(app, world):
    client = app.test_client()
    r = client.post("/panel/profile", data=ADA, headers=auth(world, **{"HX-Request": "true"}))
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    for text in ("Ada Example", "Principal Data Engineer", "Acme Analytics Ltd", "Bristol", "New to Shoal",
                 "Data engineers Q3", "Don't sync", "Contact"):
        assert text in html
    assert "Their secret campaign" not in html

    client.post("/panel/api/enrol", json={"campaign_id": world["campaign"].id, "profile": ADA},
                headers=auth(world))
    person = db.session.scalars(select(Person)).one()
    db.session.add(CrmLink(team_id=person.team_id, person_id=person.id, connection_id=world["conn"].id,
                           record_type="candidate", remote_id="4711"))
    db.session.commit()
    html = client.post("/panel/profile", data={"first_name": "Ada", "linkedin_url": ADA["linkedin_url"]},
                       headers=auth(world)).get_data(as_text=True)
    assert "Already in CATS as <span class=\"crm-id\">Candidate #4711</span>" in html and "In: Data engineers Q3" in html


def test_card_escapes_scraped_markup(app, world):
    r = app.test_client().post("/panel/profile", headers=auth(world),
                               data={**ADA, "company": "<img src=x onerror=alert(1)>"})
    assert r.status_code == 200
    assert "<img src=x" not in r.get_data(as_text=True)


def test_panel_url_opened_in_a_tab_renders_a_page(app, world):
    r = app.test_client().get("/panel/", headers=auth(world))
    assert r.status_code == 200 and b"<!doctype html>" in r.data
    assert b'<div class="card" id="panel-card">' in r.data and b"Data engineers Q3" in r.data
    r = app.test_client().get("/panel/")
    assert r.status_code == 401 and b"<!doctype html>" in r.data and b'<div class="panel-error"' in r.data


# -- enrol ----------------------------------------------------------------------------------

def test_enrol_json_then_again_is_idempotent(app, world):
    client = app.test_client()
    body = {"campaign_id": world["campaign"].id, "sync_as": "candidate", "profile": ADA}
    r = client.post("/panel/api/enrol", json=body, headers=auth(world))
    assert r.status_code == 201, r.get_data(as_text=True)
    first = r.get_json()
    assert first["created"] is True and len(first["intent_ids"]) == 1
    enrolment = db.session.get(Enrolment, first["enrolment_id"])
    assert enrolment.sync_as == "candidate" and enrolment.person.email == ADA["email"]

    r = client.post("/panel/api/enrol", json=body, headers=auth(world))
    again = r.get_json()
    assert r.status_code == 200 and again["created"] is False
    assert again["enrolment_id"] == first["enrolment_id"] and again["intent_ids"] == first["intent_ids"]
    assert counts() == (1, 1, 1, 1)


def test_enrol_form_returns_polling_status(app, world):
    client = app.test_client()
    data = {**ADA, "campaign_id": str(world["campaign"].id), "sync_as": ""}
    r = client.post("/panel/enrol", data=data, headers=auth(world, **{"HX-Request": "true"}))
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html
    intent = db.session.scalars(select(SyncIntent)).one()
    assert "Added Ada Example" in html and f"/panel/intents/{intent.id}/status" in html
    assert db.session.scalars(select(Enrolment)).one().sync_as is None   # "" = the campaign's choice

    r = client.get(f"/panel/intents/{intent.id}/status", headers=auth(world, **{"HX-Request": "true"}))
    assert r.status_code == 200 and f"/panel/intents/{intent.id}/status" in r.get_data(as_text=True)
    r = client.post("/panel/enrol", data=data, headers=auth(world))
    assert "already in" in r.get_data(as_text=True) and counts() == (1, 1, 1, 1)


@pytest.mark.parametrize("api", [True, False], ids=["json", "form"])
def test_an_add_racing_another_clients_add_of_the_same_person_is_no_500(app, world, api):
    """Two clients add the same new person at once: the other one's person row is committed
    between this Add's check (nobody yet) and its write. The unique constraint refuses a second
    copy; Add checks again and enrols the person the other client created."""
    from sqlalchemy import event, insert

    from models import utcnow
    from services.people import linkedin_key

    engine, raced = db.engine, []

    def other_client(_conn, _cursor, statement, *_args) -> None:
        if not raced and statement.lstrip().upper().startswith("INSERT INTO PERSON"):
            raced.append(statement)
            with engine.connect() as other:   # its own connection, as another web process's
                other.execute(insert(Person.__table__).values(
                    team_id=world["user"].team_id, first_name="Ada", last_name="Example", email=ADA["email"],
                    linkedin_url=ADA["linkedin_url"], linkedin_key=linkedin_key(ADA["linkedin_url"]), extra={},
                    created_at=utcnow(), updated_at=utcnow()))
                other.commit()

    event.listen(engine, "before_cursor_execute", other_client)
    try:
        client = app.test_client()
        if api:
            r = client.post("/panel/api/enrol", headers=auth(world),
                            json={"campaign_id": world["campaign"].id, "profile": ADA})
        else:
            r = client.post("/panel/enrol", data={**ADA, "campaign_id": str(world["campaign"].id)},
                            headers=auth(world, **{"HX-Request": "true"}))
    finally:
        event.remove(engine, "before_cursor_execute", other_client)
    assert raced, "the other client's insert never ran: this test tested nothing"
    assert r.status_code == (201 if api else 200), r.get_data(as_text=True)
    db.session.expire_all()
    person = db.session.scalars(select(Person)).one()          # one person: the other client's
    enrolment = db.session.scalars(select(Enrolment)).one()
    assert enrolment.person_id == person.id and counts() == (1, 1, 1, 1)
    if not api:
        assert "Added Ada Example" in r.get_data(as_text=True)


def test_preview_shows_what_would_be_written_and_writes_nothing(app, world):
    from models import SettingsLayer
    client = app.test_client()
    campaign = world["campaign"]
    campaign.sync_override, campaign.sync_options = {"add_candidate": "added"}, {"tags": ["python"]}
    db.session.add(SettingsLayer(team_id=campaign.team_id, provider_key="cats",
                                 values={"mandatory_fields.candidate": ["phone"]}))
    db.session.commit()
    data = {**ADA, "campaign_id": str(campaign.id)}
    html = client.post("/panel/preview", data=data, headers=auth(world)).get_data(as_text=True)
    assert "Refused" in html and "Missing mandatory fields:" in html and "Phone" in html

    html = client.post("/panel/preview", data={**data, "phone": "+44 117 496 0000"},
                       headers=auth(world)).get_data(as_text=True)
    assert "Will be written" in html and "Create Candidate in CATS" in html
    # The CRM's tag names aren't loaded in this test (no worker ran): never the tag's id instead.
    assert "Add tags: (names still loading from the CRM)" in html and "python" not in html
    html = client.post("/panel/preview", data={**data, "sync_as": "none"},
                       headers=auth(world)).get_data(as_text=True)
    assert "Not synced" in html
    r = client.post("/panel/preview", data={**data, "campaign_id": str(world["theirs"].id)},
                    headers=auth(world))
    assert r.status_code == 404
    r = client.post("/panel/preview", data={**data, "first_name": "<b>"}, headers=auth(world))
    assert r.status_code == 422
    assert counts() == (0, 0, 0, 0)


BAD_PROFILES = [
    ("no name", {k: v for k, v in ADA.items() if k != "first_name"}, 422),
    ("blank name", {**ADA, "first_name": "   "}, 422),
    ("script in name", {**ADA, "first_name": "<script>alert(1)</script>"}, 422),
    ("angle in last name", {**ADA, "last_name": "Ex>ample"}, 422),
    ("bad email", {**ADA, "email": "not-an-email"}, 422),
    ("not linkedin", {**ADA, "linkedin_url": "https://evil.example/in/ada"}, 422),
    ("linkedin lookalike", {**ADA, "linkedin_url": "https://linkedin.com.evil.example/in/ada"}, 422),
    ("long title", {**ADA, "title": "x" * 201}, 422),
    ("unknown field", {**ADA, "salary": "lots"}, 422),
    ("ten megabytes", {**ADA, "company": "x" * (10 * 1024 * 1024)}, 400),
]


@pytest.mark.parametrize("label,profile,status", BAD_PROFILES, ids=[b[0] for b in BAD_PROFILES])
def test_enrol_json_refuses_bad_profiles(app, world, label, profile, status):
    r = app.test_client().post("/panel/api/enrol", headers=auth(world),
                               json={"campaign_id": world["campaign"].id, "profile": profile})
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    assert r.get_json()["message"] and r.get_json()["error"] in ("Bad Request", "Unprocessable Entity")
    assert counts() == (0, 0, 0, 0)


@pytest.mark.parametrize("label,profile,status", [b for b in BAD_PROFILES if b[0] != "unknown field"],
                         ids=[b[0] for b in BAD_PROFILES if b[0] != "unknown field"])
def test_enrol_form_refuses_bad_profiles(app, world, label, profile, status):
    data = {**profile, "campaign_id": str(world["campaign"].id)}
    r = app.test_client().post("/panel/enrol", data=data, headers=auth(world, **{"HX-Request": "true"}))
    assert r.status_code == status
    assert b'id="panel-error"' in r.data
    assert counts() == (0, 0, 0, 0)


@pytest.mark.parametrize("body", [b"not json at all", b"[1, 2, 3]", b'"just a string"', b"{"])
def test_enrol_json_needs_a_json_object(app, world, body):
    r = app.test_client().post("/panel/api/enrol", data=body, content_type="application/json",
                               headers=auth(world))
    assert r.status_code == 400 and "JSON object" in r.get_json()["message"]
    assert counts() == (0, 0, 0, 0)


def test_enrol_refuses_unknown_sync_as_and_missing_campaign(app, world):
    client = app.test_client()
    r = client.post("/panel/api/enrol", headers=auth(world),
                    json={"campaign_id": world["campaign"].id, "sync_as": "applicant", "profile": ADA})
    assert r.status_code == 422 and "sync_as" in r.get_json()["fields"]
    r = client.post("/panel/api/enrol", headers=auth(world), json={"profile": ADA})
    assert r.status_code == 422 and "campaign_id" in r.get_json()["fields"]
    r = client.post("/panel/enrol", headers=auth(world), data={**ADA, "campaign_id": "abc"})
    assert r.status_code == 422 and b"Campaign" in r.data
    for bad_id in (0, -1, True, 10**20, "1; drop table campaign"):
        r = client.post("/panel/api/enrol", headers=auth(world), json={"campaign_id": bad_id, "profile": ADA})
        assert r.status_code == 422, bad_id
    assert client.get(f"/panel/intents/{10**20}/status", headers=auth(world)).status_code == 404
    assert counts() == (0, 0, 0, 0)


def test_other_teams_campaign_and_intent_are_404(app, world):
    client = app.test_client()
    theirs = world["theirs"].id
    r = client.post("/panel/api/enrol", json={"campaign_id": theirs, "profile": ADA}, headers=auth(world))
    assert r.status_code == 404
    r = client.post("/panel/enrol", data={**ADA, "campaign_id": str(theirs)}, headers=auth(world))
    assert r.status_code == 404 and b"campaign" in r.data
    r = client.post("/panel/api/enrol", json={"campaign_id": 999999, "profile": ADA}, headers=auth(world))
    assert r.status_code == 404
    assert counts() == (0, 0, 0, 0)

    # The other team's sync intent is invisible to us, by id.
    db.session.add(Connection(team_id=world["other"].team_id, provider_key="cats", status="connected",
                              base_url="http://127.0.0.1:9/v3"))
    db.session.commit()
    _row, their_token = issue_token(world["other"])
    r = client.post("/panel/api/enrol", json={"campaign_id": theirs, "profile": ADA},
                    headers={"Authorization": f"Bearer {their_token}"})
    assert r.status_code == 201
    (their_intent,) = r.get_json()["intent_ids"]
    assert client.get(f"/panel/intents/{their_intent}/status", headers=auth(world)).status_code == 404
    assert client.get(f"/panel/intents/{their_intent}/status",
                      headers={"Authorization": f"Bearer {their_token}"}).status_code == 200


def test_json_api_is_csrf_exempt_but_token_bound(app, world):
    # WTF_CSRF_ENABLED is on in the test app: a panel POST without a CSRF token still works...
    r = app.test_client().post("/panel/api/enrol", headers=auth(world),
                               data=json.dumps({"campaign_id": world["campaign"].id, "profile": ADA}),
                               content_type="application/json")
    assert r.status_code == 201
    # ...because it needs the bearer token instead.
    r = app.test_client().post("/panel/api/enrol", data=json.dumps({"campaign_id": 1, "profile": ADA}),
                               content_type="application/json")
    assert r.status_code == 401
