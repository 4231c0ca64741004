"""The sync job end to end: real Redis, RQ's SimpleWorker, the CATS sandbox on a socket."""
from __future__ import annotations

import requests
from sqlalchemy import select

from extensions import db
from jobs import get_queue, intent_job_id
from jobs.sync import run_intent
from models import AuditEntry, CrmLink, SyncIntent
from services import outbox
from sync_support import campaign, connect, intents, profile, sandbox_state


def people_in(server, table="candidates"):
    return sandbox_state(server)["tables"].get(table, [])


def test_added_person_is_created_in_the_crm_and_linked(app, make_user, sandbox, run_worker):
    server = sandbox("cats")
    user = make_user("recruiter")
    conn = connect(user, "cats", server)
    enrolment, _ = outbox.enrol(user, campaign(user), profile(1))
    run_worker()
    [intent] = intents()
    assert intent.state == "synced", intent.reason
    rows = [r for r in people_in(server) if "ada1@example.com" in str(r).lower()]
    assert len(rows) == 1
    link = db.session.scalars(select(CrmLink)).one()
    assert link.remote_id == str(rows[0]["id"]) and link.connection_id == conn.id
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.operation == "create")).one()
    assert audit.result == "ok" and audit.rule.startswith("rule 2") and "api_key" not in str(audit.summary)
