"""Integration settings: the admin's team defaults and locks (`/settings/team`) and every user's
personal defaults (`/settings/mine`), for the team's active CRM, in its own vocabulary.

The page never waits on the CRM: its options (fields, statuses, note types, job statuses) come from
a cache filled by an interactive job. Until they arrive the rows that need them are read-only and a
small poller (`#crm-options`) asks again; once loaded, its answer replaces those rows out of band
(`hx-swap-oob`), so whatever the user already changed elsewhere in the form stays.

Saving re-renders the form fragment: 200 with "Saved", or 422 with the messages and nothing written
(the convention in blueprints/_htmx.py)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from blueprints._htmx import render_fragment, render_page_or_fragment
from services import settings as svc
from services.settings_view import LAYER_LABELS, parse_form, sections

bp = Blueprint("settings", __name__, url_prefix="/settings")

SCOPES = ("team", "mine")


def _scope(which: str) -> svc.Scope | None:
    if which not in SCOPES:
        abort(404)
    if which == "team" and not current_user.is_admin:
        abort(403, description="Only a team admin can change the team's settings.")
    return svc.scope_for(current_user.team_id, None if which == "team" else current_user.id)


def _ctx(which: str, scope: svc.Scope | None, *, found: Any = None, draft: Any = None,
         errors: Any = None, saved: bool = False) -> dict[str, Any]:
    ctx: dict[str, Any] = {"which": which, "scope": scope, "errors": errors or {}, "saved": saved,
                           "layer_labels": LAYER_LABELS}
    if scope is None:
        return ctx
    team, mine = svc.layers(scope)
    own_layer = team if which == "team" else mine
    ctx.update(found=found, loading=found is None,
               sections=sections(scope, svc.resolved(scope), (own_layer.values or {}) if own_layer else {},
                                 found, draft),
               locks=set(team.locks or []) if team else set())
    # Errors about keys no row shows (unsupported, unknown, admin-only) still need saying.
    shown = {r.key for _, rows in ctx["sections"] for r in rows}
    ctx["other_errors"] = {k: v for k, v in ctx["errors"].items() if k not in shown}
    return ctx


def _page(which: str, status: int = 200, **kw: Any):
    scope = _scope(which)
    found = svc.options_for(scope.connection) if scope else None
    return render_page_or_fragment("settings/page.html", block="form", status=status,
                                   **_ctx(which, scope, found=found, **kw))


@bp.get("/")
@login_required
def index():
    return redirect(url_for("settings.page", which="team" if current_user.is_admin else "mine"))


@bp.get("/<which>")
@login_required
def page(which: str):
    return _page(which)


@bp.post("/<which>")
@login_required
def save(which: str):
    scope = _scope(which)
    if scope is None:
        abort(409, description="Connect a CRM before changing its settings.")
    # Checked against the cached options only: a save never waits on the CRM (an expired cache
    # queues a reload, and only changed option-backed values are refused until it is back).
    found = svc.cached_options(scope.connection.id) or svc.options_for(scope.connection)
    values, shown, locks = parse_form(scope, request.form)
    try:
        svc.save(scope, values, shown, locks, found)
    except ValidationError as exc:
        return render_page_or_fragment("settings/page.html", block="form", status=422,
                                       **_ctx(which, scope, found=found, draft=values, errors=exc.messages))
    return _page(which, saved=True)


@bp.get("/<which>/options")
@login_required
def options(which: str):
    """The poller: still loading → itself again; loaded → the rows that needed options, out of band."""
    scope = _scope(which)
    if scope is None:
        abort(409, description="Connect a CRM first.")
    found = svc.options_for(scope.connection)
    return render_fragment("settings/_options_fragment.html", oob=found is not None,
                           **_ctx(which, scope, found=found))


@bp.post("/<which>/options/refresh")
@login_required
def refresh(which: str):
    """"Refresh from CRM": drop the cached options and load them again."""
    scope = _scope(which)
    if scope is None:
        abort(409, description="Connect a CRM first.")
    found = svc.options_for(scope.connection, refresh=True)
    return render_fragment("settings/_options_fragment.html", oob=False, **_ctx(which, scope, found=found))
