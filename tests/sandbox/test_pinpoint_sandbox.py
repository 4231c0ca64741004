"""The Pinpoint sandbox over a real socket, with plain `requests` (never through providers/)."""
from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

KEY = "pinpoint-sandbox-key"
MEDIA = "application/vnd.api+json"
H = {"X-API-KEY": KEY, "Accept": MEDIA}


@pytest.fixture
def pp(sandbox) -> tuple[str, str]:
    server = sandbox("pinpoint")
    return server.base, server.base + "/api/v1"


def send(method: str, url: str, kind: str, attributes: dict,
         relationships: dict | None = None) -> requests.Response:
    data: dict = {"type": kind, "attributes": attributes}
    if relationships:
        data["relationships"] = relationships
    return requests.request(method, url, data=json.dumps({"data": data}), timeout=5,
                            headers={**H, "Content-Type": MEDIA})


def get(url: str, **params) -> requests.Response:
    return requests.get(url, params=params, headers=H, timeout=5)


def open_job(api: str) -> str:
    return get(f"{api}/jobs", **{"filter[status]": "open"}).json()["data"][0]["id"]


def apply(api: str, job: str, **attrs) -> requests.Response:
    attrs = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", **attrs}
    return send("POST", f"{api}/applications", "applications", attrs,
                {"job": {"data": {"type": "jobs", "id": job}}})


def test_api_key_ok_wrong_or_missing_is_401_jsonapi_error(pp):
    _, api = pp
    r = get(f"{api}/jobs")
    assert r.status_code == 200 and r.headers["Content-Type"] == MEDIA
    for headers in ({"X-API-KEY": "nope"}, {}):
        r = requests.get(f"{api}/jobs", headers=headers, timeout=5)
        assert r.status_code == 401
        assert r.json()["errors"][0]["status"] == "401" and r.json()["errors"][0]["title"] == "Unauthorized"


def test_create_application_creates_candidate_then_lookup_by_email_and_include(pp):
    _, api = pp
    job = open_job(api)
    r = apply(api, job, phone="+44 20 1234", linkedin_url="https://www.linkedin.com/in/ada",
              external_system_reference="shoal-42")
    assert r.status_code == 201, r.text
    app = r.json()["data"]
    assert app["type"] == "applications" and app["attributes"]["full_name"] == "Ada Lovelace"
    cand_id = app["relationships"]["candidate"]["data"]["id"]
    assert app["relationships"]["job"]["data"] == {"type": "jobs", "id": job}

    found = get(f"{api}/applications",
                **{"filter[candidate_email]": "ADA@example.com", "include": "candidate,job"}).json()
    assert [a["id"] for a in found["data"]] == [app["id"]]
    included = {(i["type"], i["id"]) for i in found["included"]}
    assert included == {("candidates", cand_id), ("jobs", job)}
    by_ref = get(f"{api}/applications", **{"filter[external_system_reference]": "shoal-42"}).json()
    assert by_ref["data"][0]["id"] == app["id"]
    cand = get(f"{api}/candidates/{cand_id}").json()["data"]
    assert cand["attributes"]["linkedin_url"] == "https://www.linkedin.com/in/ada"
    assert cand["attributes"]["blocked"] is False

    # Same email on another job reuses the candidate; the same job twice is refused.
    other = get(f"{api}/jobs", **{"filter[status]": "open"}).json()["data"][1]["id"]
    again = apply(api, other)
    assert again.status_code == 201
    assert again.json()["data"]["relationships"]["candidate"]["data"]["id"] == cand_id
    dup = apply(api, job)
    assert dup.status_code == 422
    assert dup.json()["errors"][0]["source"]["pointer"] == "/data/relationships/job"


def test_candidates_have_no_post_and_no_email_filter_but_can_be_updated(pp):
    _, api = pp
    assert send("POST", f"{api}/candidates", "candidates", {"first_name": "X"}).status_code == 404
    r = get(f"{api}/candidates", **{"filter[email]": "priya.shah@example.com"})
    assert r.status_code == 400 and r.json()["errors"][0]["source"] == {"parameter": "filter[email]"}
    blocked = get(f"{api}/candidates", **{"filter[blocked]": "true"}).json()["data"]
    assert [c["attributes"]["email"] for c in blocked] == ["olga.novak@example.net"]
    cid = get(f"{api}/candidates").json()["data"][0]["id"]
    for verb in ("PUT", "PATCH"):
        r = send(verb, f"{api}/candidates/{cid}", "candidates", {"town": f"Leeds-{verb}", "blocked": True})
        assert r.status_code == 200 and r.json()["data"]["attributes"]["town"] == f"Leeds-{verb}"
    assert get(f"{api}/candidates/{cid}").json()["data"]["attributes"]["blocked"] is True


def test_bad_input_is_400_or_422_with_pointers_and_writes_nothing(pp):
    base, api = pp
    before = requests.get(f"{base}/__sandbox/state", timeout=5).json()["tables"]
    job = open_job(api)
    r = apply(api, job, first_name="", email="nope")
    assert r.status_code == 422
    pointers = {e["source"]["pointer"] for e in r.json()["errors"]}
    assert pointers == {"/data/attributes/first_name", "/data/attributes/email"}
    assert apply(api, job, favourite_colour="red").status_code == 400
    assert apply(api, job, cv_base64_data="***", cv_file_name="cv.pdf").status_code == 422
    no_file_name = apply(api, job, cv_base64_data=base64.b64encode(b"pdf").decode())
    assert no_file_name.status_code == 422
    no_job = send("POST", f"{api}/applications", "applications",
                  {"first_name": "A", "last_name": "B", "email": "a@b.co"})
    assert no_job.status_code == 422
    assert send("POST", f"{api}/applications", "candidates", {}).status_code == 409      # wrong type
    assert requests.post(f"{api}/applications", data="{", headers={**H, "Content-Type": MEDIA},
                         timeout=5).status_code == 400
    assert requests.post(f"{api}/applications", data="a=b", timeout=5, headers={
        **H, "Content-Type": "application/x-www-form-urlencoded"}).status_code == 415
    after = requests.get(f"{base}/__sandbox/state", timeout=5).json()["tables"]
    assert len(after["applications"]) == len(before["applications"])
    assert len(after["candidates"]) == len(before["candidates"])


def test_pagination_page_size_to_the_end_stats_and_limits(pp):
    base, api = pp
    requests.post(f"{base}/__sandbox/rate_limit", json={"calls": 0}, timeout=5)
    job = open_job(api)
    seeded = get(f"{api}/applications", **{"stats[total]": "count"}).json()["meta"]["stats"]["total"]["count"]
    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(lambda i: apply(api, job, email=f"bulk{i}@example.com").status_code,
                              range(120)))
    assert codes == [201] * 120
    seen, number = [], 1
    while True:
        page = get(f"{api}/applications", **{"page[number]": number, "page[size]": 50}).json()
        seen += [a["id"] for a in page["data"]]
        if "next" not in page["links"]:
            break
        number += 1
    assert len(seen) == len(set(seen)) == seeded + 120 and number == -(-(seeded + 120) // 50)
    assert len(get(f"{api}/applications").json()["data"]) == 100                  # default page size
    assert len(get(f"{api}/applications", **{"page[size]": 1000}).json()["data"]) == seeded + 120
    assert get(f"{api}/applications", **{"page[size]": 1001}).status_code == 400
    desc = get(f"{api}/applications", sort="-id", **{"page[size]": 2}).json()["data"]
    assert int(desc[0]["id"]) > int(desc[1]["id"])
    assert get(f"{api}/applications", sort="email").status_code == 400


def test_tags_cv_and_stage_move_on_applications(pp):
    base, api = pp
    job = open_job(api)
    cv = base64.b64encode(b"%PDF-1.4 ada").decode()
    app = apply(api, job, cv_base64_data=cv, cv_file_name="ada.pdf",
                add_tags_with_context=[{"name": "Sourced", "context": "custom_green"}]).json()["data"]
    url = f"{api}/applications/{app['id']}"
    r = send("PATCH", url, "applications", {
        "add_tag_with_context": {"name": "sourced", "context": "custom_green"},
        "remove_tag_with_context": {"name": "Nope", "context": "custom"}})
    assert r.status_code == 200
    attrs = get(url, **{"extra_fields[applications]": "attachments,tags"}).json()["data"]["attributes"]
    assert attrs["tags"] == [{"name": "Sourced", "context": "custom_green"}]
    assert [(a["context"], a["filename"]) for a in attrs["attachments"]] == [("pdf_cv", "ada.pdf")]
    assert requests.get(attrs["attachments"][0]["url"], timeout=5).content == b"%PDF-1.4 ada"
    assert "tags" not in get(url).json()["data"]["attributes"]          # only with extra_fields

    stages = get(f"{api}/stages", **{"filter[job_id]": job}).json()["data"]
    assert [s["attributes"]["basic_type"] for s in stages] == [
        "applied", "in_progress", "in_progress", "offer", "hired", "rejected"]
    assert get(f"{api}/stages", **{"filter[basic_type]": "limbo"}).status_code == 400
    interview = next(s for s in stages if s["attributes"]["name"] == "Interview")
    r = send("PATCH", url, "applications", {}, {"stage": {"data": {"type": "stages", "id": interview["id"]}}})
    assert r.status_code == 200
    assert r.json()["data"]["relationships"]["stage"]["data"]["id"] == interview["id"]
    foreign = get(f"{api}/stages").json()["data"]
    alien = next(s for s in foreign if s["relationships"]["job"]["data"]["id"] != job)
    move = send("PATCH", url, "applications", {}, {"stage": {"data": {"type": "stages", "id": alien["id"]}}})
    assert move.status_code == 422
    assert send("POST", f"{api}/stages", "stages", {"name": "New"}).status_code == 404      # read-only
    assert requests.delete(url, headers=H, timeout=5).status_code == 204
    assert get(url).status_code == 404


def test_comments_on_applications_and_job_seekers(pp):
    _, api = pp
    app_id = apply(api, open_job(api)).json()["data"]["id"]
    rel = {"commentable": {"data": {"type": "applications", "id": app_id}}}
    r = send("POST", f"{api}/comments", "comments", {"body_text": "Emailed about the role"}, rel)
    assert r.status_code == 201 and r.json()["data"]["attributes"]["body_text"] == "Emailed about the role"
    listed = get(f"{api}/comments", **{"filter[commentable_id]": app_id,
                                       "filter[commentable_type]": "applications"}).json()
    assert [c["id"] for c in listed["data"]] == [r.json()["data"]["id"]]
    assert send("POST", f"{api}/comments", "comments", {"body_text": " "}, rel).status_code == 422
    # The attribute is body_text (a machine-made spec says `body`): anything else is refused.
    assert send("POST", f"{api}/comments", "comments", {"body": "x"}, rel).status_code == 400
    missing = {"commentable": {"data": {"type": "applications", "id": "999999"}}}
    assert send("POST", f"{api}/comments", "comments", {"body_text": "x"}, missing).status_code == 422

    seeker = send("POST", f"{api}/job_seekers", "job_seekers", {"first_name": "Joe", "last_name": "Seeker",
                                                                "email": "joe@example.com"})
    assert seeker.status_code == 201
    sid = seeker.json()["data"]["id"]
    note = send("POST", f"{api}/comments", "comments", {"body_text": "Pipeline note"},
                {"commentable": {"data": {"type": "job_seekers", "id": sid}}})
    assert note.status_code == 201
    assert get(f"{api}/job_seekers/{sid}").json()["data"]["attributes"]["email"] == "joe@example.com"


def test_jobs_statuses_custom_fields_and_attributes(pp):
    _, api = pp
    statuses = {j["attributes"]["status"] for j in get(f"{api}/jobs").json()["data"]}
    assert statuses == {"open", "closed", "archived", "draft"}
    assert get(f"{api}/jobs", **{"filter[status]": "paused"}).status_code == 400
    fields = get(f"{api}/custom_fields", **{"filter[resource_type]": "Application"}).json()["data"]
    rtw = next(f for f in fields if f["attributes"]["name"] == "Right to work")
    options = get(f"{api}/custom_field_options", **{"filter[custom_field_id]": rtw["id"]}).json()["data"]
    assert [o["attributes"]["name"] for o in options] == ["Yes", "No", "Sponsorship needed"]
    app_id = apply(api, open_job(api)).json()["data"]["id"]
    field_rel = {"custom_field": {"data": {"type": "custom_fields", "id": rtw["id"]}}}
    target = {"custom_attributable_type": "Application", "custom_attributable_id": app_id}
    assert send("POST", f"{api}/custom_attributes", "custom_attributes", {**target, "value": "Maybe"},
                field_rel).status_code == 422
    made = send("POST", f"{api}/custom_attributes", "custom_attributes", {**target, "value": "Yes"},
                field_rel)
    assert made.status_code == 201
    # One value per field × record: a second POST is refused, PATCH the existing one instead.
    assert send("POST", f"{api}/custom_attributes", "custom_attributes", {**target, "value": "No"},
                field_rel).status_code == 422
    r = send("PATCH", f"{api}/custom_attributes/{made.json()['data']['id']}", "custom_attributes",
             {"value": "No"})
    assert r.status_code == 200 and r.json()["data"]["attributes"]["value"] == "No"
    listed = get(f"{api}/custom_attributes", **{"filter[custom_attributable_id]": app_id}).json()["data"]
    assert [a["attributes"]["value"] for a in listed] == ["No"]


def test_rate_limit_429_faults_and_reset(pp):
    base, api = pp
    requests.post(f"{base}/__sandbox/rate_limit", json={"calls": 3, "seconds": 30}, timeout=5)
    codes = [get(f"{api}/jobs").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = get(f"{api}/jobs")
    assert int(r.headers["Retry-After"]) >= 1 and r.json()["errors"][0]["status"] == "429"
    requests.post(f"{base}/__sandbox/reset", timeout=5)
    ok = get(f"{api}/jobs")
    assert ok.status_code == 200 and ok.headers["X-RateLimit-Limit"] == "100"      # reset restores the budget

    requests.post(f"{base}/__sandbox/faults", json={"mode": "500", "count": 1}, timeout=5)
    r = get(f"{api}/jobs")
    assert r.status_code == 500 and r.json()["errors"][0]["title"] == "Internal Server Error"
    assert get(f"{api}/jobs").status_code == 200

    apply(api, open_job(api), email="temp@example.com")
    state = requests.get(f"{base}/__sandbox/state", timeout=5).json()
    assert state["name"] == "pinpoint"
    assert any(c.get("email") == "temp@example.com" for c in state["tables"]["candidates"])
    requests.post(f"{base}/__sandbox/reset", timeout=5)
    tables = requests.get(f"{base}/__sandbox/state", timeout=5).json()["tables"]
    assert not any(c.get("email") == "temp@example.com" for c in tables["candidates"])
    assert len(tables["candidates"]) == 3 and len(tables["jobs"]) == 5


def test_one_job_seeker_per_person_and_links_survive_plus_signs_in_filters(pp):
    _, api = pp
    attrs = {"first_name": "Joe", "last_name": "Seeker", "email": "joe+tag@example.com"}
    assert send("POST", f"{api}/job_seekers", "job_seekers", attrs).status_code == 201
    again = send("POST", f"{api}/job_seekers", "job_seekers", {**attrs, "email": "JOE+tag@example.com"})
    assert again.status_code == 422
    assert again.json()["errors"][0]["source"]["pointer"] == "/data/attributes/email"
    apply(api, open_job(api), email="joe+tag@example.com")
    page = get(f"{api}/applications",
               **{"filter[candidate_email]": "joe+tag@example.com", "page[size]": 1}).json()
    assert len(page["data"]) == 1
    follow = requests.get(page["links"]["self"], headers=H, timeout=5).json()       # `+` stays an email `+`
    assert [a["id"] for a in follow["data"]] == [page["data"][0]["id"]]


@pytest.mark.parametrize("body", ["[1", "{}", '{"data": {"type": "applications", "attributes": []}}',
                                  '{"data": {"type": "x", "attributes": {"first_name": 1}}}'])
def test_junk_bodies_on_every_write_route_are_4xx_never_500(pp, body):
    _, api = pp
    app = apply(api, open_job(api)).json()["data"]
    cand = app["relationships"]["candidate"]["data"]["id"]
    routes = [("POST", "/applications"), ("PATCH", f"/applications/{app['id']}"),
              ("PUT", f"/candidates/{cand}"), ("POST", "/job_seekers"), ("POST", "/comments"),
              ("POST", "/custom_attributes")]
    for method, path in routes:
        r = requests.request(method, api + path, data=body, timeout=5, headers={**H, "Content-Type": MEDIA})
        assert 400 <= r.status_code < 500 and r.json()["errors"], (method, path, r.status_code)
