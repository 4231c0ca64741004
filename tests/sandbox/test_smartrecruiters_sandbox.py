"""The SmartRecruiters sandbox over a real socket, with plain `requests` (never through providers/)."""
from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

KEY = "smartrecruiters-sandbox-key"
H = {"X-SmartToken": KEY}
CLIENT = ("shoal-sandbox-client", "shoal-sandbox-secret")
REDIRECT = "http://127.0.0.1:9/oauth/callback"


@pytest.fixture
def sr(sandbox) -> str:
    """The sandbox with its 10 req/s window lifted, so functional tests don't trip it; the rate
    tests use `sr_limited` (reset restores the documented budget)."""
    base = sandbox("smartrecruiters").base
    requests.post(f"{base}/__sandbox/rate_limit", json={"calls": 0}, timeout=5)
    return base


@pytest.fixture
def sr_limited(sandbox) -> str:
    return sandbox("smartrecruiters").base


def api(method: str, url: str, **kwargs) -> requests.Response:
    """One API call with the sandbox's key."""
    return requests.request(method, url, headers={**H, **kwargs.pop("headers", {})}, timeout=10, **kwargs)


def person(**extra) -> dict:
    return {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", **extra}


def create(base: str, **extra) -> dict:
    r = api("POST", f"{base}/candidates", json=person(**extra))
    assert r.status_code == 201, r.text
    return r.json()


def state(base: str) -> dict:
    return requests.get(f"{base}/__sandbox/state", timeout=5).json()["tables"]


class FormParser(HTMLParser):
    """The consent page's form: its action, hidden inputs and submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.action, self.fields, self.buttons = "", {}, {}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "form":
            self.action = a["action"]
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "button":
            self.buttons[a["value"]] = a["name"]


def consent(base: str, decision: str = "allow", state_value: str = "xyz") -> requests.Response:
    page = requests.get(f"{base}/identity/oauth/allow", timeout=5, params={
        "client_id": CLIENT[0], "redirect_uri": REDIRECT, "scope": "candidates_read candidates_manage",
        "state": state_value, "response_type": "code"})
    assert page.status_code == 200 and "Allow access" in page.text and "candidates_manage" in page.text
    form = FormParser()
    form.feed(page.text)
    data = {**form.fields, form.buttons[decision]: decision}
    return requests.post(base + form.action, data=data, allow_redirects=False, timeout=5)


def test_api_key_ok_wrong_or_missing_is_401_in_the_sr_error_body(sr):
    me = api("GET", f"{sr}/users/me")
    assert me.status_code == 200 and me.json()["email"]
    for headers in ({"X-SmartToken": "nope"}, {}, {"Authorization": f"Bearer {KEY}"}):
        r = requests.get(f"{sr}/candidates", headers=headers, timeout=5)
        assert r.status_code == 401
        assert r.json()["errors"][0]["code"] == "UNAUTHORIZED" and r.json()["message"]


def test_oauth_consent_code_token_refresh_end_to_end(sr):
    r = consent(sr)
    assert r.status_code == 302
    loc = urlsplit(r.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == REDIRECT
    query = parse_qs(loc.query)
    assert query["state"] == ["xyz"]
    code = query["code"][0]

    tok = requests.post(f"{sr}/identity/oauth/token", timeout=5, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": CLIENT[0], "client_secret": CLIENT[1]})
    assert tok.status_code == 200, tok.text
    body = tok.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0 and body["refresh_token"]
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert requests.get(f"{sr}/users/me", headers=bearer, timeout=5).status_code == 200

    again = requests.post(f"{sr}/identity/oauth/token", timeout=5, data={
        "grant_type": "authorization_code", "code": code, "client_id": CLIENT[0], "client_secret": CLIENT[1]})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"     # codes are single use

    # Refresh with HTTP Basic client auth: a new pair; the old refresh token is dead (rotation).
    new = requests.post(f"{sr}/identity/oauth/token", auth=CLIENT, timeout=5,
                        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]})
    assert new.status_code == 200 and new.json()["refresh_token"] != body["refresh_token"]
    stale = requests.post(f"{sr}/identity/oauth/token", auth=CLIENT, timeout=5,
                          data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]})
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"

    # Expired tokens are 401 until the client refreshes.
    requests.post(f"{sr}/__sandbox/smartrecruiters/expire_tokens", timeout=5)
    fresh_bearer = {"Authorization": f"Bearer {new.json()['access_token']}"}
    assert requests.get(f"{sr}/users/me", headers=fresh_bearer, timeout=5).status_code == 401
    renewed = requests.post(f"{sr}/identity/oauth/token", auth=CLIENT, timeout=5,
                            data={"grant_type": "refresh_token",
                                  "refresh_token": new.json()["refresh_token"]})
    assert requests.get(f"{sr}/candidates", timeout=5, headers={
        "Authorization": f"Bearer {renewed.json()['access_token']}"}).status_code == 200


def test_short_token_lifetime_expires_on_its_own(sr):
    requests.post(f"{sr}/__sandbox/smartrecruiters/token_lifetime", json={"seconds": 1}, timeout=5)
    tok = requests.post(f"{sr}/identity/oauth/token", auth=CLIENT, data={"grant_type": "client_credentials"},
                        timeout=5).json()
    assert tok["expires_in"] == 1 and "refresh_token" not in tok
    bearer = {"Authorization": f"Bearer {tok['access_token']}"}
    assert requests.get(f"{sr}/users/me", headers=bearer, timeout=5).status_code == 200
    time.sleep(1.2)
    assert requests.get(f"{sr}/users/me", headers=bearer, timeout=5).status_code == 401


def test_oauth_refusals_deny_unknown_client_wrong_secret_bad_grant(sr):
    denied = consent(sr, decision="deny")
    assert denied.status_code == 302 and parse_qs(urlsplit(denied.headers["Location"]).query) == {
        "error": ["access_denied"], "state": ["xyz"]}
    bad_client = requests.get(f"{sr}/identity/oauth/allow", allow_redirects=False, timeout=5,
                              params={"client_id": "evil", "redirect_uri": REDIRECT, "response_type": "code"})
    assert bad_client.status_code == 400 and "Location" not in bad_client.headers
    wrong = requests.post(f"{sr}/identity/oauth/token", auth=(CLIENT[0], "wrong"),
                          data={"grant_type": "client_credentials"}, timeout=5)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    grant = requests.post(f"{sr}/identity/oauth/token", auth=CLIENT, data={"grant_type": "password"},
                          timeout=5)
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    assert "oauth_tokens" not in state(sr)


def test_create_returns_full_candidate_then_get_patch_and_keyword_search(sr):
    made = create(sr, phoneNumber="+44 20 1234", location={"city": "London", "countryCode": "gb"},
                  web={"linkedin": "https://www.linkedin.com/in/ada"}, tags=["python"],
                  experience=[{"title": "Engineer", "company": "Analytical Engines", "current": True}])
    assert re.fullmatch(r"[0-9a-f-]{36}", made["id"]) and made["createdOn"]
    assert made["primaryAssignment"] is None
    assert made["web"]["linkedin"] == "https://www.linkedin.com/in/ada"
    got = api("GET", f"{sr}/candidates/{made['id']}").json()
    assert got["experience"][0]["company"] == "Analytical Engines" and got["email"] == "ada@example.com"

    r = requests.patch(f"{sr}/candidates/{made['id']}", headers=H, timeout=5,
                       json={"lastName": "King", "web": {"website": "https://ada.dev"}})
    assert r.status_code == 200 and r.json()["lastName"] == "King"
    assert r.json()["web"] == {"linkedin": "https://www.linkedin.com/in/ada", "website": "https://ada.dev"}

    found = api("GET", f"{sr}/candidates", params={"q": "ADA@example.com"}).json()
    assert [c["id"] for c in found["content"]] == [made["id"]] and found["totalFound"] == 1
    assert found["content"][0]["consent"]["status"] == "REQUIRED"
    assert found["content"][0]["tags"] == ["python"] and got["tags"] == ["python"]
    assert api("GET", f"{sr}/candidates", params={"q": "zzz-nobody"}).json()["totalFound"] == 0
    assert api("GET", f"{sr}/candidates/{made['id']}x").status_code == 404


def test_bad_input_is_400_naming_fields_and_writes_nothing(sr):
    before = len(state(sr)["candidates"])
    r = requests.post(f"{sr}/candidates", headers=H, timeout=5,
                      json={"firstName": "A", "email": "not-an-email", "linkedin": "x", "web": "nope"})
    assert r.status_code == 400
    messages = " | ".join(e["message"] for e in r.json()["errors"])
    for field in ("lastName", "email", "linkedin", "web"):
        assert field + ":" in messages
    assert requests.post(f"{sr}/candidates", headers={**H, "Content-Type": "application/json"}, data="[1",
                         timeout=5).status_code == 400
    jobs = api("GET", f"{sr}/jobs").json()["content"]
    assert api("POST", f"{sr}/jobs/{jobs[0]['id']}/candidates", json={"firstName": "x"}).status_code == 400
    assert len(state(sr)["candidates"]) == before and len(state(sr)["assignments"]) == 1


def test_pagination_100_per_page_to_the_end_and_limit_over_100_is_400(sr):
    seeded = api("GET", f"{sr}/candidates").json()["totalFound"]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: create(sr, email=f"bulk{i}@example.com"), range(230)))
    seen, offset = [], 0
    while True:
        page = api("GET", f"{sr}/candidates", params={"limit": 100, "offset": offset}).json()
        assert page["totalFound"] == seeded + 230 and page["limit"] == 100 and page["offset"] == offset
        seen += [c["id"] for c in page["content"]]
        if len(page["content"]) < 100:
            break
        offset += 100
    assert len(seen) == len(set(seen)) == seeded + 230
    r = api("GET", f"{sr}/candidates", params={"limit": 101})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "INVALID_PARAMETER"
    assert api("GET", f"{sr}/candidates", params={"offset": -1}).status_code == 400


def test_ten_per_second_then_429_with_rate_headers(sr_limited):
    sr = sr_limited
    first = api("GET", f"{sr}/users/me")
    assert first.headers["X-RateLimit-Limit"] == "10" and first.headers["X-RateLimit-Concurrent-Limit"] == "8"
    # Same 10 calls, a wider window: a loaded CI box can't spread 12 calls past it.
    requests.post(f"{sr}/__sandbox/rate_limit", json={"calls": 10, "seconds": 3}, timeout=5)
    codes, last = [], None
    for _ in range(12):
        last = api("GET", f"{sr}/users/me")
        codes.append(last.status_code)
    assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]
    assert int(last.headers["Retry-After"]) >= 1 and last.headers["X-RateLimit-Remaining"] == "0"
    assert last.json()["errors"][0]["code"] == "TOO_MANY_REQUESTS"
    time.sleep(3.1)
    assert api("GET", f"{sr}/users/me").status_code == 200


def test_concurrency_caps_8_overall_and_1_for_candidate_search(sr):
    requests.post(f"{sr}/__sandbox/latency", json={"seconds": 1.5}, timeout=5)
    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda _: api("GET", f"{sr}/users/me").status_code, range(10)))
    assert codes.count(200) == 8 and codes.count(429) == 2
    with ThreadPoolExecutor(2) as pool:
        codes = list(pool.map(lambda _: api("GET", f"{sr}/candidates").status_code, range(2)))
    assert sorted(codes) == [200, 429]


def test_injected_faults_use_the_sr_error_body(sr):
    requests.post(f"{sr}/__sandbox/faults", json={"mode": "503", "count": 1}, timeout=5)
    r = api("GET", f"{sr}/users/me")
    assert r.status_code == 503 and r.json()["errors"][0]["code"] == "SERVICE_UNAVAILABLE"
    requests.post(f"{sr}/__sandbox/faults", json={"mode": "429", "count": 1}, timeout=5)
    r = api("GET", f"{sr}/users/me")
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert api("GET", f"{sr}/users/me").status_code == 200


def test_jobs_statuses_apply_existing_candidate_and_move_status(sr):
    jobs = api("GET", f"{sr}/jobs", params={"limit": 100}).json()["content"]
    assert {"SOURCING", "INTERVIEW", "OFFER", "CREATED", "HIRED", "CANCELLED"} <= {j["status"] for j in jobs}
    sourcing = api("GET", f"{sr}/jobs", params={"status": "SOURCING"}).json()["content"]
    assert sourcing and all(j["status"] == "SOURCING" for j in sourcing)
    job = sourcing[0]["id"]
    cand = create(sr)
    r = api("POST", f"{sr}/candidates/{cand['id']}/jobs/{job}")
    assert r.status_code == 201 and r.json()["status"] == "NEW" and r.json()["job"]["id"] == job
    assert api("POST", f"{sr}/candidates/{cand['id']}/jobs/{job}").status_code == 409
    assert requests.put(f"{sr}/candidates/{cand['id']}/jobs/{job}/status", json={"status": "INTERVIEW"},
                        headers=H, timeout=5).status_code == 204
    assert requests.put(f"{sr}/candidates/{cand['id']}/status", json={"status": "BOGUS"},
                        headers=H, timeout=5).status_code == 400
    got = api("GET", f"{sr}/candidates/{cand['id']}").json()
    assert got["primaryAssignment"]["status"] == "INTERVIEW" and got["primaryAssignment"]["job"]["id"] == job
    onjob = api("POST", f"{sr}/jobs/{job}/candidates", json=person(email="new@example.com"))
    assert onjob.status_code == 201 and onjob.json()["primaryAssignment"]["status"] == "NEW"
    listed = api("GET", f"{sr}/candidates", params={"jobId": job, "status": "INTERVIEW"}).json()
    assert [c["id"] for c in listed["content"]] == [cand["id"]]


def test_tags_attachments_properties_and_consent(sr):
    cand = create(sr, tags=["python"])
    url = f"{sr}/candidates/{cand['id']}"
    assert api("POST", f"{url}/tags", json={"tags": ["Go", "PYTHON"]}).json() == {
        "tags": ["python", "Go"]}
    assert api("PUT", f"{url}/tags", json={"tags": ["rust"]}).json() == {"tags": ["rust"]}
    assert api("POST", f"{url}/tags", json={"tags": "rust"}).status_code == 400

    up = requests.post(f"{url}/attachments", headers=H, timeout=5, data={"attachmentType": "RESUME"},
                       files={"file": ("ada.pdf", b"%PDF-1.4 cv", "application/pdf")})
    assert up.status_code == 201 and up.json()["type"] == "RESUME" and up.json()["name"] == "ada.pdf"
    assert requests.post(f"{url}/attachments", headers=H, timeout=5, data={"attachmentType": "SELFIE"},
                         files={"file": ("x.pdf", b"x")}).status_code == 400
    listed = api("GET", f"{url}/attachments").json()
    assert listed["totalFound"] == 1 and listed["content"][0]["id"] == up.json()["id"]

    props = api("GET", f"{sr}/configuration/candidate-properties").json()["content"]
    select = next(p for p in props if p["type"] == "SINGLE_SELECT")
    values = api("GET", f"{sr}/configuration/candidate-properties/{select['id']}/values").json()
    senior = next(v for v in values["content"] if v["label"] == "Senior")
    assert api("PUT", f"{url}/properties/{select['id']}", json={"value": senior["id"]}).status_code == 204
    assert api("PUT", f"{url}/properties/{select['id']}", json={"value": "Senior"}).status_code == 400
    got = api("GET", f"{url}/properties/{select['id']}").json()
    assert got["value"] == {"id": senior["id"], "label": "Senior"}

    assert api("GET", f"{url}/consent").json()["status"] == "REQUIRED"
    requests.post(f"{sr}/__sandbox/smartrecruiters/consent", timeout=5,
                  json={"candidate_id": cand["id"], "status": "DECLINED"})
    assert api("GET", f"{url}/consent").json()["status"] == "DECLINED"
    olga = api("GET", f"{sr}/candidates", params={"q": "olga.novak@example.net"}).json()
    assert olga["content"][0]["consent"]["status"] == "DECLINED"      # seeded opted-out person


def test_notes_as_message_shares_linked_to_the_candidate(sr):
    cand = create(sr)
    body = {"content": f"Emailed: intro #[CANDIDATE:{cand['id']}]", "shareWith": {"openNote": True}}
    r = api("POST", f"{sr}/messages/shares", json=body)
    assert r.status_code == 201 and r.json()["id"]
    listed = api("GET", f"{sr}/messages/shares", params={"candidateId": cand["id"]}).json()
    assert listed["totalFound"] == 1 and listed["content"][0]["content"] == body["content"]
    unknown = {**body, "content": "#[CANDIDATE:00000000-0000-0000-0000-000000000000]"}
    assert api("POST", f"{sr}/messages/shares", json=unknown).status_code == 400
    assert api("POST", f"{sr}/messages/shares", json={"content": "hi"}).status_code == 400
    assert api("DELETE", f"{sr}/messages/shares/{r.json()['id']}").status_code == 204


def test_inspection_and_reset(sr):
    create(sr, email="temp@example.com")
    before = requests.get(f"{sr}/__sandbox/state", timeout=5).json()
    assert before["name"] == "smartrecruiters" and before["requests"] >= 1
    assert any(c["email"] == "temp@example.com" for c in before["tables"]["candidates"])
    requests.post(f"{sr}/__sandbox/reset", timeout=5)
    after = state(sr)
    assert not any(c["email"] == "temp@example.com" for c in after["candidates"])
    assert len(after["jobs"]) == 7 and len(after["candidates"]) == 4


@pytest.mark.parametrize("body", ["[1", "[]",
                                  '{"firstName": 1, "tags": "x", "location": [], "experience": [1]}',
                                  '{"status": 5, "value": {"a": 1}, "content": 5, "shareWith": []}'])
def test_junk_bodies_on_every_write_route_are_4xx_never_500(sr, body):
    cand = create(sr)["id"]
    job = api("GET", f"{sr}/jobs").json()["content"][0]["id"]
    prop = api("GET", f"{sr}/configuration/candidate-properties").json()["content"][0]["id"]
    routes = [("POST", "/candidates"), ("PATCH", f"/candidates/{cand}"), ("POST", f"/jobs/{job}/candidates"),
              ("POST", f"/candidates/{cand}/tags"), ("PUT", f"/candidates/{cand}/tags"),
              ("PUT", f"/candidates/{cand}/properties/{prop}"), ("POST", f"/candidates/{cand}/attachments"),
              ("PUT", f"/candidates/{cand}/status"), ("POST", "/messages/shares")]
    for method, path in routes:
        r = requests.request(method, sr + path, data=body, timeout=5,
                             headers={**H, "Content-Type": "application/json"})
        assert 400 <= r.status_code < 500 and r.json()["errors"], (method, path, r.status_code)
