"""Team management: members with their role and last activity, role changes, deactivation (their
sessions and extension tokens stop at once; their campaigns and history stay and can be handed to
someone else), and every extension token of the team for the admin to see and revoke.

Every function takes the acting admin and is scoped to their team: another team's member or token
is `None` / False (the blueprint answers 404). A change that would leave the team without an
active admin raises `LastAdmin` and writes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from core import db
from models import Campaign, Enrolment, ExtensionToken, OutreachEvent, User, team_query, utcnow


class LastAdmin(Exception):
    """The change would leave the team with no active admin."""


@dataclass(frozen=True)
class Member:
    user: User
    last_active: datetime | None
    campaigns: int
    live_tokens: int


def get_member(admin: User, user_id: int) -> User | None:
    return db.session.scalars(team_query(User, admin.team_id).where(User.id == user_id)).first()


def _latest(column, owner_column, team_id: int) -> dict[int, datetime]:
    rows = db.session.execute(select(owner_column, func.max(column)).where(
        owner_column.is_not(None), column.is_not(None))
        .where(owner_column.in_(select(User.id).where(User.team_id == team_id)))
        .group_by(owner_column)).all()
    return {uid: when for uid, when in rows}


def members(team_id: int) -> list[Member]:
    """Active members first (by name), then deactivated ones; each with when they last did something:
    signed in or used the web app, used an extension token, added someone or recorded an activity."""
    users = list(db.session.scalars(select(User).where(User.team_id == team_id)
                                    .order_by(User.deactivated_at.is_not(None), func.lower(User.name), User.id)))
    sources = [
        {u.id: u.last_seen_at for u in users if u.last_seen_at},
        _latest(ExtensionToken.last_used_at, ExtensionToken.user_id, team_id),
        _latest(Enrolment.created_at, Enrolment.added_by_id, team_id),
        _latest(OutreachEvent.occurred_at, OutreachEvent.created_by_id, team_id),
    ]
    campaigns = dict(db.session.execute(select(Campaign.owner_id, func.count()).where(
        Campaign.team_id == team_id).group_by(Campaign.owner_id)).all())
    tokens = dict(db.session.execute(select(ExtensionToken.user_id, func.count()).where(
        ExtensionToken.team_id == team_id, ExtensionToken.revoked_at.is_(None))
        .group_by(ExtensionToken.user_id)).all())
    out = []
    for u in users:
        seen = [s[u.id] for s in sources if s.get(u.id)]
        out.append(Member(u, max(seen) if seen else None, campaigns.get(u.id, 0), tokens.get(u.id, 0)))
    return out


def _active_admins(team_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(
        User.team_id == team_id, User.role == "admin", User.deactivated_at.is_(None)))


def change_role(admin: User, member: User, role: str) -> bool:
    """Set a member's role. Returns whether it changed. LastAdmin: the only active admin can't step down."""
    if role not in User.ROLES:
        raise ValueError(role)
    if member.role == role:
        return False
    if member.role == "admin" and member.deactivated_at is None and _active_admins(admin.team_id) <= 1:
        raise LastAdmin("The team needs at least one admin: make someone else an admin first.")
    member.role = role
    db.session.commit()
    return True


def deactivate(admin: User, member: User) -> int:
    """Deactivate a member: no more logins, their open sessions end (session_version moves on) and
    every extension token of theirs is revoked, in one commit. Returns how many tokens were revoked.
    Their campaigns, people and audit history stay."""
    if member.deactivated_at is not None:
        return 0
    if member.role == "admin" and _active_admins(admin.team_id) <= 1:
        raise LastAdmin("This is the team's last admin: make someone else an admin first.")
    now = utcnow()
    member.deactivated_at = now
    member.session_version = (member.session_version or 0) + 1
    revoked = db.session.execute(update(ExtensionToken).where(
        ExtensionToken.user_id == member.id, ExtensionToken.team_id == admin.team_id,
        ExtensionToken.revoked_at.is_(None)).values(revoked_at=now)).rowcount
    db.session.commit()
    return revoked or 0


def reactivate(admin: User, member: User) -> bool:
    """Let a deactivated member sign in again (their old tokens stay revoked)."""
    if member.deactivated_at is None:
        return False
    member.deactivated_at = None
    db.session.commit()
    return True


def reassign_campaigns(admin: User, member: User, to: User) -> int:
    """Hand every campaign `member` owns to `to` (an active member of the same team)."""
    if to.team_id != admin.team_id or to.deactivated_at is not None:
        raise ValueError("Choose an active member of your team.")
    if to.id == member.id:
        return 0
    n = db.session.execute(update(Campaign).where(Campaign.team_id == admin.team_id,
                                                  Campaign.owner_id == member.id).values(owner_id=to.id)).rowcount
    db.session.commit()
    return n or 0


def team_tokens(team_id: int) -> list[ExtensionToken]:
    """Every live extension token of the team, with its user, newest first."""
    return list(db.session.scalars(team_query(ExtensionToken, team_id)
                                   .where(ExtensionToken.revoked_at.is_(None))
                                   .order_by(ExtensionToken.created_at.desc(), ExtensionToken.id.desc())))


def revoke_any(admin: User, token_id: int) -> bool:
    """Revoke any live token of the admin's team. False if not the team's or already revoked."""
    n = db.session.execute(update(ExtensionToken).where(
        ExtensionToken.id == token_id, ExtensionToken.team_id == admin.team_id,
        ExtensionToken.revoked_at.is_(None)).values(revoked_at=utcnow())).rowcount
    db.session.commit()
    return bool(n)
