"""CATS adapter: pure mappers, then the adapter against the CATS sandbox over a real socket.

The sandbox is written independently from API-FACTS §3 + docs/assumptions.md, so these tests are
where a misreading on either side shows up."""
from __future__ import annotations

import requests
import pytest

from providers.cats import mappers
from providers.cats.client import embedded_rows, has_next
from providers.cats.provider import CatsProvider
from providers.errors import AuthError, NotFound, RateLimited, Rejected, Unavailable
from providers.types import CrmRecord
from tests.conftest import SANDBOX_ALLOWLIST


# -- mappers (pure) -------------------------------------------------------------------------------

def test_body_uses_cats_snake_case_shapes():
    body = mappers.to_body("candidate", {
        "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "phone": "+44 7700 900001",
        "title": "Engineer", "company": "Analytical Engines", "location": "London",
        "linkedin_url": "https://www.linkedin.com/in/ada", "custom:7": "yes", "custom:8": None,
    })
    assert body == {
        "first_name": "Ada", "last_name": "Lovelace", "title": "Engineer",
        "emails": {"primary": "ada@example.com"}, "phones": {"cell": "+44 7700 900001"},
        "current_employer": "Analytical Engines", "address": {"city": "London"},
        "social_media_urls": ["https://www.linkedin.com/in/ada"],
        "custom_fields": [{"id": 7, "value": "yes"}],
    }


def test_body_writes_only_given_fields_and_no_employer_for_contacts():
    assert mappers.to_body("candidate", {"title": "CTO"}) == {"title": "CTO"}
    assert mappers.to_body("contact", {"company": "Acme Ltd", "title": "CTO"}) == {"title": "CTO"}


def test_record_reads_phone_object_or_list_and_custom_fields():
    row = {"id": 5, "first_name": "Ada", "last_name": "L", "emails": {"primary": "a@x.io", "secondary": None},
           "phones": {"home": "", "cell": None, "work": "020 1"},
           "address": {"city": "Austin", "state": "TX"},
           "social_media_urls": ["https://twitter.com/ada", "linkedin.com/in/ada/"],
           "current_employer": "Acme", "_embedded": {"custom_fields": [{"id": 3, "value": "x"}]}}
    rec = mappers.to_record("candidate", row)
    assert rec.remote_id == "5"
    assert rec.fields["phone"] == "020 1"
    assert rec.fields["location"] == "Austin, TX"
    assert rec.fields["linkedin_url"] == "linkedin.com/in/ada/"
    assert rec.fields["company"] == "Acme"
    assert rec.fields["custom:3"] == "x"
    assert mappers.read_phone([{"number": "1", "type": "cell"}]) == "1"


def test_local_match_is_exact_on_email_and_canonical_on_linkedin():
    row = {"emails": {"primary": "Ada@Example.com"},
           "social_media_urls": ["https://www.linkedin.com/in/Ada/"]}
    assert mappers.matches(row, "ada@example.com", None) == "email"
    assert mappers.matches(row, "ada@example.co", None) is None
    assert mappers.matches(row, None, "http://linkedin.com/in/ada?trk=1") == "linkedin"
    assert mappers.matches(row, "other@example.com", "https://linkedin.com/in/bob") is None


def test_hal_paging_helpers():
    doc = {"_embedded": {"candidates": [{"id": 1}]}, "_links": {"self": {}, "next": {"href": "x?page=2"}}}
    assert embedded_rows(doc) == [{"id": 1}]
    assert has_next(doc, 100) is True
    assert has_next({"_embedded": {"candidates": []}, "_links": {"self": {}}}, 100) is False


def test_off_limits_from_consent_status():
    assert mappers.to_off_limits({"consent_status": "declined"}).blocked is True
    assert mappers.to_off_limits({"consent_status": "granted"}).blocked is False
    assert mappers.to_off_limits({}).blocked is False


def test_credentials_schema_marks_the_key_secret():
    assert CatsProvider.secret_fields() == ("api_key",)
    assert "api_key" in CatsProvider.credentials_schema().validate({})
    assert CatsProvider.default_base_url == "https://api.catsone.com/v3"


# -- against the sandbox ----------------------------------------------------------------------------

import sandbox.cats as sb  # noqa: E402  (tests may start sandboxes; the adapter never imports them)


@pytest.fixture
def cats(sandbox):
    server = sandbox("cats")
    adapter = CatsProvider(server.base + sb.API_ROOT, dict(sb.DEFAULT_CREDENTIALS), allowlist=SANDBOX_ALLOWLIST)
    adapter.server = server
    return adapter


def _fault(adapter, **body):
    requests.post(f"{adapter.server.base}/__sandbox/faults", json=body, timeout=5).raise_for_status()


ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada.lovelace@example.com",
       "phone": "+44 7700 900123", "title": "Analyst", "company": "Engines Ltd", "location": "London",
       "linkedin_url": "https://www.linkedin.com/in/ada-lovelace-test"}


def test_check_connection_and_bad_key(cats):
    assert cats.check_connection().name
    bad = CatsProvider(cats.base_url, {"api_key": "wrong"}, allowlist=SANDBOX_ALLOWLIST)
    with pytest.raises(AuthError):
        bad.check_connection()


def test_create_takes_id_from_location_then_find_and_get(cats):
    created = cats.create("candidate", ADA)
    assert created.remote_id.isdigit()
    calls = cats.client.calls
    found = cats.find_person("candidate", email="ADA.LOVELACE@example.com")
    assert cats.client.calls - calls == 1
    assert found is not None and found.remote_id == created.remote_id
    got = cats.get("candidate", created.remote_id)
    for key in ("first_name", "last_name", "email", "phone", "title", "company", "location", "linkedin_url"):
        assert got.fields[key] == ADA[key], key
    by_url = cats.find_person("candidate", linkedin_url="http://linkedin.com/in/ada-lovelace-test/")
    assert by_url is not None and by_url.remote_id == created.remote_id
    assert cats.find_person("candidate", email="nobody-here@example.com") is None


def test_duplicate_create_links_to_existing_record(cats):
    first = cats.create("candidate", ADA)
    second = cats.create("candidate", {**ADA, "email": ADA["email"].upper()})
    assert second.remote_id == first.remote_id


def test_update_writes_exactly_the_given_fields(cats):
    rec = cats.create("candidate", ADA)
    cats.update("candidate", rec.remote_id, {"title": "Principal Analyst"})
    got = cats.get("candidate", rec.remote_id)
    assert got.fields["title"] == "Principal Analyst"
    assert got.fields["email"] == ADA["email"] and got.fields["company"] == ADA["company"]


def test_get_unknown_is_not_found(cats):
    with pytest.raises(NotFound):
        cats.get("candidate", "987654")


def test_validation_error_is_rejected_with_fields(cats):
    with pytest.raises(Rejected) as exc:
        cats.create("candidate", {"last_name": "NoFirst", "email": "nofirst@example.com"})
    assert "first_name" in exc.value.field_errors


def test_notes_with_types_and_list(cats):
    rec = cats.create("candidate", ADA)
    types = {t.id for t in cats.list_note_types("candidate")}
    assert {"email", "other"} <= types
    note_id = cats.add_note("candidate", rec.remote_id, "Sent intro email", "email")
    untyped = cats.add_note("candidate", rec.remote_id, "Untyped note")
    notes = {n.id: n for n in cats.list_notes("candidate", rec.remote_id)}
    assert notes[note_id].body == "Sent intro email" and notes[note_id].note_type == "email"
    assert notes[untyped].note_type == "other"


def test_jobs_pipeline_is_idempotent(cats):
    rec = cats.create("candidate", ADA)
    jobs = cats.list_jobs()
    statuses = cats.list_job_statuses()
    assert jobs and statuses
    closed = {s.id for s in statuses if s.name in ("Closed", "Full")}
    assert closed and not [j for j in jobs if j.status in closed]
    assert all(j.company for j in jobs)
    assert {j.status for j in cats.list_jobs(sorted(closed))} <= closed
    open_only = cats.list_jobs([jobs[0].status])
    assert open_only and all(j.status == jobs[0].status for j in open_only)
    first = cats.add_to_job("candidate", rec.remote_id, jobs[0].id)
    again = cats.add_to_job("candidate", rec.remote_id, jobs[0].id)
    assert first == again


def test_tags_by_name_lists_and_unknown_tag(cats):
    rec = cats.create("candidate", ADA)
    tags = cats.list_tags("candidate")
    assert tags
    cats.apply_tags("candidate", rec.remote_id, [tags[0].name.upper()])
    cats.apply_tags("candidate", rec.remote_id, [tags[0].id])   # idempotent, by id
    with pytest.raises(Rejected):
        cats.apply_tags("candidate", rec.remote_id, ["no such tag anywhere"])
    lists = cats.list_lists("candidate")
    assert lists
    cats.add_to_list("candidate", rec.remote_id, lists[0].id)
    cats.add_to_list("candidate", rec.remote_id, lists[0].id)


def test_cv_upload_and_has_cv(cats):
    rec = cats.create("candidate", ADA)
    assert cats.has_cv("candidate", rec.remote_id) is False
    assert cats.upload_cv("candidate", rec.remote_id, "ada.pdf", b"%PDF-1.4 fake cv")
    assert cats.has_cv("candidate", rec.remote_id) is True


def test_off_limits_and_company_near_duplicates(cats):
    rec = cats.create("candidate", ADA)
    assert cats.off_limits("candidate", rec.remote_id).blocked is False
    cats.client.put(f"/candidates/{rec.remote_id}", {"consent_status": "declined"})
    assert cats.off_limits("candidate", rec.remote_id).blocked is True
    names = [c.name for c in cats.search_companies("Acme Ltd")]
    assert names[0] == "Acme Ltd"
    assert "ACME Limited" in names


def test_contact_links_to_existing_company_by_exact_name(cats):
    rec = cats.create("contact", {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com",
                                  "company": "acme ltd", "title": "CTO"})
    got = cats.get("contact", rec.remote_id)
    assert got.fields["company"] == "Acme Ltd"
    assert got.fields["email"] == "grace@example.com"


def test_list_fields_has_standard_and_custom(cats):
    fields = cats.list_fields("candidate")
    keys = [f.key for f in fields]
    assert keys[:2] == ["first_name", "last_name"]
    assert any(f.custom and f.key.startswith("custom:") for f in fields)


def test_search_pages_to_the_end(cats):
    for i in range(30):
        cats.create("candidate", {"first_name": "Pager", "last_name": f"Person{i:02d}",
                                  "email": f"pager{i}@example.com"})
    seen: list[CrmRecord] = []
    cursor = None
    for _ in range(10):
        page = cats.search("candidate", {"first_name": "Pager"}, cursor)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert cursor is None
    assert len({r.remote_id for r in seen}) == 30


def test_rate_limited_and_unavailable_are_typed(cats):
    _fault(cats, mode="429", count=1)
    with pytest.raises(RateLimited) as exc:
        cats.check_connection()
    assert exc.value.retry_after > 0
    _fault(cats, mode="500", count=1)
    with pytest.raises(Unavailable):
        cats.check_connection()
    assert cats.check_connection().name


def test_custom_fields_written_on_create_and_update(cats):
    custom = [f for f in cats.list_fields("candidate") if f.custom]
    field = next(f for f in custom if f.type == "text")
    rec = cats.create("candidate", {**ADA, field.key: "first"})
    assert cats.get("candidate", rec.remote_id).fields[field.key] == "first"
    cats.update("candidate", rec.remote_id, {field.key: "second"})
    assert cats.get("candidate", rec.remote_id).fields[field.key] == "second"


def test_hal_iterate_follows_next_links_to_the_end(cats):
    everything = cats.client.get("/jobs", per_page=100)
    assert everything["total"] > 2
    paged = list(cats.client.iterate("/jobs", per_page=2))
    assert [r["id"] for r in paged] == [r["id"] for r in embedded_rows(everything)]
    assert len(paged) == everything["total"]


def test_calls_per_push(cats):
    """What the benchmark counts: new person 2 calls, existing person 2, note 1."""
    start = cats.client.calls
    assert cats.find_person("candidate", email=ADA["email"], linkedin_url=ADA["linkedin_url"]) is None
    rec = cats.create("candidate", ADA)
    assert cats.client.calls - start == 2
    start = cats.client.calls
    found = cats.find_person("candidate", email=ADA["email"], linkedin_url=ADA["linkedin_url"])
    cats.update("candidate", found.remote_id, {"title": "CTO"})
    assert cats.client.calls - start == 2
    start = cats.client.calls
    cats.add_note("candidate", rec.remote_id, "Replied", "email")
    assert cats.client.calls - start == 1


def test_update_keeps_other_social_urls_phones_and_address_parts(cats):
    rec = cats.create("candidate", ADA)
    path = f"/candidates/{rec.remote_id}"
    cats.client.put(path, {"social_media_urls": ["https://twitter.com/ada", ADA["linkedin_url"]],
                           "phones": {"home": "0113 000", "cell": ADA["phone"]},
                           "address": {"street": "1 Analytical Way", "city": "London"}})
    cats.update("candidate", rec.remote_id, {"linkedin_url": "https://www.linkedin.com/in/ada-new",
                                             "phone": "07700 111", "location": "Leeds"})
    row = cats.client.get(path)
    assert sorted(row["social_media_urls"]) == ["https://twitter.com/ada",
                                                "https://www.linkedin.com/in/ada-new"]
    assert row["phones"]["home"] == "0113 000" and row["phones"]["cell"] == "07700 111"
    assert row["address"]["street"] == "1 Analytical Way" and row["address"]["city"] == "Leeds"


def test_update_after_a_lookup_merges_into_the_row_just_read(cats):
    """A push's lookup then update: the PUT merges into the search row (no second read), keeps what
    we don't own, and the row serves one update only (the next one reads the record again)."""
    rec = cats.create("candidate", ADA)
    path = f"/candidates/{rec.remote_id}"
    cats.client.put(path, {"social_media_urls": ["https://twitter.com/ada", ADA["linkedin_url"]],
                           "phones": {"home": "0113 000", "cell": ADA["phone"]}})
    start = cats.client.calls
    found = cats.find_person("candidate", email=ADA["email"])
    cats.update("candidate", found.remote_id, {"linkedin_url": "https://www.linkedin.com/in/ada-new",
                                               "phone": "07700 111"})
    assert cats.client.calls - start == 2
    row = cats.client.get(path)
    assert sorted(row["social_media_urls"]) == ["https://twitter.com/ada", "https://www.linkedin.com/in/ada-new"]
    assert row["phones"] == {**row["phones"], "home": "0113 000", "cell": "07700 111"}
    cats.client.put(path, {"social_media_urls": ["https://github.com/ada", "https://www.linkedin.com/in/ada-new"]})
    start = cats.client.calls
    cats.update("candidate", found.remote_id, {"linkedin_url": "https://www.linkedin.com/in/ada-3"})
    assert cats.client.calls - start == 2   # read again: the search row was used up
    assert sorted(cats.client.get(path)["social_media_urls"]) == ["https://github.com/ada",
                                                                 "https://www.linkedin.com/in/ada-3"]


def test_merge_for_update_is_pure_and_keeps_what_we_do_not_own():
    body = {"social_media_urls": ["https://linkedin.com/in/new"], "phones": {"cell": "2"}, "title": "X"}
    current = {"social_media_urls": ["https://linkedin.com/in/old", "https://github.com/a"],
               "phones": {"home": "1", "cell": "0", "work": None}}
    assert mappers.merge_for_update(body, current) == {
        "social_media_urls": ["https://github.com/a", "https://linkedin.com/in/new"],
        "phones": {"home": "1", "cell": "2"}, "title": "X"}


def test_search_by_exact_email_and_combined_filters(cats):
    ada = cats.create("candidate", ADA)
    cats.create("candidate", {**ADA, "email": "x" + ADA["email"], "last_name": "Byron"})
    by_email = cats.search("candidate", {"email": ADA["email"]})
    assert [r.remote_id for r in by_email.items] == [ada.remote_id]
    both = cats.search("candidate", {"first_name": "Ada", "last_name": "Byron"})
    assert [r.fields["last_name"] for r in both.items] == ["Byron"]
    with pytest.raises(Rejected):
        cats.search("candidate", {"linkedin_url": "x"})


def test_contact_company_matched_despite_a_different_legal_form(cats):
    """What a new user tripped on: "Globex Corp" written to the audit log but not matched to the
    CRM's "Globex Corporation". Matched now; an ambiguous name ("Acme": three Acme companies
    differing only by legal form) or a merely similar one is still never picked silently."""
    rec = cats.create("contact", {"first_name": "Hank", "last_name": "Scorpio", "company": "Globex Corp"})
    assert cats.get("contact", rec.remote_id).fields["company"] == "Globex Corporation"
    rec = cats.create("contact", {"first_name": "Wile", "last_name": "Coyote", "company": "Acme"})
    assert not cats.get("contact", rec.remote_id).fields.get("company")
    rec = cats.create("contact", {"first_name": "Bill", "last_name": "Lumbergh", "company": "Initek"})
    assert not cats.get("contact", rec.remote_id).fields.get("company")


def test_match_company_rules():
    from providers.matching import match_company
    rows = [(1, "Acme Ltd"), (2, "ACME Limited"), (3, "Globex Corporation"), (4, "Initech")]
    assert match_company("acme ltd", rows) == 1                  # exact beats everything
    assert match_company("Acme", rows) is None                   # two legal forms: ambiguous
    assert match_company("Globex Corp.", rows) == 3
    assert match_company("Initek", rows) is None and match_company("", rows) is None
