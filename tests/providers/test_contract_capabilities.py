"""The contract, continued: notes, tags, lists, jobs, statuses, CV, off-limits, company search and
paged search, each exercised when declared and NotSupported when not (see test_contract.py)."""
from __future__ import annotations

from typing import Any

import pytest

from providers.base import Capability
from providers.errors import NotSupported, Rejected
from providers.types import OffLimits
from tests.providers.contract import (by_provider, by_record_type, create_person, per_record_type,
                                      stored_with)

# -- notes, tags, lists, jobs, statuses, CV, off-limits --------------------------------------------

@by_record_type
def test_notes_and_note_types(make_crm, unique: str, key: str, rt: str) -> None:
    adapter = make_crm(key).adapter()
    if not adapter.supports(Capability.NOTE_TYPES):
        with pytest.raises(NotSupported):
            adapter.list_note_types(rt)
    if not adapter.supports(Capability.NOTES):
        with pytest.raises(NotSupported):
            adapter.add_note(rt, "1", "hello")
        return
    rec, _ = create_person(adapter, rt, unique)
    note_type = None
    if adapter.supports(Capability.NOTE_TYPES):
        types = adapter.list_note_types(rt)
        assert types and all(t.id and t.name for t in types)
        note_type = types[0].id
    body = f"Replied to the intro email ({unique})"
    note_id = adapter.add_note(rt, rec.remote_id, body, note_type)
    assert note_id
    notes = adapter.list_notes(rt, rec.remote_id)
    assert [n for n in notes if body in n.body and n.id == str(note_id)]


@by_record_type
def test_tags(make_crm, unique: str, key: str, rt: str) -> None:
    crm = make_crm(key)
    adapter = crm.adapter()
    if not adapter.supports(Capability.TAGS):
        with pytest.raises(NotSupported):
            adapter.list_tags(rt)
        return
    rec, _ = create_person(adapter, rt, unique)
    before = adapter.list_tags(rt)
    # Catalogue CRMs take a tag id; free-text CRMs take a new name.
    tag = before[0].id if before else f"shoal-{unique}"
    adapter.apply_tags(rt, rec.remote_id, [tag])
    adapter.apply_tags(rt, rec.remote_id, [tag])    # adding again is harmless
    after = adapter.list_tags(rt)
    if before:
        assert tag in {t.id for t in after}
    else:
        # No catalogue to check against: the CRM must have stored the new name with this record.
        assert stored_with(crm, rec.remote_id, tag), "tag not stored on the record"


@by_record_type
def test_lists(make_crm, unique: str, key: str, rt: str) -> None:
    adapter = make_crm(key).adapter()
    if not adapter.supports(Capability.LISTS):
        with pytest.raises(NotSupported):
            adapter.list_lists(rt)
        return
    rec, _ = create_person(adapter, rt, unique)
    lists = per_record_type(adapter.list_lists, rt)
    assert lists, "the sandbox seeds lists"
    adapter.add_to_list(rt, rec.remote_id, lists[0].id)
    adapter.add_to_list(rt, rec.remote_id, lists[0].id)


@by_record_type
def test_jobs_statuses_and_add_to_job_twice(make_crm, unique: str, key: str, rt: str) -> None:
    adapter = make_crm(key).adapter()
    if not adapter.supports(Capability.JOBS):
        with pytest.raises(NotSupported):
            adapter.list_jobs()
        return
    jobs = adapter.list_jobs()
    assert jobs and all(j.id and j.title for j in jobs)
    statuses = adapter.list_job_statuses()
    assert statuses
    wanted = jobs[0].status
    filtered = adapter.list_jobs(statuses=[wanted])
    assert filtered and all(j.status == wanted for j in filtered)
    rec, _ = create_person(adapter, rt, unique)
    job = jobs[-1]
    first = per_record_type(adapter.add_to_job, rt, rec.remote_id, job.id)
    second = adapter.add_to_job(rt, rec.remote_id, job.id)
    assert first and first == second


@by_record_type
def test_statuses(make_crm, unique: str, key: str, rt: str) -> None:
    adapter = make_crm(key).adapter()
    if not adapter.supports(Capability.STATUSES):
        with pytest.raises(NotSupported):
            adapter.list_statuses(rt)
        return
    statuses = per_record_type(adapter.list_statuses, rt)
    assert statuses and all(s.id and s.name for s in statuses)
    rec, _ = create_person(adapter, rt, unique)
    try:
        adapter.set_status(rt, rec.remote_id, statuses[-1].id)
    except Rejected:
        # Some CRMs keep a status per job application (SmartRecruiters): put the record on a job
        # first, then the status must take.
        if not adapter.supports(Capability.JOBS):
            raise
        per_record_type(adapter.add_to_job, rt, rec.remote_id, adapter.list_jobs()[0].id)
        adapter.set_status(rt, rec.remote_id, statuses[-1].id)


@by_record_type
def test_cv(make_crm, unique: str, key: str, rt: str) -> None:
    adapter = make_crm(key).adapter()
    if not adapter.supports(Capability.CV):
        with pytest.raises(NotSupported):
            adapter.has_cv(rt, "1")
        return
    rec, _ = create_person(adapter, rt, unique)
    assert per_record_type(adapter.has_cv, rt, rec.remote_id) is False
    adapter.upload_cv(rt, rec.remote_id, "ada-lovelace-cv.pdf", b"%PDF-1.4\n% Ada Lovelace CV\n%%EOF\n")
    assert adapter.has_cv(rt, rec.remote_id) is True


@by_record_type
def test_off_limits_on_a_fresh_record(make_crm, unique: str, key: str, rt: str) -> None:
    adapter = make_crm(key).adapter()
    if not adapter.supports(Capability.OFF_LIMITS):
        with pytest.raises(NotSupported):
            adapter.off_limits(rt, "1")
        return
    rec, _ = create_person(adapter, rt, unique)
    result = adapter.off_limits(rt, rec.remote_id)
    assert isinstance(result, OffLimits) and result.blocked is False


@by_provider
def test_company_search_finds_near_duplicates(make_crm, key: str) -> None:
    adapter = make_crm(key).adapter()
    if not adapter.supports(Capability.COMPANY_SEARCH):
        with pytest.raises(NotSupported):
            adapter.search_companies("Acme")
        return
    found = adapter.search_companies("Acme Ltd")
    names = {c.name.lower() for c in found}
    assert len(names) >= 2, f"near-duplicates of Acme Ltd expected, got {names}"
    assert all("acme" in n for n in names)


@by_record_type
def test_search_pages_to_the_end(make_crm, unique: str, key: str, rt: str) -> None:
    adapter = make_crm(key).adapter()
    if not adapter.supports(Capability.SEARCH):
        with pytest.raises(NotSupported):
            adapter.search(rt, {})
        return
    rec, fields = create_person(adapter, rt, unique)
    twin, _ = create_person(adapter, rt, unique[::-1])
    # Filter on a searchable field both people share (else no filter), then page to the end.
    filters: dict[str, Any] = {}
    if adapter.supports(Capability.FIELDS):
        searchable = [f.key for f in adapter.list_fields(rt) if f.filterable]
        shared = [k for k in ("company", "location", "phone", "title") if k in searchable and k in fields]
        if shared:
            filters = {shared[0]: fields[shared[0]]}
    seen: list[str] = []
    cursor, pages, total = None, 0, None
    while True:
        page = adapter.search(rt, filters, cursor)
        pages += 1
        seen += [r.remote_id for r in page.items]
        total = page.total if page.total is not None else total
        if page.next_cursor is None:
            break
        assert page.items, "a page with a next cursor must not be empty"
        cursor = page.next_cursor
        assert pages < 200
    assert len(seen) == len(set(seen)), "no record twice across pages"
    assert rec.remote_id in seen and twin.remote_id in seen
    if total is not None:
        assert total == len(seen)
