"""SmartRecruiters quirks, against its sandbox: `limit` ≤ 100 paging with `totalFound`, the
`X-SmartToken` header, and OAuth (consent → code exchange → Bearer calls → refresh before expiry
and once after a 401, rotated tokens handed to `on_credentials_changed`)."""
from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from providers.errors import AuthError
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
        adapter.create("candidate", {**person_fields(f"{unique}{i:03d}"), "location": f"{town}, Poland"})
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
