"""Shoal's application factory. Read it as the table of contents of the web app."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from flask import Flask

import logs
from config import Config, check_production, merged
from core import csrf, db, htmx, init_redis, login_manager, migrate, tune_sqlite


def create_app(config: Mapping[str, Any] | type | None = None, instance_path: str | None = None) -> Flask:
    # Flask, with an exception's log line naming the route, never a path that may carry a token.
    app = logs.ShoalFlask(__name__, instance_relative_config=True, instance_path=instance_path)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(merged(Config.from_env(app.instance_path), config))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A local file has no server to lose the connection to: pinging it on every checkout
        # (several per sync job) is pure overhead. PostgreSQL keeps the configured options.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    check_production(app.config)   # refuses a public SECRET_KEY or a missing CREDENTIALS_KEY there
    logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])   # stdout; JSON in production
    logs.init_request_ids(app)   # first before_request: every later line of a request carries its id
    load_dev_credentials_key(app)
    from crypto import check_key
    check_key(app.config["CREDENTIALS_KEY"])

    db.init_app(app)
    with app.app_context():
        tune_sqlite(db.engine)
    # Batch mode so ALTERs work on SQLite, the embedded default.
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    init_redis(app)

    from providers import load_providers
    load_providers(app.config["ENABLED_PROVIDERS"])

    import jobs
    jobs.install(app)   # the services.background seam: services ask for work, RQ runs it

    from blueprints import register_blueprints, register_error_pages
    from blueprints._inputs import init_inputs
    init_inputs(app)   # the bounded id converter must be in place before any route is added
    register_blueprints(app)
    register_error_pages(app)
    from blueprints._limits import init_limits
    from blueprints._security import init_security
    init_limits(app)
    init_security(app)

    from cli import register_cli
    register_cli(app)
    return app


def load_dev_credentials_key(app: Flask) -> None:
    """Without CREDENTIALS_KEY in the environment, use (or make) instance/credentials.key.

    Production must set CREDENTIALS_KEY (check_production refuses to start without it); this keeps
    `make run` to one command on a fresh machine."""
    if app.config.get("CREDENTIALS_KEY"):
        return
    from crypto import new_key

    path = Path(app.instance_path) / "credentials.key"
    if not path.exists():
        path.write_text(new_key())
        path.chmod(0o600)
    app.config["CREDENTIALS_KEY"] = path.read_text().strip()
