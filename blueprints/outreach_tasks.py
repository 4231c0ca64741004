"""My tasks: the LinkedIn messages to send and calls to make that the user's sequences have
brought due, each with its text for that person; Done records the activity (and its CRM note),
Skip moves on. Only the user's own tasks: another user's task is a 404."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from blueprints._htmx import is_htmx, render_page_or_fragment
from models import MAX_ID
from services.outreach import tasks as svc
from services.outreach.steps import KIND_LABELS

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


class DoneSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    note = fields.String(load_default=None, validate=validate.Length(max=5000))


def _page(status: int = 200, **ctx):
    return render_page_or_fragment("outreach/tasks.html", status=status, tasks=svc.open_tasks(current_user),
                                   kinds=KIND_LABELS, **ctx)


@bp.get("/")
@login_required
def index():
    """The user's open tasks, oldest first."""
    return _page()


@bp.post("/<int:run_id>/<any(done, skip):action>")
@login_required
def close(run_id: int, action: str):
    """Tick a task off (records the LinkedIn message or call) or skip it."""
    run = svc.get_task(current_user, run_id) if run_id <= MAX_ID else None
    if run is None:
        abort(404, description="No such task of yours.")
    try:
        data = DoneSchema().load(request.form.to_dict())
    except ValidationError as exc:
        return _page(422, errors={run_id: exc.messages.get("note", ["Too long."])})
    ok = svc.complete(current_user, run, data["note"]) if action == "done" else svc.skip(current_user, run)
    notice = (("Done: recorded, and the next step is scheduled." if action == "done" else "Skipped.")
              if ok else "That task was already closed.")
    if not is_htmx():
        flash(notice, "success")
        return redirect(url_for("tasks.index"), 303)
    return _page(notice=notice)
