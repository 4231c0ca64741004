"""Team management (admins): members with role and last activity, role changes, deactivating and
reactivating a member, handing a leaver's campaigns to someone else, password reset links, every
extension token of the team with Revoke, and invitations. Another team's member or token is a 404;
a recruiter gets 403 on every route."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from blueprints._htmx import hx_redirect, render_page_or_fragment
from blueprints.auth import admin_required
from blueprints._inputs import parse_id
from core import db
from models import User
from services import accounts, passwords
from services import team as svc

bp = Blueprint("team", __name__, url_prefix="/team")


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    msgs = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return {k: v if isinstance(v, list) else [str(v)] for k, v in msgs.items()}


def _page(status: int = 200, **ctx: Any):
    members = svc.members(current_user.team_id)
    return render_page_or_fragment(
        "team/index.html", block="team", status=status, members=members,
        active=[m.user for m in members if m.user.deactivated_at is None],
        tokens=svc.team_tokens(current_user.team_id), invites=accounts.pending_invites(current_user.team_id),
        roles=User.ROLES, errors=ctx.pop("errors", {}), form=ctx.pop("form", {}), **ctx)


def _member_or_404(user_id: int) -> User:
    member = svc.get_member(current_user, user_id)
    if member is None:
        abort(404, description="No such member in your team.")
    return member


def _done(message: str, category: str = "success"):
    flash(message, category)
    return hx_redirect(url_for("team.index"), 303)


@bp.get("")
@admin_required
def index():
    """The team's members, extension tokens and pending invites."""
    return _page()


@bp.post("/invites")
@admin_required
def invite():
    """Invite someone by email; the link is shown once, to copy and send."""
    try:
        inv, plain = accounts.create_invite(current_user, request.form.to_dict())
    except ValidationError as exc:
        db.session.rollback()
        return _page(422, errors=_errors(exc), form=request.form)
    return _page(invite_link=url_for("auth.accept", token=plain, _external=True), invited=inv)


@bp.post("/members/<int:user_id>/role")
@admin_required
def change_role(user_id: int):
    """Make a member an admin or a recruiter (the last admin can't step down)."""
    member = _member_or_404(user_id)
    role = request.form.get("role", "")
    if role not in User.ROLES:
        return _page(422, errors={f"role-{member.id}": ["Choose Admin or Recruiter."]})
    try:
        changed = svc.change_role(current_user, member, role)
    except svc.LastAdmin as exc:
        return _page(422, errors={f"role-{member.id}": [str(exc)]})
    return _done(f"{member.name or member.email} is now {'an admin' if role == 'admin' else 'a recruiter'}."
                 if changed else "Nothing changed.")


@bp.post("/members/<int:user_id>/deactivate")
@admin_required
def deactivate(user_id: int):
    """Deactivate a member: signed out everywhere, extension tokens revoked, history kept."""
    member = _member_or_404(user_id)
    try:
        revoked = svc.deactivate(current_user, member)
    except svc.LastAdmin as exc:
        return _page(422, errors={f"member-{member.id}": [str(exc)]})
    return _done(f"{member.name or member.email} is deactivated: signed out, "
                 f"{revoked} extension token{'s' if revoked != 1 else ''} revoked. Their campaigns and history stay.")


@bp.post("/members/<int:user_id>/reactivate")
@admin_required
def reactivate(user_id: int):
    """Let a deactivated member sign in again."""
    member = _member_or_404(user_id)
    svc.reactivate(current_user, member)
    return _done(f"{member.name or member.email} can sign in again (create them a new extension token).")


@bp.post("/members/<int:user_id>/reassign")
@admin_required
def reassign(user_id: int):
    """Hand every campaign a member owns to another active member."""
    member = _member_or_404(user_id)
    raw = request.form.get("to", "")
    to = svc.get_member(current_user, parse_id(raw)) if parse_id(raw) else None
    if to is None or to.deactivated_at is not None:
        return _page(422, errors={f"reassign-{member.id}": ["Choose an active member of your team."]})
    n = svc.reassign_campaigns(current_user, member, to)
    return _done(f"{n} campaign{'s' if n != 1 else ''} of {member.name or member.email} now belong to "
                 f"{to.name or to.email}.")


@bp.post("/members/<int:user_id>/reset-link")
@admin_required
def reset_link(user_id: int):
    """Create a one-use password reset link for a member; shown once."""
    member = _member_or_404(user_id)
    try:
        row, plain = passwords.issue_reset(current_user, member)
    except ValidationError as exc:
        return _page(422, errors={f"member-{member.id}": _errors(exc).get("_schema", [])})
    return _page(reset_link=url_for("auth.reset_password", token=plain, _external=True), reset_for=member,
                 reset_hours=passwords.RESET_HOURS)


@bp.post("/tokens/<int:token_id>/revoke")
@admin_required
def revoke_token(token_id: int):
    """Revoke any extension token of the team; the extension using it stops at once."""
    if not svc.revoke_any(current_user, token_id):
        abort(404, description="No such live token in your team.")
    return _done("Token revoked.")
