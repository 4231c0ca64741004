"""Side-panel server time under load, measured in one run. `.venv/bin/python bench/panel.py`
(`--people 100000 --campaigns 1000 --audit 1000000 --clients 20 --requests 600`)

A SQLite database is filled with 100,000 people, 1,000 campaigns and 1,000,000 audit rows (one team,
a CATS connection). The real app is served on loopback as the README runs it in production,
`gunicorn -w 4` (four processes of one thread; `--workers`/`--threads` try others), with one extra
route, `/__bench/ping` (a minimal Flask endpoint returning "ok"), registered on the same app and
server. 20 client threads then send, interleaved: ping; **panel open** = the person
card of a person already in Shoal (`POST /panel/profile`: person, their campaigns and CRM links,
the 1,000-campaign picker, and the live CRM match read from the worker's cache, as on a second
visit); **Add** = `POST /panel/enrol` of a new person to a campaign (one transaction: person,
enrolment, event, sync intent; the push job enqueued in Redis; no worker runs, no CRM is called;
the CRM's pick-lists are read from the worker's cache, as after the first Add of the day).

Printed per kind: the server's own time (the `Server-Timing` header, taken around the whole WSGI app
with every hook), the CPU the serving thread used in that time (the rest it spent waiting: for a
core, SQLite's write lock, Redis) and the time seen by the client on loopback, p50/p95 in ms;
`ratio` = client p95 of panel open (and of Add) over client p95 of ping in the same run. Targets (issue #11): server p95
< 50 ms, ratio <= 5. The last line printed is one JSON object. Nothing asserts on time.

Why one thread a process: the web process never waits on a CRM, so its requests are short and
CPU-bound; with more threads than cores, each request's own time grows by the GIL waits of the
others (at 2 x 4 threads on two cores the server p95 was higher than at 4 x 1 in every run, for
Add often twice as high; the clients' own times were about the same). With one thread a process,
the 20 clients' queue waits in the listen backlog instead, which the client times and the ratio
show.

With DATABASE_URL set, that PostgreSQL database is used instead of SQLite (its tables are dropped
and re-created: give it one of its own), as in production: SQLite lets one writer at a time in,
so concurrent Adds queue on its lock there.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_P95_MS = 50.0
TARGET_RATIO = 5.0


def bench_app():
    """The gunicorn entry point: the real app plus the minimal endpoint and a server-time header.

    The time is taken around the whole WSGI app, so it counts every hook (the logging, the limiter,
    the security headers, the session) and not only the view."""
    from app import create_app

    app = create_app(None, instance_path=os.environ["BENCH_INSTANCE"])

    @app.get("/__bench/ping")
    def _ping():
        return "ok"

    inner = app.wsgi_app

    def timed(environ, start_response):
        t0, c0 = time.perf_counter(), time.thread_time()

        def start(status, headers, exc_info=None):
            # app = wall time in the process; cpu = the CPU it used (the rest is waiting: for a
            # core, for SQLite's write lock, for Redis or the database).
            headers.append(("Server-Timing", f"app;dur={(time.perf_counter() - t0) * 1000:.3f}, "
                                             f"cpu;dur={(time.thread_time() - c0) * 1000:.3f}"))
            return start_response(status, headers, exc_info)

        return inner(environ, start)

    app.wsgi_app = timed
    return app


def seed(app, people: int, campaigns: int, audit: int) -> dict:
    from sqlalchemy import insert
    from werkzeug.security import generate_password_hash

    from core import db, get_redis
    from crypto import encrypt_credentials
    from models import AuditEntry, Campaign, Connection, Enrolment, Person, Team, User, utcnow
    from services import panel_lookup
    from services.tokens import issue_token

    with app.app_context():
        db.drop_all()
        db.create_all()
        team = Team(name="Bench")
        db.session.add(team)
        db.session.flush()
        user = User(team_id=team.id, email="bench@example.com", role="recruiter", name="Bench",
                    password_hash=generate_password_hash("bench password"))
        conn = Connection(team_id=team.id, provider_key="cats", base_url="http://127.0.0.1:9/v3",
                          credentials_encrypted=encrypt_credentials({"api_key": "bench"}), status="connected",
                          rate_limit_per_minute=0)
        db.session.add_all([user, conn])
        db.session.commit()
        now = utcnow()
        db.session.execute(insert(Campaign.__table__), [
            {"team_id": team.id, "owner_id": user.id, "name": f"Campaign {i:04d}", "type": "outreach",
             "sync_as": "candidate", "sync_options": {}, "sync_override": {"add_candidate": "added"},
             "sequence_steps": [], "created_at": now} for i in range(campaigns)])
        for start in range(0, people, 20_000):
            db.session.execute(insert(Person.__table__), [
                {"team_id": team.id, "first_name": f"Ada{i}", "last_name": f"Seed{i}", "email": f"ada{i}@example.com",
                 "title": "Engineer", "company": "Engines", "linkedin_url": f"https://www.linkedin.com/in/ada-{i}/",
                 "linkedin_key": f"in/ada-{i}", "extra": {}, "created_at": now, "updated_at": now}
                for i in range(start, min(people, start + 20_000))])
        db.session.commit()
        # The people the clients open are in three campaigns each, as a recruiter's would be.
        opened = list(range(0, people, max(1, people // 500)))[:500]
        db.session.execute(insert(Enrolment.__table__), [
            {"team_id": team.id, "campaign_id": 1 + (i * 7 + k) % campaigns, "person_id": i + 1,
             "added_by_id": user.id, "status": "active", "created_at": now} for i in opened for k in range(3)])
        for start in range(0, audit, 50_000):
            db.session.execute(insert(AuditEntry.__table__), [
                {"team_id": team.id, "connection_id": conn.id, "person_id": 1 + i % people, "operation": "update",
                 "rule": "rule 3", "record_type": "candidate", "remote_id": str(i), "fields_before": {},
                 "fields_after": {}, "result": "ok", "summary": "bench", "created_at": now}
                for i in range(start, min(audit, start + 50_000))])
            db.session.commit()
        _row, token = issue_token(user)
        # What the worker's lookups left in the cache (a second visit): no match for these people.
        redis = get_redis()
        for i in opened:
            query = {"email": f"ada{i}@example.com", "linkedin_url": f"https://www.linkedin.com/in/ada-{i}/"}
            key = panel_lookup.digest("match", *(query.get(k) for k in sorted(query)))
            redis.set(f"shoal:panel:match:{conn.id}:{key}", json.dumps({"error": None, "matches": []}), ex=3600)
        # ...and the CRM's pick-lists for the campaigns' record type (services.crm_options's shape).
        options = {"error": None, "jobs": [[str(j), f"Job {j} · Client {j % 40}"] for j in range(1, 201)],
                   "tags": [[str(t), f"Tag {t}"] for t in range(1, 61)],
                   "lists": [[str(x), f"List {x}"] for x in range(1, 21)],
                   "statuses": [[str(x), f"Status {x}"] for x in range(1, 9)]}
        redis.set(f"shoal:crm-options:{conn.id}:candidate", json.dumps(options), ex=3600)
        return {"token": token, "opened": opened, "campaigns": campaigns}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def server_cpu_s(master_pid: int) -> float:
    """CPU seconds (user + system) used so far by gunicorn's master and its workers, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return float("nan")
    total = 0
    for pid in [str(master_pid), *children]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])    # utime, stime (fields 14 and 15 of stat)
    return total / tick


def run_clients(base: str, token: str, opened: list[int], campaigns: int, clients: int, per_kind: int,
                server_pid: int) -> dict:
    import requests

    kinds = ("ping", "open", "add")
    client_ms: dict[str, list[float]] = {k: [] for k in kinds}
    server_ms: dict[str, list[float]] = {k: [] for k in kinds}
    cpu_ms: dict[str, list[float]] = {k: [] for k in kinds}
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(10**9))
    headers = {"Authorization": f"Bearer {token}", "HX-Request": "true"}

    def one(session, kind: str) -> None:
        if kind == "ping":
            args = ("GET", f"{base}/__bench/ping", {})
        elif kind == "open":
            i = random.choice(opened)
            args = ("POST", f"{base}/panel/profile", {"data": {
                "first_name": f"Ada{i}", "last_name": f"Seed{i}", "email": f"ada{i}@example.com",
                "linkedin_url": f"https://www.linkedin.com/in/ada-{i}/"}, "headers": headers})
        else:
            n = next(counter)
            args = ("POST", f"{base}/panel/enrol", {"data": {
                "first_name": "New", "last_name": f"Person{n}", "email": f"new{n}.{os.getpid()}@example.com",
                "campaign_id": str(1 + n % campaigns)}, "headers": headers})
        t0 = time.perf_counter()
        resp = session.request(args[0], args[1], timeout=30, **args[2])
        elapsed = (time.perf_counter() - t0) * 1000
        timing = resp.headers.get("Server-Timing", "")
        with lock:
            if resp.status_code != 200:
                errors.append(f"{kind} {resp.status_code} {resp.text[:200]}")
                return
            client_ms[kind].append(elapsed)
            durations = dict(part.strip().split(";dur=") for part in timing.split(",") if ";dur=" in part)
            if "app" in durations:
                server_ms[kind].append(float(durations["app"]))
                cpu_ms[kind].append(float(durations["cpu"]))

    def worker(seed_: int) -> None:
        rnd = random.Random(seed_)
        plan = [k for k in kinds for _ in range(per_kind // clients + 1)]
        rnd.shuffle(plan)
        with requests.Session() as session:
            for kind in plan:
                one(session, kind)

    # Warm every process and connection first (imports, template compilation, SQLite page cache).
    with requests.Session() as s:
        for _ in range(20):
            for kind in kinds:
                one(s, kind)
    for k in kinds:
        client_ms[k].clear()
        server_ms[k].clear()
        cpu_ms[k].clear()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    cpu0, client0 = server_cpu_s(server_pid), time.process_time()
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    cpu1, client1 = server_cpu_s(server_pid), time.process_time()
    n = sum(len(v) for v in client_ms.values()) or 1
    # Where the two cores went, per request of any kind: the server's processes and these clients.
    out: dict = {"wall_s": round(wall, 2), "errors": len(errors), "first_errors": errors[:3],
                 "server_cpu_ms_per_request": round((cpu1 - cpu0) * 1000 / n, 2),
                 "client_cpu_ms_per_request": round((client1 - client0) * 1000 / n, 2)}
    for k in kinds:
        out[k] = {"n": len(client_ms[k]),
                  "client_p50_ms": round(pct(client_ms[k], 0.5), 2), "client_p95_ms": round(pct(client_ms[k], 0.95), 2),
                  "server_p50_ms": round(pct(server_ms[k], 0.5), 2), "server_p95_ms": round(pct(server_ms[k], 0.95), 2),
                  "server_cpu_p50_ms": round(pct(cpu_ms[k], 0.5), 2), "server_cpu_p95_ms": round(pct(cpu_ms[k], 0.95), 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--campaigns", type=int, default=1_000)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=600, help="requests per kind, over all clients")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn processes (the README's -w 4)")
    parser.add_argument("--threads", type=int, default=1, help="threads per process (above 1: gthread)")
    parser.add_argument("--worker-class", default=None, help="gunicorn -k (default: sync at one thread)")
    args = parser.parse_args()

    from app import create_app
    from core import stop_embedded_redis

    with tempfile.TemporaryDirectory() as instance:
        db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance}/bench.db"
        cfg = {"SQLALCHEMY_DATABASE_URI": db_url, "TESTING": True}
        if not db_url.startswith("sqlite"):   # PostgreSQL counts as production: it wants real keys
            from cryptography.fernet import Fernet
            cfg |= {"SECRET_KEY": secrets.token_hex(32), "CREDENTIALS_KEY": Fernet.generate_key().decode()}
        app = create_app(cfg, instance_path=instance)
        t0 = time.perf_counter()
        seeded = seed(app, args.people, args.campaigns, args.audit)
        seed_s = time.perf_counter() - t0
        redis_url = app.config["REDIS_STORAGE_URI"].replace("redis+unix://", "unix://")
        port = 18000 + os.getpid() % 1000
        env = {**os.environ, "BENCH_INSTANCE": instance, "DATABASE_URL": db_url, "REDIS_URL": redis_url,
               "CREDENTIALS_KEY": app.config["CREDENTIALS_KEY"], "SECRET_KEY": app.config["SECRET_KEY"]}
        gunicorn = Path(sys.executable).with_name("gunicorn")
        # The app logs a line per request (logs.py), as in production: to a file, not a pipe nobody
        # reads until the end (a full pipe blocks the workers mid-request).
        log_path = Path(instance) / "server.log"
        log = log_path.open("w")
        # No -k: gunicorn's sync worker at one thread (as in the README), gthread above.
        klass = ["-k", args.worker_class] if args.worker_class else []
        proc = subprocess.Popen([str(gunicorn), "-w", str(args.workers), "--threads", str(args.threads), *klass,
                                 "-b", f"127.0.0.1:{port}", "--pythonpath", str(ROOT / "bench"), "--chdir", str(ROOT),
                                 "--log-level", "warning", "panel:bench_app()"],
                                env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            import requests
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if requests.get(f"{base}/__bench/ping", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    time.sleep(0.1)
            result = run_clients(base, seeded["token"], seeded["opened"], args.campaigns, args.clients,
                                 args.requests, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
            out = log_path.read_text(errors="replace")
            stop_embedded_redis(app)
        ping = result["ping"]["client_p95_ms"]
        figures = {
            "database": db_url.split(":", 1)[0], "people": args.people, "campaigns": args.campaigns,
            "audit_rows": args.audit, "clients": args.clients,
            "server": f"gunicorn {args.worker_class or ('gthread' if args.threads > 1 else 'sync')} "
                      f"{args.workers}x{args.threads}", "seed_s": round(seed_s, 1),
            "load_avg_1m": round(os.getloadavg()[0], 2), **result,
            "ratio_open": round(result["open"]["client_p95_ms"] / ping, 2) if ping else None,
            "ratio_add": round(result["add"]["client_p95_ms"] / ping, 2) if ping else None,
            "target_p95_ms": TARGET_P95_MS, "target_ratio": TARGET_RATIO,
        }
        if result["errors"]:
            print("server output:", out[-2000:])
        for k in ("ping", "open", "add"):
            r = result[k]
            print(f"{k:5s} n={r['n']:4d}  client p50 {r['client_p50_ms']:7.2f} ms  p95 {r['client_p95_ms']:7.2f} ms"
                  f"   server p50 {r['server_p50_ms']:7.2f} ms  p95 {r['server_p95_ms']:7.2f} ms"
                  f"   (its CPU p50 {r['server_cpu_p50_ms']:6.2f} ms  p95 {r['server_cpu_p95_ms']:6.2f} ms)")
        print(f"CPU per request (all kinds): server {result['server_cpu_ms_per_request']} ms, "
              f"clients {result['client_cpu_ms_per_request']} ms; {args.clients} clients, wall {result['wall_s']} s")
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
