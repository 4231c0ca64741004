"""Integration settings, on the integration page of the team's active CRM (as the articles put them:
"On the integrations page, you will be able to set default settings for yourself and your team"):
the admin's team defaults and locks (`which` = "team") and every user's own defaults ("mine").

The page (`integrations.connect`) includes `settings/_panel.html`, built by `panel_context`. This
blueprint serves its fragments: the panel for the "For my team / For me" switch, one section (a
record-type tab), a section's save, and the CRM options poller. `/settings` itself stays as a
shortcut to the integration page.

The page never waits on the CRM: its options (fields, statuses, note types, job statuses) come from
a cache filled by an interactive job. Until they arrive the rows that need them are read-only and
`#crm-options` polls; once loaded, its answer replaces those rows out of band (`hx-swap-oob`), so
whatever the user already changed elsewhere stays.

A section saves on its own: 200 with "Saved.", or 422 with the messages next to the fields and
nothing written (the convention in blueprints/_htmx.py)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from marshmallow import ValidationError

from blueprints import labels
from blueprints._htmx import is_htmx, render_fragment
from services import settings as svc
from services.settings_view import parse_form, row_dom_id, sections

bp = Blueprint("settings", __name__, url_prefix="/settings")
# The words-for-ids filters every page uses ride along with this blueprint (no routes of their own).
bp.register_blueprint(labels.bp)

SCOPES = ("team", "mine")


def _scope(which: str) -> svc.Scope | None:
    if which not in SCOPES:
        abort(404)
    if which == "team" and not current_user.is_admin:
        abort(403, description="Only a team admin can change the team's settings.")
    return svc.scope_for(current_user.team_id, None if which == "team" else current_user.id)


def _scope_or_409(which: str) -> svc.Scope:
    scope = _scope(which)
    if scope is None:
        abort(409, description="Connect a CRM on the Integrations page before changing its settings.")
    return scope


def _own(scope: svc.Scope) -> dict[str, Any]:
    team, mine = svc.layers(scope)
    layer = team if scope.user_id is None else mine
    return dict(layer.values or {}) if layer else {}


def _locks(scope: svc.Scope) -> set[str]:
    team, _ = svc.layers(scope)
    return set(team.locks or []) if team else set()


def panel_context(which: str, *, found: Any = None, tabs: dict[str, str] | None = None) -> dict[str, Any] | None:
    """What `settings/_panel.html` needs for the current user, or None without an active CRM."""
    scope = _scope(which)
    if scope is None:
        return None
    if found is None:
        found = svc.options_for(scope.connection)
    return {"which": which, "scope": scope, "found": found, "loading": found is None, "errors": {},
            "locks": _locks(scope), "oob": False,
            "sections": sections(scope, svc.resolved(scope), _own(scope), found, tabs=tabs)}


def _page_url(scope: svc.Scope, which: str, anchor: str = "crm-settings") -> str:
    return url_for("integrations.connect", key=scope.provider.key, _anchor=anchor, **{"for": which})


def default_which() -> str:
    return "team" if current_user.is_admin else "mine"


@bp.get("/")
@login_required
def index():
    """The shortcut: the settings on the integration page of the team's CRM."""
    return page(default_which())


@bp.get("/<which>")
@login_required
def page(which: str):
    """The settings panel (the switch's fragment); a plain visit goes to the integration page."""
    scope = _scope(which)
    if scope is None:
        flash("Connect a CRM first: its settings are on its integration page.", "info")
        return redirect(url_for("integrations.index"))
    if not is_htmx():
        return redirect(_page_url(scope, which))
    resp = render_fragment("settings/_panel.html", **panel_context(which))
    return resp


def _section(scope: svc.Scope, which: str, sid: str, status: int = 200, *, found: Any = None, draft: Any = None,
             errors: Any = None, saved: bool = False, tab: str | None = None):
    found = found if found is not None else svc.options_for(scope.connection)
    built = sections(scope, svc.resolved(scope), _own(scope), found, draft, tabs={sid: tab or ""}, only=sid)
    if not built:
        abort(404, description="No such settings section for this CRM.")
    return render_fragment("settings/_section.html", status=status, s=built[0], which=which, scope=scope,
                           locks=_locks(scope), errors=errors or {}, saved=saved)


@bp.get("/<which>/sections/<section>")
@login_required
def section(which: str, section: str):
    """One section (a record-type tab); a plain visit goes to the integration page."""
    scope = _scope_or_409(which)
    if not is_htmx():
        return redirect(_page_url(scope, which, f"settings-{section}"))
    return _section(scope, which, section, tab=request.args.get("tab"))


@bp.post("/<which>/sections/<section>")
@login_required
def save_section(which: str, section: str):
    """Save one section: every value in it or, with any refused, none (422 with the messages)."""
    scope = _scope_or_409(which)
    if not sections(scope, svc.resolved(scope), {}, None, only=section):
        abort(404, description="No such settings section for this CRM.")
    # Checked against the cached options only: a save never waits on the CRM (an expired cache
    # queues a reload, and only changed option-backed values are refused until it is back).
    found = svc.cached_options(scope.connection.id) or svc.options_for(scope.connection)
    inherited = {k: v.value for k, v in svc.inherited(scope).values.items()}
    values, shown, locks = parse_form(scope, request.form, _own(scope), inherited)
    tab = request.form.get("tab")
    try:
        svc.save(scope, values, shown, locks, found)
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        if not is_htmx():
            flash("Nothing was saved: " + "; ".join(m for v in errors.values() for m in v), "error")
            return redirect(_page_url(scope, which, f"settings-{section}"), 303)
        return _section(scope, which, section, 422, found=found, draft=values, errors=errors, tab=tab)
    if not is_htmx():
        flash("Saved.", "success")
        return redirect(_page_url(scope, which, f"settings-{section}"), 303)
    return _section(scope, which, section, found=found, saved=True, tab=tab)


@bp.post("/<which>/validate")
@login_required
def validate_row(which: str):
    """One setting checked as the user leaves it, with the checks a save makes (`svc.validate`);
    nothing is saved. Answers the row's message slot (empty when the value is fine)."""
    scope = _scope_or_409(which)
    key = request.form.get("row", "")
    if key not in scope.definitions():
        abort(404, description="No such setting on this page.")
    found = svc.cached_options(scope.connection.id) or svc.options_for(scope.connection)
    inherited = {k: v.value for k, v in svc.inherited(scope).values.items()}
    values, _shown, _locks_ = parse_form(scope, request.form, _own(scope), inherited)
    return render_fragment("settings/_row_errors.html", rid=row_dom_id(key),
                           messages=svc.validate(scope, values, key, found))


@bp.get("/<which>/options")
@login_required
def options(which: str):
    """The poller: still loading → itself again; loaded → the rows that needed options, out of band."""
    scope = _scope_or_409(which)
    ctx = panel_context(which)
    ctx["oob"] = not ctx["loading"]
    return render_fragment("settings/_options_fragment.html", **ctx)


@bp.post("/<which>/options/refresh")
@login_required
def refresh(which: str):
    """"Refresh from CRM": drop the cached options and load them again."""
    scope = _scope_or_409(which)
    found = svc.options_for(scope.connection, refresh=True)
    return render_fragment("settings/_options_fragment.html", **panel_context(which, found=found))
