"""The Tracker RMS sandbox over a real socket, with plain `requests` (never through providers/)."""
from __future__ import annotations

import time

import pytest
import requests

BEARER = "tracker-sandbox-token"


@pytest.fixture
def tracker(sandbox):
    return sandbox("tracker").base


def jwt(base: str, path: str = "/api/Auth/ExchangeToken") -> dict[str, str]:
    r = requests.post(base + path, json={"bearerToken": BEARER}, timeout=5)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def new_resource(base: str, h: dict[str, str], **body) -> int:
    body.setdefault("firstName", "Jane")
    body.setdefault("surname", "Doe")
    r = requests.post(f"{base}/api/v1/Resource", json=body, headers=h, timeout=5)
    assert r.status_code == 201 and r.json()["success"] is True, r.text
    return r.json()["id"]


def test_exchange_token_any_casing_and_bad_tokens_401(tracker):
    r = requests.post(f"{tracker}/api/auth/exchangetoken", json={"bearerToken": BEARER}, timeout=5)
    assert r.status_code == 200 and r.json()["expiration"].endswith("Z") and r.json()["token"].count(".") == 2
    h = jwt(tracker, "/API/AUTH/EXCHANGETOKEN")
    assert requests.get(f"{tracker}/api/v1/MetaData/ResourceStatuses", headers=h, timeout=5).status_code == 200
    assert requests.post(f"{tracker}/api/Auth/ExchangeToken", json={"bearerToken": "wrong"},
                         timeout=5).status_code == 401
    assert requests.post(f"{tracker}/api/Auth/ExchangeToken", json={}, timeout=5).status_code == 400
    for headers in ({}, {"Authorization": "Bearer not.a.jwt"}, {"Authorization": f"Bearer {BEARER}"}):
        r = requests.get(f"{tracker}/api/v1/Resource/1", headers=headers, timeout=5)
        assert r.status_code == 401 and "invalid_token" in r.headers["WWW-Authenticate"]


def test_jwt_expires(tracker):
    requests.post(f"{tracker}/__sandbox/tracker/jwt_seconds", json={"seconds": 1}, timeout=5)
    h = jwt(tracker)
    assert requests.get(f"{tracker}/api/v1/MetaData/Tags", headers=h, timeout=5).status_code == 200
    time.sleep(1.2)
    assert requests.get(f"{tracker}/api/v1/MetaData/Tags", headers=h, timeout=5).status_code == 401
    assert requests.get(f"{tracker}/api/v1/MetaData/Tags", headers=jwt(tracker), timeout=5).status_code == 200


def test_regenerated_customer_token_kills_old_jwts(tracker):
    h = jwt(tracker)
    requests.post(f"{tracker}/__sandbox/tracker/regenerate_token", json={"bearer_token": "fresh"}, timeout=5)
    assert requests.get(f"{tracker}/api/v1/MetaData/Tags", headers=h, timeout=5).status_code == 401
    assert requests.post(f"{tracker}/api/Auth/ExchangeToken", json={"bearerToken": BEARER},
                         timeout=5).status_code == 401
    r = requests.post(f"{tracker}/api/Auth/ExchangeToken", json={"bearerToken": "fresh"}, timeout=5)
    fresh = {"Authorization": f"Bearer {r.json()['token']}"}
    assert requests.get(f"{tracker}/api/v1/MetaData/Tags", headers=fresh, timeout=5).status_code == 200


def test_resource_create_get_patch_read_shape(tracker):
    h = jwt(tracker)
    rid = new_resource(tracker, h, jobTitle="Engineer", employer="Initech", tagText="python,shoal",
                       contactDetails={"email": "jane@example.com", "mobilePhone": "07700 900123",
                                       "linkedIn": "https://www.linkedin.com/in/jane"}, city="Leeds")
    got = requests.get(f"{tracker}/api/v1/Resource/{rid}", headers=h, timeout=5).json()
    assert got["resourceId"] == rid and got["firstname"] == "Jane" and "firstName" not in got
    assert (got["email"], got["mobilePhone"], got["currentClient"]) == (
        "jane@example.com", "07700 900123", {"name": "Initech"})
    assert got["resourceStatus"] == "Active" and got["tagText"] == "python,shoal"

    r = requests.patch(f"{tracker}/api/v1/Resource/{rid}", headers=h, timeout=5,
                       json={"jobTitle": "Lead", "contactDetails": {"telephone": "0113 496 0000"}})
    assert r.status_code == 200 and r.json() == {"id": rid, "success": True}
    got = requests.get(f"{tracker}/api/v1/Resource/{rid}", headers=h, timeout=5).json()
    assert (got["jobTitle"], got["phone"], got["email"], got["surname"]) == (
        "Lead", "0113 496 0000", "jane@example.com", "Doe")
    assert requests.get(f"{tracker}/api/v1/Resource/{rid}/Documents", headers=h, timeout=5).json() == []
    assert requests.get(f"{tracker}/api/v1/Resource/999999", headers=h, timeout=5).status_code == 404


def test_bad_input_is_400_validation_problem_and_writes_nothing(tracker):
    h = jwt(tracker)
    r = requests.post(f"{tracker}/api/v1/Resource", headers=h, timeout=5,
                      json={"surname": "X", "contactDetails": {"email": "nope"}, "resourceStatus": "Zombie"})
    assert r.status_code == 400
    assert set(r.json()["errors"]) == {"firstName", "contactDetails.email", "resourceStatus"}
    r = requests.post(f"{tracker}/api/v1/Contact", headers=h, timeout=5,
                      json={"firstName": "A", "surname": "B", "marketingPreference": "Maybe"})
    assert r.status_code == 400 and "marketingPreference" in r.json()["errors"]
    r = requests.post(f"{tracker}/api/v1/Resource", data="[1]", headers={**h, "Content-Type": "application/json"},
                      timeout=5)
    assert r.status_code == 400
    tables = requests.get(f"{tracker}/__sandbox/state", timeout=5).json()["tables"]
    assert "resources" not in tables and "contacts" not in tables


def test_search_pages_are_ten_rows_whatever_page_size_and_text_filters_can_be_ignored(tracker):
    h = jwt(tracker)
    ids = [new_resource(tracker, h, firstName=f"Person{i}") for i in range(23)]
    target = new_resource(tracker, h, firstName="Zed", contactDetails={"email": "zed@example.com"})
    seen, number = [], 1
    while True:
        body = requests.post(f"{tracker}/api/v1/Resource/Search", headers=h, timeout=5,
                             json={"pageSize": 50, "pageNumber": number}).json()
        assert body["totalRecords"] == 24 and body["pageSize"] == 10 and len(body["data"]) <= 10
        seen += [row["resourceId"] for row in body["data"]]
        if len(body["data"]) < 10:
            break
        number += 1
    assert seen == ids + [target] and number == 3
    hit = requests.post(f"{tracker}/api/v1/Resource/Search", headers=h, timeout=5,
                        json={"pageSize": 10, "pageNumber": 1, "searchText": "ZED@example.com"}).json()
    assert [row["resourceId"] for row in hit["data"]] == [target]

    requests.post(f"{tracker}/__sandbox/tracker/ignore_search_text", json={"on": True}, timeout=5)
    ignored = requests.post(f"{tracker}/api/v1/Resource/Search", headers=h, timeout=5,
                            json={"pageSize": 10, "pageNumber": 1, "searchText": "zed@example.com"}).json()
    assert ignored["totalRecords"] == 24 and ignored["data"][0]["resourceId"] == ids[0]


def test_contact_crud_search_and_opt_out(tracker):
    h = jwt(tracker)
    r = requests.post(f"{tracker}/api/v1/Contact", headers=h, timeout=5, json={
        "firstName": "Cy", "surname": "Client", "company": "ACME Limited", "jobTitle": "HR Director",
        "contactDetails": {"email": "cy@acme.test", "businessPhone": "0207"}, "tagText": "hot"})
    assert r.status_code == 201
    cid = r.json()["id"]
    got = requests.get(f"{tracker}/api/v1/Contact/{cid}", headers=h, timeout=5).json()
    assert got["contactId"] == cid and got["firstName"] == "Cy" and got["contactDetails"]["email"] == "cy@acme.test"
    assert got["clientName"] == "ACME Limited" and got["marketingPreference"] == "No Preference"
    assert requests.patch(f"{tracker}/api/v1/Contact/{cid}", json={"marketingPreference": "Opted Out"},
                          headers=h, timeout=5).status_code == 200
    rows = requests.post(f"{tracker}/api/v1/Contact/Search", headers=h, timeout=5,
                         json={"email": "CY@acme.test", "pageSize": 5, "pageNumber": 1}).json()["data"]
    assert [(c["contactId"], c["email"], c["marketingPreference"]) for c in rows] == [
        (cid, "cy@acme.test", "Opted Out")]
    none = requests.post(f"{tracker}/api/v1/Contact/Search", headers=h, timeout=5,
                         json={"email": "other@acme.test", "pageNumber": 1}).json()
    assert none["data"] == [] and none["totalRecords"] == 0


def test_notes_as_activities_and_their_types(tracker):
    h = jwt(tracker)
    rid = new_resource(tracker, h)
    types = requests.get(f"{tracker}/api/v1/MetaData/ActivityTypes", headers=h, timeout=5).json()
    email_type = next(t["id"] for t in types if t["name"] == "Email")
    r = requests.post(f"{tracker}/api/v1/Activity", headers=h, timeout=5, json={
        "recordType": "Resource", "recordId": rid, "subject": "Outreach", "note": "Sent intro",
        "activityTypeId": email_type})
    assert r.status_code == 201 and r.json()["success"] is True
    found = requests.post(f"{tracker}/api/v1/Activity/Search", headers=h, timeout=5,
                          json={"recordType": "Resource", "recordId": rid, "pageNumber": 1}).json()
    assert [(a["note"], a["activityTypeName"]) for a in found["data"]] == [("Sent intro", "Email")]
    assert requests.post(f"{tracker}/api/v1/Activity", json={"recordType": "Resource", "recordId": 999999,
                                                             "note": "x"}, headers=h, timeout=5).status_code == 404
    assert requests.post(f"{tracker}/api/v1/Activity", json={"recordType": "Lead", "recordId": rid},
                         headers=h, timeout=5).status_code == 400


def test_opportunities_longlist_clients_and_metadata(tracker):
    h = jwt(tracker)
    rid = new_resource(tracker, h)
    page1 = requests.post(f"{tracker}/api/v1/Opportunity/Search", json={"state": "open", "pageNumber": 1,
                                                                        "maxResults": 50}, headers=h, timeout=5).json()
    assert isinstance(page1, list) and len(page1) <= 10
    assert all(o["opportunityStatus"] in ("Open", "On Hold") for o in page1)
    everything = requests.post(f"{tracker}/api/v1/Opportunity/Search", json={"pageNumber": 2}, headers=h,
                               timeout=5).json()
    assert len(everything) == 2                          # 12 seeded jobs, 10 a page
    opp = page1[0]["opportunityId"]
    url = f"{tracker}/api/v1/Opportunity/{opp}/longlist/resource/{rid}"
    r = requests.post(url, json={}, headers=h, timeout=5)
    assert r.status_code == 201
    assert requests.post(url, json={}, headers=h, timeout=5).status_code == 409
    row = requests.get(f"{tracker}/api/v1/OpportunityResource/{r.json()['id']}", headers=h, timeout=5).json()
    assert (row["opportunityId"], row["resourceId"]) == (opp, rid)
    assert requests.post(f"{tracker}/api/v1/Opportunity/{opp}/longlist/resource/999999", json={}, headers=h,
                         timeout=5).status_code == 404

    clients = requests.get(f"{tracker}/api/v1/Client", params={"search": "acme"}, headers=h, timeout=5).json()
    assert {"Acme Ltd", "ACME Limited"} <= {c["clientName"] for c in clients["data"]}
    statuses = requests.get(f"{tracker}/api/v1/MetaData/ContactStatuses", headers=h, timeout=5).json()
    assert "Active" in [s["name"] for s in statuses]
    fields = requests.get(f"{tracker}/api/v1/MetaData/CustomFields/Resource", headers=h, timeout=5).json()
    rid2 = new_resource(tracker, h, customFields=[{"id": fields[0]["id"], "value": "1 month"}])
    got = requests.get(f"{tracker}/api/v1/Resource/{rid2}", headers=h, timeout=5).json()
    assert got["customFields"] == [{"id": fields[0]["id"], "name": fields[0]["name"], "value": "1 month"}]


def test_rate_limit_headers_and_429(tracker):
    h = jwt(tracker)
    r = requests.get(f"{tracker}/api/v1/MetaData/Tags", headers=h, timeout=5)
    assert r.headers["X-Rate-Limit-Limit"] == "1m" and r.headers["X-Rate-Limit-Remaining"] == "99"
    assert r.headers["X-Rate-Limit-Reset"].endswith("Z")
    requests.post(f"{tracker}/__sandbox/rate_limit", json={"calls": 2, "seconds": 30}, timeout=5)
    assert [requests.get(f"{tracker}/api/v1/MetaData/Tags", headers=h, timeout=5).headers["X-Rate-Limit-Remaining"]
            for _ in range(2)] == ["1", "0"]
    r = requests.get(f"{tracker}/api/v1/MetaData/Tags", headers=h, timeout=5)
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 30
    assert r.headers["Content-Type"].startswith("text/plain") and "quota exceeded" in r.text
    assert requests.post(f"{tracker}/api/Auth/ExchangeToken", json={"bearerToken": BEARER},
                         timeout=5).status_code == 200      # the exchange is not metered


def test_injected_faults_and_inspection_and_reset(tracker):
    h = jwt(tracker)
    fault = lambda **b: requests.post(f"{tracker}/__sandbox/faults", json=b, timeout=5)
    fault(mode="401", count=1)
    assert requests.get(f"{tracker}/api/v1/MetaData/Tags", headers=h, timeout=5).status_code == 401
    fault(mode="500", count=1)
    r = requests.get(f"{tracker}/api/v1/MetaData/Tags", headers=h, timeout=5)
    assert r.status_code == 500 and r.json()["status"] == 500
    fault(mode="429", count=1)
    assert requests.get(f"{tracker}/api/v1/MetaData/Tags", headers=h, timeout=5).headers["Retry-After"] == "1"
    fault(mode="slow", count=1, delay=0.3)
    start = time.monotonic()
    assert requests.get(f"{tracker}/api/v1/MetaData/Tags", headers=h, timeout=5).status_code == 200
    assert time.monotonic() - start >= 0.3

    rid = new_resource(tracker, h)
    state = requests.get(f"{tracker}/__sandbox/state", timeout=5).json()
    assert state["name"] == "tracker" and [r["id"] for r in state["tables"]["resources"]] == [rid]
    requests.post(f"{tracker}/__sandbox/reset", timeout=5)
    assert requests.get(f"{tracker}/api/v1/Resource/{rid}", headers=h, timeout=5).status_code == 404
    assert len(requests.get(f"{tracker}/__sandbox/state", timeout=5).json()["tables"]["opportunities"]) == 12


def test_resource_documents_list_and_assumed_upload(tracker):
    h = jwt(tracker)
    rid = new_resource(tracker, h)
    url = f"{tracker}/api/v1/Resource/{rid}/Documents"
    assert requests.get(url, headers=h, timeout=5).json() == []
    r = requests.post(url, headers=h, files={"file": ("cv.pdf", b"%PDF-1.4 cv")}, data={"documentType": "CV"},
                      timeout=5)
    assert r.status_code == 201 and r.json()["success"] is True
    [doc] = requests.get(url, headers=h, timeout=5).json()
    assert (doc["fileName"], doc["documentType"], doc["fileSize"]) == ("cv.pdf", "CV", 11)
    bad = requests.post(url, headers=h, files={"file": ("x.pdf", b"")}, data={"documentType": "Passport"}, timeout=5)
    assert bad.status_code == 400 and {"file", "documentType"} <= set(bad.json()["errors"])
    assert requests.post(f"{tracker}/api/v1/Resource/99999/Documents", headers=h, files={"file": ("a", b"a")},
                         timeout=5).status_code == 404
    assert requests.post(url, files={"file": ("a", b"a")}, timeout=5).status_code == 401
