"""People's CVs: checked by content (`services.documents`), kept through `services.storage`, one
`CvFile` row each, and pushed to the CRM by the sync engine (rule 6, "Don't overwrite original CV").

A CV arrives three ways: uploaded on the person page or in the panel (`upload`), attached to a
reply the inbound-mail webhook matched (`services.inbound`), or through the JSON API. A person's
CV is their newest file; `PersonInfo.cv_available` is true once they have one, so the push that
creates or matches their CRM record uploads it. A CV uploaded for a person already linked to a CRM
record also records a `cv_added` event on their latest enrolment, so it reaches that record
without waiting for the next trigger. Example::

    cv = upload(user, person, request.files["cv"].read(), "ada.pdf")   # Refused: the reason
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update

from core import db
from models import CvFile, Person, SyncIntent, User, team_query
from services import storage
from services.documents import Refused, safe_filename, sniff
from services.enrolments import record_event
from services.people_edits import intent_for, latest_enrolment, person_links

__all__ = ["Refused", "store_cv", "upload", "latest_cv", "content_of", "has_cv", "claim_for_person"]


def _limit() -> int:
    return int(current_app.config["CV_MAX_BYTES"])


def store_cv(team_id: int, person_id: int | None, content: bytes, filename: str | None, *, source: str,
             user_id: int | None = None, inbound_id: int | None = None) -> CvFile:
    """Check and keep one file; add its row to the session (the caller commits). Refused: the reason.

    The bytes are stored under a key derived from their SHA-256, so the same file twice is one
    stored object; a file that never gets its row committed is left behind harmlessly."""
    kind = sniff(content, limit=_limit())
    digest = hashlib.sha256(content).hexdigest()
    key = f"team{team_id}/cv-{digest}{kind.extension}"
    storage.get_storage().put(key, content, kind.content_type)
    row = CvFile(team_id=team_id, person_id=person_id, inbound_id=inbound_id,
                 filename=safe_filename(filename, kind), kind=kind.key, content_type=kind.content_type,
                 size=len(content), sha256=digest, storage_key=key, source=source, uploaded_by_id=user_id)
    db.session.add(row)
    db.session.flush()
    return row


@dataclass
class Uploaded:
    cv: CvFile
    intent: SyncIntent | None     # the `cv_added` push, when the person is already in the CRM


def upload(user: User, person: Person, content: bytes, filename: str | None, source: str = "upload") -> Uploaded:
    """A CV a user gave for a person: kept, and sent to their linked CRM record (see the module)."""
    assert person.team_id == user.team_id
    cv = store_cv(user.team_id, person.id, content, filename, source=source, user_id=user.id)
    enrolment = latest_enrolment(person)
    if enrolment is None or not person_links(person):
        db.session.commit()
        return Uploaded(cv, None)
    event = record_event(enrolment, "cv_added", data={"cv_id": cv.id, "filename": cv.filename},
                         created_by_id=user.id)
    return Uploaded(cv, intent_for(event))


def latest_cv(team_id: int, person_id: int) -> CvFile | None:
    return db.session.scalars(team_query(CvFile, team_id).where(CvFile.person_id == person_id)
                              .order_by(CvFile.id.desc())).first()


def has_cv(team_id: int, person_id: int) -> bool:
    return db.session.scalar(select(CvFile.id).where(CvFile.team_id == team_id, CvFile.person_id == person_id)
                             .limit(1)) is not None


def content_of(cv: CvFile) -> bytes:
    return storage.get_storage().get(cv.storage_key)


def claim_for_person(inbound_id: int, person_id: int) -> None:
    """The CVs of an unmatched reply become the person's once someone assigns the reply."""
    db.session.execute(update(CvFile).where(CvFile.inbound_id == inbound_id, CvFile.person_id.is_(None))
                       .values(person_id=person_id))


def person_cvs(person: Person) -> list[CvFile]:
    return list(db.session.scalars(team_query(CvFile, person.team_id).where(CvFile.person_id == person.id)
                                   .order_by(CvFile.id.desc()).limit(20)))
