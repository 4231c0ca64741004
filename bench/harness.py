"""What the benchmarks share: the CATS sandbox in a process of its own (with a recorder of every
CRM request, so a bare `requests` loop can replay the same calls), Shoal on a temp instance with
one connected team, and `Workers`: a real `flask worker --processes N` on that instance.

Workers can be paused (SIGSTOP) while a backlog is enrolled and resumed when the clock starts, so a
figure measures draining, not process start-up or enrolment; their CPU time and resident memory
are read from /proc. bench/sync.py and bench/scale.py build on these helpers.
"""
from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests

OPEN_STATES = ("pending", "queued", "running")


# -- the sandbox process ---------------------------------------------------------------------------

def serve_sandbox() -> None:
    """Child process: the CATS sandbox plus a request recorder under /__bench/."""
    import logging

    from flask import jsonify, request

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from sandbox import cats
    from sandbox.common import ServerThread

    app = cats.create_app()
    log: list[dict] = []

    @app.before_request
    def _record():
        if not request.path.startswith("/__"):
            log.append({"method": request.method, "path": request.full_path.rstrip("?"),
                        "headers": {k: v for k, v in request.headers.items()
                                    if k.lower() in ("authorization", "content-type", "accept")},
                        "body": base64.b64encode(request.get_data()).decode()})

    app.before_request_funcs[None].insert(0, app.before_request_funcs[None].pop())  # record first

    @app.get("/__bench/log")
    def _log():
        return jsonify(log)

    @app.post("/__bench/clear")
    def _clear():
        log.clear()
        return jsonify({"ok": True})

    server = ServerThread(app)
    server.start()
    print(server.base, flush=True)
    server.join()   # until the parent terminates us


class Sandbox:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve-sandbox"], stdout=subprocess.PIPE,
                                     text=True, cwd=ROOT)
        self.base = self.proc.stdout.readline().strip()

    def post(self, path: str, body: dict | None = None) -> None:
        requests.post(self.base + path, json=body or {}, timeout=10).raise_for_status()

    def state(self) -> dict:
        return requests.get(self.base + "/__sandbox/state", timeout=30).json()

    def log(self) -> list[dict]:
        return requests.get(self.base + "/__bench/log", timeout=30).json()

    def reset(self, latency: float = 0.0, limit: int = 0) -> None:
        self.post("/__sandbox/reset")
        self.post("/__bench/clear")
        self.post("/__sandbox/latency", {"seconds": latency})
        self.post("/__sandbox/rate_limit", {"calls": limit, "seconds": 60})

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def replay(calls: list[dict], base: str) -> float:
    """A bare `requests` loop making the same HTTP calls; returns elapsed seconds."""
    session = requests.Session()
    started = time.perf_counter()
    for c in calls:
        session.request(c["method"], base + c["path"], headers=c["headers"], data=base64.b64decode(c["body"]),
                        timeout=30)
    return time.perf_counter() - started


# -- Shoal side --------------------------------------------------------------------------------------

class Shoal:
    """The app on a temp instance (SQLite there, or `database_url`; always its own embedded Redis),
    one team connected to the sandbox, and helpers to push people."""

    def __init__(self, sandbox: Sandbox, instance: str, database_url: str | None = None) -> None:
        from app import create_app
        from core import db

        # The sandbox is on loopback: the operator's allow-list, as in `make run` (README, Production).
        self.cfg = {"SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{instance}/bench.db", "TESTING": True,
                    "REDIS_URL": None, "CRM_HOST_ALLOWLIST": "127.0.0.1:*"}
        if database_url:   # PostgreSQL counts as production: it wants real keys (the workers get this cfg too)
            from cryptography.fernet import Fernet

            self.cfg |= {"SECRET_KEY": secrets.token_hex(32), "CREDENTIALS_KEY": Fernet.generate_key().decode()}
        self.app = create_app(self.cfg, instance_path=instance)
        self.ctx = self.app.app_context()
        self.ctx.push()
        db.drop_all()
        db.create_all()
        self.sandbox = sandbox
        self.n = 0
        from crypto import encrypt_credentials
        from models import Campaign, Connection, Team, User
        from sandbox import cats

        team = Team(name="Bench")
        db.session.add(team)
        db.session.flush()
        self.user = User(team_id=team.id, email="bench@example.com", role="admin", password_hash="-")
        db.session.add(self.user)
        db.session.flush()
        self.conn = Connection(team_id=team.id, provider_key="cats", base_url=sandbox.base + cats.API_ROOT,
                               credentials_encrypted=encrypt_credentials(cats.DEFAULT_CREDENTIALS),
                               status="connected", rate_limit_per_minute=0)
        self.campaign = Campaign(team_id=team.id, owner_id=self.user.id, name="Bench", sync_as="candidate")
        db.session.add_all([self.conn, self.campaign])
        db.session.commit()

    @property
    def redis_url(self) -> str:
        from core import get_redis

        get_redis(self.app)   # starts the embedded server
        return self.app.config["REDIS_STORAGE_URI"].replace("redis+unix://", "unix://")

    def set_budget(self, per_minute: int) -> None:
        from core import db, get_redis

        self.conn.rate_limit_per_minute = per_minute
        db.session.commit()
        get_redis().delete(f"shoal:budget:conn{self.conn.id}")

    def profile(self) -> dict:
        self.n += 1
        return {"first_name": f"Grace{self.n}", "last_name": f"Hopper{self.n}", "title": "Rear Admiral",
                "email": f"grace{self.n}@example.com", "linkedin_url": f"https://linkedin.com/in/grace-{self.n}"}

    def enrol(self, profile: dict | None = None):
        from services import enrolments

        enrolment, _ = enrolments.enrol(self.user, self.campaign, profile or self.profile())
        return enrolment

    def work(self) -> None:
        """Drain the queues in this process with the worker one `flask worker` process runs (burst)."""
        from jobs.worker import build_worker

        build_worker(self.app).work(burst=True, with_scheduler=True, logging_level="ERROR")

    def open_intents(self) -> int:
        from sqlalchemy import func, select

        from core import db
        from models import SyncIntent

        n = db.session.scalar(select(func.count()).select_from(SyncIntent).where(SyncIntent.state.in_(OPEN_STATES)))
        db.session.rollback()   # no read transaction held open between polls
        return n

    def wait_settled(self, timeout: float = 600.0, poll: float = 0.01) -> float:
        """Wait until no intent is open; returns when (perf_counter) that was first seen."""
        deadline = time.monotonic() + timeout
        while self.open_intents():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.open_intents()} intents still open after {timeout:.0f} s")
            time.sleep(poll)
        return time.perf_counter()

    def close(self) -> None:
        from core import db, stop_embedded_redis

        db.session.remove()
        self.ctx.pop()
        stop_embedded_redis(self.app)


class Workers:
    """A real `flask worker --processes N` on the bench's instance, in a session of its own."""

    def __init__(self, shoal: Shoal, processes: int, log: Path | None = None) -> None:
        from rq import Worker

        cfg = dict(shoal.cfg, REDIS_URL=shoal.redis_url)   # the bench's database and embedded Redis
        target = f"app:create_app({cfg!r}, instance_path={shoal.app.instance_path!r})"
        env = dict(os.environ, PYTHONPATH=str(ROOT), FLASK_APP=target)
        self.processes = processes
        self.log = log or Path(shoal.app.instance_path) / "workers.log"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "flask", "worker", "--processes", str(processes),
                                          "--sweep-every", "0"], cwd=ROOT, env=env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        from core import get_redis

        deadline = time.monotonic() + 120
        while Worker.count(connection=get_redis(shoal.app)) < processes:   # each registers when ready
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"workers did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)

    @property
    def pids(self) -> list[int]:
        """The processes that run jobs: the children, or the one process itself when N = 1."""
        if self.processes == 1:
            return [self.proc.pid]
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()]

    def pause(self) -> None:
        for pid in self.pids:
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self.pids:
            os.kill(pid, signal.SIGCONT)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the supervisor and every worker process so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        pids = {self.proc.pid, *self.pids}
        total = 0
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])   # utime, stime
        return total / ticks

    def rss_mb(self) -> dict:
        """Resident memory (VmRSS, MB) of each worker process and of the supervisor (N > 1), and each
        worker's proportional share (PSS: a page shared by k processes counts 1/k in each)."""
        def rss(pid: int) -> float:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
            return 0.0

        def pss(pid: int) -> float:   # resident memory with pages shared among processes split between them
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
            return 0.0

        workers = [rss(p) for p in self.pids]
        proportional = [pss(p) for p in self.pids]
        return {"per_worker": workers, "mean_per_worker": sum(workers) / len(workers),
                "pss_per_worker": proportional, "mean_pss_per_worker": sum(proportional) / len(proportional),
                "supervisor": rss(self.proc.pid) if self.processes > 1 else None}

    def stop(self) -> int:
        """Warm shutdown (SIGTERM to the supervisor); returns its exit code."""
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait()


def drain(shoal: Shoal, workers: Workers, pushes: int) -> dict:
    """Enrol `pushes` new people with the workers paused, then time them draining the backlog."""
    workers.pause()
    try:
        for _ in range(pushes):
            shoal.enrol()
    finally:
        cpu = workers.cpu_seconds()
        started = time.perf_counter()
        workers.resume()
    ended = shoal.wait_settled()
    wall = ended - started
    return {"pushes": pushes, "seconds": wall, "pushes_per_s": pushes / wall,
            "cpu_ms_per_push": (workers.cpu_seconds() - cpu) * 1000 / pushes}


if __name__ == "__main__" and "--serve-sandbox" in sys.argv:
    serve_sandbox()
