"""The itris sandbox over a real socket, with plain `requests` (never through providers/).
It checks the sandbox does what docs/assumptions.md (itris) specifies."""
from __future__ import annotations

import base64
import time

import pytest
import requests

USER, PASSWORD = "shoal-api", "itris-sandbox-password"


@pytest.fixture
def itris(sandbox):
    server = sandbox("itris")
    return server.base, server.base + "/api/v2"


def login(api: str) -> dict[str, str]:
    r = requests.post(f"{api}/token", json={"username": USER, "password": PASSWORD}, timeout=5)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "Bearer" and r.json()["expires_in"] == 3600
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def new(api: str, h: dict[str, str], kind: str = "applicants", **body) -> dict:
    body.setdefault("firstName", "Jane")
    body.setdefault("lastName", "Doe")
    r = requests.post(f"{api}/{kind}", json=body, headers=h, timeout=5)
    assert r.status_code == 201, r.text
    return r.json()


def test_token_login_json_or_form_and_401s(itris):
    _, api = itris
    h = login(api)
    assert requests.get(f"{api}/me", headers=h, timeout=5).json()["username"] == USER
    form = requests.post(f"{api}/token", data={"grant_type": "password", "username": USER, "password": PASSWORD},
                         timeout=5)
    assert form.status_code == 200 and form.json()["access_token"]
    r = requests.post(f"{api}/token", json={"username": USER, "password": "nope"}, timeout=5)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert requests.post(f"{api}/token", json={"username": USER}, timeout=5).json()["error"]["code"] == \
        "invalid_request"
    for headers in ({}, {"Authorization": "Bearer made-up"}):
        r = requests.get(f"{api}/me", headers=headers, timeout=5)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_token_expiry_is_its_own_401_code(itris):
    base, api = itris
    requests.post(f"{base}/__sandbox/itris/token_seconds", json={"seconds": 1}, timeout=5)
    h = requests.post(f"{api}/token", json={"username": USER, "password": PASSWORD}, timeout=5).json()
    headers = {"Authorization": f"Bearer {h['access_token']}"}
    assert h["expires_in"] == 1 and requests.get(f"{api}/me", headers=headers, timeout=5).status_code == 200
    time.sleep(1.2)
    r = requests.get(f"{api}/me", headers=headers, timeout=5)
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_expired"


def test_applicant_create_default_status_get_patch_and_search(itris):
    _, api = itris
    h = login(api)
    a = new(api, h, emailAddress="jane@example.com", webAddress="https://www.linkedin.com/in/jane-doe/",
            jobTitle="Engineer", customFields={"noticePeriod": "1 month"})
    assert a["statusName"] == "Active" and a["offLimits"] is False and a["customFields"] == {"noticePeriod": "1 month"}
    got = requests.get(f"{api}/applicants/{a['applicantId']}", headers=h, timeout=5).json()
    assert got == a
    r = requests.patch(f"{api}/applicants/{a['applicantId']}", headers=h, timeout=5,
                       json={"jobTitle": "Lead", "offLimits": True, "offLimitsReason": "Asked not to be contacted",
                             "customFields": {"salaryExpectation": "90000"}})
    assert r.status_code == 200
    got = r.json()
    assert (got["jobTitle"], got["offLimits"], got["emailAddress"]) == ("Lead", True, "jane@example.com")
    assert got["customFields"] == {"noticePeriod": "1 month", "salaryExpectation": "90000"}

    find = lambda **q: [x["applicantId"] for x in requests.get(
        f"{api}/applicants", params=q, headers=h, timeout=5).json()["items"]]
    new(api, h, firstName="Other", emailAddress="other@example.com")
    assert find(email="JANE@example.com") == [a["applicantId"]]
    assert find(webAddress="linkedin.com/in/jane-doe") == [a["applicantId"]]
    assert find(webAddress="http://linkedin.com/in/jane-doe/") == [a["applicantId"]]
    assert find(email="nobody@example.com") == []
    statuses = requests.get(f"{api}/statuses", params={"recordType": "applicant"}, headers=h, timeout=5).json()
    placed = next(s for s in statuses["items"] if s["name"] == "Placed")
    assert [s["name"] for s in statuses["items"] if s["isDefault"]] == ["Active"]
    assert new(api, h, statusId=placed["statusId"])["statusName"] == "Placed"


def test_bad_input_is_400_with_details_and_writes_nothing(itris):
    base, api = itris
    h = login(api)
    contact_status = requests.get(f"{api}/statuses", params={"recordType": "contact"}, headers=h,
                                  timeout=5).json()["items"][0]["statusId"]
    r = requests.post(f"{api}/applicants", headers=h, timeout=5, json={
        "lastName": "X", "emailAddress": "nope", "statusId": contact_status, "offLimits": "yes",
        "customFields": {"noticePeriod": "forever", "unknown": 1}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "validation_failed"
    assert {d["field"] for d in r.json()["error"]["details"]} == {
        "firstName", "emailAddress", "statusId", "offLimits", "customFields.noticePeriod", "customFields.unknown"}
    assert requests.post(f"{api}/applicants", data="nope", headers={**h, "Content-Type": "application/json"},
                         timeout=5).json()["error"]["code"] == "invalid_request"
    assert requests.get(f"{api}/applicants?pageSize=201", headers=h, timeout=5).status_code == 400
    assert requests.get(f"{api}/statuses", headers=h, timeout=5).status_code == 400
    assert requests.get(f"{api}/applicants/999999", headers=h, timeout=5).json()["error"]["code"] == "not_found"
    assert "applicants" not in requests.get(f"{base}/__sandbox/state", timeout=5).json()["tables"]


def test_pagination_to_the_end(itris):
    _, api = itris
    h = login(api)
    ids = [new(api, h, firstName=f"P{i}")["applicantId"] for i in range(7)]
    seen, page = [], 1
    while True:
        body = requests.get(f"{api}/applicants", params={"page": page, "pageSize": 3}, headers=h, timeout=5).json()
        assert (body["totalItems"], body["totalPages"], body["pageSize"]) == (7, 3, 3)
        seen += [a["applicantId"] for a in body["items"]]
        if page >= body["totalPages"]:
            break
        page += 1
    assert seen == ids
    beyond = requests.get(f"{api}/applicants", params={"page": 4, "pageSize": 3}, headers=h, timeout=5).json()
    assert beyond["items"] == []


def test_notes_tags_groups_contacts_and_companies(itris):
    _, api = itris
    h = login(api)
    a = new(api, h)["applicantId"]
    types = requests.get(f"{api}/notetypes", params={"recordType": "applicant"}, headers=h, timeout=5).json()["items"]
    email_type = next(t["noteTypeId"] for t in types if t["name"] == "Email Sent")
    r = requests.post(f"{api}/applicants/{a}/notes", json={"text": "Sent intro", "noteTypeId": email_type},
                      headers=h, timeout=5)
    assert r.status_code == 201 and r.json()["noteTypeName"] == "Email Sent"
    assert requests.post(f"{api}/applicants/{a}/notes", json={"text": "untyped"}, headers=h,
                         timeout=5).json()["noteTypeId"] is None
    notes = requests.get(f"{api}/applicants/{a}/notes", headers=h, timeout=5).json()["items"]
    assert [n["text"] for n in notes] == ["Sent intro", "untyped"]
    meeting = next(t["noteTypeId"] for t in requests.get(f"{api}/notetypes", params={"recordType": "contact"},
                   headers=h, timeout=5).json()["items"] if t["name"] == "Client Meeting")
    assert requests.post(f"{api}/applicants/{a}/notes", json={"text": "x", "noteTypeId": meeting}, headers=h,
                         timeout=5).status_code == 400

    tags = requests.get(f"{api}/tags", params={"recordType": "applicant"}, headers=h, timeout=5).json()["items"]
    for _ in range(2):
        r = requests.post(f"{api}/applicants/{a}/tags", json={"tagIds": [tags[0]["tagId"]]}, headers=h, timeout=5)
    assert r.status_code == 200 and [t["tagId"] for t in r.json()["items"]] == [tags[0]["tagId"]]
    group = requests.get(f"{api}/groups", params={"recordType": "applicant"}, headers=h, timeout=5).json()["items"][0]
    assert requests.post(f"{api}/groups/{group['groupId']}/members", json={"recordId": a}, headers=h,
                         timeout=5).status_code == 201
    assert requests.post(f"{api}/groups/{group['groupId']}/members", json={"recordId": a}, headers=h,
                         timeout=5).status_code == 200

    companies = requests.get(f"{api}/companies", params={"name": "acme"}, headers=h, timeout=5).json()["items"]
    assert {"Acme Ltd", "ACME Limited", "Acme Holdings plc"} == {c["name"] for c in companies}
    c = new(api, h, "contacts", companyId=companies[1]["companyId"], emailAddress="cy@acme.test", offLimits=True)
    assert (c["companyName"], c["offLimits"], c["statusName"]) == ("ACME Limited", True, "Active")
    assert requests.post(f"{api}/contacts", json={"firstName": "A", "lastName": "B", "companyId": 999999},
                         headers=h, timeout=5).status_code == 400


def test_jobs_cv_slot_attachments_and_inbox(itris):
    _, api = itris
    h = login(api)
    a = new(api, h)["applicantId"]
    open_id = next(s["statusId"] for s in requests.get(f"{api}/jobstatuses", headers=h, timeout=5).json()["items"]
                   if s["name"] == "Open")
    jobs = requests.get(f"{api}/jobs", params={"statusId": open_id}, headers=h, timeout=5).json()["items"]
    assert len(jobs) == 3 and all(j["statusName"] == "Open" for j in jobs)
    url = f"{api}/jobs/{jobs[0]['jobId']}/applicants"
    assert requests.post(url, json={"applicantId": a}, headers=h, timeout=5).status_code == 201
    r = requests.post(url, json={"applicantId": a}, headers=h, timeout=5)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    assert [x["applicantId"] for x in requests.get(url, headers=h, timeout=5).json()["items"]] == [a]

    assert requests.get(f"{api}/applicants/{a}/cv", headers=h, timeout=5).status_code == 404
    pdf = base64.b64encode(b"%PDF-1.4 cv").decode()
    r = requests.put(f"{api}/applicants/{a}/cv", json={"fileName": "cv.pdf", "fileContent": pdf}, headers=h, timeout=5)
    assert r.status_code == 200 and r.json()["size"] == 11
    assert requests.get(f"{api}/applicants/{a}/cv", headers=h, timeout=5).json()["fileName"] == "cv.pdf"
    assert requests.put(f"{api}/applicants/{a}/cv", json={"fileName": "x", "fileContent": "!!"}, headers=h,
                        timeout=5).status_code == 400
    r = requests.post(f"{api}/applicants/{a}/attachments", json={"fileName": "cover.pdf", "fileContent": pdf},
                      headers=h, timeout=5)
    assert r.status_code == 201
    files = requests.get(f"{api}/applicants/{a}/attachments", headers=h, timeout=5).json()["items"]
    assert [f["fileName"] for f in files] == ["cover.pdf"]

    r = requests.post(f"{api}/applicant/inbox", headers=h, timeout=5, json={
        "firstName": "In", "lastName": "Box", "emailAddress": "in@box.test",
        "webAddress": "https://linkedin.com/in/inbox", "cv": {"fileName": "cv.pdf", "fileContent": pdf},
        "source": {"mediaName": "Shoal"}, "applyToJobIds": [jobs[0]["jobId"]]})
    assert r.status_code == 202 and r.json()["status"] == "Pending" and "applicantId" not in r.json()
    item = requests.get(f"{api}/applicant/inbox/{r.json()['inboxItemId']}", headers=h, timeout=5).json()
    assert item == {"inboxItemId": r.json()["inboxItemId"], "status": "Pending", "applicantId": None}
    assert requests.post(f"{api}/applicant/inbox", json={"firstName": "No"}, headers=h, timeout=5).status_code == 400


def test_rate_limit_headers_429_and_faults(itris):
    base, api = itris
    h = login(api)
    r = requests.get(f"{api}/me", headers=h, timeout=5)
    assert (r.headers["X-RateLimit-Limit"], r.headers["X-RateLimit-Remaining"]) == ("120", "119")
    requests.post(f"{base}/__sandbox/rate_limit", json={"calls": 2, "seconds": 30}, timeout=5)
    assert [requests.get(f"{api}/me", headers=h, timeout=5).headers["X-RateLimit-Remaining"]
            for _ in range(2)] == ["1", "0"]
    r = requests.get(f"{api}/me", headers=h, timeout=5)
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 30
    requests.post(f"{base}/__sandbox/rate_limit", json={"calls": 0}, timeout=5)

    fault = lambda **b: requests.post(f"{base}/__sandbox/faults", json=b, timeout=5)
    for mode, code in (("401", "unauthorized"), ("500", "server_error"), ("503", "server_error"),
                       ("429", "rate_limited")):
        fault(mode=mode, count=1)
        r = requests.get(f"{api}/me", headers=h, timeout=5)
        assert r.status_code == int(mode) and r.json()["error"]["code"] == code
    fault(mode="slow", count=1, delay=0.3)
    start = time.monotonic()
    assert requests.get(f"{api}/me", headers=h, timeout=5).status_code == 200
    assert time.monotonic() - start >= 0.3


def test_state_inspection_and_reset_keeps_tokens(itris):
    base, api = itris
    h = login(api)
    a = new(api, h)["applicantId"]
    state = requests.get(f"{base}/__sandbox/state", timeout=5).json()
    assert state["name"] == "itris" and [x["id"] for x in state["tables"]["applicants"]] == [a]
    requests.post(f"{base}/__sandbox/reset", timeout=5)
    assert requests.get(f"{api}/applicants/{a}", headers=h, timeout=5).status_code == 404
    tables = requests.get(f"{base}/__sandbox/state", timeout=5).json()["tables"]
    assert {"statuses", "note_types", "tags", "groups", "companies", "jobs", "job_statuses",
            "custom_fields"} <= set(tables)
