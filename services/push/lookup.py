"""Phase 1's `lookup`, answered: what the CRM holds for this person (DESIGN §5 rule 2).

Our CrmLink first (one `get`; none at all for a note, which needs only the id); if the linked record was deleted in the CRM the link is dropped and
the person re-matched; otherwise `find_person` by email, then LinkedIn URL, as the adapter allows.
Off-limits and CV presence are only asked for when the plan needs them (each is an HTTP call)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, delete, select

from core import db
from models import CrmLink
from providers.base import Capability, Provider
from providers.errors import NotFound
from providers.types import CrmRecord
from services.push.context import IntentContext
from sync.types import CrmState


# Built once (every push runs it; building a statement costs more than running its cached form).
_LINK = select(CrmLink.id, CrmLink.remote_id).where(CrmLink.person_id == bindparam("person_id"),
                              CrmLink.connection_id == bindparam("connection_id"),
                              CrmLink.record_type == bindparam("record_type"))


def crm_state(ctx: IntentContext, adapter: Provider, record_type: str, params: Mapping[str, Any]) -> CrmState:
    intent = ctx.intent
    link = db.session.execute(_LINK, {"person_id": intent.person_id, "connection_id": intent.connection_id,
                                      "record_type": record_type}).first()
    rec: CrmRecord | None = None
    matched_by: str | None = None
    if link is not None and params.get("purpose") == "note":
        # A note needs only the record's id, which the link holds: one HTTP call per note instead
        # of two. If the record was deleted in the CRM, add_note answers NotFound, the executor
        # drops the link and the retry re-matches the person.
        remote_id = link.remote_id
        db.session.commit()
        return CrmState(record_type=record_type, remote_id=str(remote_id), linked_before=True, matched_by="link")
    if link is not None:
        remote_id = link.remote_id
        db.session.commit()
        try:
            rec, matched_by = adapter.get(record_type, remote_id), "link"
        except NotFound:
            # Deleted in the CRM: forget it and match again, so we never write to a ghost.
            db.session.execute(delete(CrmLink).where(CrmLink.id == link.id))
            db.session.commit()
    if rec is None and adapter.supports(Capability.FIND):
        email, linkedin = params.get("email"), params.get("linkedin_url")
        if email or linkedin:
            rec = adapter.find_person(record_type, email=email, linkedin_url=linkedin)
            if rec is not None:
                theirs = str(rec.fields.get("email") or "").strip().lower()
                matched_by = "email" if email and theirs == str(email).strip().lower() else "linkedin_url"
    if rec is None:
        return CrmState(record_type=record_type)
    off, off_reason = False, None
    # Only an email step asks about off-limits (sync.planner.email_step); a push or a note doesn't.
    if (params.get("purpose") == "off_limits" and ctx.settings.flag("block_off_limits")
            and adapter.supports(Capability.OFF_LIMITS)):
        verdict = adapter.off_limits(record_type, rec.remote_id)
        off, off_reason = verdict.blocked, verdict.reason
    has_cv = False
    if ctx.person.cv_available and adapter.supports(Capability.CV):
        has_cv = adapter.has_cv(record_type, rec.remote_id)
    return CrmState(record_type=record_type, remote_id=str(rec.remote_id), fields=dict(rec.fields),
                    off_limits=off, off_limits_reason=off_reason, has_cv=has_cv,
                    linked_before=matched_by == "link", matched_by=matched_by)
