"""The Integrations page (seed flow: Integrations › search for the CRM › enter credentials › Activate ›
a green Connected badge). Providers come from the registry only; the connect form is generated from
each provider's credentials schema; the check runs in a worker and the status fragment polls it."""
from __future__ import annotations

import secrets
from typing import Any

from flask import (Blueprint, abort, flash, redirect, request, session, url_for)
from flask_login import current_user, login_required
from marshmallow import ValidationError

from blueprints._htmx import hx_redirect, is_htmx, render_fragment, render_page_or_fragment
from blueprints import settings as settings_pages
from blueprints.auth import admin_required
from core import db
from providers import all_providers, get_provider
from providers.base import AuthKind, Provider
from providers.errors import NotSupported
from services import connections as svc
from services import oauth_flow

bp = Blueprint("integrations", __name__, url_prefix="/integrations")

STATUS_LABELS = {"connected": "Connected", "needs_attention": "Needs attention", "pending": "Checking…"}


@bp.app_context_processor
def _attention_banner() -> dict[str, Any]:
    """For admins, on every page: the active connection if it needs attention (red banner)."""
    if not getattr(current_user, "is_authenticated", False) or not current_user.is_admin:
        return {"attention_connection": None}
    conn = svc.active_connection(current_user.team_id)
    if conn is None or conn.status != "needs_attention":
        return {"attention_connection": None}
    return {"attention_connection": {"provider_key": conn.provider_key, "last_error": conn.last_error,
                                     "provider_name": _name(conn.provider_key)}}


def _name(key: str) -> str:
    try:
        return get_provider(key).display_name
    except NotSupported:
        return key


def _provider(key: str) -> type[Provider]:
    try:
        return get_provider(key)
    except NotSupported:
        abort(404, description="Shoal has no integration with that name.")


def _oauth_available(provider_cls: type[Provider]) -> bool:
    return bool(provider_cls.auth_kind is AuthKind.OAUTH2 and svc.oauth_app(provider_cls) is not None)


@bp.get("/")
@login_required
def index():
    """All CRMs Shoal integrates with, filtered by the search box, with the team's status for each."""
    q = request.args.get("q", "").strip().lower()[:100]
    providers = [p for p in all_providers() if not q or q in p.display_name.lower() or q in p.key]
    conn = svc.active_connection(current_user.team_id)
    return render_page_or_fragment("integrations/index.html", block="provider_list", providers=providers,
                                   q=q, active=conn, status_labels=STATUS_LABELS)


def _connect_page(provider_cls: type[Provider], status: int = 200, **ctx: Any):
    """The connect page (or its form block). `connection` is the team's active connection when it
    is to this CRM; `other` when the team currently syncs to a different one."""
    values, base_url = svc.stored_values(current_user.team_id, provider_cls.key)
    active = svc.active_connection(current_user.team_id)
    mine = active if active is not None and active.provider_key == provider_cls.key else None
    # Switching CRMs: the new one is checked before it replaces the active one (services.connections.store).
    shown = mine or svc.candidate_connection(current_user.team_id, provider_cls.key)
    ctx.setdefault("form", {})
    block = ctx.pop("block", "main")
    if mine is not None and block == "main":
        # The articles' place for the integration settings: this CRM's page, once it is the team's.
        which = request.args.get("for") or settings_pages.default_which()
        ctx["settings_panel"] = settings_pages.panel_context(which if which in settings_pages.SCOPES else "mine")
    return render_page_or_fragment(
        "integrations/connect.html", block=block, status=status, provider=provider_cls,
        fields=svc.form_fields(provider_cls), stored=values, stored_base_url=base_url,
        stored_secrets=svc.stored_secret_names(current_user.team_id, provider_cls.key),
        connection=shown, other=active if mine is None else None, oauth=_oauth_available(provider_cls),
        base_url_editable=svc.base_url_editable(), errors=ctx.pop("errors", {}), **ctx)


@bp.get("/<key>")
@login_required
def connect(key: str):
    """One CRM's page: connecting it (admins) and, once it is the team's CRM, its settings ("For my
    team" for admins, "For me" for everyone)."""
    provider_cls = _provider(key)
    if not current_user.is_admin:
        active = svc.active_connection(current_user.team_id)
        if active is None or active.provider_key != key:
            abort(403, description="Only a team admin can connect a CRM.")
    return _connect_page(provider_cls)


@bp.post("/<key>/activate")
@admin_required
def activate(key: str):
    """Validate and store the credentials, queue the check, answer with the polling status."""
    provider_cls = _provider(key)
    try:
        svc.activate(current_user, key, request.form.to_dict())
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return _connect_page(provider_cls, 422, block="connect_form", errors=errors, form=request.form)
    if is_htmx():
        return _connect_page(provider_cls, block="connect_form")
    return redirect(url_for("integrations.connect", key=key), 303)


@bp.post("/<key>/validate")
@admin_required
def validate_field(key: str):
    """One connect-form field checked as the admin leaves it, as Activate would check it; nothing
    is stored. Answers that field's messages (an empty slot when it is fine)."""
    provider_cls = _provider(key)
    name = request.form.get("field", "")
    if name != "base_url" and name not in {f.name for f in svc.form_fields(provider_cls)}:
        abort(404, description="No such field on this form.")
    return render_fragment("integrations/_field_errors.html", name=name,
                           messages=svc.field_errors(current_user, key, request.form.to_dict(), name))


@bp.get("/connections/<int:connection_id>/status")
@login_required
def status(connection_id: int):
    """The connection's status badge; polls itself while the check is pending."""
    conn = svc.team_connection(current_user.team_id, connection_id)
    if conn is None:
        abort(404)
    resp = render_fragment("integrations/_connection_status.html", connection=conn,
                           provider=_provider(conn.provider_key))
    if is_htmx() and conn.status == "connected" and conn.active:
        # The badge only polls while a check is pending: this answer is the moment it passed. Reload
        # the page, which now shows the CRM's settings (a switch of CRM made it the team's).
        resp.headers["HX-Refresh"] = "true"
    return resp


@bp.post("/connections/<int:connection_id>/disconnect")
@admin_required
def disconnect(connection_id: int):
    """Stop syncing to this CRM and forget its credentials."""
    if not svc.disconnect(current_user.team_id, connection_id):
        abort(404)
    flash("Disconnected. Nothing will be synced until a CRM is connected again.", "success")
    return hx_redirect(url_for("integrations.index"), 303)


@bp.post("/connections/<int:connection_id>/recheck")
@admin_required
def recheck(connection_id: int):
    """Run the check again with the stored credentials (e.g. after the CRM was down)."""
    conn = svc.team_connection(current_user.team_id, connection_id)
    if conn is None or conn.status == "disconnected" or (not conn.active and conn.status == "connected"):
        abort(404)
    conn.status = "pending"
    db.session.commit()
    svc.enqueue_check(conn.id)
    if not is_htmx():
        return redirect(url_for("integrations.connect", key=conn.provider_key), 303)
    return render_fragment("integrations/_connection_status.html", connection=conn,
                           provider=_provider(conn.provider_key))


# -- OAuth (SmartRecruiters' "Allow access" pop-up) ------------------------------------------------

STALE = "This sign-in link is stale or was not started here. Try Allow access again."
DENIED = {
    "access_denied": "Deny was chosen on the {crm} page. To connect, choose Allow access there.",
    "server_error": "{crm} had a problem. Try again in a minute.",
    "temporarily_unavailable": "{crm} is busy. Try again in a minute.",
    "invalid_scope": "it doesn't offer the access Shoal asks for. Ask your {crm} admin to allow API access.",
    "unauthorized_client": "it doesn't accept this server's OAuth client. Ask whoever runs Shoal to check it.",
    "invalid_request": "it refused the sign-in request. Try again; if it keeps failing, use an API key.",
}


def _redirect_uri(key: str) -> str:
    return url_for("integrations.oauth_callback", key=key, _external=True)


@bp.get("/<key>/oauth/start")
@admin_required
def oauth_start(key: str):
    """Send the admin to the CRM's consent page (a state and a PKCE verifier kept server-side)."""
    provider_cls = _provider(key)
    if not _oauth_available(provider_cls):
        abort(404, description=f"OAuth is not configured for {provider_cls.display_name} on this server.")
    base_url = request.args.get("base_url", "").strip()
    if base_url:
        try:
            base_url = svc.check_base_url(base_url, provider_cls)
        except ValidationError as exc:
            return _connect_page(provider_cls, 422, errors=exc.messages)
    state, url = oauth_flow.begin(current_user, provider_cls, _redirect_uri(key), base_url)
    session[f"oauth_state_{key}"] = state
    return redirect(url)


@bp.get("/<key>/oauth/callback")
@admin_required
def oauth_callback(key: str):
    """The CRM sends the admin back here with a code (or an error). The code is handed to a worker
    (the web process never calls a CRM) and the pop-up moves on to a page without it in the URL."""
    provider_cls = _provider(key)
    expected = session.pop(f"oauth_state_{key}", None)
    given = request.args.get("state", "")
    if not _oauth_available(provider_cls) or not expected or not secrets.compare_digest(given, expected):
        abort(400, description=STALE)
    try:
        handle = oauth_flow.accept(current_user, key, expected, None if request.args.get("error")
                                   else request.args.get("code"))
    except oauth_flow.StaleSignIn:
        abort(400, description=STALE)
    if handle is None:
        # In our words by the OAuth error code (RFC 6749 §4.1.2.1); the CRM's free text is never shown.
        why = DENIED.get(request.args.get("error", ""), DENIED["invalid_request"])
        return _oauth_done(provider_cls, oauth_flow.Outcome(
            "failed", f"{provider_cls.display_name} did not grant access: {why.format(crm=provider_cls.display_name)}"),
            status=400)
    session[f"oauth_exchange_{key}"] = handle
    return redirect(url_for("integrations.oauth_connecting", key=key), 303)


@bp.get("/<key>/oauth/connecting")
@admin_required
def oauth_connecting(key: str):
    """The pop-up while a worker redeems the code: "Connecting…", then connected (the pop-up closes
    itself and the integration page behind it refreshes) or failed, in our words. Polls itself."""
    provider_cls = _provider(key)
    outcome = oauth_flow.outcome(current_user, session.get(f"oauth_exchange_{key}"))
    return _oauth_done(provider_cls, outcome)


def _oauth_done(provider_cls: type[Provider], outcome: oauth_flow.Outcome, status: int = 200):
    """The end of the consent flow, shown in the pop-up; opened without a pop-up, it links back."""
    return render_page_or_fragment("integrations/oauth_done.html", block="exchange", status=status,
                                   provider=provider_cls, outcome=outcome)
