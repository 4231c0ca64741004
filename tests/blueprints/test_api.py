"""The JSON API (/api/v1) through the Flask test client: API tokens (401 without one, an extension
token is not an API token, revoked means refused), team scoping (another team's ids are 404),
per-field 422s, create/read of campaigns, people, enrolments and events, idempotent event posting,
the OpenAPI document, the CLI and the Account page's token list."""
from __future__ import annotations

from sqlalchemy import func, select

from core import db
from models import ExtensionToken, OutreachEvent, SyncIntent, User
from services.tokens import issue_token
from sync_support import connect


def api(client, token):
    headers = {"Authorization": f"Bearer {token}"}

    class Api:
        def get(self, url, **kw):
            return client.get("/api/v1" + url, headers={**headers, **kw.pop("headers", {})}, **kw)

        def post(self, url, json=None, **kw):
            return client.post("/api/v1" + url, json=json, headers={**headers, **kw.pop("headers", {})}, **kw)
    return Api()


def events(kind=None):
    q = select(func.count()).select_from(OutreachEvent)
    if kind:
        q = q.where(OutreachEvent.kind == kind)
    return db.session.scalar(q)


def test_no_token_wrong_token_extension_token_and_revoked_token_are_401(app, make_user):
    user = make_user("recruiter")
    client = app.test_client()
    assert client.get("/api/v1/campaigns/").status_code == 401
    assert api(client, "shoal_api_nope").get("/campaigns/").status_code == 401
    _row, ext = issue_token(user)                       # the panel's token is not an API token
    assert api(client, ext).get("/campaigns/").status_code == 401
    row, token = issue_token(user, scope="api")
    assert api(client, token).get("/campaigns/").status_code == 200
    row.revoked_at = row.created_at
    db.session.commit()
    r = api(client, token).get("/campaigns/")
    assert r.status_code == 401 and r.get_json()["status"] == "Unauthorized"
    # Nor does the login session stand in for a token.
    r = client.post("/api/v1/people/", json={"first_name": "Ada"})
    assert r.status_code == 401


def test_people_campaigns_enrolments_and_events_round_trip(app, make_user):
    user = make_user("recruiter")
    a = api(app.test_client(), issue_token(user, scope="api")[1])
    r = a.post("/campaigns/", {"name": "Compilers", "type": "email"})
    assert r.status_code == 201, r.get_json()
    camp = r.get_json()
    assert camp["sync_as"] == "none" and a.get(f"/campaigns/{camp['id']}").get_json()["name"] == "Compilers"

    r = a.post("/people/", {"first_name": "Ada", "last_name": "Lovelace", "email": "ADA@example.com"})
    assert r.status_code == 201
    person = r.get_json()
    assert person["email"] == "ada@example.com" and person["has_cv"] is False and person["crm_links"] == []
    again = a.post("/people/", {"first_name": "Ada", "email": "ada@example.com"})
    assert again.status_code == 200 and again.get_json()["id"] == person["id"]
    assert [p["id"] for p in a.get("/people/?email=ada@example.com").get_json()] == [person["id"]]

    r = a.post("/enrolments/", {"campaign_id": camp["id"], "person_id": person["id"]})
    assert r.status_code == 201 and r.get_json()["created"] is True
    enrolment = r.get_json()
    assert a.post("/enrolments/", {"campaign_id": camp["id"], "person_id": person["id"]}).status_code == 200
    r = a.post("/enrolments/", {"campaign_id": camp["id"],
                                "person": {"first_name": "Grace", "email": "grace@example.com"}})
    assert r.status_code == 201
    assert len(a.get(f"/enrolments/?campaign_id={camp['id']}").get_json()) == 2

    r = a.post(f"/enrolments/{enrolment['id']}/events", {"kind": "reply", "body": "Keen to talk"})
    assert r.status_code == 201, r.get_json()
    ev = r.get_json()
    assert ev["kind"] == "reply" and ev["sync"] == []          # no CRM connected: nothing to sync
    assert a.get(f"/events/{ev['id']}").get_json()["body"] == "Keen to talk"
    assert [e["kind"] for e in a.get(f"/enrolments/{enrolment['id']}/events").get_json()] == ["added", "reply"]


def test_events_go_through_the_sync_engine(app, make_user, sandbox, run_worker):
    from people_support import candidates, notes_on
    from sync_support import campaign

    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    camp = campaign(user, sync_override={"add_candidate": "interested"})
    a = api(app.test_client(), issue_token(user, scope="api")[1])
    enrolment = a.post("/enrolments/", {"campaign_id": camp.id, "person": {
        "first_name": "Ada", "last_name": "Lovelace", "email": "ada9@example.com"}}).get_json()
    a.post(f"/enrolments/{enrolment['id']}/events", {"kind": "reply", "body": "Tell me more"})
    ev = a.post(f"/enrolments/{enrolment['id']}/events", {"kind": "interested", "body": "Yes please"}).get_json()
    assert ev["sync"][0]["state"] in ("queued", "pending")
    run_worker()
    [cand] = candidates(server, "ada9@example.com")
    assert ["Tell me more" in n["notes"] or "Yes please" in n["notes"] for n in notes_on(server, cand)] == [True, True]
    assert a.get(f"/events/{ev['id']}").get_json()["sync"][0]["state"] == "synced"


def test_idempotency_key_records_the_event_once(app, make_user):
    user = make_user("recruiter")
    a = api(app.test_client(), issue_token(user, scope="api")[1])
    camp = a.post("/campaigns/", {"name": "C"}).get_json()
    enr = a.post("/enrolments/", {"campaign_id": camp["id"], "person": {"first_name": "Ada"}}).get_json()
    url, body = f"/enrolments/{enr['id']}/events", {"kind": "interested", "body": "Yes"}
    first = a.post(url, body, headers={"Idempotency-Key": "sync-7781"})
    second = a.post(url, body, headers={"Idempotency-Key": "sync-7781"})
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    assert first.headers["Idempotent-Replayed"] == "false" and second.headers["Idempotent-Replayed"] == "true"
    assert events("interested") == 1
    r = a.post(url, {"kind": "interested", "body": "Different"}, headers={"Idempotency-Key": "sync-7781"})
    assert r.status_code == 409 and "different request" in r.get_json()["message"]
    a.post(url, body, headers={"Idempotency-Key": "sync-7782"})
    assert events("interested") == 2
    # Keys are per team: another team's identical key is its own.
    other = api(app.test_client(), issue_token(make_user("recruiter"), scope="api")[1])
    c2 = other.post("/campaigns/", {"name": "C"}).get_json()
    e2 = other.post("/enrolments/", {"campaign_id": c2["id"], "person": {"first_name": "Bo"}}).get_json()
    assert other.post(f"/enrolments/{e2['id']}/events", body, headers={"Idempotency-Key": "sync-7781"}).status_code == 201
    assert events("interested") == 3


def test_validation_errors_name_each_field_and_write_nothing(app, make_user):
    user = make_user("recruiter")
    a = api(app.test_client(), issue_token(user, scope="api")[1])
    r = a.post("/people/", {"first_name": "", "email": "nope", "linkedin_url": "https://evil.example/in/x",
                            "shoe_size": 44})
    assert r.status_code == 422
    errors = r.get_json()["errors"]["json"]
    assert {"email", "linkedin_url", "shoe_size"} <= set(errors)
    r = a.post("/campaigns/", {"name": "x" * 201, "type": "fax", "sync_as": "candidate"})
    assert r.status_code == 422 and {"name", "type"} <= set(r.get_json()["errors"]["json"])
    r = a.post("/campaigns/", {"name": "Needs a CRM", "sync_as": "candidate"})
    assert r.status_code == 422 and "sync_as" in r.get_json()["errors"]["json"]
    camp = a.post("/campaigns/", {"name": "C"}).get_json()
    enr = a.post("/enrolments/", {"campaign_id": camp["id"], "person": {"first_name": "Ada"}}).get_json()
    r = a.post(f"/enrolments/{enr['id']}/events", {"kind": "carrier_pigeon"})
    assert r.status_code == 422 and "kind" in r.get_json()["errors"]["json"]
    r = a.post(f"/enrolments/{enr['id']}/events", {"kind": "reply"}, headers={"Idempotency-Key": "has space"})
    assert r.status_code == 422 and "Idempotency-Key" in r.get_json()["errors"]["headers"]
    r = a.post("/people/", {"first_name": "Nul\x00"})
    assert r.status_code == 422
    r = a.post("/enrolments/", {"campaign_id": camp["id"]})
    assert r.status_code == 422 and "person_id" in r.get_json()["errors"]["json"]
    assert events() == 1    # only the enrolment's "added"


def test_another_teams_ids_are_404(app, make_user):
    owner = api(app.test_client(), issue_token(make_user("recruiter"), scope="api")[1])
    camp = owner.post("/campaigns/", {"name": "Mine"}).get_json()
    enr = owner.post("/enrolments/", {"campaign_id": camp["id"], "person": {"first_name": "Ada"}}).get_json()
    ev = owner.post(f"/enrolments/{enr['id']}/events", {"kind": "reply"}).get_json()
    other = api(app.test_client(), issue_token(make_user("recruiter"), scope="api")[1])
    for url in (f"/campaigns/{camp['id']}", f"/people/{enr['person_id']}", f"/enrolments/{enr['id']}",
                f"/enrolments/{enr['id']}/events", f"/events/{ev['id']}", "/campaigns/99999999999999999999"):
        r = other.get(url)
        assert r.status_code == 404 and r.get_json()["code"] == 404, url
    assert other.post(f"/enrolments/{enr['id']}/events", {"kind": "reply"}).status_code == 404
    assert other.post("/enrolments/", {"campaign_id": camp["id"], "person": {"first_name": "X"}}).status_code == 404
    assert other.get("/campaigns/").get_json() == [] and other.get("/people/").get_json() == []
    assert events("reply") == 1


def test_openapi_document_is_served(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.") and doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    post = doc["paths"]["/api/v1/enrolments/{enrolment_id}/events"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in post["parameters"])
    assert {"201", "401", "404", "409", "422"} <= set(post["responses"])


def test_cli_prints_a_token_and_the_account_page_lists_and_revokes_it(app, logged_in):
    b = logged_in("recruiter")
    result = app.test_cli_runner().invoke(args=["api-token", "--email", b.user.email.upper()])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("shoal_api_")
    assert api(app.test_client(), token).get("/campaigns/").status_code == 200
    assert app.test_cli_runner().invoke(args=["api-token", "--email", "nobody@example.com"]).exit_code != 0

    page = b.get("/account/").get_data(as_text=True)
    row = db.session.scalars(select(ExtensionToken).where(ExtensionToken.scope == "api")).one()
    assert 'id="api-tokens"' in page and f'id="api-token-{row.id}"' in page
    api_row = page[page.index(f'id="api-token-{row.id}"'):]
    assert "hx-confirm=\"Revoke the token" in api_row.split("</tr>")[0]   # never revoked on one stray click
    r = b.post("/account/api-tokens", {"api_label": "Zapier"}, page="/account/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "shoal_api_" in html and "Zapier" in html
    assert b.post(f"/account/tokens/{row.id}/revoke", {}, page="/account/").status_code == 303
    assert api(app.test_client(), token).get("/campaigns/").status_code == 401
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_guessing_api_tokens_is_rate_limited_but_a_live_token_never_counts(app, make_user):
    user = make_user("recruiter")
    good = api(app.test_client(), issue_token(user, scope="api")[1])
    n = int(app.config["API_AUTH_FAILURE_RATE_LIMIT"].split()[0])
    for _ in range(n + 3):
        assert good.get("/campaigns/").status_code == 200
    for i in range(n):
        assert api(app.test_client(), f"shoal_api_guess{i}").get("/people/").status_code == 401
    r = api(app.test_client(), "shoal_api_next").get("/campaigns/")
    assert r.status_code == 429, r.get_data(as_text=True)
    assert r.get_json()["code"] == 429, r.get_json()
