"""Malformed input the issue lists, each a clear 4xx and never a 500: ids past the database's integer
range, "[" in URLs, a lone surrogate or a NUL in a field, 5,000-deep JSON, and a LinkedIn URL that a
browser reads as another host."""
from __future__ import annotations

import json

import pytest

from attack_support import Client, team_with_campaign
from core import db
from models import Person
from services.tokens import issue_token


@pytest.fixture
def world(app):
    _team, user, campaign = team_with_campaign("admin", "ada@example.com")
    _row, token = issue_token(user)
    return {"client": Client(app).login_as(user), "token": token, "campaign": campaign, "user": user}


@pytest.mark.parametrize("big", [2**31, 2**63, 10**30])
def test_ids_past_the_integer_range_are_404_never_500(world, big):
    c = world["client"]
    for url in (f"/campaigns/{big}", f"/people/{big}", f"/intents/{big}/status"):
        assert c.get(url).status_code == 404, url
    assert c.post(f"/campaigns/{big}/members", {"first_name": "x"}).status_code == 404
    assert c.get(f"/activity?page={big}").status_code == 200


def test_a_lone_surrogate_or_nul_in_panel_json_is_422_naming_the_field(world):
    headers = {"Authorization": f"Bearer {world['token']}", "Content-Type": "application/json"}
    for bad in ('"Ad\\ud800a"', '"Ad\\u0000a"'):
        body = '{"campaign_id": %d, "profile": {"first_name": %s}}' % (world["campaign"].id, bad)
        r = world["client"].http.post("/panel/api/enrol", data=body, headers=headers)
        assert r.status_code == 422 and "profile.first_name" in r.get_json()["message"], r.get_data(as_text=True)
    assert db.session.query(Person).count() == 0


def test_a_nul_in_a_form_field_is_422(world):
    r = world["client"].post(f"/campaigns/{world['campaign'].id}/members", {"first_name": "A\x00da"})
    assert r.status_code == 422 and "first_name" in r.get_data(as_text=True)


def test_deep_json_is_a_400_not_a_crash(world):
    headers = {"Authorization": f"Bearer {world['token']}", "Content-Type": "application/json"}
    for depth in (5000, 100):
        body = "[" * depth + "]" * depth
        r = world["client"].http.post("/panel/api/enrol", data=body, headers=headers)
        assert r.status_code == 400, depth
    body = json.dumps({"campaign_id": world["campaign"].id, "profile": {"first_name": "Ada"}})
    assert world["client"].http.post("/panel/api/enrol", data=body, headers=headers).status_code == 201


@pytest.mark.parametrize("path", ["/api/v1/people/", "/api/v1/campaigns/", "/api/v1/enrolments/",
                                  "/api/v1/enrolments/1/events"])
def test_deep_or_broken_json_to_the_api_is_a_400(world, path):
    """flask-smorest parses the API's bodies with webargs, not Flask: the depth limit holds there too."""
    _row, token = issue_token(world["user"], scope="api")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for body in ("[" * 5000 + "]" * 5000, b"\xff\xfe{}"):
        r = world["client"].http.post(path, data=body, headers=headers)
        assert r.status_code == 400, (path, r.status_code)
        message = str(r.get_json()["errors"]["json"])
        assert any(m in message for m in ("nested too deeply", "not JSON in UTF-8", "Invalid JSON body")), message


@pytest.mark.parametrize("url", ["https://evil.test\\@www.linkedin.com/in/x", "https://[www.linkedin.com/in/x",
                                 "https://www.linkedin.com@evil.test/in/x", "https://user@www.linkedin.com/in/x",
                                 "https://www.linkedin.com.evil.test/in/x", "javascript://www.linkedin.com/in/x",
                                 "https://www.linkedin.com:8443/in/x", "http://[::1]/in/x"])
def test_linkedin_urls_are_checked_as_a_browser_reads_them(world, url):
    headers = {"Authorization": f"Bearer {world['token']}"}
    r = world["client"].http.post("/panel/api/enrol", headers=headers, json={
        "campaign_id": world["campaign"].id, "profile": {"first_name": "Ada", "linkedin_url": url}})
    assert r.status_code == 422 and "linkedin_url" in r.get_json()["fields"]["profile"], r.get_data(as_text=True)
    r = world["client"].post(f"/campaigns/{world['campaign'].id}/members",
                             {"first_name": "Ada", "linkedin_url": url})
    assert r.status_code == 422


def test_a_linkedin_url_is_stored_as_a_browser_reads_it(world):
    headers = {"Authorization": f"Bearer {world['token']}"}
    r = world["client"].http.post("/panel/api/enrol", headers=headers, json={
        "campaign_id": world["campaign"].id,
        "profile": {"first_name": "Ada", "linkedin_url": "HTTPS://WWW.LinkedIn.com\t/in/ada-x/"}})
    assert r.status_code == 201
    assert db.session.get(Person, r.get_json()["person_id"]).linkedin_url == "https://www.linkedin.com/in/ada-x/"
