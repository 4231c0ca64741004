"""itris adapter: pure mappers, then against the itris sandbox over a real socket. Nearly all of the
itris wire format is assumed (docs/assumptions.md), so these tests pin our reading of that page."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from providers.errors import AuthError, NotFound, NotSupported, RateLimited, Rejected
from providers.itris import mappers
from providers.itris.provider import ItrisProvider
from tests.conftest import SANDBOX_ALLOWLIST


# -- mappers (pure) -------------------------------------------------------------------------------

def test_body_uses_inbox_key_names_and_custom_object():
    body = mappers.to_body({"first_name": "Ada", "last_name": "L", "email": "a@x.io", "phone": "07700",
                            "linkedin_url": "https://linkedin.com/in/ada", "location": "Leeds", "title": None,
                            "custom:sector": "Fintech"})
    assert body == {"firstName": "Ada", "lastName": "L", "emailAddress": "a@x.io", "phoneNumber": "07700",
                    "webAddress": "https://linkedin.com/in/ada", "town": "Leeds",
                    "customFields": {"sector": "Fintech"}}


def test_record_falls_back_to_mobile_and_reads_custom_fields():
    rec = mappers.to_record("applicant", {"applicantId": 4, "firstName": "Ada", "phoneNumber": None,
                                          "mobileNumber": "07700", "customFields": {"sector": "x"}})
    assert rec.remote_id == "4"
    assert rec.fields == {"first_name": "Ada", "phone": "07700", "custom:sector": "x"}


def test_error_details_are_rekeyed():
    assert mappers.field_errors({"emailAddress": "bad", "customFields.sector": "no", "other": "x"}) == \
        {"email": "bad", "custom:sector": "no", "other": "x"}


def test_off_limits_flag():
    assert mappers.to_off_limits({"offLimits": True, "offLimitsReason": "GDPR"}).reason == "GDPR"
    assert mappers.to_off_limits({"offLimits": False}).blocked is False


def test_subdomain_fills_the_base_url_and_credentials_validate():
    creds = {"username": "api", "password": "pw", "subdomain": "acme"}
    assert ItrisProvider.base_url_for(creds) == "https://acme.itris.cloud/api/v2"
    assert ItrisProvider(ItrisProvider.default_base_url, creds).base_url == "https://acme.itris.cloud/api/v2"
    schema = ItrisProvider.credentials_schema()
    assert schema.validate(creds) == {}
    assert "subdomain" in schema.validate({**creds, "subdomain": "evil.example.com/x"})
    assert "password" in schema.validate({"username": "api", "subdomain": "acme"})
    assert "password" in ItrisProvider.secret_fields() and "username" not in ItrisProvider.secret_fields()


# -- against the sandbox ----------------------------------------------------------------------------

import sandbox.itris as sb  # noqa: E402  (tests may start sandboxes; the adapter never imports them)


@pytest.fixture
def server(sandbox):
    return sandbox("itris")


def _adapter(server, **extra):
    saved: list[dict] = []
    adapter = ItrisProvider(server.base + sb.API_ROOT, {**sb.DEFAULT_CREDENTIALS, **extra},
                            on_credentials_changed=saved.append, allowlist=SANDBOX_ALLOWLIST)
    adapter.saved = saved
    return adapter


@pytest.fixture
def itris(server):
    return _adapter(server)


ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada.itris@example.com",
       "phone": "+44 7700 900555", "title": "Analyst", "company": "Engines Ltd", "location": "Leeds",
       "linkedin_url": "https://www.linkedin.com/in/ada-itris-test/"}


def test_login_token_persisted_and_reused(itris, server):
    assert itris.check_connection().name
    saved = itris.saved[-1]
    assert saved["access_token"] and saved["token_expires_at"]
    again = _adapter(server, access_token=saved["access_token"], token_expires_at=saved["token_expires_at"])
    again.list_statuses("applicant")
    assert again.client.logins == 0


def test_wrong_password_is_auth_error(server):
    with pytest.raises(AuthError):
        _adapter(server, password="wrong").check_connection()


def test_unknown_token_logs_in_again_once(server):
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    adapter = _adapter(server, access_token="stale-token", token_expires_at=future)
    assert adapter.list_statuses("applicant")
    assert adapter.client.logins == 1 and adapter.saved[-1]["access_token"] != "stale-token"


def test_create_find_get_update(itris):
    rec = itris.create("applicant", ADA)
    assert rec.remote_id.isdigit()
    by_email = itris.find_person("applicant", email="ADA.ITRIS@example.com")
    assert by_email is not None and by_email.remote_id == rec.remote_id
    by_url = itris.find_person("applicant", email="other@example.com",
                               linkedin_url="linkedin.com/in/ada-itris-test")
    assert by_url is not None and by_url.remote_id == rec.remote_id
    assert itris.find_person("applicant", email="nobody@example.com") is None
    got = itris.get("applicant", rec.remote_id)
    for key in ("first_name", "last_name", "email", "phone", "title", "company", "location", "linkedin_url"):
        assert got.fields[key] == ADA[key], key
    itris.update("applicant", rec.remote_id, {"title": "Lead"})
    got = itris.get("applicant", rec.remote_id)
    assert got.fields["title"] == "Lead" and got.fields["email"] == ADA["email"]
    with pytest.raises(NotFound):
        itris.get("applicant", "424242")


def test_validation_error_names_our_field(itris):
    with pytest.raises(Rejected) as exc:
        itris.create("applicant", {"first_name": "Ada", "last_name": "L", "email": "not-an-email"})
    assert "email" in exc.value.field_errors


def test_custom_fields_round_trip(itris):
    defs = [f for f in itris.list_fields("applicant") if f.custom]
    assert defs
    field = next((f for f in defs if f.type == "text"), defs[0])
    value = field.options[0].id if field.options else "from Shoal"
    rec = itris.create("applicant", {**ADA, field.key: value})
    assert itris.get("applicant", rec.remote_id).fields[field.key] == value


def test_default_status_and_set_status(itris):
    statuses = itris.list_statuses("applicant")
    assert len(statuses) > 1
    rec = itris.create("applicant", ADA)
    itris.set_status("applicant", rec.remote_id, statuses[-1].id)
    row = itris.client.json("GET", f"/applicants/{rec.remote_id}")
    assert str(row["statusId"]) == statuses[-1].id


def test_notes_with_mapped_types(itris):
    rec = itris.create("applicant", ADA)
    types = itris.list_note_types("applicant")
    note_id = itris.add_note("applicant", rec.remote_id, "Replied: keen", types[0].id)
    untyped = itris.add_note("applicant", rec.remote_id, "Plain")
    notes = {n.id: n for n in itris.list_notes("applicant", rec.remote_id)}
    assert notes[note_id].note_type == types[0].id and notes[note_id].body == "Replied: keen"
    assert notes[untyped].note_type is None
    applicant_types = {t.id for t in types}
    contact_only = next(t.id for t in itris.list_note_types("contact") if t.id not in applicant_types)
    with pytest.raises(Rejected):
        itris.add_note("applicant", rec.remote_id, "x", contact_only)


def test_jobs_whitelist_and_idempotent_add(itris):
    rec = itris.create("applicant", ADA)
    statuses = itris.list_job_statuses()
    jobs = itris.list_jobs()
    assert jobs and statuses
    assert not [j for j in jobs if j.status in {s.id for s in statuses if s.name in ("Closed", "Filled")}]
    only = itris.list_jobs([statuses[0].id])
    assert all(j.status == statuses[0].id for j in only)
    first = itris.add_to_job("applicant", rec.remote_id, jobs[0].id)
    assert first == itris.add_to_job("applicant", rec.remote_id, jobs[0].id)
    with pytest.raises(NotSupported):
        itris.add_to_job("contact", rec.remote_id, jobs[0].id)


def test_tags_groups_and_unknown_tag(itris):
    rec = itris.create("applicant", ADA)
    tags = itris.list_tags("applicant")
    itris.apply_tags("applicant", rec.remote_id, [tags[0].name.upper()])
    itris.apply_tags("applicant", rec.remote_id, [tags[0].id])
    on_record = itris.client.json("GET", f"/applicants/{rec.remote_id}/tags")
    rows = on_record["items"] if isinstance(on_record, dict) else on_record
    assert [str(r["tagId"]) for r in rows] == [tags[0].id]
    with pytest.raises(Rejected):
        itris.apply_tags("applicant", rec.remote_id, ["No Such Tag"])
    groups = itris.list_lists("applicant")
    itris.add_to_list("applicant", rec.remote_id, groups[0].id)
    itris.add_to_list("applicant", rec.remote_id, groups[0].id)


def test_cv_slot(itris):
    rec = itris.create("applicant", ADA)
    assert itris.has_cv("applicant", rec.remote_id) is False
    assert itris.upload_cv("applicant", rec.remote_id, "ada.pdf", b"%PDF-1.4 cv") == "ada.pdf"
    assert itris.has_cv("applicant", rec.remote_id) is True


def test_off_limits_and_contact_company_link(itris):
    contact = itris.create("contact", {"first_name": "Grace", "last_name": "Hopper",
                                       "email": "grace.i@example.com", "company": "acme ltd"})
    row = itris.client.json("GET", f"/contacts/{contact.remote_id}")
    assert row["companyId"] is not None and row["companyName"] == "Acme Ltd"
    assert itris.off_limits("contact", contact.remote_id).blocked is False
    itris.client.json("PATCH", f"/contacts/{contact.remote_id}",
                      json={"offLimits": True, "offLimitsReason": "GDPR"})
    verdict = itris.off_limits("contact", contact.remote_id)
    assert verdict.blocked is True and verdict.reason == "GDPR"


def test_company_search_ranks_near_duplicates(itris):
    names = [c.name for c in itris.search_companies("Acme Ltd")]
    assert names[0] == "Acme Ltd" and "ACME Limited" in names


def test_search_pages(itris):
    for i in range(55):
        itris.create("applicant", {"first_name": "Pager", "last_name": f"P{i:02d}",
                                   "email": f"ip{i}@example.com"})
    first = itris.search("applicant", {"first_name": "Pager"})
    assert len(first.items) == 50 and first.next_cursor == "2" and first.total == 55
    second = itris.search("applicant", {"first_name": "Pager"}, first.next_cursor)
    assert len(second.items) == 5 and second.next_cursor is None


def test_rate_limited(itris, server):
    itris.check_connection()
    requests.post(f"{server.base}/__sandbox/faults", json={"mode": "429", "count": 1}, timeout=5)
    with pytest.raises(RateLimited) as exc:
        itris.list_statuses("applicant")
    assert exc.value.retry_after > 0


def test_one_401_logs_in_again_and_repeats_the_call(itris, server):
    itris.check_connection()
    before = itris.client.logins
    requests.post(f"{server.base}/__sandbox/faults", json={"mode": "401", "count": 1}, timeout=5)
    assert itris.list_statuses("applicant")
    assert itris.client.logins == before + 1


def test_calls_per_push(itris):
    """What the benchmark counts (token cached): new person 3 calls, existing 2, note 1."""
    itris.check_connection()
    start = itris.client.calls
    assert itris.find_person("applicant", email=ADA["email"], linkedin_url=ADA["linkedin_url"]) is None
    rec = itris.create("applicant", ADA)
    assert itris.client.calls - start == 3
    start = itris.client.calls
    found = itris.find_person("applicant", email=ADA["email"], linkedin_url=ADA["linkedin_url"])
    itris.update("applicant", found.remote_id, {"title": "CTO"})
    assert itris.client.calls - start == 2
    start = itris.client.calls
    itris.add_note("applicant", rec.remote_id, "Replied")
    assert itris.client.calls - start == 1


def test_search_by_name_and_email_combine(itris):
    ada = itris.create("applicant", ADA)
    itris.create("applicant", {**ADA, "email": "x" + ADA["email"], "last_name": "Byron"})
    assert [r.remote_id for r in itris.search("applicant", {"email": ADA["email"]}).items] == [ada.remote_id]
    both = itris.search("applicant", {"first_name": "Ada", "last_name": "Byron"})
    assert [r.fields["last_name"] for r in both.items] == ["Byron"]
    with pytest.raises(Rejected):
        itris.search("applicant", {"title": "x"})


def test_contact_company_matched_despite_a_different_legal_form(itris):
    rec = itris.create("contact", {"first_name": "Hank", "last_name": "Scorpio", "email": "hank@globex.example",
                                   "company": "Globex Corp"})
    assert itris.get("contact", rec.remote_id).fields["company"] == "Globex Corporation"
