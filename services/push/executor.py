"""Apply a plan's operations through the adapter, one at a time, each behind the idempotency ledger.

For every operation that calls the CRM (`sync.types.CRM_OPS`):

1. `started` is inserted and committed *before* the call, `done` written right after it;
2. if the key is already in the ledger (the insert hits the unique key) and `done` → not repeated
   (a create hands back its remote id);
3. if it is `started` without `done` → an earlier attempt died mid-call, so we ask the CRM
   whether it happened (find the person; list the notes; has a CV) before acting again.

Commits are shared, never skipped: an operation's `done`, its audit row and its link are written
in the same commit as the next operation's `started` (still before that next CRM call), and the
last operation's in the runner's settle commit (with the intent's final state). A process that
dies between a call and that commit leaves `started` without `done`, which is case 3. Refusals,
skips and links are pending until the next of those commits too; a failure's audit row commits.
These writes are table-level statements run at once in the open transaction (half the Python
work of the ORM's unit of work). The ledger insert runs in a savepoint: a key already in the ledger
undoes that insert alone, and what the transaction holds before it is committed all the same.

A CRM call that fails is audited here and re-raised as `AuditedFailure` (the provider's error in
`.error`), so the runner applies the failure policy to the error without auditing it twice.

Every operation (and every failure) writes an AuditEntry: rule, fields before/after, result and a
short summary of what the CRM answered. Credentials never reach an audit row or a log line.
"""
from __future__ import annotations

import html
import re
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError

from core import db
from models import AppliedOperation, AuditEntry, CrmLink, CvFile, utcnow
from providers.base import Provider
from providers.errors import NotFound, ProviderError, RateLimited, Unavailable
from services.outage import error_text
from services.push.audit_words import Words, field_names
from services.push.context import IntentContext
from services.storage import get_storage
from sync.types import (
    CRM_OPS,
    OP_ADD_NOTE,
    OP_ADD_TO_JOB,
    OP_ADD_TO_LIST,
    OP_APPLY_TAGS,
    OP_BLOCK,
    OP_CREATE,
    OP_LINK,
    OP_REFUSE,
    OP_SET_STATUS,
    OP_SKIP,
    OP_UPDATE,
    OP_UPLOAD_CV,
    Operation,
)

_TAGS = re.compile(r"<[^>]+>")


class AuditedFailure(Exception):
    """A CRM operation failed and its audit row is written; `error` is what the provider raised."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(str(error))
        self.error = error

# Table-level statements for the writes every push makes (audit rows, ledger rows, links): half
# the Python work of the ORM's unit of work, and built once.
_AUDIT = AuditEntry.__table__.insert()
_LINK = CrmLink.__table__.insert()
_LEDGER_START = AppliedOperation.__table__.insert()
_LEDGER_DONE = (AppliedOperation.__table__.update()
                .where(AppliedOperation.__table__.c.key == bindparam("op_key"))
                .values(state="done", result=bindparam("result")))


class Executor:
    """Applies operations for one intent; `remote_id` tracks the record a create or link produced."""

    def __init__(self, ctx: IntentContext, adapter: Provider):
        self.ctx = ctx
        self.adapter = adapter
        self.remote_id: str | None = None
        self.applied = 0
        # The record type the runner's lookup just found no CrmLink for (we hold the person's
        # lock, so none appears meanwhile): its first link is inserted without reading again.
        # Were the lock ever lost, the unique constraint still refuses a second link.
        self.unlinked: str | None = None
        self._words: dict[str, Words] = {}
        # Plain copies: every commit expires the ORM row, and re-reading it per audit row costs a query.
        i = ctx.intent
        self.ids = {"team_id": i.team_id, "connection_id": i.connection_id, "intent_id": i.id,
                    "person_id": i.person_id}

    # -- public ------------------------------------------------------------------------------
    def apply(self, ops: tuple[Operation, ...] | list[Operation]) -> None:
        for op in ops:
            if op.kind == OP_LINK:
                self.remote_id = op.remote_id or self.remote_id
                self._link(op.record_type, self.remote_id, op, commit=False)
            elif op.kind in CRM_OPS:
                self._crm_op(op)
            elif op.kind in (OP_REFUSE, OP_BLOCK, OP_SKIP):
                # Refusals and deliberate non-writes are audited too: the log says why nothing happened.
                self.audit(op, "refused" if op.kind == OP_REFUSE else "skipped", op.reason or op.rule,
                           commit=False)

    def words(self, record_type: str) -> Words:
        if record_type not in self._words:
            self._words[record_type] = Words(self.ids["connection_id"], record_type)
        return self._words[record_type]

    def audit(self, op: Operation | None, result: str, summary: str, *, operation: str | None = None,
              record_type: str | None = None, remote_id: str | None = None, commit: bool = True) -> None:
        self._write(_AUDIT, {
            **self.ids, "operation": (operation or (op.kind if op else "sync"))[:40],
            "rule": (op.rule if op else "")[:80], "record_type": record_type or (op.record_type if op else None),
            "remote_id": remote_id or (op.remote_id if op else None) or self.remote_id,
            "fields_before": dict(op.fields_before) if op else {}, "fields_after": dict(op.fields) if op else {},
            "result": result, "summary": summary[:1000], "created_at": utcnow()})
        if commit:
            db.session.commit()

    def _write(self, statement: Any, params: dict[str, Any]) -> None:
        db.session.execute(statement, params)   # in the open transaction, committed with the next `started`

    # -- one CRM operation -------------------------------------------------------------------
    def _crm_op(self, op: Operation) -> None:
        rid = op.remote_id or self.remote_id
        # Insert `started` first (committing the previous operation's `done` with it); only if the
        # key is already in the ledger — a repeat, rare — do we read the row to see how far it got.
        row = self._start(op)   # None: inserted now; else the row an earlier attempt left
        if row is not None and row.state == "done":
            if op.kind == OP_CREATE and row.result.get("remote_id"):
                self.remote_id = str(row.result["remote_id"])
                self._link(op.record_type, self.remote_id, op)
            return
        if row is not None and self._happened(op, rid):   # `started` by an attempt that died mid-call
            row.state, row.result = "done", {"remote_id": self.remote_id, "verified": True}
            self.audit(op, "ok", "already applied by an interrupted attempt (verified in the CRM)",
                       remote_id=self.remote_id if op.kind == OP_CREATE else rid)
            return
        try:
            summary, result = self._call(op, rid)
        except ProviderError as exc:
            self.audit(op, "retry" if isinstance(exc, (Unavailable, RateLimited)) else "failed",
                       error_text(exc), remote_id=rid)
            raise AuditedFailure(exc) from exc
        # `done`, its audit row and (for a create) the link land in one commit: the next `started`
        # or the runner's settle, whichever comes first.
        if row is None:
            self._write(_LEDGER_DONE, {"op_key": op.key[:200], "result": result})
        else:   # an interrupted attempt's row, read back
            row.state, row.result = "done", result
        self.applied += 1
        self.audit(op, "ok", summary, remote_id=self.remote_id if op.kind == OP_CREATE else rid, commit=False)

    def _start(self, op: Operation) -> AppliedOperation | None:
        """Insert the operation's ledger row `started` and commit it (with whatever the previous
        operations left pending). Returns None when this call inserted it, or the existing row
        when the key was already in the ledger: a repeat of this operation."""
        key = op.key[:200]
        db.session.flush()   # pending ORM changes (rare paths) go before the savepoint, not into it
        try:
            with db.session.begin_nested():   # a savepoint: a taken key undoes this insert alone
                db.session.execute(_LEDGER_START, {"team_id": self.ids["team_id"], "key": key,
                                                   "intent_id": self.ids["intent_id"], "state": "started",
                                                   "result": {}, "created_at": utcnow()})
        except IntegrityError:
            db.session.commit()   # what the run did before this operation is kept
            return db.session.scalars(select(AppliedOperation).where(AppliedOperation.key == key)).one()
        db.session.commit()   # must be durable before the CRM sees the call
        return None

    def _call(self, op: Operation, rid: str | None) -> tuple[str, dict[str, Any]]:
        a, rt, p = self.adapter, op.record_type or self.ctx.target.record_type or "", op.params
        if op.kind == OP_CREATE:
            fields = dict(op.fields)
            job_id = self.ctx.target.sync_options.job_id
            if job_id and type(a).create_takes_job:
                fields["job_id"] = job_id   # the add-to-job step that follows is then a no-op in the CRM
            rec = a.create(rt, fields)
            self.remote_id = rec.remote_id
            self._link(rt, rec.remote_id, op, commit=False)
            return "created the record", {"remote_id": rec.remote_id}
        if rid is None:
            raise LookupError(f"{op.kind} has no record to act on")
        if op.kind == OP_UPDATE:
            a.update(rt, rid, dict(op.fields))
            return f"updated {field_names(op.fields)}", {"remote_id": rid}
        if op.kind == OP_ADD_NOTE:
            try:
                note_id = a.add_note(rt, rid, p["body"], p.get("note_type"))
            except NotFound:
                # The linked record is gone (a note trusts the link without reading the record):
                # forget the link so the retry matches the person again, never writing to a ghost.
                db.session.execute(delete(CrmLink).where(
                    CrmLink.person_id == self.ctx.intent.person_id,
                    CrmLink.connection_id == self.ctx.intent.connection_id,
                    CrmLink.record_type == rt, CrmLink.remote_id == str(rid)))
                db.session.commit()
                raise
            return "note added", {"note_id": note_id}
        if op.kind == OP_ADD_TO_JOB:
            ref = a.add_to_job(rt, rid, str(p["job_id"]), p.get("job_status"))
            return self.words(rt).job(p["job_id"]), {"pipeline_id": ref}
        if op.kind == OP_APPLY_TAGS:
            a.apply_tags(rt, rid, list(p["tags"]))
            return self.words(rt).tags(p["tags"]), {}
        if op.kind == OP_ADD_TO_LIST:
            a.add_to_list(rt, rid, str(p["list_id"]))
            return self.words(rt).list(p["list_id"]), {}
        if op.kind == OP_SET_STATUS:
            a.set_status(rt, rid, str(p["status"]))
            return self.words(rt).status(p["status"]), {}
        if op.kind == OP_UPLOAD_CV:
            cv = self._cv()
            ref = a.upload_cv(rt, rid, cv.filename, get_storage().get(cv.storage_key))
            return f"CV {cv.filename} uploaded", {"attachment_id": ref, "cv_id": cv.id}
        raise LookupError(f"unknown operation {op.kind!r}")

    def _cv(self) -> Any:
        """The person's newest CV (services.cvs): id, filename, storage_key. The plan asked for it
        because it exists."""
        intent = self.ctx.intent
        cv = db.session.execute(select(CvFile.id, CvFile.filename, CvFile.storage_key)
                                .where(CvFile.person_id == intent.person_id, CvFile.team_id == intent.team_id)
                                .order_by(CvFile.id.desc()).limit(1)).first()
        if cv is None:   # deleted between plan and upload: a mismatch to surface, not to paper over
            raise LookupError("no CV file is stored for this person")
        db.session.commit()   # no transaction held open across the CRM call
        return cv

    def _happened(self, op: Operation, rid: str | None) -> bool:
        """After an interrupted attempt: did the CRM apply this operation? Only asks where a repeat
        would duplicate something (a record, a note, a CV); the other operations are idempotent."""
        a, rt = self.adapter, op.record_type or ""
        if op.kind == OP_CREATE:
            person = self.ctx.person
            rec = a.find_person(rt, email=person.email, linkedin_url=person.linkedin_url)
            if rec is None:
                return False
            self.remote_id = rec.remote_id
            self._link(rt, rec.remote_id, op)
            return True
        if op.kind == OP_ADD_NOTE and rid:
            want = _norm(op.params.get("body") or "")
            return any(_norm(n.body) == want or (want and want in _norm(n.body)) for n in a.list_notes(rt, rid))
        if op.kind == OP_UPLOAD_CV and rid:
            return a.has_cv(rt, rid)
        return False

    def _link(self, record_type: str | None, remote_id: str | None, op: Operation, commit: bool = True) -> None:
        if not remote_id or not record_type:
            return
        ids = self.ids
        if record_type == self.unlinked:
            link, self.unlinked = None, None
        else:
            link = db.session.scalars(select(CrmLink).where(
                CrmLink.person_id == ids["person_id"], CrmLink.connection_id == ids["connection_id"],
                CrmLink.record_type == record_type)).first()
        if link is not None and link.remote_id == str(remote_id):
            return
        if link is None:
            self._write(_LINK, {"team_id": ids["team_id"], "person_id": ids["person_id"],
                                "connection_id": ids["connection_id"], "record_type": record_type,
                                "remote_id": str(remote_id), "created_at": utcnow()})
        else:   # the old record was deleted in the CRM and the person was re-matched
            link.remote_id = str(remote_id)
        if commit:
            db.session.commit()
        if op.kind == OP_LINK:
            self.audit(op, "ok", "linked to the record already in the CRM", remote_id=str(remote_id),
                       commit=commit)


def _norm(text: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", text or "")).split())
