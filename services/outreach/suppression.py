"""The team's suppression list: addresses (and whole domains, written `@example.com`) that no
sequence email may go to. An opt-out or a bounce adds the address by itself (state.on_event)."""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import db
from models import Suppression, team_query

REASON_LABELS = {"manual": "Added by hand", "opted_out": "Unsubscribed", "bounced": "Bounced"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN = re.compile(r"^@[a-z0-9-]+(\.[a-z0-9-]+)+$")


def normalise(value: str) -> str | None:
    """A lower-cased address or `@domain`, or None if it is neither."""
    v = (value or "").strip().lower()
    if v.startswith("@"):
        return v if _DOMAIN.match(v) else None
    return v if _EMAIL.match(v) and len(v) <= 254 else None


def add(team_id: int, value: str, reason: str = "manual", created_by_id: int | None = None) -> Suppression | None:
    """Add (no commit); an entry already there is kept as it is. None if `value` isn't an address."""
    v = normalise(value)
    if v is None:
        return None
    found = db.session.scalars(team_query(Suppression, team_id).where(Suppression.value == v)).first()
    if found is not None:
        return found
    row = Suppression(team_id=team_id, value=v, reason=reason, created_by_id=created_by_id)
    try:
        # A savepoint: two opt-outs (or bounces) of one address at once both get here; the loser
        # keeps its own transaction (the event it is part of) and takes the winner's row.
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return db.session.scalars(team_query(Suppression, team_id).where(Suppression.value == v)).first()
    return row


def match(team_id: int, email: str | None) -> Suppression | None:
    """The entry that forbids emailing `email` (the address itself or its domain), if any."""
    v = normalise(email or "")
    if v is None or v.startswith("@"):
        return None
    domain = "@" + v.split("@", 1)[1]
    return db.session.scalars(team_query(Suppression, team_id)
                              .where(Suppression.value.in_((v, domain))).order_by(Suppression.id)).first()


def listing(team_id: int, limit: int = 500) -> list[Suppression]:
    return list(db.session.scalars(team_query(Suppression, team_id)
                                   .order_by(Suppression.created_at.desc(), Suppression.id.desc()).limit(limit)))


def remove(team_id: int, entry_id: int) -> bool:
    row = db.session.scalars(select(Suppression).where(Suppression.team_id == team_id,
                                                       Suppression.id == entry_id)).first()
    if row is None:
        return False
    db.session.delete(row)
    db.session.commit()
    return True
