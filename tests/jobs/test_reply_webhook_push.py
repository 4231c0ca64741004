"""A reply arriving through the inbound-mail webhook drives the sync end to end: the "add when they
reply" enrolment becomes a CRM record, with the note that waited (the email sent before) back-filled
in order, the reply's own note, and the CV the reply attached, uploaded to the CRM's attachment
endpoint. Real RQ burst worker, real sandboxes over sockets (CATS, SmartRecruiters, Tracker)."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from core import db
from models import AuditEntry, SyncIntent, Team
from services import inbound
from services.enrolments import enrol, record_event
from sync_support import campaign, connect, profile, sandbox_state

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n% Ada Lovelace, CV\n%%EOF\n"


def rows(server, table):
    return sandbox_state(server)["tables"].get(table, [])


def crm_view(key, server, email):
    """(the record, its note bodies oldest first, its CV file names) as the sandbox holds them."""
    if key == "cats":
        [rec] = [c for c in rows(server, "candidates") if email in str(c).lower()]
        ref = {"id": rec["id"], "type": "candidate"}
        notes = [a["notes"] for a in sorted(rows(server, "activities"), key=lambda a: a["id"]) if a["data_item"] == ref]
        cvs = [a["filename"] for a in rows(server, "attachments") if a["data_item"] == ref and a["is_resume"]]
        return rec, notes, cvs
    if key == "tracker":
        [rec] = [r for r in rows(server, "resources") if email in str(r).lower()]
        notes = [a["note"] for a in sorted(rows(server, "activities"), key=lambda a: a["id"])
                 if a["recordType"] == "Resource" and a["recordId"] == rec["id"]]
        cvs = [d["fileName"] for d in rows(server, "documents") if d["resourceId"] == rec["id"]
               and d["documentType"] == "CV"]
        return rec, notes, cvs
    [rec] = [c for c in rows(server, "candidates") if email in str(c).lower()]
    notes = [s["content"] for s in sorted(rows(server, "shares"), key=lambda s: s["id"]) if rec["uid"] in s["candidates"]]
    cvs = [a["name"] for a in rows(server, "attachments") if a["candidate_id"] == rec["id"] and a["type"] == "RESUME"]
    return rec, notes, cvs


@pytest.mark.parametrize("key", ["cats", "smartrecruiters", "tracker"])
def test_webhook_reply_creates_the_record_with_backfilled_note_and_cv(app, make_user, sandbox, run_worker, key):
    server = sandbox(key)
    user = make_user("recruiter")
    connect(user, key, server)
    camp = campaign(user, sync_override={"add_candidate": "reply"})
    enrolment, _ = enrol(user, camp, profile(1))
    # The email Shoal sent: its Message-ID is what the reply's In-Reply-To names.
    record_event(enrolment, "email_sent", channel="email", body="Intro: the compiler team",
                 data={"message_id": "sent-1@shoal.example"})
    run_worker()
    waiting = db.session.scalars(select(SyncIntent).order_by(SyncIntent.id)).all()
    assert [i.state for i in waiting] == ["skipped", "waiting"]     # added: not yet; the note waits
    assert not [c for c in rows(server, "candidates") if "ada1@example.com" in str(c).lower()]

    secret = inbound.rotate_secret(db.session.get(Team, user.team_id))
    r = app.test_client().post("/hooks/inbound-mail", headers={"X-Shoal-Secret": secret}, json={
        "from": "Ada Lovelace <ada1@example.com>", "to": "recruiter@agency.example",
        "subject": "Re: Intro: the compiler team", "text": "Keen to talk next week. CV attached.",
        "message_id": "<reply-1@mail.example>", "in_reply_to": "<sent-1@shoal.example>",
        "references": "<sent-1@shoal.example>",
        "attachments": [{"filename": "Ada CV.pdf", "content_type": "application/octet-stream",
                         "content": base64.b64encode(PDF).decode()}]})
    assert r.status_code == 200 and r.get_json()["status"] == "matched", r.get_data(as_text=True)
    run_worker()

    db.session.expire_all()
    states = [i.state for i in db.session.scalars(select(SyncIntent).order_by(SyncIntent.id))]
    assert states == ["skipped", "synced", "synced"], states
    rec, notes, cvs = crm_view(key, server, "ada1@example.com")
    assert len(notes) == 2, notes
    assert "Intro: the compiler team" in notes[0] and "Keen to talk next week" in notes[1]   # in order
    assert cvs == ["Ada CV.pdf"]
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.operation == "upload_cv")).one()
    assert audit.result == "ok" and "Ada CV.pdf" in audit.summary

    # The provider posts the same reply again: nothing new reaches the CRM.
    r = app.test_client().post("/hooks/inbound-mail", headers={"X-Shoal-Secret": secret}, json={
        "from": "ada1@example.com", "message_id": "<reply-1@mail.example>", "in_reply_to": "<sent-1@shoal.example>"})
    assert r.get_json()["status"] == "duplicate"
    run_worker()
    assert crm_view(key, server, "ada1@example.com")[1:] == (notes, cvs)
