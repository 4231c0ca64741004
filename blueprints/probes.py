"""Probes for a load balancer or orchestrator: /healthz (the process answers) and /readyz (the
database and Redis answer too; 503 naming what doesn't). No login, no session, nothing rendered."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from core import db, get_redis

bp = Blueprint("probes", __name__)


@bp.get("/healthz")
def healthz():
    """The web process is up."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """Ready to serve: the database and Redis both answer (503 otherwise, with which one didn't)."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:   # any failure means "not ready"; the probe itself must not 500
        db.session.rollback()
        checks["database"] = f"unreachable ({exc.__class__.__name__})"
    try:
        get_redis().ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"unreachable ({exc.__class__.__name__})"
    ready = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if ready else "unavailable", "checks": checks}), 200 if ready else 503
