"""Inbound mail: a reply posted to the webhook becomes a `reply` event on the enrolment whose sent
email it answers, with any CV it carries stored for the person (DESIGN §2: one transaction, then the
sync engine decides what it means for the CRM).

Matching is by headers only: `In-Reply-To` first, then `References` newest first, against the
Message-IDs Shoal recorded on the emails it sent. A reply that names none of them is kept as
`unmatched` (listed on the Inbox page for someone to assign), never dropped. The same Message-ID
posted twice (a provider's retry) is one message and one event. Example::

    result = receive(team_id, {"from": "ada@example.com", "message_id": "<r1@mail>",
                               "in_reply_to": "<s1@shoal>", "text": "Keen!", "attachments": []})
    result.status       # "matched" | "unmatched" | "duplicate"
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crypto import decrypt_credentials, encrypt_credentials
from core import db
from models import Enrolment, InboundMessage, OutreachEvent, Person, Team, User, team_query
from services import cvs
from services.documents import Refused
from services.enrolments import record_event

SECRET_PREFIX = "whsec_"
TEXT_LIMIT = 100_000      # characters of a reply kept (and sent to the CRM as the note)


@dataclass
class Received:
    status: str                     # matched | unmatched | duplicate
    message: InboundMessage
    attachments: list[dict[str, Any]] = field(default_factory=list)


# -- the per-team secret -------------------------------------------------------------------------

def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def rotate_secret(team: Team) -> str:
    """A new webhook secret for the team; the old one stops working at once. Returns it."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    team.inbound_secret_hash = _hash(secret)
    team.inbound_secret_encrypted = encrypt_credentials({"secret": secret})
    db.session.commit()
    return secret


def current_secret(team: Team) -> str | None:
    """The secret to show an admin (None until one is generated)."""
    if not team.inbound_secret_encrypted:
        return None
    return decrypt_credentials(team.inbound_secret_encrypted).get("secret")


def team_for_secret(secret: str | None) -> Team | None:
    """The team whose webhook secret this is, or None (a wrong, old or missing secret)."""
    if not secret or len(secret) > 200:
        return None
    team = db.session.scalars(select(Team).where(Team.inbound_secret_hash == _hash(secret))).first()
    # The lookup is by hash; compare again in constant time so timing says nothing about near misses.
    if team is None or not hmac.compare_digest(team.inbound_secret_hash or "", _hash(secret)):
        return None
    return team


# -- matching ------------------------------------------------------------------------------------

def sent_enrolment(team_id: int, message_id: str) -> Enrolment | None:
    """The enrolment of the email Shoal sent (or was told about: an `email_sent` event posted with a
    `message_id`) under this Message-ID, in this team."""
    event_id = db.session.scalar(
        select(OutreachEvent.enrolment_id).where(
            OutreachEvent.team_id == team_id, OutreachEvent.kind == "email_sent",
            # Recorded as sent ("<id@host>", email.utils.make_msgid) or bare, as an API client may.
            OutreachEvent.data["message_id"].as_string().in_((message_id, f"<{message_id}>")))
        .order_by(OutreachEvent.id.desc()).limit(1))
    if event_id is None:
        return None
    return db.session.scalars(team_query(Enrolment, team_id).where(Enrolment.id == event_id)).first()


# -- receiving -----------------------------------------------------------------------------------

def _ids(mail: dict[str, Any]) -> list[tuple[str, str]]:
    """(Message-ID, header it came from) to try, most specific first."""
    out = [(mail["in_reply_to"], "In-Reply-To")] if mail.get("in_reply_to") else []
    out += [(ref, "References") for ref in reversed(mail.get("references") or [])]
    return out


def match(team_id: int, mail: dict[str, Any]) -> tuple[Enrolment | None, str | None]:
    """The enrolment whose sent email this replies to, and the header that said so."""
    for message_id, header in _ids(mail):
        enrolment = sent_enrolment(team_id, message_id)
        if enrolment is not None:
            return enrolment, header
    return None, None


def receive(team_id: int, mail: dict[str, Any]) -> Received:
    """Keep one validated inbound email (see `blueprints.hooks.InboundMailSchema`) and, if it
    matches a sent email, record the reply and store its CV. Commits."""
    existing = db.session.scalars(team_query(InboundMessage, team_id)
                                  .where(InboundMessage.message_id == mail["message_id"])).first()
    if existing is not None:
        return Received("duplicate", existing, existing.attachments)
    enrolment, header = match(team_id, mail)
    msg = InboundMessage(team_id=team_id, message_id=mail["message_id"], in_reply_to=mail.get("in_reply_to"),
                         references=list(mail.get("references") or []), from_addr=mail["from_addr"],
                         from_name=mail.get("from_name") or "", to_addr=mail.get("to") or "",
                         subject=(mail.get("subject") or "")[:500], text=(mail.get("text") or "")[:TEXT_LIMIT],
                         status="matched" if enrolment else "unmatched", matched_by=header,
                         enrolment_id=enrolment.id if enrolment else None)
    db.session.add(msg)
    try:
        db.session.flush()
    except IntegrityError:   # the same message posted twice at once: the other request has it
        db.session.rollback()
        again = db.session.scalars(team_query(InboundMessage, team_id)
                                   .where(InboundMessage.message_id == mail["message_id"])).one()
        return Received("duplicate", again, again.attachments)
    msg.attachments = _keep_attachments(team_id, msg, enrolment.person_id if enrolment else None,
                                        mail.get("attachments") or [])
    if enrolment is None:
        db.session.commit()
        return Received("unmatched", msg, msg.attachments)
    _record_reply(msg, enrolment)
    return Received("matched", msg, msg.attachments)


def _keep_attachments(team_id: int, msg: InboundMessage, person_id: int | None,
                      attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Store each acceptable CV (a reply's PDF/DOC/DOCX); refuse the rest with the reason."""
    out = []
    for att in attachments:
        entry = {"filename": att.get("filename") or "", "size": len(att["content"]), "accepted": False}
        try:
            cv = cvs.store_cv(team_id, person_id, att["content"], att.get("filename"), source="reply",
                              inbound_id=msg.id)
        except Refused as exc:
            entry["reason"] = str(exc)
        else:
            entry.update(accepted=True, cv_id=cv.id, filename=cv.filename)
        out.append(entry)
    return out


def _record_reply(msg: InboundMessage, enrolment: Enrolment) -> None:
    body = "\n".join(x for x in (f"Subject: {msg.subject}" if msg.subject else "", msg.text.strip()) if x)
    event = record_event(enrolment, "reply", channel="email", body=body or None,
                         data={"message_id": msg.message_id, "inbound_id": msg.id})
    msg.event_id = event.id
    db.session.commit()


def assign(user: User, msg: InboundMessage, enrolment: Enrolment) -> None:
    """Someone read an unmatched reply and said whose it is: record it as that member's reply."""
    assert msg.team_id == enrolment.team_id == user.team_id and msg.status == "unmatched"
    msg.status, msg.matched_by, msg.enrolment_id = "assigned", f"assigned by {user.email}", enrolment.id
    cvs.claim_for_person(msg.id, enrolment.person_id)
    _record_reply(msg, enrolment)


def candidates_for(msg: InboundMessage) -> list[tuple[Enrolment, Person]]:
    """The campaign memberships of the people in the team with the sender's address."""
    rows = db.session.execute(team_query(Enrolment, msg.team_id).add_columns(Person)
                              .join(Person, Person.id == Enrolment.person_id)
                              .where(func.lower(Person.email) == msg.from_addr.lower())
                              .order_by(Enrolment.created_at.desc()).limit(20)).all()
    return [(e, p) for e, p in rows]


def inbox(team_id: int, status: str = "unmatched", limit: int = 200) -> list[InboundMessage]:
    q = team_query(InboundMessage, team_id)
    if status != "all":
        q = q.where(InboundMessage.status == status)
    return list(db.session.scalars(q.order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
                                   .limit(limit)))


def counts(team_id: int) -> dict[str, int]:
    rows = db.session.execute(select(InboundMessage.status, func.count()).where(
        InboundMessage.team_id == team_id).group_by(InboundMessage.status)).all()
    return {status: n for status, n in rows}
