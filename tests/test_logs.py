"""Logs (issue #10, part 6): JSON lines on stdout in production, every web line with the request's
id (an incoming X-Request-ID kept when sane, else a new one, returned in the response header) and
every line a job logs with the RQ job id (and a push's intent id)."""
from __future__ import annotations

import json
import logging

import pytest
from sync_support import connect, faults

import logs
from app import create_app
from config import ConfigError, check_production
from jobs import get_queue, intent_job_id
from jobs.connections import check_connection
from jobs.worker import build_worker


@pytest.fixture
def json_app(app, tmp_path):
    """An app like the session's, logging JSON (production's default); the session's format after.
    It shares the session's Redis (the embedded one by its socket), so it starts no server of its own."""
    redis_url = app.config.get("REDIS_URL") or app.config["REDIS_STORAGE_URI"].replace("redis+unix://", "unix://")
    yield create_app({"TESTING": True, "LOG_FORMAT": "json", "REDIS_URL": redis_url,
                      "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]},
                     instance_path=str(tmp_path))
    logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])


def _lines(out: str) -> list[dict]:
    """Every stdout line parsed as JSON (a line that isn't fails the test)."""
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_a_requests_log_line_is_json_with_the_request_id_the_response_returns(json_app, capsys):
    capsys.readouterr()
    resp = json_app.test_client().get("/login")
    request_id = resp.headers["X-Request-ID"]
    assert len(request_id) == 32
    [line] = [x for x in _lines(capsys.readouterr().out) if x.get("route") == "/login"]
    assert line["request_id"] == request_id and line["status"] == 200 and line["method"] == "GET"
    assert line["level"] == "INFO" and line["logger"] == "shoal.web" and line["ts"].endswith("+00:00")


def test_a_sane_incoming_request_id_is_kept_and_anything_else_replaced(json_app, capsys):
    client = json_app.test_client()
    assert client.get("/login", headers={"X-Request-ID": "lb-7f3a:0042"}).headers["X-Request-ID"] == "lb-7f3a:0042"
    for bad in ("two words", "x" * 129, 'a"}{"level":"ERROR', "é-accent"):
        got = client.get("/login", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert got != bad and len(got) == 32
    out = capsys.readouterr().out
    assert '"level":"ERROR' not in out.replace(" ", "")   # the forged field never reached a line


def test_a_route_with_a_token_in_its_path_is_logged_by_its_rule(json_app, capsys):
    token = "reset-token-that-must-stay-secret"
    json_app.test_client().get(f"/reset/{token}")
    out = capsys.readouterr().out
    assert token not in out
    assert [x for x in _lines(out) if x.get("route") == "/reset/<token>"]


def test_lines_logged_during_a_job_carry_the_job_id_and_a_pushs_intent_id(app, make_user, sandbox, capsys):
    """A connection check the CRM answers with a 500 logs the error (providers/http.py), inside the job."""
    logs.configure("DEBUG", "json")
    try:
        server = sandbox("cats")
        conn = connect(make_user("admin"), "cats", server)
        faults(server, mode="500", count=5)
        job = get_queue("interactive").enqueue(check_connection, conn.id, job_id=f"check-{conn.id}")
        # A job whose id names an intent (intent-<id>): its lines name the intent too.
        push = get_queue("interactive").enqueue("logging.warning", "from the push", job_id=intent_job_id(4242))
        # A job that raises: RQ's own line with the traceback carries the id too.
        broken = get_queue("interactive").enqueue("int", "not a number", job_id="broken-1")
        capsys.readouterr()
        build_worker(app).work(burst=True, logging_level="WARNING")
        lines = _lines(capsys.readouterr().out)
    finally:
        logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    check = [x for x in lines if x["logger"] == "shoal.providers.http" and "500" in x["message"]]
    assert check and check[0]["job_id"] == job.id and check[0]["job_func"] == "jobs.connections.check_connection"
    assert "intent_id" not in check[0]
    [pushed] = [x for x in lines if x["message"] == "from the push"]
    assert pushed["job_id"] == push.id and pushed["intent_id"] == 4242
    failed = [x for x in lines if x["logger"] == "rq.worker" and x["level"] == "ERROR"]
    assert failed and all(x["job_id"] == broken.id for x in failed)
    assert any("ValueError: invalid literal for int()" in x["message"] for x in failed)


def test_production_logs_json_and_development_text_unless_told():
    prod = {"SHOAL_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "k" * 32,
            "CREDENTIALS_KEY": "x", "LOG_LEVEL": "INFO"}
    check_production(prod)
    dev = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "LOG_LEVEL": "INFO"}
    check_production(dev)
    told = {**dev, "LOG_FORMAT": "json"}
    check_production(told)
    assert (prod["LOG_FORMAT"], dev["LOG_FORMAT"], told["LOG_FORMAT"]) == ("json", "text", "json")
    with pytest.raises(ConfigError, match="SHOAL_LOG_FORMAT"):
        check_production({**dev, "LOG_FORMAT": "yaml"})
    with pytest.raises(ConfigError, match="SHOAL_LOG_LEVEL"):
        check_production({**dev, "LOG_FORMAT": None, "LOG_LEVEL": "LOUD"})


def test_migrating_in_process_leaves_logging_as_the_app_set_it(app, tmp_path, capsys):
    """Alembic's env.py used to run fileConfig(alembic.ini): every handler closed, every logger
    made before it disabled, for the rest of the process."""
    from flask_migrate import upgrade

    fresh = create_app({"TESTING": True, "LOG_FORMAT": "json", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.db'}"},
                       instance_path=str(tmp_path))
    try:
        with fresh.app_context():
            upgrade()
        capsys.readouterr()
        logging.getLogger("shoal.web").warning("still heard")
        assert [x for x in _lines(capsys.readouterr().out) if x["message"] == "still heard"]
    finally:
        logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
