"""Tracker adapter: pure mappers, then against the Tracker sandbox over a real socket (JWT exchange
and re-exchange, 10-row pages, searches that ignore their text filter, notes, longlists, tags)."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from providers.errors import AuthError, NotFound, RateLimited, Rejected
from providers.tracker import mappers
from providers.tracker.client import parse_expiration
from providers.tracker.provider import TrackerProvider
from sandbox.common import serve_in_thread
from tests.conftest import SANDBOX_ALLOWLIST


# -- mappers (pure) -------------------------------------------------------------------------------

def test_body_uses_surname_and_contact_details():
    body = mappers.to_body("candidate", {"first_name": "Ada", "last_name": "Lovelace", "email": "a@x.io",
                                         "phone": "07700", "linkedin_url": "https://linkedin.com/in/ada",
                                         "company": "Engines", "location": "London", "custom:4": "v"})
    assert body == {"firstName": "Ada", "surname": "Lovelace", "city": "London", "employer": "Engines",
                    "contactDetails": {"email": "a@x.io", "mobilePhone": "07700",
                                       "linkedIn": "https://linkedin.com/in/ada"},
                    "customFields": [{"id": 4, "value": "v"}]}
    assert mappers.to_body("contact", {"company": "Acme"}) == {"company": "Acme"}
    assert mappers.to_body("candidate", {"title": None}) == {}


def test_record_reads_lowercase_firstname_and_nested_contact_details():
    cand = mappers.to_record("candidate", {"resourceId": 9, "firstname": "Ada", "surname": "L",
                                           "email": "a@x.io", "mobilePhone": "1", "employer": None,
                                           "currentClient": {"name": "Co"}})
    assert cand.remote_id == "9"
    assert cand.fields == {"first_name": "Ada", "last_name": "L", "email": "a@x.io", "phone": "1",
                           "company": "Co"}
    contact = mappers.to_record("contact", {
        "contactId": 3, "firstName": "Grace", "surname": "H", "company": "Acme",
        "contactDetails": {"email": "g@x.io", "linkedIn": "linkedin.com/in/g"}})
    assert contact.fields["first_name"] == "Grace" and contact.fields["email"] == "g@x.io"
    assert contact.fields["linkedin_url"] == "linkedin.com/in/g" and contact.fields["company"] == "Acme"
    assert "title" not in contact.fields   # absent from the row: unknown, not blank


def test_tags_merge_keeps_existing_and_ignores_case_duplicates():
    existing = mappers.split_tags("Java, python")
    assert mappers.merge_tags(existing, ["Python", "Go", " "]) == ["Java", "python", "Go"]


def test_validation_errors_are_rekeyed_to_our_fields():
    assert mappers.field_errors({"firstName": "required", "contactDetails.email": "bad", "$.zip": "x"}) == \
        {"first_name": "required", "email": "bad", "$.zip": "x"}


def test_expiration_parsing():
    assert parse_expiration("2026-11-29T06:00:00Z") == datetime(2026, 11, 29, 6, tzinfo=timezone.utc)
    assert parse_expiration("2026-11-29T06:00:00").tzinfo is not None


def test_region_picks_the_default_host_and_credentials_validate():
    assert TrackerProvider.base_url_for({"region": "us"}) == "https://evousapi.tracker-rms.com"
    assert TrackerProvider.base_url_for({"region": "CA"}) == "https://evocaapi.tracker-rms.com"
    assert TrackerProvider.base_url_for({}) == TrackerProvider.default_base_url
    schema = TrackerProvider.credentials_schema()
    assert schema.validate({"bearer_token": "t", "region": "uk"}) == {}
    assert "region" in schema.validate({"bearer_token": "t", "region": "fr"})
    assert "bearer_token" in schema.validate({"region": "uk"})
    assert {"bearer_token", "access_token", "refresh_token", "jwt"} <= set(TrackerProvider.secret_fields())


# -- against the sandbox ----------------------------------------------------------------------------

import sandbox.tracker as sb  # noqa: E402  (tests may start sandboxes; the adapter never imports them)


@pytest.fixture
def server(sandbox):
    return sandbox("tracker")


def _adapter(server, **extra):
    saved: list[dict] = []
    adapter = TrackerProvider(server.base + sb.API_ROOT, {**sb.DEFAULT_CREDENTIALS, **extra},
                              on_credentials_changed=saved.append, allowlist=SANDBOX_ALLOWLIST)
    adapter.saved = saved
    return adapter


@pytest.fixture
def tracker(server):
    return _adapter(server)


ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada.tracker@example.com",
       "phone": "+44 7700 900777", "title": "Analyst", "company": "Engines Ltd", "location": "London",
       "linkedin_url": "https://www.linkedin.com/in/ada-tracker-test"}


def test_jwt_exchanged_once_persisted_and_reused(tracker, server):
    tracker.check_connection()
    assert tracker.saved and tracker.saved[-1]["jwt"]
    cached = {k: tracker.saved[-1][k] for k in ("jwt", "jwt_expires_at", "jwt_obtained_at")}
    again = _adapter(server, **cached)
    again.list_statuses("candidate")
    assert again.client.exchanges == 0 and not again.saved


def test_bad_token_is_auth_error(server):
    with pytest.raises(AuthError):
        _adapter(server, bearer_token="not-a-token").check_connection()


def test_stale_jwt_is_reexchanged_once_on_401(server):
    adapter = _adapter(server, jwt="garbage.jwt.value",
                       jwt_expires_at=(datetime.now(timezone.utc) + timedelta(days=6)).isoformat())
    assert adapter.list_statuses("candidate")
    assert adapter.client.exchanges == 1 and adapter.saved[-1]["jwt"] != "garbage.jwt.value"


def test_jwt_reexchanged_before_expiry():
    app = sb.create_app(jwt_seconds=3)
    srv = serve_in_thread(app)
    try:
        adapter = _adapter(srv)
        adapter.list_statuses("candidate")
        assert adapter.client.exchanges == 1
        adapter.list_statuses("candidate")
        assert adapter.client.exchanges == 1      # still valid: cached
        time.sleep(3.2)
        adapter.list_statuses("candidate")
        assert adapter.client.exchanges == 2
        assert parse_expiration(adapter.saved[-1]["jwt_expires_at"]) > datetime.now(timezone.utc)
    finally:
        srv.stop()


def test_create_find_get_update(tracker):
    rec = tracker.create("candidate", ADA)
    assert rec.remote_id.isdigit()
    found = tracker.find_person("candidate", email="ADA.TRACKER@example.com")
    assert found is not None and found.remote_id == rec.remote_id
    got = tracker.get("candidate", rec.remote_id)
    for key in ("first_name", "last_name", "email", "phone", "title", "company", "location", "linkedin_url"):
        assert got.fields[key] == ADA[key], key
    tracker.update("candidate", rec.remote_id, {"title": "Lead Analyst"})
    got = tracker.get("candidate", rec.remote_id)
    assert got.fields["title"] == "Lead Analyst" and got.fields["email"] == ADA["email"]
    assert tracker.find_person("candidate", email="no-one@example.com") is None
    with pytest.raises(NotFound):
        tracker.get("candidate", "99999")


def test_find_crawls_pages_when_search_ignores_text(tracker, server):
    for i in range(25):
        tracker.create("candidate", {"first_name": "Filler", "last_name": f"N{i}",
                                     "email": f"filler{i}@example.com"})
    target = tracker.create("candidate", ADA)
    requests.post(f"{server.base}/__sandbox/tracker/ignore_search_text", json={"on": True}, timeout=5)
    before = tracker.client.calls
    found = tracker.find_person("candidate", email=ADA["email"])
    assert found is not None and found.remote_id == target.remote_id
    # Seeded rows plus 26 of ours at 10 a page: several pages were read, and the crawl stopped at the match.
    assert tracker.client.calls - before >= 3
    by_url = tracker.find_person("candidate", linkedin_url="linkedin.com/in/ada-tracker-test/")
    assert by_url is not None and by_url.remote_id == target.remote_id
    # Nobody: the email crawl already walked the default list, so the LinkedIn search is skipped.
    total = tracker.client.json("POST", "/api/v1/Resource/Search", json={"pageNumber": 1})["totalRecords"]
    before = tracker.client.calls
    assert tracker.find_person("candidate", email="ghost@example.com",
                               linkedin_url="https://linkedin.com/in/ghost") is None
    assert tracker.client.calls - before == -(-total // 10)


def test_search_pages_are_ten_rows(tracker):
    for i in range(12):
        tracker.create("candidate", {"first_name": "Pager", "last_name": f"P{i:02d}",
                                     "email": f"pg{i}@example.com"})
    first = tracker.search("candidate", {"first_name": "Pager"})
    assert len(first.items) == 10 and first.next_cursor == "2"
    second = tracker.search("candidate", {"first_name": "Pager"}, first.next_cursor)
    assert len(second.items) == 2 and second.next_cursor is None


def test_validation_error_names_our_field(tracker):
    with pytest.raises(Rejected) as exc:
        tracker.create("candidate", {"last_name": "Only", "email": "only@example.com"})
    assert "first_name" in exc.value.field_errors


def test_notes_types_and_listing(tracker):
    rec = tracker.create("candidate", ADA)
    types = tracker.list_note_types("candidate")
    email_type = next(t for t in types if t.name.lower() == "email")
    note_id = tracker.add_note("candidate", rec.remote_id, "Sent email\nHello Ada", email_type.id)
    plain = tracker.add_note("candidate", rec.remote_id, "Untyped")
    notes = {n.id: n for n in tracker.list_notes("candidate", rec.remote_id)}
    assert notes[note_id].body == "Sent email\nHello Ada" and notes[note_id].note_type == email_type.id
    assert notes[plain].note_type is None


def test_longlist_is_idempotent_and_jobs_filter_by_status(tracker):
    rec = tracker.create("candidate", ADA)
    jobs = tracker.list_jobs()
    assert jobs
    statuses = {s.name for s in tracker.list_job_statuses()}
    assert {j.status for j in jobs} <= statuses
    closed = tracker.list_jobs(["Closed"])
    assert all(j.status == "Closed" for j in closed)
    first = tracker.add_to_job("candidate", rec.remote_id, jobs[0].id)
    assert first == tracker.add_to_job("candidate", rec.remote_id, jobs[0].id)


def test_tags_merge_statuses_and_contact_off_limits(tracker):
    rec = tracker.create("candidate", ADA)
    tracker.apply_tags("candidate", rec.remote_id, ["Java"])
    tracker.apply_tags("candidate", rec.remote_id, ["java", "Fintech"])
    row = tracker.client.json("GET", f"/api/v1/Resource/{rec.remote_id}")
    assert mappers.split_tags(row["tagText"]) == ["Java", "Fintech"]
    statuses = [s.id for s in tracker.list_statuses("candidate")]
    tracker.set_status("candidate", rec.remote_id, statuses[-1])
    assert tracker.client.json("GET", f"/api/v1/Resource/{rec.remote_id}")["resourceStatus"] == statuses[-1]
    assert tracker.off_limits("candidate", rec.remote_id).blocked is False
    contact = tracker.create("contact", {"first_name": "Grace", "last_name": "Hopper",
                                         "email": "grace.t@example.com", "company": "Acme Ltd"})
    assert tracker.off_limits("contact", contact.remote_id).blocked is False
    tracker.client.json("PATCH", f"/api/v1/Contact/{contact.remote_id}",
                        json={"marketingPreference": "Opted Out"})
    assert tracker.off_limits("contact", contact.remote_id).blocked is True
    found = tracker.find_person("contact", email="grace.t@example.com")
    assert found is not None and found.fields["company"] == "Acme Ltd"


def test_company_near_duplicates_and_fields(tracker):
    names = [c.name for c in tracker.search_companies("ACME Limited")]
    assert names[0] == "ACME Limited" and "Acme Ltd" in names
    fields = tracker.list_fields("contact")
    assert fields[0].key == "first_name" and any(f.custom for f in fields)


def test_rate_limited(tracker, server):
    tracker.check_connection()
    requests.post(f"{server.base}/__sandbox/faults", json={"mode": "429", "count": 1}, timeout=5)
    with pytest.raises(RateLimited) as exc:
        tracker.list_statuses("candidate")
    assert exc.value.retry_after > 0


def test_one_401_reexchanges_and_repeats_the_call(tracker, server):
    tracker.check_connection()
    before = tracker.client.exchanges
    requests.post(f"{server.base}/__sandbox/faults", json={"mode": "401", "count": 1}, timeout=5)
    assert tracker.list_statuses("candidate")
    assert tracker.client.exchanges == before + 1


def test_calls_per_push(tracker):
    """What the benchmark counts (JWT cached): new person 3 calls, existing 3, note 1."""
    tracker.check_connection()
    start = tracker.client.calls
    assert tracker.find_person("candidate", email=ADA["email"], linkedin_url=ADA["linkedin_url"]) is None
    rec = tracker.create("candidate", ADA)
    assert tracker.client.calls - start == 3
    start = tracker.client.calls
    found = tracker.find_person("candidate", email=ADA["email"], linkedin_url=ADA["linkedin_url"])
    tracker.update("candidate", found.remote_id, {"title": "CTO"})
    assert tracker.client.calls - start == 3
    start = tracker.client.calls
    tracker.add_note("candidate", rec.remote_id, "Replied")
    assert tracker.client.calls - start == 1


def test_found_record_carries_custom_fields_for_the_planner(tracker):
    field = next(f for f in tracker.list_fields("candidate") if f.custom and f.type == "text")
    rec = tracker.create("candidate", {**ADA, field.key: "Fintech"})
    found = tracker.find_person("candidate", email=ADA["email"])
    assert found.remote_id == rec.remote_id and found.fields[field.key] == "Fintech"


def test_search_rechecks_text_filters_locally_when_ignored(tracker, server):
    ada = tracker.create("candidate", ADA)
    for i in range(15):
        tracker.create("candidate", {"first_name": "Other", "last_name": f"O{i}",
                                     "email": f"o{i}@example.com"})
    requests.post(f"{server.base}/__sandbox/tracker/ignore_search_text", json={"on": True}, timeout=5)
    found, cursor = [], None
    for _ in range(20):
        page = tracker.search("candidate", {"email": ADA["email"]}, cursor)
        assert page.items or page.next_cursor is None
        found += [r.remote_id for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert found == [ada.remote_id]
