"""The CATS v3 sandbox over a real socket, with plain `requests` (never through providers/)."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

KEY = "cats-sandbox-key"
H = {"Authorization": f"Token {KEY}"}


@pytest.fixture
def cats(sandbox):
    server = sandbox("cats")
    return server.base, server.base + "/v3"


def create(api: str, **body) -> int:
    body.setdefault("first_name", "Jane")
    body.setdefault("last_name", "Doe")
    r = requests.post(f"{api}/candidates", json=body, headers=H, timeout=5)
    assert r.status_code == 201, r.text
    return int(r.headers["Location"].rsplit("/", 1)[1])


def test_auth_token_and_bearer_accepted_wrong_key_401(cats):
    _, api = cats
    assert requests.get(f"{api}/site", headers=H, timeout=5).status_code == 200
    assert requests.get(f"{api}/users/current", headers={"Authorization": f"Bearer {KEY}"},
                        timeout=5).status_code == 200
    for headers in ({"Authorization": "Token wrong"}, {}):
        r = requests.get(f"{api}/candidates", headers=headers, timeout=5)
        assert r.status_code == 401 and r.json() == {"message": "Unauthorized"}


def test_create_returns_201_empty_body_and_location_then_get_and_partial_put(cats):
    _, api = cats
    r = requests.post(f"{api}/candidates", headers=H, timeout=5, json={
        "first_name": "Ada", "last_name": "Lovelace", "title": "Engineer",
        "emails": {"primary": "ada@example.com"}, "phones": [{"number": "+44 20 1234", "type": "cell"}],
        "social_media_urls": ["https://www.linkedin.com/in/ada"], "address": {"city": "London"}})
    assert r.status_code == 201 and r.content == b""
    assert r.headers["Location"].startswith(api + "/candidates/")
    got = requests.get(r.headers["Location"], headers=H, timeout=5).json()
    assert got["first_name"] == "Ada" and got["emails"] == {"primary": "ada@example.com", "secondary": None}
    assert got["phones"]["cell"] == "+44 20 1234" and got["consent_status"] is None
    assert got["_links"]["self"]["href"] == r.headers["Location"]

    r = requests.put(r.headers["Location"], json={"title": "CTO", "emails": {"secondary": "a@b.co"},
                                                   "consent_status": "declined"}, headers=H, timeout=5)
    assert r.status_code == 204
    got = requests.get(f"{api}/candidates/{got['id']}", headers=H, timeout=5).json()
    assert (got["title"], got["last_name"], got["consent_status"]) == ("CTO", "Lovelace", "declined")
    assert got["emails"] == {"primary": "ada@example.com", "secondary": "a@b.co"}


def test_check_duplicate_conflicts_on_primary_email_only_when_asked(cats):
    _, api = cats
    first = create(api, emails={"primary": "dup@example.com"})
    r = requests.post(f"{api}/candidates?check_duplicate=true", headers=H, timeout=5,
                      json={"first_name": "J", "last_name": "D", "emails": {"primary": "DUP@example.com"}})
    assert r.status_code == 409 and r.json()["duplicates"] == [first]
    assert requests.post(f"{api}/candidates", headers=H, timeout=5, json={
        "first_name": "J", "last_name": "D", "emails": {"primary": "dup@example.com"}}).status_code == 201


def test_bad_input_is_400_or_422_with_field_errors_and_writes_nothing(cats):
    base, api = cats
    r = requests.post(f"{api}/candidates", data="not json", headers={**H, "Content-Type": "application/json"},
                      timeout=5)
    assert r.status_code == 400 and "message" in r.json()
    r = requests.post(f"{api}/candidates", headers=H, timeout=5,
                      json={"last_name": "X", "emails": {"primary": "nope"}, "consent_status": "maybe"})
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"first_name", "emails.primary", "consent_status"}
    assert requests.get(f"{api}/candidates?per_page=101", headers=H, timeout=5).status_code == 400
    assert requests.get(f"{api}/candidates/999999", headers=H, timeout=5).status_code == 404
    assert "candidates" not in requests.get(f"{base}/__sandbox/state", timeout=5).json()["tables"]


def test_pagination_follows_next_links_to_the_end(cats):
    _, api = cats
    ids = [create(api, first_name=f"P{i}") for i in range(7)]
    url, seen, pages = f"{api}/candidates?per_page=3", [], 0
    while url:
        body = requests.get(url, headers=H, timeout=5).json()
        assert body["total"] == 7 and body["count"] == len(body["_embedded"]["candidates"])
        seen += [c["id"] for c in body["_embedded"]["candidates"]]
        url = body["_links"].get("next", {}).get("href")
        pages += 1
    assert seen == ids and pages == 3
    last = requests.get(f"{api}/candidates?per_page=3&page=9", headers=H, timeout=5).json()
    assert last["_embedded"]["candidates"] == [] and "next" not in last["_links"]


def test_keyword_and_filter_search(cats):
    _, api = cats
    a = create(api, first_name="Grace", emails={"primary": "grace@navy.mil"})
    b = create(api, first_name="Alan", current_employer="Bletchley")
    hits = lambda r: [c["id"] for c in r.json()["_embedded"]["candidates"]]
    assert hits(requests.get(f"{api}/candidates/search", params={"query": "grace"}, headers=H, timeout=5)) == [a]
    assert hits(requests.get(f"{api}/candidates/search", params={"query": "nobody bletchley"}, headers=H,
                             timeout=5)) == [b]
    flt = {"field": "emails", "filter": "exactly", "value": "GRACE@navy.mil"}
    assert hits(requests.post(f"{api}/candidates/search", json=flt, headers=H, timeout=5)) == [a]
    either = {"or": [flt, {"field": "first_name", "filter": "contains", "value": "alan"}]}
    assert hits(requests.post(f"{api}/candidates/search", json=either, headers=H, timeout=5)) == [a, b]
    assert requests.post(f"{api}/candidates/search", json={"field": "x", "filter": "regex"}, headers=H,
                         timeout=5).status_code == 400


def test_activities_attachments_tags_lists(cats):
    _, api = cats
    cid = create(api)
    job = requests.get(f"{api}/jobs", headers=H, timeout=5).json()["_embedded"]["jobs"][0]
    r = requests.post(f"{api}/candidates/{cid}/activities", headers=H, timeout=5,
                      json={"type": "email", "notes": "Sent intro", "regarding_id": job["id"]})
    assert r.status_code == 201 and "/v3/activities/" in r.headers["Location"]
    assert requests.post(f"{api}/candidates/{cid}/activities", json={"type": "fax"}, headers=H,
                         timeout=5).status_code == 422
    acts = requests.get(f"{api}/candidates/{cid}/activities", headers=H, timeout=5).json()
    assert [(a["type"], a["notes"], a["data_item"]) for a in acts["_embedded"]["activities"]] == [
        ("email", "Sent intro", {"id": cid, "type": "candidate"})]

    r = requests.post(f"{api}/candidates/{cid}/attachments?filename=cv.pdf&is_resume=true", data=b"%PDF-1",
                      headers={**H, "Content-Type": "application/octet-stream"}, timeout=5)
    assert r.status_code == 201
    rows = requests.get(f"{api}/candidates/{cid}/attachments", headers=H, timeout=5).json()
    assert [(a["filename"], a["is_resume"], a["size"]) for a in rows["_embedded"]["attachments"]] == [
        ("cv.pdf", True, 6)]
    assert requests.post(f"{api}/candidates/{cid}/attachments", data=b"x", headers=H, timeout=5).status_code == 400

    tags = requests.get(f"{api}/tags", headers=H, timeout=5).json()["_embedded"]["tags"]
    payload = {"tags": [{"id": tags[0]["id"]}, {"id": tags[1]["id"]}]}
    assert requests.post(f"{api}/candidates/{cid}/tags", json=payload, headers=H, timeout=5).status_code == 204
    assert requests.post(f"{api}/candidates/{cid}/tags", json=payload, headers=H, timeout=5).status_code == 204
    mine = requests.get(f"{api}/candidates/{cid}/tags", headers=H, timeout=5).json()["_embedded"]["tags"]
    assert [t["id"] for t in mine] == [tags[0]["id"], tags[1]["id"]]
    assert requests.post(f"{api}/candidates/{cid}/tags", json={"tags": [{"id": 0}]}, headers=H,
                         timeout=5).status_code == 422

    lst = requests.get(f"{api}/candidates/lists", headers=H, timeout=5).json()["_embedded"]["lists"][0]
    for _ in range(2):
        assert requests.post(f"{api}/candidates/lists/{lst['id']}/items", json={"items": [{"candidate_id": cid}]},
                             headers=H, timeout=5).status_code == 204
    items = requests.get(f"{api}/candidates/lists/{lst['id']}/items", headers=H, timeout=5).json()
    assert [i["data_item_id"] for i in items["_embedded"]["items"]] == [cid]
    contact = requests.post(f"{api}/contacts", json={"first_name": "C", "last_name": "D"}, headers=H, timeout=5)
    contact_id = int(contact.headers["Location"].rsplit("/", 1)[1])
    clist = requests.get(f"{api}/contacts/lists", headers=H, timeout=5).json()["_embedded"]["lists"][0]
    assert clist["data_item_type"] == "contact"
    assert requests.post(f"{api}/contacts/lists/{clist['id']}/items", json={"items": [{"contact_id": contact_id}]},
                         headers=H, timeout=5).status_code == 204
    assert requests.post(f"{api}/contacts/lists/{lst['id']}/items", json={"items": [{"contact_id": contact_id}]},
                         headers=H, timeout=5).status_code == 404       # a candidate list


def test_jobs_pipelines_companies_and_contacts(cats):
    _, api = cats
    cid = create(api)
    statuses = requests.get(f"{api}/jobs/statuses", headers=H, timeout=5).json()["_embedded"]["statuses"]
    active = next(s for s in statuses if s["title"] == "Active")
    jobs = requests.get(f"{api}/jobs", params={"status_id": active["id"]}, headers=H, timeout=5).json()
    assert jobs["total"] >= 2 and all(j["status"]["title"] == "Active" for j in jobs["_embedded"]["jobs"])
    job = jobs["_embedded"]["jobs"][0]
    r = requests.post(f"{api}/pipelines", json={"candidate_id": cid, "job_id": job["id"]}, headers=H, timeout=5)
    assert r.status_code == 201
    again = requests.post(f"{api}/pipelines", json={"candidate_id": cid, "job_id": job["id"]}, headers=H, timeout=5)
    assert again.status_code == 409
    pipeline = requests.get(r.headers["Location"], headers=H, timeout=5).json()
    wf = requests.get(f"{api}/pipelines/workflows/{job['workflow_id']}/statuses", headers=H, timeout=5).json()
    placed = next(s for s in wf["_embedded"]["statuses"] if s["title"] == "Placed")
    assert requests.post(f"{api}/pipelines/{pipeline['id']}/status", json={"status_id": placed["id"]},
                         headers=H, timeout=5).status_code == 204
    assert requests.get(r.headers["Location"], headers=H, timeout=5).json()["status"]["title"] == "Placed"
    assert requests.post(f"{api}/pipelines/{pipeline['id']}/status", json={"status_id": active["id"]},
                         headers=H, timeout=5).status_code == 422

    found = requests.get(f"{api}/companies/search", params={"query": "acme"}, headers=H, timeout=5).json()
    names = [c["name"] for c in found["_embedded"]["companies"]]
    assert "Acme Ltd" in names and "ACME Limited" in names
    r = requests.post(f"{api}/contacts", headers=H, timeout=5, json={
        "first_name": "Cy", "last_name": "Client", "company_id": found["_embedded"]["companies"][0]["id"],
        "phones": {"office": "0207"}, "emails": {"primary": "cy@acme.test"}})
    assert r.status_code == 201 and "/v3/contacts/" in r.headers["Location"]
    assert requests.get(r.headers["Location"], headers=H, timeout=5).json()["phones"]["office"] == "0207"
    assert requests.post(f"{api}/contacts", json={"first_name": "A", "last_name": "B", "company_id": 0},
                         headers=H, timeout=5).status_code == 422
    defs = requests.get(f"{api}/candidates/custom_fields", headers=H, timeout=5).json()["_embedded"]
    field = defs["custom_fields"][0]
    cid2 = create(api, custom_fields=[{"id": field["id"], "value": "1 month"}])
    got = requests.get(f"{api}/candidates/{cid2}", headers=H, timeout=5).json()
    assert [(f["id"], f["value"]) for f in got["_embedded"]["custom_fields"]] == [(field["id"], "1 month")]


def test_custom_field_values_contact_attachments_and_concurrent_pipeline_adds(cats):
    _, api = cats
    cid = create(api)
    defs = requests.get(f"{api}/candidates/custom_fields", headers=H, timeout=5).json()["_embedded"]["custom_fields"]
    assert requests.put(f"{api}/candidates/{cid}/custom_fields/{defs[1]['id']}", json={"value": "Leeds"},
                        headers=H, timeout=5).status_code == 204
    values = requests.get(f"{api}/candidates/{cid}/custom_fields", headers=H, timeout=5).json()
    assert {v["id"]: v["value"] for v in values["_embedded"]["custom_fields"]}[defs[1]["id"]] == "Leeds"
    assert requests.put(f"{api}/candidates/{cid}/custom_fields/0", json={"value": "x"}, headers=H,
                        timeout=5).status_code == 404

    r = requests.post(f"{api}/contacts", json={"first_name": "C", "last_name": "D"}, headers=H, timeout=5)
    contact = r.headers["Location"]
    up = requests.post(f"{contact}/attachments?filename=notes.txt", data=b"hello", headers=H, timeout=5)
    assert up.status_code == 201
    att = requests.get(up.headers["Location"], headers=H, timeout=5).json()
    assert (att["filename"], att["is_resume"], att["data_item"]["type"]) == ("notes.txt", False, "contact")

    job = requests.get(f"{api}/jobs", headers=H, timeout=5).json()["_embedded"]["jobs"][0]["id"]
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: requests.post(f"{api}/pipelines", json={"candidate_id": cid, "job_id": job},
                                                      headers=H, timeout=5).status_code, range(8)))
    assert sorted(codes) == [201] + [409] * 7


def test_rate_limit_headers_and_429_with_retry_after(cats):
    base, api = cats
    r = requests.get(f"{api}/site", headers=H, timeout=5)
    assert r.headers["X-Rate-Limit-Limit"] == "500" and r.headers["X-Rate-Limit-Remaining"] == "499"
    requests.post(f"{base}/__sandbox/rate_limit", json={"calls": 2, "seconds": 30}, timeout=5)
    remaining = [requests.get(f"{api}/site", headers=H, timeout=5).headers["X-Rate-Limit-Remaining"]
                 for _ in range(2)]
    assert remaining == ["1", "0"]
    r = requests.get(f"{api}/site", headers=H, timeout=5)
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 30
    assert r.headers["X-Rate-Limit-Limit"] == "2" and r.headers["X-Rate-Limit-Remaining"] == "0"
    requests.post(f"{base}/__sandbox/reset", timeout=5)        # restores the 500/hour default
    assert requests.get(f"{api}/site", headers=H, timeout=5).headers["X-Rate-Limit-Limit"] == "500"


def test_injected_faults_use_cats_error_bodies(cats):
    base, api = cats
    fault = lambda **b: requests.post(f"{base}/__sandbox/faults", json=b, timeout=5)
    fault(mode="401", count=1)
    r = requests.get(f"{api}/site", headers=H, timeout=5)
    assert r.status_code == 401 and r.json()["message"]
    assert requests.get(f"{api}/site", headers=H, timeout=5).status_code == 200
    fault(mode="500", count=1)
    r = requests.get(f"{api}/site", headers=H, timeout=5)
    assert r.status_code == 500 and r.headers["Content-Type"].startswith("text/html")
    fault(mode="429", count=1)
    r = requests.get(f"{api}/site", headers=H, timeout=5)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    fault(mode="slow", count=1, delay=0.3)
    start = time.monotonic()
    assert requests.get(f"{api}/site", headers=H, timeout=5).status_code == 200
    assert time.monotonic() - start >= 0.3


def test_state_inspection_and_reset(cats):
    base, api = cats
    cid = create(api)
    state = requests.get(f"{base}/__sandbox/state", timeout=5).json()
    assert state["name"] == "cats" and [c["id"] for c in state["tables"]["candidates"]] == [cid]
    assert {"tags", "lists", "jobs", "job_statuses", "companies", "custom_field_defs"} <= set(state["tables"])
    requests.post(f"{base}/__sandbox/reset", timeout=5)
    state = requests.get(f"{base}/__sandbox/state", timeout=5).json()
    assert "candidates" not in state["tables"] and len(state["tables"]["companies"]) == 6
    assert requests.get(f"{api}/candidates/{cid}", headers=H, timeout=5).status_code == 404
