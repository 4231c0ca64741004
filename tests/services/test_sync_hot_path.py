"""What the back-fill (services/push/backfill.py) costs in SQL. The context query already says
whether the person has other waiting intents (an EXISTS in the same statement), so a push for a
person with nothing waiting reads no waiting rows at all; one with something waiting reads them once,
for both the back-fill and the wake-up of the rest. Statements are counted on the real engine;
nothing is timed."""
from __future__ import annotations

from sqlalchemy import event
from sync_support import campaign, connect, intents, profile

from core import db
from services import enrolments
from services.push.runner import run_intent


def waiting_reads(intent_id: int) -> tuple[str, list[str]]:
    """Run one intent in this process; its final state and the statements that read waiting intents."""
    statements: list[str] = []

    def seen(conn, cursor, statement, params, context, executemany):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        state = run_intent(intent_id)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    return state, [s for s in statements if s.startswith("SELECT sync_intent.") and "sync_intent.state = " in s]


def test_a_create_with_nothing_waiting_reads_no_waiting_intents(make_user, sandbox):
    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    enrolments.enrol(user, campaign(user), profile(1))
    [intent] = intents()
    state, reads = waiting_reads(intent.id)
    assert state == "synced" and reads == []


def test_a_create_that_back_fills_still_reads_waiting_intents_once(make_user, sandbox, run_worker):
    server = sandbox("cats")
    user = make_user("recruiter")
    connect(user, "cats", server)
    enrolment, _ = enrolments.enrol(user, campaign(user, sync_override={"add_candidate": "reply"}), profile(2))
    enrolments.record_event(enrolment, "email_sent", body="First touch")
    run_worker()
    assert [i.state for i in intents()] == ["skipped", "waiting"]
    enrolments.record_event(enrolment, "reply", body="A reply")
    state, reads = waiting_reads(intents()[-1].id)
    assert state == "synced" and len(reads) == 1
    assert [i.state for i in intents()] == ["skipped", "synced", "synced"]
