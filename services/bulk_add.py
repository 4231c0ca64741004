"""The "Bulk add from CSV" job: adds the valid rows of a validated import to its campaign, in
batches, as `services.enrolments.enrol` would one by one (find-or-create the person, the enrolment,
its "added" event and the sync intent of the active connection), then dispatches the batch's intents.

One batch is one transaction of a few set-based statements, so 10,000 rows take seconds, not the
minutes 10,000 single enrolments would. A batch that hits a unique key (someone added the same
person meanwhile) is rolled back and replayed row by row through `enrol`, so one row's conflict
fails that row only. Progress (done / failed / skipped) is written after every batch; the page's
progress fragment polls it."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from core import db
from models import BulkImport, Campaign, Enrolment, OutreachEvent, Person, SyncIntent, User, utcnow
from services import background
from services.connections import active_connection
from services.enrolments import enrol
from services.people import PROFILE_FIELDS, linkedin_key
from services.push.dispatch import dispatch_many

log = logging.getLogger("shoal.bulk")

BATCH = 1000


def start(bulk: BulkImport) -> None:
    """Mark the import queued and hand it to a worker (web side)."""
    bulk.state, bulk.done, bulk.failed, bulk.skipped = "queued", 0, 0, len(bulk.problems or [])
    db.session.commit()
    background.run("bulk_add", bulk.id, queue="interactive", job_id=f"bulk_add-{bulk.id}")


def run(import_id: int) -> str:
    """Add every valid row of the import (in a worker). Returns the final state."""
    bulk = db.session.get(BulkImport, import_id)
    if bulk is None or bulk.state not in ("queued", "running"):
        return "gone"
    campaign = db.session.get(Campaign, bulk.campaign_id)
    user = db.session.get(User, bulk.created_by_id)
    if campaign is None or campaign.archived_at is not None:
        # Archived between "Add N people" and this job: an archived campaign takes no new members.
        bulk.state, bulk.finished_at = "failed", utcnow()
        bulk.error = "Nothing was added: the campaign was archived before the import ran. Restore it and upload the file again."
        db.session.commit()
        return "failed"
    bulk.state, bulk.started_at = "running", utcnow()
    db.session.commit()
    profiles: list[dict[str, Any]] = list(bulk.profiles or [])
    try:
        for start_at in range(0, len(profiles), BATCH):
            chunk = profiles[start_at:start_at + BATCH]
            try:
                added, skipped, intent_ids = _add_batch(campaign, user, chunk)
                failed = 0
            except IntegrityError:
                db.session.rollback()
                added, skipped, failed, intent_ids = _one_by_one(campaign, user, chunk)
            _dispatch(intent_ids)
            db.session.execute(update(BulkImport).where(BulkImport.id == import_id).values(
                done=BulkImport.done + added, skipped=BulkImport.skipped + skipped,
                failed=BulkImport.failed + failed))
            db.session.commit()
    except Exception:  # a bug or the database going away: say so on the page, don't spin
        db.session.rollback()
        log.exception("bulk import %s failed", import_id)
        db.session.execute(update(BulkImport).where(BulkImport.id == import_id).values(
            state="failed", error="Stopped by an unexpected error (logged for the operator). Rows added so far stay added.",
            finished_at=utcnow()))
        db.session.commit()
        return "failed"
    db.session.execute(update(BulkImport).where(BulkImport.id == import_id).values(
        state="done", finished_at=utcnow()))
    db.session.commit()
    return "done"


def _existing_people(team_id: int, chunk: list[dict[str, Any]]) -> tuple[dict[str, Person], dict[str, Person]]:
    emails = [p["email"] for p in chunk if p.get("email")]
    keys = [k for k in (linkedin_key(p.get("linkedin_url")) for p in chunk) if k]
    conds = []
    if emails:
        conds.append(Person.email.in_(emails))
    if keys:
        conds.append(Person.linkedin_key.in_(keys))
    if not conds:
        return {}, {}
    found = db.session.scalars(select(Person).where(Person.team_id == team_id, or_(*conds))).all()
    return ({p.email: p for p in found if p.email}, {p.linkedin_key: p for p in found if p.linkedin_key})


def _add_batch(campaign: Campaign, user: User, chunk: list[dict[str, Any]]) -> tuple[int, int, list[int]]:
    team_id = campaign.team_id
    by_email, by_key = _existing_people(team_id, chunk)
    person_ids: list[int | None] = []
    new_rows: list[dict[str, Any]] = []
    for p in chunk:
        key = linkedin_key(p.get("linkedin_url"))
        person = (p.get("email") and by_email.get(p["email"])) or (key and by_key.get(key)) or None
        if person is not None:
            for name in PROFILE_FIELDS:   # as find_or_create_person: fill our blanks only
                if p.get(name) and not getattr(person, name):
                    setattr(person, name, p[name])
            if key and not person.linkedin_key:
                person.linkedin_key = key
            person_ids.append(person.id)
        else:
            person_ids.append(None)
            new_rows.append({"team_id": team_id, "extra": {}, "linkedin_key": key,
                             **{n: (p.get(n) or None) for n in PROFILE_FIELDS},
                             "first_name": p.get("first_name") or "", "last_name": p.get("last_name") or ""})
    if new_rows:
        new_ids = iter(_insert(Person, new_rows))
        person_ids = [pid if pid is not None else next(new_ids) for pid in person_ids]
    members = set(db.session.scalars(select(Enrolment.person_id).where(
        Enrolment.campaign_id == campaign.id, Enrolment.person_id.in_(person_ids))))
    todo = list(dict.fromkeys(pid for pid in person_ids if pid not in members))
    skipped = len(chunk) - len(todo)
    if not todo:
        db.session.commit()
        return 0, skipped, []
    enrolment_ids = _insert(Enrolment, [
        {"team_id": team_id, "campaign_id": campaign.id, "person_id": pid, "added_by_id": user.id,
         "status": "active"} for pid in todo])
    event_ids = _insert(OutreachEvent, [
        {"team_id": team_id, "enrolment_id": eid, "person_id": pid, "kind": "added", "data": {},
         "created_by_id": user.id} for eid, pid in zip(enrolment_ids, todo)])
    intent_ids: list[int] = []
    conn = active_connection(team_id)
    if conn is not None:
        intent_ids = _insert(SyncIntent, [
            {"team_id": team_id, "connection_id": conn.id, "person_id": pid, "enrolment_id": enr,
             "event_id": evt, "idempotency_key": f"evt{evt}-conn{conn.id}", "state": "pending"}
            for pid, enr, evt in zip(todo, enrolment_ids, event_ids)])
    db.session.commit()
    return len(todo), skipped, list(intent_ids)


def _insert(model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows (Core, not the ORM's bulk path: a third of the time) and return their ids in order."""
    table = model.__table__
    return list(db.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())


def _one_by_one(campaign: Campaign, user: User, chunk: list[dict[str, Any]]) -> tuple[int, int, int, list[int]]:
    """The slow path after a conflict: each row through `enrol`, each in its own transaction."""
    added = skipped = failed = 0
    for p in chunk:
        try:
            _enrolment, created = enrol(user, campaign, p)
        except Exception:   # this row only: a conflict it can't resolve, or a bad value
            db.session.rollback()
            log.warning("bulk row failed", exc_info=True)
            failed += 1
            continue
        added, skipped = added + created, skipped + (not created)
    return added, skipped, failed, []   # enrol dispatched its own intents


def _dispatch(intent_ids: list[int]) -> None:
    if intent_ids:
        dispatch_many(intent_ids)
