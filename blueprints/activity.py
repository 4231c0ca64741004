"""Activity: the team's audit log of CRM operations (newest first, paginated, filterable by person
and result), the sync intents parked for a person to look at (with Retry), and THE intent status
fragment that pages and the extension panel poll until the sync is final."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from blueprints._htmx import is_htmx, render_fragment, render_page_or_fragment
from blueprints._inputs import parse_id
from core import db
from models import AuditEntry, Person, SyncIntent, team_query
from sync.types import IntentState
from services.outage import waiting_text

bp = Blueprint("activity", __name__)
# "CATS is unreachable, retrying in ~40 s" for a push waiting out an outage (intent status fragment).
bp.add_app_template_global(waiting_text, "intent_waiting_text")

PER_PAGE = 50
RESULTS = ("ok", "skipped", "refused", "failed", "retry")


def _int_arg(name: str, default: int) -> int:
    # Bounded like an id: a page past MAX_ID would overflow the query's OFFSET (a 500, not a page).
    return parse_id(request.args.get(name)) or default


def _audit_page(team_id: int, person_q: str, result: str, page: int) -> tuple[list[Any], bool]:
    """One page of (AuditEntry, Person | None), newest first, and whether there is a next page."""
    q = (team_query(AuditEntry, team_id).add_columns(Person)
         .outerjoin(Person, (Person.id == AuditEntry.person_id) & (Person.team_id == team_id)))
    if result in RESULTS:
        q = q.where(AuditEntry.result == result)
    if person_q:
        like = f"%{person_q.lower()}%"
        full = func.lower(Person.first_name + " " + Person.last_name)
        q = q.where(or_(full.like(like), func.lower(Person.email).like(like)))
    rows = db.session.execute(q.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
                              .offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)).all()
    return rows[:PER_PAGE], len(rows) > PER_PAGE


@bp.get("/activity")
@login_required
def index():
    """The audit log and the parked syncs; the filter form swaps only the log."""
    person_q = request.args.get("person", "").strip()[:100]
    result = request.args.get("result", "")
    page = _int_arg("page", 1)
    rows, has_next = _audit_page(current_user.team_id, person_q, result, page)
    parked = db.session.scalars(team_query(SyncIntent, current_user.team_id)
                                .where(SyncIntent.state == IntentState.PARKED)
                                .order_by(SyncIntent.updated_at.desc()).limit(100)).all()
    return render_page_or_fragment("activity/index.html", block="audit", rows=rows, has_next=has_next,
                                   page=page, person=person_q, result=result, results=RESULTS, parked=parked,
                                   counts=team_counts(current_user.team_id))


def _intent_or_404(intent_id: int) -> SyncIntent:
    intent = db.session.scalars(team_query(SyncIntent, current_user.team_id)
                                .where(SyncIntent.id == intent_id)).first()
    if intent is None:
        abort(404, description="No such sync in your team.")
    return intent


@bp.get("/intents/<int:intent_id>/status")
@login_required
def intent_status(intent_id: int):
    """One sync intent's status; the fragment polls itself until the state is final."""
    return render_fragment("activity/_intent_status.html", intent=_intent_or_404(intent_id),
                           show_retry=request.args.get("retry") == "1")


@bp.post("/intents/<int:intent_id>/retry")
@login_required
def retry(intent_id: int):
    """Queue a parked intent again (after the cause was fixed)."""
    intent = _intent_or_404(intent_id)
    from services.push.runner import retry_intent

    if not retry_intent(intent.id, current_user.team_id):
        abort(409, description="Only a sync that needs attention can be retried; this one is "
                               f"{intent.state}.")
    if not is_htmx():
        flash("Queued again.", "success")
        return redirect(url_for("activity.index"), 303)
    db.session.refresh(intent)
    return render_fragment("activity/_intent_status.html", intent=intent, show_retry=True)


def team_counts(team_id: int) -> dict[str, int]:
    """Intents per state for the team (for a health summary)."""
    rows = db.session.execute(select(SyncIntent.state, func.count()).where(SyncIntent.team_id == team_id)
                              .group_by(SyncIntent.state)).all()
    return {state: n for state, n in rows}
