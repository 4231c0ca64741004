"""Find-or-create a team's Person from a captured profile, deduplicated on email and LinkedIn URL."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import or_

from core import db
from models import Person, team_query

PROFILE_FIELDS = ("first_name", "last_name", "email", "phone", "title", "company", "location", "linkedin_url")
_LINKEDIN = re.compile(r"linkedin\.com/(in|pub)/([^/?#]+)", re.I)


def linkedin_key(url: str | None) -> str | None:
    """`https://www.linkedin.com/in/Ada-L/?x=1` → `in/ada-l`: the same person however the URL is spelled."""
    if not url:
        return None
    m = _LINKEDIN.search(url)
    return f"{m.group(1).lower()}/{m.group(2).lower()}" if m else None


def find_or_create_person(team_id: int, profile: dict[str, Any]) -> Person:
    """Match on email or canonical LinkedIn URL; fill our blank fields from the profile. No commit."""
    email = (profile.get("email") or "").strip().lower() or None
    key = linkedin_key(profile.get("linkedin_url"))
    conds = []
    if email:
        conds.append(Person.email == email)
    if key:
        conds.append(Person.linkedin_key == key)
    person = None
    if conds:
        person = db.session.scalars(team_query(Person, team_id).where(or_(*conds)).limit(1)).first()
    if person is None:
        person = Person(team_id=team_id, first_name=profile.get("first_name") or "", extra={})
        db.session.add(person)
    for name in PROFILE_FIELDS:
        value = profile.get(name)
        if name == "email":
            value = email
        if value and not getattr(person, name):
            setattr(person, name, value)
    if key and not person.linkedin_key:
        person.linkedin_key = key
    return person
