"""A person's whole CRM audit trail (every operation, refusal and failure for them, newest first,
paginated), as a fragment of its own on the person page and as a page. Another team's person: 404."""
from __future__ import annotations

from flask import Blueprint, abort, request
from flask_login import current_user, login_required
from sqlalchemy import select

from blueprints._htmx import render_page_or_fragment
from core import db
from models import AuditEntry, Person, team_query

bp = Blueprint("trail", __name__, url_prefix="/people")

PER_PAGE = 25


@bp.get("/<int:person_id>/audit")
@login_required
def person(person_id: int):
    """Every audit row for one person, 25 at a time."""
    who = db.session.scalars(team_query(Person, current_user.team_id).where(Person.id == person_id)).first()
    if who is None:
        abort(404, description="No such person in your team.")
    page = request.args.get("page", "1")
    page = max(1, int(page)) if page.isdigit() else 1
    rows = db.session.scalars(select(AuditEntry).where(
        AuditEntry.team_id == current_user.team_id, AuditEntry.person_id == who.id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)).all()
    return render_page_or_fragment("people/audit.html", block="audit", person=who, entries=rows[:PER_PAGE],
                                   page=page, has_next=len(rows) > PER_PAGE)
