"""The mailbox card on the Account page: SMTP settings (the password is never shown back; blank
means unchanged) and a Test that runs in a worker while the card polls a status fragment."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from blueprints._htmx import hx_redirect, is_htmx, render_fragment
from core import db
from services.outreach import mailboxes as svc
from services.outreach.mailer import SECURITY

bp = Blueprint("mailbox", __name__, url_prefix="/account/mailbox")


@bp.app_template_global()
def mailbox_card() -> dict[str, Any]:
    """What templates/outreach/_mailbox.html needs, for the Account page."""
    return {"mailbox": svc.mailbox_of(current_user), "security": SECURITY}


def _card(status: int = 200, **ctx: Any):
    return render_fragment("outreach/_mailbox.html", status=status, card=mailbox_card(), **ctx)


@bp.post("/")
@login_required
def save():
    """Save the mailbox settings; 422 with the card and its errors, nothing written."""
    try:
        svc.save(current_user, request.form)
    except ValidationError as exc:
        db.session.rollback()
        msgs = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return _card(422, mailbox_errors=msgs, mailbox_form=request.form)
    if not is_htmx():
        flash("Mailbox saved. Use Test to check it.", "success")
        return hx_redirect(url_for("account.index") + "#mailbox", 303)
    return _card(mailbox_notice="Mailbox saved. Use Test to check it.")


@bp.post("/test")
@login_required
def test():
    """Queue the Test (connect, STARTTLS/TLS, log in) and answer with the polling status."""
    box = svc.mailbox_of(current_user)
    if box is None:
        return _card(422, mailbox_errors={"_schema": ["Save the mailbox first."]})
    svc.request_test(box)
    return render_fragment("outreach/_mailbox_test.html", mailbox=box)


@bp.get("/test")
@login_required
def test_status():
    """The Test's status fragment (polls itself while queued)."""
    return render_fragment("outreach/_mailbox_test.html", mailbox=svc.mailbox_of(current_user))
