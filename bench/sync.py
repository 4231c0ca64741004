"""Sync runtime benchmark, measured in one run. `.venv/bin/python bench/sync.py [--quick]`

Everything runs locally with embedded defaults: a temp instance dir (SQLite + embedded Redis) and
the CATS sandbox served in a *separate process* (so this process's CPU time is Shoal's own), with a
recorder that keeps every CRM request so the same calls can be replayed by a bare `requests` loop.

(a) pushes/s of one RQ worker — the one `flask worker` runs (jobs.threaded.ThreadedWorker with
    WORKER_THREADS threads), in this process — pushing new people, with no latency and with 50 ms
    per call, each as a ratio to a bare `requests` loop replaying the same HTTP calls; the 50 ms
    case also with one thread (Shoal's own overhead, nothing overlapped); and Shoal's own CPU ms
    per push (this process's CPU time / pushes). The zero-latency case runs several alternating
    Shoal/bare rounds and reports the median round (the machine is shared and noisy);
(b) a backlog draining with the sandbox enforcing 300 calls/min and the connection set to the same
    budget: calls/min achieved as a fraction of the budget, and how many 429s the CRM returned;
(c) HTTP calls per push: a new person, a person already in the CRM, a note;
(d) event → CRM-record latency, p50/p95, with an idle `flask worker` process waiting.
The last line printed is one JSON object with every figure. Nothing here asserts on time.
`--only a` (or e.g. `--only a,c`) runs just those sections, for iterating on one figure.
"""
from __future__ import annotations

import base64
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests

BUDGET_PER_MIN = 300


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


# -- Shoal side --------------------------------------------------------------------------------------

class Shoal:
    """The app on a temp instance, one team connected to the sandbox, and helpers to push people."""

    def __init__(self, sandbox: Sandbox, instance: str) -> None:
        from app import create_app
        from core import db

        self.cfg = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.db", "TESTING": True}
        self.app = create_app(self.cfg, instance_path=instance)
        self.ctx = self.app.app_context()
        self.ctx.push()
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

    def work(self, threads: int | None = None) -> None:
        """Drain the queue with the worker `flask worker` runs (jobs.threaded), in burst mode."""
        from core import get_redis
        from jobs import SERIALIZER, get_queue
        from jobs.threaded import ThreadedWorker

        if threads == 0:   # RQ's plain SimpleWorker, for comparison
            from rq import SimpleWorker

            SimpleWorker([get_queue("sync")], connection=get_redis(), serializer=SERIALIZER).work(burst=True, with_scheduler=True,
                                                                           logging_level="ERROR")
            return
        ThreadedWorker([get_queue("sync")], connection=get_redis(), app=self.app, serializer=SERIALIZER,
                       threads=threads if threads is not None else self.app.config["WORKER_THREADS"]).work(
            burst=True, with_scheduler=True, logging_level="ERROR")

    def intent_state(self, intent_id: int) -> str:
        from core import db
        from models import SyncIntent

        db.session.expire_all()
        return db.session.get(SyncIntent, intent_id).state


def replay(calls: list[dict], base: str) -> float:
    """A bare `requests` loop making the same HTTP calls; returns elapsed seconds."""
    session = requests.Session()
    started = time.perf_counter()
    for c in calls:
        session.request(c["method"], base + c["path"], headers=c["headers"], data=base64.b64decode(c["body"]),
                        timeout=30)
    return time.perf_counter() - started


def throughput(shoal: Shoal, sb: Sandbox, pushes: int, latency: float, threads: int | None = None,
               rounds: int = 1) -> dict:
    """`rounds` alternating runs: Shoal drains `pushes` new people, then the bare loop replays the
    exact calls Shoal made. The machine is shared and noisy, so each round's ratio compares two runs
    seconds apart, and the median round is reported (with every round's figures beside it)."""
    per_round = []
    for _ in range(rounds):
        sb.reset(latency=latency)
        for _ in range(pushes):
            shoal.enrol()
        cpu, wall = time.process_time(), time.perf_counter()
        shoal.work(threads)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        calls = sb.log()
        sb.reset(latency=latency)
        bare = replay(calls, sb.base)
        per_round.append({"shoal_pushes_per_s": pushes / wall, "bare_pushes_per_s": pushes / bare,
                          "ratio": bare / wall, "cpu_ms_per_push": cpu * 1000 / pushes, "http_calls": len(calls)})
    median = sorted(per_round, key=lambda r: r["ratio"])[len(per_round) // 2]
    return {"pushes": pushes, "latency_ms": latency * 1000,
            "threads": shoal.app.config["WORKER_THREADS"] if threads is None else threads,
            **median, "rounds": per_round}


def drain(shoal: Shoal, sb: Sandbox, pushes: int) -> dict:
    sb.reset(limit=BUDGET_PER_MIN)
    shoal.set_budget(BUDGET_PER_MIN)
    for _ in range(pushes):
        shoal.enrol()
    wall = time.perf_counter()
    while True:
        shoal.work()
        from sqlalchemy import func, select

        from core import db
        from models import SyncIntent

        left = db.session.scalar(select(func.count()).select_from(SyncIntent).where(
            SyncIntent.state.in_(("pending", "queued", "running"))))
        if not left:
            break
        time.sleep(0.2)   # a job deferred by the budget waits in RQ's scheduled registry
    wall = time.perf_counter() - wall
    state = sb.state()
    shoal.set_budget(0)
    per_min = state["requests"] / wall * 60
    return {"pushes": pushes, "calls": state["requests"], "seconds": wall, "calls_per_min": per_min,
            "fraction_of_budget": per_min / BUDGET_PER_MIN, "crm_429s": state["rate_limited"]}


def calls_per_push(shoal: Shoal, sb: Sandbox) -> dict:
    from sandbox import cats

    sb.reset()
    before = sb.state()["requests"]
    enrolment = shoal.enrol()
    shoal.work()
    new = sb.state()["requests"] - before
    p = shoal.profile()
    requests.post(sb.base + cats.API_ROOT + "/candidates", timeout=10,
                  headers={"Authorization": f"Token {cats.DEFAULT_CREDENTIALS['api_key']}"},
                  json={"first_name": p["first_name"], "last_name": p["last_name"], "emails": {"primary": p["email"]}})
    before = sb.state()["requests"]
    shoal.enrol(p)
    shoal.work()
    existing = sb.state()["requests"] - before
    from services import enrolments
    before = sb.state()["requests"]
    enrolments.record_event(enrolment, "reply", channel="email", body="Sounds good")
    shoal.work()
    note = sb.state()["requests"] - before
    return {"new_person": new, "existing_person": existing, "note": note}


def latency(shoal: Shoal, sb: Sandbox, pushes: int) -> dict:
    sb.reset()
    target = f"app:create_app({shoal.cfg!r}, instance_path={shoal.app.instance_path!r})"
    env = dict(os.environ, PYTHONPATH=str(ROOT), FLASK_APP=target)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "worker", "--sweep-every", "0"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(3)   # let it start and go idle
        samples = []
        from sqlalchemy import select

        from core import db
        from models import SyncIntent

        for _ in range(pushes):
            started = time.perf_counter()
            enrolment = shoal.enrol()
            intent_id = db.session.scalars(select(SyncIntent.id).where(
                SyncIntent.enrolment_id == enrolment.id)).one()
            while shoal.intent_state(intent_id) not in ("synced", "parked", "skipped", "waiting"):
                time.sleep(0.005)
            samples.append(time.perf_counter() - started)
            time.sleep(0.05)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    q = statistics.quantiles(samples, n=20)
    return {"pushes": pushes, "p50_ms": statistics.median(samples) * 1000, "p95_ms": q[18] * 1000}


def main() -> None:
    quick = "--quick" in sys.argv
    only = set("abcd")
    if "--only" in sys.argv:
        only = set(sys.argv[sys.argv.index("--only") + 1].replace(",", ""))
    sb = Sandbox()
    try:
        with tempfile.TemporaryDirectory(prefix="shoal-bench-") as instance:
            shoal = Shoal(sb, instance)
            figures: dict = {}
            if "a" in only:
                _section_a(shoal, sb, quick, figures)
            if "c" in only:
                c = calls_per_push(shoal, sb)
                print(f"(c) HTTP calls per push: new person {c['new_person']}, existing person "
                      f"{c['existing_person']}, note {c['note']}", flush=True)
                figures["c"] = c
            if "d" in only:
                d = latency(shoal, sb, 10 if quick else 40)
                print(f"(d) event -> CRM record with an idle worker: p50 {d['p50_ms']:.0f} ms, "
                      f"p95 {d['p95_ms']:.0f} ms (target p95 < 1000)", flush=True)
                figures["d"] = d
            if "b" in only:
                b = drain(shoal, sb, 30 if quick else 160)
                print(f"(b) backlog under {BUDGET_PER_MIN}/min: {b['calls_per_min']:.0f} calls/min = "
                      f"{b['fraction_of_budget']:.2f} of the budget (target >= 0.9), {b['crm_429s']} 429s "
                      f"(target 0)", flush=True)
                figures["b"] = b
            shoal.ctx.pop()
            from core import stop_embedded_redis

            stop_embedded_redis(shoal.app)
    finally:
        sb.stop()
    print(json.dumps(figures, sort_keys=True))


def _section_a(shoal: Shoal, sb: Sandbox, quick: bool, figures: dict) -> None:
        rounds = 1 if quick else 5
        a0 = throughput(shoal, sb, 40 if quick else 150, 0.0, rounds=rounds)
        each = ", ".join(f"{r['ratio']:.2f}" for r in a0["rounds"])
        print(f"(a) no latency, one worker ({a0['threads']} threads): Shoal {a0['shoal_pushes_per_s']:.1f} "
              f"pushes/s, bare requests {a0['bare_pushes_per_s']:.1f}/s, ratio {a0['ratio']:.2f} "
              f"(target >= 0.5; median of {rounds} rounds: "
              f"{each}); "
              f"Shoal CPU {a0['cpu_ms_per_push']:.1f} ms/push", flush=True)
        a50 = throughput(shoal, sb, 10 if quick else 40, 0.05)
        print(f"(a) 50 ms/call, one worker ({a50['threads']} threads): Shoal {a50['shoal_pushes_per_s']:.2f} "
              f"pushes/s, bare {a50['bare_pushes_per_s']:.2f}/s, ratio {a50['ratio']:.2f} (target >= 0.95)",
              flush=True)
        # The same with one thread: Shoal's own overhead per push, nothing overlapped.
        a50_1 = throughput(shoal, sb, 10 if quick else 40, 0.05, threads=1)
        print(f"(a) 50 ms/call, one thread: Shoal {a50_1['shoal_pushes_per_s']:.2f} pushes/s, "
              f"bare {a50_1['bare_pushes_per_s']:.2f}/s, ratio {a50_1['ratio']:.2f}", flush=True)
        figures["a"] = {"no_latency": a0, "latency_50ms": a50, "latency_50ms_one_thread": a50_1}


if __name__ == "__main__":
    if "--serve-sandbox" in sys.argv:
        serve_sandbox()
    else:
        main()
