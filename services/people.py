"""Find-or-create a team's Person from a captured profile, deduplicated on email and LinkedIn URL."""
from __future__ import annotations

import re
from typing import Any, Mapping

from marshmallow import ValidationError
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


class PersonConflict(ValidationError):
    """The profile's email is one person's and its LinkedIn URL another's: which one is meant is the
    user's call, so nothing is written. A ValidationError naming both fields (the forms show it as such)."""

    def __init__(self, by_email: Person, by_linkedin: Person):
        a, b = by_email.full_name or "Someone", by_linkedin.full_name or "someone else"
        message = (f"{a} in your team has this email, but {b} has this LinkedIn profile: two different "
                   "people. Correct the one that is wrong, then add again.")
        super().__init__({"email": [message], "linkedin_url": [f"{b} in your team has this LinkedIn profile."]})
        self.message = message
        self.by_email, self.by_linkedin = by_email, by_linkedin


def find_person(team_id: int, profile: Mapping[str, Any]) -> Person | None:
    """The team's person with the profile's email or canonical LinkedIn URL, if any. Raises
    PersonConflict (a ValidationError) when the two name different people. Reads only."""
    email = (profile.get("email") or "").strip().lower() or None
    key = linkedin_key(profile.get("linkedin_url"))
    conds = []
    if email:
        conds.append(Person.email == email)
    if key:
        conds.append(Person.linkedin_key == key)
    if not conds:
        return None
    found = db.session.scalars(team_query(Person, team_id).where(or_(*conds)).limit(2)).all()
    if len(found) == 2:
        by_email, by_key = sorted(found, key=lambda p: p.email != email)
        raise PersonConflict(by_email, by_key)
    return found[0] if found else None


def fill_blanks(person: Person, profile: Mapping[str, Any]) -> None:
    """Fill the person's blank fields from the profile (never overwrite what Shoal has). No commit."""
    email = (profile.get("email") or "").strip().lower() or None
    key = linkedin_key(profile.get("linkedin_url"))
    for name in PROFILE_FIELDS:
        value = email if name == "email" else profile.get(name)
        if value and not getattr(person, name):
            setattr(person, name, value)
    if key and not person.linkedin_key:
        person.linkedin_key = key


def find_or_create_person(team_id: int, profile: dict[str, Any]) -> Person:
    """Match on email or canonical LinkedIn URL; fill our blank fields from the profile. No commit.
    Raises PersonConflict (before writing anything) when the two name different people."""
    person = find_person(team_id, profile)
    if person is None:
        person = Person(team_id=team_id, first_name=profile.get("first_name") or "", extra={})
        db.session.add(person)
    fill_blanks(person, profile)
    return person
