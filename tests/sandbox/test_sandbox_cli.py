"""`flask sandbox` as a real subprocess: serve one sandbox (with a custom key) or all five on
consecutive ports, answer over sockets, then be killed."""
from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
ORDER = ("tracker", "smartrecruiters", "cats", "itris", "pinpoint")


def free_ports(n: int) -> int:
    """The first of `n` consecutive loopback ports that are free right now."""
    for _ in range(50):
        first = random.randint(20000, 60000)
        socks = []
        try:
            for p in range(first, first + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return first
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


def flask(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "sandbox", *args], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(url: str, proc: subprocess.Popen, seconds: float = 30) -> requests.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"flask sandbox exited early:\n{proc.stdout.read()}")
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)        # Ctrl-C: the command stops its servers and exits
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_one_provider_with_custom_key_prints_base_url_and_stops_on_ctrl_c(procs):
    port = free_ports(1)
    proc = flask("--provider", "pinpoint", "--port", str(port), "--api-key", "my-key")
    procs.append(proc)
    api = f"http://127.0.0.1:{port}/api/v1"
    assert wait_for(f"http://127.0.0.1:{port}/__sandbox/state", proc).json()["name"] == "pinpoint"
    assert requests.get(f"{api}/jobs", headers={"X-API-KEY": "my-key"}, timeout=5).status_code == 200
    default_key = {"X-API-KEY": "pinpoint-sandbox-key"}
    assert requests.get(f"{api}/jobs", headers=default_key, timeout=5).status_code == 401
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert f"base URL {api}" in out and '"api_key": "my-key"' in out and "Stopping." in out


def test_all_five_on_consecutive_ports_in_documented_order(procs):
    first = free_ports(5)
    proc = flask("--all", "--port", str(first))
    procs.append(proc)
    for offset, key in enumerate(ORDER):
        state = wait_for(f"http://127.0.0.1:{first + offset}/__sandbox/state", proc).json()
        assert state["name"] == key
    me = requests.get(f"http://127.0.0.1:{first + 1}/users/me", timeout=5,
                      headers={"X-SmartToken": "smartrecruiters-sandbox-key"})
    assert me.status_code == 200
    assert requests.get(f"http://127.0.0.1:{first + 2}/v3/site", timeout=5,
                        headers={"Authorization": "Token cats-sandbox-key"}).status_code == 200
    proc.terminate()                               # SIGTERM, as honcho sends: a clean stop too
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0 and "Stopping." in out
    assert out.index("tracker") < out.index("smartrecruiters") < out.index("cats ") < out.index("pinpoint")


def test_usage_errors_and_busy_port_fail_cleanly(procs):
    neither = flask("--port", "5101")
    procs.append(neither)
    out, _ = neither.communicate(timeout=30)
    assert neither.returncode == 2 and "exactly one of --provider KEY or --all" in out

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = flask("--provider", "cats", "--port", str(port))
        procs.append(taken)
        out, _ = taken.communicate(timeout=30)
    assert taken.returncode == 1 and f"cannot serve cats on 127.0.0.1:{port}" in out
    assert "Traceback" not in out
