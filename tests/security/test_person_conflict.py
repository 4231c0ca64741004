"""A profile whose email is one person's and whose LinkedIn URL is another's: every way of adding it
(the panel, the campaign page, the API) says which two people clash, and writes nothing."""
from __future__ import annotations

import json

import pytest

from attack_support import Client, team_with_campaign
from core import db, get_redis
from crypto import encrypt_credentials
from models import Connection, Enrolment, OutreachEvent, Person
from services.tokens import issue_token

CLASH = {"first_name": "Ada", "email": "ada@example.com", "linkedin_url": "https://www.linkedin.com/in/grace-h/"}


@pytest.fixture
def world(app):
    team, user, campaign = team_with_campaign("recruiter", "rita@example.com")
    db.session.add_all([Person(team_id=team.id, first_name="Ada", last_name="Lovelace",
                                         email="ada@example.com", extra={}),
                        Person(team_id=team.id, first_name="Grace", last_name="Hopper", extra={},
                               linkedin_url="https://www.linkedin.com/in/grace-h/", linkedin_key="in/grace-h")])
    db.session.commit()
    return {"client": Client(app).login_as(user), "user": user, "campaign": campaign}


def _nothing_written() -> None:
    db.session.expire_all()
    assert db.session.query(Enrolment).count() == 0 and db.session.query(OutreachEvent).count() == 0
    people = {p.first_name: p for p in db.session.query(Person)}
    assert len(people) == 2
    assert people["Ada"].linkedin_key is None and people["Grace"].email is None


def test_the_panel_add_names_both_people(world):
    _row, token = issue_token(world["user"])
    headers = {"Authorization": f"Bearer {token}"}
    r = world["client"].http.post("/panel/api/enrol", headers=headers,
                                  json={"campaign_id": world["campaign"].id, "profile": CLASH})
    assert r.status_code == 422, r.get_data(as_text=True)
    body = r.get_json()
    assert "Ada Lovelace" in str(body["fields"]) and "Grace Hopper" in str(body["fields"])
    r = world["client"].http.post("/panel/enrol", headers=headers,
                                  data={"campaign_id": world["campaign"].id, **CLASH})
    assert r.status_code == 422 and "Grace Hopper in your team has this LinkedIn profile" in r.get_data(as_text=True)
    _nothing_written()


def test_the_campaign_page_add_names_both_people(world):
    r = world["client"].post(f"/campaigns/{world['campaign'].id}/members", CLASH, htmx=True)
    page = r.get_data(as_text=True)
    assert r.status_code == 409, page
    assert "Ada Lovelace in your team has this email, but Grace Hopper has this LinkedIn profile" in page
    _nothing_written()


def test_the_api_answers_409_with_both_names(world):
    _row, token = issue_token(world["user"], scope="api")
    r = world["client"].http.post("/api/v1/people/", headers={"Authorization": f"Bearer {token}"}, json=CLASH)
    assert r.status_code == 409 and "Grace Hopper" in r.get_json()["message"]
    _nothing_written()


def test_a_profile_matching_one_person_on_both_still_adds(world):
    db.session.query(Person).filter_by(first_name="Grace").delete()
    db.session.commit()
    r = world["client"].post(f"/campaigns/{world['campaign'].id}/members", CLASH, htmx=True)
    assert r.status_code == 200
    ada = db.session.query(Person).one()
    assert ada.linkedin_key == "in/grace-h" and db.session.query(Enrolment).count() == 1


def _search_result(world, connection_id: int) -> None:
    get_redis().set("shoal:crm-search:abc123", json.dumps({
        "team_id": world["user"].team_id, "connection_id": connection_id, "record_type": "candidate",
        "filters": {"email": "ada@example.com"}, "cursor": None, "state": "done",
        "items": [{"remote_id": "77", "url": "", "fields": {"first_name": "Ada", **CLASH}}]}))


def test_adding_a_crm_search_result_leaves_the_clashing_one_out_and_says_why(world):
    conn = Connection(team_id=world["user"].team_id, provider_key="cats", base_url="http://127.0.0.1:9/v3",
                      credentials_encrypted=encrypt_credentials({"api_key": "k"}), status="connected")
    db.session.add(conn)
    db.session.commit()
    _search_result(world, conn.id)
    r = world["client"].post("/search/add", {"sid": "abc123", "campaign_id": world["campaign"].id,
                                             "remote_id": "77"}, htmx=True)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Added 0" in page and "Not added: Ada" in page and "Grace Hopper" in page
    _nothing_written()


def test_a_search_whose_crm_was_disconnected_since_is_a_409_not_a_500(world):
    _search_result(world, 12345)
    assert world["client"].get("/search/results/abc123").status_code == 409
    r = world["client"].post("/search/add", {"sid": "abc123", "campaign_id": world["campaign"].id,
                                             "remote_id": "77"}, htmx=True)
    assert r.status_code == 409 and "no longer connected" in r.get_data(as_text=True)
    _nothing_written()
