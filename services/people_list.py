"""The People list: everyone the team has sourced, searchable by name, email, company or title,
newest first, with how many campaigns each is in and their records in the team's CRM (links)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from core import db
from models import Enrolment, Person, team_query
from services.connections import active_connection
from services.crm_links import CrmRef, person_refs

PER_PAGE = 50
MAX_QUERY = 100


@dataclass
class PeoplePage:
    rows: list[tuple[Person, int, list[CrmRef]]]      # person, campaigns, records in the CRM
    q: str
    page: int
    has_next: bool
    total: int


def search_people(team_id: int, q: str = "", page: int = 1) -> PeoplePage:
    """One page of the team's people matching `q` (every word must match one of the fields)."""
    q = " ".join(q.split())[:MAX_QUERY]
    query = team_query(Person, team_id)
    for word in q.lower().split():
        like = f"%{word}%"
        query = query.where(or_(func.lower(Person.first_name).like(like), func.lower(Person.last_name).like(like),
                                func.lower(Person.email).like(like), func.lower(Person.company).like(like),
                                func.lower(Person.title).like(like)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    people = list(db.session.scalars(query.order_by(Person.created_at.desc(), Person.id.desc())
                                     .offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1)))
    has_next, people = len(people) > PER_PAGE, people[:PER_PAGE]
    ids = [p.id for p in people]
    campaigns: dict[int, int] = {}
    linked: dict[int, list[CrmRef]] = {}
    if ids:
        campaigns = dict(db.session.execute(select(Enrolment.person_id, func.count()).where(
            Enrolment.team_id == team_id, Enrolment.person_id.in_(ids)).group_by(Enrolment.person_id)).all())
        conn = active_connection(team_id)
        if conn is not None:
            linked = person_refs(team_id, conn.id, ids)
    return PeoplePage([(p, campaigns.get(p.id, 0), linked.get(p.id, [])) for p in people], q, page, has_next, total)
