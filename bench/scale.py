"""Scaling benchmark, measured in one run. `.venv/bin/python bench/scale.py [--quick]`

Built on bench/harness.py (the CATS sandbox in its own process, Shoal on a temp instance, a real
`flask worker --processes N` paused while a backlog is enrolled). SQLite and an embedded Redis by
default; with DATABASE_URL set, that PostgreSQL database (it is dropped and re-created: give it one
of its own, e.g. `createdb scale_bench`, never a shared one). Redis is always the bench's own.

(1) 1, 2 and 4 worker processes draining a backlog of new people against a sandbox answering in
    50 ms, with a generous budget (never the limit): pushes/s and the speed-up over one process
    (targets >= 1.8x at 2, >= 3x at 4);
(2) the same against a 300 calls/min budget shared by all of them (the sandbox enforces 300/min
    too): calls/min as a fraction of the budget (target >= 0.9) and the CRM's 429s (target 0);
(3) a sweeper pass (`services.push.dispatch.sweep`) with 1,000,000 settled intents in the table
    and a few hundred open ones: the median pass in ms (target < 50) and the query plan, which must
    use an index (never a scan of the whole table).
The last line printed is one JSON object with every figure. Nothing here asserts on time.
`--only 3` (or e.g. `--only 1,2`) runs just those sections.
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Sandbox, Shoal, Workers, drain

PROCESSES = (1, 2, 4)
LATENCY = 0.05
GENEROUS = 100_000        # calls/min: paced by the budget's Redis script, never held back by it
BUDGET_PER_MIN = 300
SETTLED = 1_000_000


def scaling(shoal: Shoal, sb: Sandbox, pushes: int) -> dict:
    shoal.set_budget(GENEROUS)
    runs = {}
    for n in PROCESSES:
        workers = Workers(shoal, n)
        try:
            sb.reset(latency=LATENCY)
            run = drain(shoal, workers, pushes)
            run["memory_mb"] = workers.rss_mb()
        finally:
            workers.stop()
        runs[n] = run
        print(f"(1) {n} process(es), 50 ms/call: {run['pushes_per_s']:.2f} pushes/s, "
              f"{run['pushes_per_s'] / runs[1]['pushes_per_s']:.2f}x one process, CPU {run['cpu_ms_per_push']:.1f} "
              f"ms/push, {run['memory_mb']['mean_per_worker']:.0f} MB resident per worker", flush=True)
    return {str(n): {**r, "speedup": r["pushes_per_s"] / runs[1]["pushes_per_s"]} for n, r in runs.items()}


def shared_budget(shoal: Shoal, sb: Sandbox, pushes: int) -> dict:
    runs = {}
    for n in PROCESSES:
        workers = Workers(shoal, n)
        try:
            sb.reset(limit=BUDGET_PER_MIN)
            shoal.set_budget(BUDGET_PER_MIN)   # one budget in Redis, shared by every process
            run = drain(shoal, workers, pushes)
        finally:
            workers.stop()
        state = sb.state()
        per_min = state["requests"] / run["seconds"] * 60
        runs[str(n)] = {"pushes": pushes, "calls": state["requests"], "seconds": run["seconds"],
                        "calls_per_min": per_min, "fraction_of_budget": per_min / BUDGET_PER_MIN,
                        "crm_429s": state["rate_limited"]}
        print(f"(2) {n} process(es) sharing {BUDGET_PER_MIN}/min: {per_min:.0f} calls/min = "
              f"{per_min / BUDGET_PER_MIN:.2f} of the budget (target >= 0.9), {state['rate_limited']} 429s "
              f"(target 0)", flush=True)
    shoal.set_budget(0)
    return runs


def fill(shoal: Shoal, settled: int, open_recent: int, stuck: int) -> None:
    """`settled` final intents, `open_recent` queued ones updated just now (not stuck), `stuck` ones
    pending for an hour, all on the bench's connection and one person; one INSERT ... SELECT each."""
    from sqlalchemy import text

    from core import db
    from models import Person

    person = Person(team_id=shoal.user.team_id, first_name="Bulk", email="bulk@example.com")
    db.session.add(person)
    db.session.commit()
    dialect = db.engine.dialect.name
    numbers = ("generate_series(1, :n) AS g(x)" if dialect == "postgresql" else
               "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < :n) SELECT x FROM c) AS g")
    states = "CASE x % 3 WHEN 0 THEN 'synced' WHEN 1 THEN 'skipped' ELSE 'parked' END"
    for label, n, state, age in (("settled", settled, states, 86400), ("recent", open_recent, "'queued'", 0),
                                 ("stuck", stuck, "'pending'", 3600)):
        db.session.execute(text(
            f"INSERT INTO sync_intent (team_id, connection_id, person_id, idempotency_key, state, attempts, "
            f"rate_limited, created_at, updated_at) SELECT :team, :conn, :person, :label || '-' || x, {state}, 0, 0, "
            f":at, :at FROM {numbers}"),
            {"team": shoal.user.team_id, "conn": shoal.conn.id, "person": person.id, "label": label, "n": n,
             "at": _ago(age)})
        db.session.commit()
    db.session.execute(text("ANALYZE" if dialect == "sqlite" else "ANALYZE sync_intent"))
    db.session.commit()


def _ago(seconds: float):
    from datetime import timedelta

    from models import utcnow

    return utcnow() - timedelta(seconds=seconds)


def sweeper(shoal: Shoal, settled: int) -> dict:
    from sqlalchemy import func, select, text

    from core import db
    from models import SyncIntent
    from services.push.dispatch import sweep, sweep_query

    started = time.perf_counter()
    fill(shoal, settled, open_recent=300, stuck=20)
    filled = time.perf_counter() - started
    total = db.session.scalar(select(func.count()).select_from(SyncIntent))
    # The first query after a million-row bulk insert pays PostgreSQL's one-off costs (hint bits set
    # on first visit, autovacuum starting on the new rows): timed apart from the sweep's own work.
    cold_query = _timed(lambda: len(db.session.scalars(sweep_query(shoal.app.config["SWEEP_AFTER_SECONDS"])).all()))
    db.session.rollback()
    from services import background

    background.waiting_pushes([0])   # import RQ and open the Redis connection outside the timing
    first = _timed(sweep)
    passes = [_timed(sweep) for _ in range(9)]
    dialect = db.engine.dialect.name
    compiled = sweep_query(shoal.app.config["SWEEP_AFTER_SECONDS"]).compile(
        db.engine, compile_kwargs={"literal_binds": True})
    explain = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    plan = [" ".join(str(c) for c in row) for row in db.session.execute(text(explain + str(compiled)))]
    db.session.rollback()
    uses_index = any(("USING INDEX" in p or "USING COVERING INDEX" in p or "Index" in p) for p in plan)
    figures = {"intents_in_table": total, "fill_seconds": filled, "cold_query_ms": cold_query["ms"],
               "first_pass_ms": first["ms"],
               "first_pass_reenqueued": first["result"], "median_pass_ms": statistics.median(p["ms"] for p in passes),
               "passes_ms": [p["ms"] for p in passes], "backend": dialect, "plan": plan, "index_used": uses_index}
    print(f"(3) sweeper pass with {total:,} intents ({settled:,} settled) on {dialect}: the query alone on the cold table "
          f"{cold_query['ms']:.1f} ms; first pass "
          f"{first['ms']:.1f} ms (re-enqueued {first['result']}), median of the next 9 {figures['median_pass_ms']:.1f} ms "
          f"(target < 50); plan: {' | '.join(plan)}; index used: {uses_index}", flush=True)
    return figures


def _timed(fn) -> dict:
    started = time.perf_counter()
    result = fn()
    return {"ms": (time.perf_counter() - started) * 1000, "result": result}


def main() -> None:
    quick = "--quick" in sys.argv
    only = set(sys.argv[sys.argv.index("--only") + 1].replace(",", "")) if "--only" in sys.argv else set("123")
    database_url = os.environ.get("DATABASE_URL")
    sb = Sandbox()
    figures: dict = {}
    try:
        with tempfile.TemporaryDirectory(prefix="shoal-scale-") as instance:
            shoal = Shoal(sb, instance, database_url)
            figures["backend"] = shoal.app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0]
            try:
                if "1" in only:
                    figures["scaling"] = scaling(shoal, sb, 40 if quick else 120)
                if "2" in only:
                    figures["shared_budget"] = shared_budget(shoal, sb, 30 if quick else 120)
                if "3" in only:
                    figures["sweeper"] = sweeper(shoal, 50_000 if quick else SETTLED)
            finally:
                shoal.close()
    finally:
        sb.stop()
    print(json.dumps(figures, sort_keys=True, default=str))


if __name__ == "__main__":
    main()
