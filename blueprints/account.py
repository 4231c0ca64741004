"""The Account page: the user's profile, their password, and their extension tokens (create, shown
once; list; revoke)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, request, session, url_for
from flask_login import current_user, login_required
from marshmallow import Schema, ValidationError, fields, validate

from blueprints._htmx import hx_redirect, render_page_or_fragment
from blueprints.auth import SESSION_VERSION
from core import db
from services import passwords, tokens

bp = Blueprint("account", __name__, url_prefix="/account")


class ProfileSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenSchema(Schema):
    label = fields.String(load_default="", validate=validate.Length(max=tokens.MAX_LABEL))


def _page(status: int = 200, **ctx):
    return render_page_or_fragment("account/index.html", status=status, tokens=tokens.list_tokens(current_user),
                                   api_tokens=tokens.list_tokens(current_user, scope="api"),
                                   server_url=request.host_url.rstrip("/"), errors=ctx.pop("errors", {}), **ctx)


@bp.get("/")
@login_required
def index():
    """Show the profile and the extension tokens."""
    return _page()


@bp.post("/profile")
@login_required
def profile():
    """Change the display name."""
    try:
        data = ProfileSchema().load({"name": request.form.get("name", "").strip()})
    except ValidationError as exc:
        return _page(422, errors=exc.messages)
    current_user.name = data["name"]
    db.session.commit()
    flash("Profile saved.", "success")
    return hx_redirect(url_for("account.index"), 303)


@bp.post("/tokens")
@login_required
def create_token():
    """Issue an extension token and show it once."""
    try:
        data = TokenSchema().load({"label": request.form.get("label", "").strip()})
    except ValidationError as exc:
        return _page(422, errors=exc.messages)
    row, plain = tokens.issue_token(current_user, data["label"])
    return _page(new_token=plain, new_token_row=row)


@bp.post("/api-tokens")
@login_required
def create_api_token():
    """Issue an API token (/api/v1) and show it once."""
    try:
        data = TokenSchema().load({"label": request.form.get("api_label", "").strip()})
    except ValidationError as exc:
        return _page(422, errors={"api_label": exc.messages.get("label", [])})
    row, plain = tokens.issue_token(current_user, data["label"], scope="api")
    return _page(new_api_token=plain, new_api_token_row=row)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of the user's tokens; the extension using it stops working at once."""
    if not tokens.revoke_token(current_user, token_id):
        abort(404, description="No such token.")
    flash("Token revoked.", "success")
    return hx_redirect(url_for("account.index"), 303)


@bp.post("/password")
@login_required
def change_password():
    """Change my password (current one required); my other sessions end, this one carries on."""
    try:
        passwords.change_password(current_user, request.form)
    except ValidationError as exc:
        db.session.rollback()
        msgs = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return _page(422, password_errors=msgs)
    session[SESSION_VERSION] = current_user.session_version
    return _page(password_saved=True)
