"""SmartRecruiters quirks, against its sandbox: `limit` ≤ 100 paging with `totalFound`, the
`X-SmartToken` header, and OAuth (consent → code exchange → Bearer calls → refresh before expiry
and once after a 401, rotated tokens handed to `on_credentials_changed`)."""
from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from providers.base import OAuthApp
from providers.errors import AuthError, RateLimited, Rejected, Unavailable
from providers.hosts import Allowlist
from tests.conftest import SANDBOX_ALLOWLIST
from tests.providers.conftest import person_fields
from tests.providers.recording import RecordingSession


@pytest.fixture
def crm(make_crm):
    return make_crm("smartrecruiters")


def test_api_key_goes_in_x_smarttoken(crm) -> None:
    session = RecordingSession()
    crm.adapter(session=session).check_connection()
    (call,) = session.sent
    assert call.headers["X-SmartToken"] == crm.credentials["api_key"]
    assert "Authorization" not in call.headers


def test_search_pages_100_at_a_time_to_the_end(crm, unique: str) -> None:
    adapter = crm.adapter()
    town = f"Zakopane{unique}"
    for i in range(105):
        create_paced(adapter, {**person_fields(f"{unique}{i:03d}"), "location": f"{town}, Poland"})
    session = RecordingSession()
    paged = crm.adapter(session=session)
    first = paged.search("candidate", {"location": town})
    assert len(first.items) == 100 and first.total == 105 and first.next_cursor == "100"
    second = paged.search("candidate", {"location": town}, first.next_cursor)
    assert len(second.items) == 5 and second.next_cursor is None
    assert {r.remote_id for r in first.items}.isdisjoint(r.remote_id for r in second.items)
    assert [session.query(r)["limit"] for r in session.sent] == [["100"], ["100"]]
    assert [session.query(r)["offset"] for r in session.sent] == [["0"], ["100"]]


def test_email_lookup_is_exact_although_the_search_is_fuzzy(crm, unique: str) -> None:
    adapter = crm.adapter()
    rec = adapter.create("candidate", person_fields(unique))
    adapter.create("candidate", {**person_fields(unique + "x"), "email": f"x.ada.{unique}@example.com"})
    found = adapter.find_person("candidate", email=f"ada.{unique}@example.com")
    assert found is not None and found.remote_id == rec.remote_id
    assert found.fields["title"] == "Head of Engineering"           # from experience[current]
    assert found.fields["company"] == "Analytical Engines Ltd"


def test_title_and_company_are_the_current_experience(crm, unique: str) -> None:
    session = RecordingSession()
    adapter = crm.adapter(session=session)
    rec = adapter.create("candidate", person_fields(unique))
    body = session.body(session.calls("POST", "/candidates")[0])
    assert body["experience"] == [{"current": True, "title": "Head of Engineering",
                                   "company": "Analytical Engines Ltd"}]
    assert body["web"] == {"linkedin": f"https://www.linkedin.com/in/ada-{unique}"}
    adapter.update("candidate", rec.remote_id, {"title": "CTO"})
    got = adapter.get("candidate", rec.remote_id)
    assert (got.fields["title"], got.fields["company"]) == ("CTO", "Analytical Engines Ltd")


def test_notes_are_shares_mentioning_the_candidate(crm, unique: str) -> None:
    adapter = crm.adapter()
    rec = adapter.create("candidate", person_fields(unique))
    session = RecordingSession()
    crm.adapter(session=session).add_note("candidate", rec.remote_id, "Interested in the role")
    body = session.body(session.calls("POST", "/messages/shares")[0])
    assert body["content"].startswith(f"#[CANDIDATE:{rec.remote_id}]") and "Interested in the role" in body["content"]


def paced(fn: Any, *args: Any) -> Any:
    """Call, waiting out the sandbox's 10 requests/second the way a worker would re-enqueue."""
    for _ in range(20):
        try:
            return fn(*args)
        except RateLimited as exc:
            time.sleep(min(exc.retry_after, 1.0))
    raise AssertionError("still rate limited")


def create_paced(adapter: Any, fields: dict[str, Any]) -> Any:
    return paced(adapter.create, "candidate", fields)


def test_candidate_properties_are_typed_custom_fields(crm, unique: str) -> None:
    adapter = crm.adapter()
    props = {f.type: f for f in paced(adapter.list_fields, "candidate") if f.custom}
    assert {"number", "bool", "select"} <= set(props), "the sandbox seeds typed candidate properties"
    select = props["select"]
    values = {props["number"].key: "4", props["bool"].key: "yes", select.key: select.options[-1].label}
    rec = create_paced(adapter, {**person_fields(unique), **values})
    got = paced(adapter.get, "candidate", rec.remote_id).fields
    assert got[props["number"].key] == 4 and got[props["bool"].key] is True
    assert got[select.key] == select.options[-1].id
    with pytest.raises(Rejected) as info:      # refused before anything is written
        paced(adapter.update, "candidate", rec.remote_id,
              {select.key: "Astronaut", props["number"].key: "5", "first_name": "Augusta"})
    assert select.key in info.value.field_errors
    after = paced(adapter.get, "candidate", rec.remote_id).fields
    assert after[props["number"].key] == 4 and after["first_name"] == "Ada"


def test_a_job_is_applied_at_creation_then_add_to_job_is_idempotent(crm, unique: str) -> None:
    adapter = crm.adapter()
    job = adapter.list_jobs()[0]
    rec = adapter.create("candidate", {**person_fields(unique), "job_id": job.id})
    first = adapter.add_to_job("candidate", rec.remote_id, job.id)
    assert first == adapter.add_to_job("candidate", rec.remote_id, job.id)
    adapter.set_status("candidate", rec.remote_id, "IN_REVIEW")
    other = adapter.create("candidate", person_fields(unique + "o"))
    with pytest.raises(Rejected):         # a status lives on a job application: none yet
        adapter.set_status("candidate", other.remote_id, "IN_REVIEW")
    time.sleep(1.0)                       # stay inside the sandbox's 10 requests/second
    pipeline = adapter.add_to_job("candidate", other.remote_id, job.id, "IN_REVIEW")
    assert adapter.add_to_job("candidate", other.remote_id, job.id, "INTERVIEW") == pipeline
    adapter.set_status("candidate", other.remote_id, "OFFERED")
    assert adapter.find_person("candidate", email=f"ada.{unique}o@example.com").remote_id == other.remote_id


def test_free_text_tags_are_added_not_replaced(crm, unique: str) -> None:
    adapter = crm.adapter()
    rec = adapter.create("candidate", person_fields(unique))
    adapter.apply_tags("candidate", rec.remote_id, [f"python-{unique}"])
    adapter.apply_tags("candidate", rec.remote_id, [f"remote-{unique}"])
    for tag in (f"python-{unique}", f"remote-{unique}"):
        assert [r.remote_id for r in adapter.search("candidate", {"tag": tag}).items] == [rec.remote_id]


def test_tag_picker_offers_the_tags_on_recent_candidates(crm, unique: str) -> None:
    adapter = crm.adapter()
    rec = adapter.create("candidate", person_fields(unique))
    adapter.apply_tags("candidate", rec.remote_id, [f"picker-{unique}"])
    names = [t.name for t in adapter.list_tags("candidate")]
    assert f"picker-{unique}" in names and names == sorted(set(names), key=str.lower)


def test_job_status_whitelist_filters_jobs(crm) -> None:
    adapter = crm.adapter()
    jobs = adapter.list_jobs()
    statuses = {j.status for j in jobs}
    assert len(statuses) >= 2, "the sandbox seeds jobs in several statuses"
    keep = sorted(statuses)[0]
    assert {j.id for j in adapter.list_jobs([keep])} == {j.id for j in jobs if j.status == keep}
    assert {s.id for s in adapter.list_job_statuses()} >= statuses


# -- OAuth (authorization code) --------------------------------------------------------------------

def oauth_app(crm) -> OAuthApp:
    """The app's OAuth client (config in production), its identity host the sandbox."""
    client = crm.module.OAUTH_CLIENT
    return OAuthApp(client["client_id"], client["client_secret"], auth_base_url=crm.base)


def consent(crm, app: OAuthApp, redirect_uri: str, state: str, code_verifier: str | None = None) -> str:
    """Play the user: open the authorize URL, press "Allow", return the code from the redirect."""
    url = crm.cls.authorization_url(app, redirect_uri, state, code_verifier=code_verifier)
    assert url.startswith(f"{crm.base}/identity/oauth/allow?")
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1)
    fields["decision"] = "allow"
    resp = requests.post(crm.base + action, data=fields, allow_redirects=False, timeout=5)
    assert resp.status_code in (302, 303), resp.text
    location = resp.headers["Location"]
    assert location.startswith(redirect_uri)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]
    return query["code"][0]


@pytest.fixture
def oauth_creds(crm) -> dict[str, Any]:
    app = oauth_app(crm)
    redirect = "http://127.0.0.1:9/oauth/smartrecruiters/callback"
    code = consent(crm, app, redirect, "csrf-state-1")
    creds = crm.cls.exchange_code(code, app, redirect, Allowlist.parse(SANDBOX_ALLOWLIST))
    assert creds["access_token"] and creds["refresh_token"] and creds["expires_at"] > time.time()
    assert not {"client_id", "client_secret", "auth_base_url"} & set(creds)   # the app's, never stored
    assert crm.cls.credentials_schema().validate(creds) == {}
    return creds


def test_oauth_code_exchange_gives_working_bearer_credentials(crm, oauth_creds) -> None:
    session = RecordingSession()
    adapter = crm.adapter(oauth_creds, session=session)
    assert adapter.check_connection().name
    assert session.sent[-1].headers["Authorization"] == f"Bearer {oauth_creds['access_token']}"
    assert "X-SmartToken" not in session.sent[-1].headers


def test_a_code_is_single_use(crm, oauth_creds) -> None:
    app, allow = oauth_app(crm), Allowlist.parse(SANDBOX_ALLOWLIST)
    redirect = "http://127.0.0.1:9/cb"
    code = consent(crm, app, redirect, "s2")
    crm.cls.exchange_code(code, app, redirect, allow)
    with pytest.raises(AuthError):
        crm.cls.exchange_code(code, app, redirect, allow)


def test_pkce_binds_the_code_to_the_sign_in_that_asked_for_it(crm) -> None:
    """With a verifier, the consent URL carries its S256 challenge and the code is redeemed only
    with that verifier: a code stolen from the redirect is useless without it."""
    app, allow = oauth_app(crm), Allowlist.parse(SANDBOX_ALLOWLIST)
    redirect, verifier = "http://127.0.0.1:9/cb", "v" * 43 + "-pkce-verifier"
    url = crm.cls.authorization_url(app, redirect, "s3", code_verifier=verifier)
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and verifier not in url
    code = consent(crm, app, redirect, "s3", code_verifier=verifier)
    with pytest.raises(AuthError):
        crm.cls.exchange_code(code, app, redirect, allow)                      # no verifier
    code = consent(crm, app, redirect, "s4", code_verifier=verifier)
    with pytest.raises(AuthError):
        crm.cls.exchange_code(code, app, redirect, allow, code_verifier="w" * 50)   # the wrong one
    code = consent(crm, app, redirect, "s5", code_verifier=verifier)
    creds = crm.cls.exchange_code(code, app, redirect, allow, code_verifier=verifier)
    assert creds["access_token"] and creds["refresh_token"]


def test_token_refreshed_before_expiry_and_persisted(crm, oauth_creds) -> None:
    saved: list[dict[str, Any]] = []
    creds = {**oauth_creds, "expires_at": time.time() + 5}     # inside the refresh margin
    adapter = crm.adapter(creds, on_credentials_changed=saved.append, oauth_app=oauth_app(crm))
    adapter.check_connection()
    assert len(saved) == 1 and saved[0]["access_token"] != oauth_creds["access_token"]
    assert saved[0]["expires_at"] > time.time() + 60
    adapter.check_connection()                                 # fresh token: no second refresh
    assert len(saved) == 1


def test_token_refreshed_once_after_a_401(crm, oauth_creds) -> None:
    saved: list[dict[str, Any]] = []
    adapter = crm.adapter(oauth_creds, on_credentials_changed=saved.append, oauth_app=oauth_app(crm))
    crm.fault("401", count=1)
    before = adapter.client.calls
    assert adapter.check_connection().name                     # 401 → refresh → retried → fine
    assert len(saved) == 1 and adapter.client.calls - before == 3
    crm.fault("401", count=5)
    before = adapter.client.calls
    try:
        with pytest.raises(AuthError):                         # the refresh is refused too: give up
            adapter.check_connection()
    finally:
        crm.fault(None)
    assert adapter.client.calls - before == 2 and len(saved) == 1


def test_expired_token_without_refresh_token_is_an_auth_error(crm, oauth_creds) -> None:
    creds = {k: v for k, v in oauth_creds.items() if k != "refresh_token"}
    creds["expires_at"] = time.time() - 10
    with pytest.raises(AuthError):
        crm.adapter(creds, oauth_app=oauth_app(crm)).check_connection()


def test_declined_consent_is_off_limits(crm) -> None:
    """The sandbox seeds candidates in several consent states; list rows show `consent.status`."""
    rows = requests.get(f"{crm.base_url}/candidates", params={"limit": 100}, timeout=5,
                        headers={"X-SmartToken": crm.credentials["api_key"]}).json()["content"]
    adapter = crm.adapter()
    verdicts = {}
    for row in rows:
        status = (row.get("consent") or {}).get("status")
        if status:
            result = adapter.off_limits("candidate", row["id"])
            verdicts[status] = result.blocked
            assert (not result.blocked) or status in (result.reason or "")
    assert verdicts.get("DECLINED") is True
    assert verdicts.get("ACQUIRED") is False and verdicts.get("REQUIRED") is False


@pytest.mark.parametrize("mode,error", [("429", RateLimited), ("500", Unavailable)])
def test_a_throttled_or_failing_token_endpoint_is_not_an_auth_error(crm, oauth_creds, mode, error) -> None:
    creds = {**oauth_creds, "expires_at": time.time() - 10}   # the next call starts with a refresh
    crm.fault(mode, count=1)
    try:
        with pytest.raises(error):
            crm.adapter(creds, oauth_app=oauth_app(crm)).check_connection()
    finally:
        crm.fault(None)


def test_a_refused_field_is_named_in_our_terms(crm, unique: str) -> None:
    with pytest.raises(Rejected) as info:
        crm.adapter().create("candidate", {**person_fields(unique), "email": "not an email"})
    assert "email" in info.value.field_errors and info.value.status == 400
