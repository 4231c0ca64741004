"""Sync health per connection (admins): syncs and failures per day for 30 days as a server-rendered
SVG chart, parked syncs grouped by reason with "Retry all", each parked sync with Retry, and a live
fragment with the rate budget in use and the queue depth. Another team's connection: 404."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user

from blueprints._htmx import hx_redirect, render_fragment, render_page_or_fragment
from blueprints.auth import admin_required
from models import Connection
from services import sync_health as svc
from services.connections import active_connection

bp = Blueprint("health", __name__, url_prefix="/health")


def _connection_or_404(connection_id: int) -> Connection:
    conn = svc.get_connection(current_user.team_id, connection_id)
    if conn is None:
        abort(404, description="No such connection in your team.")
    return conn


def _live_ctx(conn: Connection) -> dict:
    usage, source = svc.budget(conn)
    return {"connection": conn, "usage": usage, "budget_source": source, "depths": svc.queue_depths(),
            "pending_here": svc.pending_here(conn.id)}


@bp.get("")
@admin_required
def index():
    """The active connection's health (or where to connect one)."""
    conn = active_connection(current_user.team_id)
    if conn is not None:
        return redirect(url_for("health.show", connection_id=conn.id))
    return render_page_or_fragment("health/index.html", connection=None)


@bp.get("/<int:connection_id>")
@admin_required
def show(connection_id: int):
    """One connection's sync health."""
    conn = _connection_or_404(connection_id)
    days = svc.daily(conn.id)
    return render_page_or_fragment(
        "health/index.html", block="health", crm=svc.crm_name(conn), chart=svc.chart(days),
        groups=svc.failure_groups(conn.id), parked=svc.parked(conn.id), **_live_ctx(conn))


@bp.get("/<int:connection_id>/live")
@admin_required
def live(connection_id: int):
    """The rate budget in use and the queue depth right now; polls itself."""
    return render_fragment("health/_live.html", **_live_ctx(_connection_or_404(connection_id)))


@bp.post("/<int:connection_id>/retry/<key>")
@admin_required
def retry_group(connection_id: int, key: str):
    """Queue again every parked sync with this reason."""
    conn = _connection_or_404(connection_id)
    n = svc.retry_group(current_user.team_id, conn.id, key[:32])
    if n is None:
        abort(404, description="No parked syncs with that reason any more.")
    flash(f"Queued {n} sync{'s' if n != 1 else ''} again.", "success")
    return hx_redirect(url_for("health.show", connection_id=conn.id), 303)
