"""An audit row says what a push did by name: the job, the tags, the list, never a CRM id; and the
person's trail shows the rule by its name, the operation and field keys in words (issue #12)."""
from __future__ import annotations

import re

from sqlalchemy import select
from sync_support import campaign, connect, profile

from core import db
from models import AuditEntry, Person
from services import crm_options, enrolments


def _push(b, server, run_worker, *, cache_names: bool):
    conn = connect(b.user, "cats", server)
    options = crm_options.load(conn.id, "candidate")          # what a worker caches for the pages
    job_id, job_name = options["jobs"][0]
    (t1, n1), (t2, n2) = options["tags"][:2]
    list_id, list_name = options["lists"][0]
    if not cache_names:
        crm_options.forget(conn.id, "candidate")
    c = campaign(b.user, "candidate", sync_override={"add_candidate": "added"},
                 sync_options={"job_id": str(job_id), "tags": [str(t1), str(t2)], "lists": [str(list_id)]})
    enrolments.enrol(b.user, c, profile(1))
    run_worker()
    rows = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    return rows, (str(job_id), job_name), (str(t1), n1, str(t2), n2), (str(list_id), list_name)


def test_summaries_name_the_job_tags_and_list(logged_in, sandbox, run_worker):
    b = logged_in("admin")
    rows, (job_id, job_name), (t1, n1, t2, n2), (list_id, list_name) = _push(b, sandbox("cats"), run_worker,
                                                                              cache_names=True)
    summaries = [r.summary for r in rows]
    assert f"added to the job {job_name}" in summaries
    assert f"tags applied: {n1}, {n2}" in summaries
    assert f"added to the list {list_name}" in summaries

    person = db.session.scalars(select(Person)).one()
    page = b.get(f"/people/{person.id}/audit").get_data(as_text=True)
    assert job_name in page and n1 in page and list_name in page
    assert not re.search(r"\brule \d", page), "the trail names a rule by its name, not its number"
    assert "add_to_job" not in page and "apply_tags" not in page


def test_without_cached_names_the_summary_says_what_was_done_without_an_id(logged_in, sandbox, run_worker):
    b = logged_in("admin")
    rows, (job_id, _), (t1, _, t2, _), (list_id, _) = _push(b, sandbox("cats"), run_worker, cache_names=False)
    summaries = [r.summary for r in rows]
    assert "added to a job" in summaries and "2 tags applied" in summaries and "added to a list" in summaries
    for s in summaries:
        for ref in (job_id, t1, t2, list_id):
            assert not re.search(rf"\b{re.escape(ref)}\b", s), (ref, s)


def test_updated_fields_are_named_by_their_labels():
    from services.push.audit_words import field_names

    # Our fields by the labels every other screen uses; the CRM's own fields by count.
    assert field_names(["title", "linkedin_url", "email"]) == "Email, LinkedIn URL and Job title"
    assert field_names(["first_name", "custom:4", "custom:9"]) == "First name and 2 custom fields"
