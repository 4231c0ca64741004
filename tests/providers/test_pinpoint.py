"""Pinpoint quirks, against the Pinpoint sandbox: people live on applications (lookup by
`filter[candidate_email]`, create with a job relationship), JSON:API bodies both ways, comments
carry `body_text`, off-limits is the candidate's `blocked` flag."""
from __future__ import annotations

import pytest
import requests

from providers.errors import Rejected
from tests.providers.conftest import person_fields
from tests.providers.recording import RecordingSession

JSONAPI = "application/vnd.api+json"


@pytest.fixture
def crm(make_crm):
    return make_crm("pinpoint")


def fields_for(uid: str) -> dict[str, str]:
    keys = ("first_name", "last_name", "email", "phone", "linkedin_url")
    return {k: v for k, v in person_fields(uid).items() if k in keys}


def test_create_is_a_jsonapi_application_on_a_job(crm, unique: str) -> None:
    session = RecordingSession()
    adapter = crm.adapter(session=session)
    rec = adapter.create("application", fields_for(unique))
    (post,) = session.calls("POST", "/applications")
    assert post.headers["Content-Type"].startswith(JSONAPI) and post.headers["X-API-KEY"] == crm.credentials["api_key"]
    doc = session.body(post)
    assert doc["data"]["type"] == "applications"
    assert doc["data"]["attributes"]["email"] == f"ada.{unique}@example.com"
    assert doc["data"]["relationships"]["job"]["data"] == {"type": "jobs", "id": crm.credentials["default_job_id"]}
    assert rec.record_type == "application" and rec.remote_id


def test_create_without_any_job_adds_a_job_seeker_to_the_talent_pipeline(crm, unique: str) -> None:
    """API-FACTS §5.2: no job → `POST /job_seekers`; the record is then read, updated, tagged, noted,
    found again and put on a job through its own surface."""
    creds = {k: v for k, v in crm.credentials.items() if k != "default_job_id"}
    session = RecordingSession()
    adapter = crm.adapter(creds, session=session)
    rec = adapter.create("application", fields_for(unique))
    assert rec.remote_id.startswith("js-")
    assert session.calls("POST", "/job_seekers") and not session.calls("POST", "/applications")
    assert adapter.get("application", rec.remote_id).fields["email"] == fields_for(unique)["email"]
    adapter.update("application", rec.remote_id, {"title": "Staff Engineer"})
    adapter.apply_tags("application", rec.remote_id, ["Pipeline"])
    note = adapter.add_note("application", rec.remote_id, "Met at a meetup")
    assert [n.id for n in adapter.list_notes("application", rec.remote_id)] == [note]
    found = adapter.find_person("application", email=fields_for(unique)["email"])
    assert found is not None and found.remote_id == rec.remote_id
    job = adapter.list_jobs()[0].id
    app_id = adapter.add_to_job("application", rec.remote_id, job)
    assert not app_id.startswith("js-") and adapter.get("application", app_id).fields["email"] == \
        fields_for(unique)["email"]


def test_an_explicit_job_beats_the_default(crm, unique: str) -> None:
    session = RecordingSession()
    adapter = crm.adapter(session=session)
    other = adapter.list_jobs()[-1].id
    adapter.create("application", {**fields_for(unique), "job_id": other})
    doc = session.body(session.calls("POST", "/applications")[-1])
    assert doc["data"]["relationships"]["job"]["data"]["id"] == other
    assert "job_id" not in doc["data"]["attributes"]


def test_lookup_goes_through_applications_by_candidate_email(crm, unique: str) -> None:
    adapter = crm.adapter()
    rec = adapter.create("application", fields_for(unique))
    session = RecordingSession()
    found = crm.adapter(session=session).find_person("application", email=f"ADA.{unique}@example.com")
    assert found is not None and found.remote_id == rec.remote_id
    (get,) = session.sent   # one HTTP call for an email lookup
    assert get.url and "/applications" in get.url
    assert session.query(get)["filter[candidate_email]"] == [f"ADA.{unique}@example.com"]


def test_comments_carry_body_text_on_the_application(crm, unique: str) -> None:
    adapter = crm.adapter()
    rec = adapter.create("application", fields_for(unique))
    session = RecordingSession()
    note_id = crm.adapter(session=session).add_note("application", rec.remote_id, "Replied: keen to talk")
    doc = session.body(session.calls("POST", "/comments")[0])
    assert doc["data"]["type"] == "comments"
    assert doc["data"]["attributes"] == {"body_text": "Replied: keen to talk"}
    assert doc["data"]["relationships"]["commentable"]["data"] == {"type": "applications", "id": rec.remote_id}
    assert [n.body for n in adapter.list_notes("application", rec.remote_id) if n.id == note_id] == \
        ["Replied: keen to talk"]


def test_tags_are_written_with_context_and_read_back(crm, unique: str) -> None:
    adapter = crm.adapter()
    rec = adapter.create("application", fields_for(unique))
    session = RecordingSession()
    crm.adapter(session=session).apply_tags("application", rec.remote_id, [f"python-{unique}"])
    doc = session.body(session.sent[-1])
    assert doc["data"]["attributes"]["add_tags_with_context"][0]["name"] == f"python-{unique}"
    assert f"python-{unique}" in {t.name for t in adapter.list_tags("application")}


def test_cv_goes_as_base64_and_reads_back_as_pdf_cv(crm, unique: str) -> None:
    adapter = crm.adapter()
    rec = adapter.create("application", fields_for(unique))
    assert adapter.has_cv("application", rec.remote_id) is False
    session = RecordingSession()
    crm.adapter(session=session).upload_cv("application", rec.remote_id, "ada.pdf", b"%PDF-1.4 ada")
    assert session.body(session.sent[-1])["data"]["attributes"]["cv_base64_data"] == "JVBERi0xLjQgYWRh"
    assert adapter.has_cv("application", rec.remote_id) is True


def test_blocked_candidate_is_off_limits(crm, unique: str) -> None:
    adapter = crm.adapter()
    rec = adapter.create("application", fields_for(unique))
    assert adapter.off_limits("application", rec.remote_id).blocked is False
    cand_id = candidate_of(crm, rec.remote_id)
    # An admin blocks the candidate in Pinpoint (candidates accept PUT, API-FACTS §5.2).
    resp = requests.put(f"{crm.base_url}/candidates/{cand_id}",
                        json={"data": {"type": "candidates", "id": cand_id, "attributes": {"blocked": True}}},
                        headers={"X-API-KEY": crm.credentials["api_key"], "Content-Type": JSONAPI}, timeout=5)
    assert resp.status_code < 300, resp.text
    result = adapter.off_limits("application", rec.remote_id)
    assert result.blocked is True and result.reason


def test_search_reports_the_total_and_pages_by_number(crm, unique: str) -> None:
    adapter = crm.adapter()
    rec = adapter.create("application", fields_for(unique))
    session = RecordingSession()
    page = crm.adapter(session=session).search("application", {"email": f"ada.{unique}@example.com"})
    assert [r.remote_id for r in page.items] == [rec.remote_id] and page.total == 1 and page.next_cursor is None
    query = session.query(session.sent[0])
    assert query["page[number]"] == ["1"] and query["stats[total]"] == ["count"]


def test_another_job_is_another_application_for_the_same_candidate(crm, unique: str) -> None:
    adapter = crm.adapter()
    rec = adapter.create("application", fields_for(unique))
    other_job = next(j for j in adapter.list_jobs() if j.id != crm.credentials["default_job_id"])
    assert adapter.add_to_job("application", rec.remote_id, crm.credentials["default_job_id"]) == rec.remote_id
    second = adapter.add_to_job("application", rec.remote_id, other_job.id)
    assert second != rec.remote_id
    assert adapter.add_to_job("application", rec.remote_id, other_job.id) == second
    assert adapter.get("application", second).fields["email"] == f"ada.{unique}@example.com"
    assert candidate_of(crm, second) == candidate_of(crm, rec.remote_id)   # no second candidate


def candidate_of(crm, application_id: str) -> str:
    doc = requests.get(f"{crm.base_url}/applications/{application_id}", timeout=5,
                       headers={"X-API-KEY": crm.credentials["api_key"], "Accept": JSONAPI}).json()
    return doc["data"]["relationships"]["candidate"]["data"]["id"]


def test_jsonapi_errors_become_rejected_with_our_field_names(crm, unique: str) -> None:
    adapter = crm.adapter()
    with pytest.raises(Rejected) as info:
        adapter.create("application", {"first_name": "Ada", "email": f"not-an-email-{unique}"})
    assert {"email", "last_name"} <= set(info.value.field_errors)   # keyed by attribute, not pointer
    assert info.value.status == 422 and info.value.message
    assert adapter.find_person("application", email=f"not-an-email-{unique}") is None


def test_custom_fields_on_the_application_and_its_candidate(crm, unique: str) -> None:
    adapter = crm.adapter()
    custom = {f.type: f for f in adapter.list_fields("application") if f.custom}
    assert {"text", "select", "number", "bool"} <= set(custom), "the sandbox seeds typed custom fields"
    select = custom["select"]
    rec = adapter.create("application", {**fields_for(unique), custom["text"].key: "4 weeks",
                                         select.key: select.options[0].label.upper(), custom["number"].key: "7"})
    got = adapter.get("application", rec.remote_id).fields
    assert (got[custom["text"].key], got[select.key], got[custom["number"].key]) == \
        ("4 weeks", select.options[0].label, 7)
    adapter.update("application", rec.remote_id, {custom["text"].key: "2 weeks", custom["bool"].key: "yes"})
    got = adapter.get("application", rec.remote_id).fields
    assert got[custom["text"].key] == "2 weeks" and got[custom["bool"].key] is True
    with pytest.raises(Rejected) as info:        # nothing written half-way
        adapter.update("application", rec.remote_id, {"first_name": "Augusta", select.key: "Maybe"})
    assert select.key in info.value.field_errors
    assert adapter.get("application", rec.remote_id).fields["first_name"] == "Ada"
