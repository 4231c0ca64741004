"""Sync runtime benchmark, measured in one run. `.venv/bin/python bench/sync.py [--quick]`

Everything runs locally with embedded defaults: a temp instance dir (SQLite + embedded Redis) and
the CATS sandbox served in a *separate process*, with a recorder that keeps every CRM request so
the same calls can be replayed by a bare `requests` loop (helpers in bench/harness.py).

(a) pushes/s of one worker machine — a real `flask worker` with WORKER_PROCESSES processes (or
    `--processes N`), paused while the backlog is enrolled and timed from resume to the last intent
    settled — pushing new people, with no latency and with 50 ms per call, each as a ratio to a bare
    `requests` loop replaying the same HTTP calls; the 50 ms case also with one process (Shoal's
    own overhead, nothing overlapped); Shoal's CPU ms per push (the worker processes' CPU time /
    pushes) and the resident memory of each worker process. The zero-latency case runs several
    alternating Shoal/bare rounds and reports the median round (the machine is shared and noisy);
(b) a backlog draining with the sandbox enforcing 300 calls/min and the connection set to the same
    budget: calls/min achieved as a fraction of the budget, and how many 429s the CRM returned;
(c) HTTP calls per push: a new person, a person already in the CRM, a note;
(d) event → CRM-record latency, p50/p95, with an idle `flask worker` waiting.
The last line printed is one JSON object with every figure. Nothing here asserts on time.
`--only a` (or e.g. `--only a,c`) runs just those sections, for iterating on one figure.
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from bench.harness import Sandbox, Shoal, Workers, drain, replay

BUDGET_PER_MIN = 300


def throughput(shoal: Shoal, sb: Sandbox, workers: Workers, pushes: int, latency: float, rounds: int = 1) -> dict:
    """`rounds` alternating runs: the workers drain `pushes` new people, then the bare loop replays
    the exact calls they made. The machine is shared and noisy, so each round's ratio compares two
    runs seconds apart, and the median round is reported (with every round's figures beside it)."""
    per_round = []
    for _ in range(rounds):
        sb.reset(latency=latency)
        run = drain(shoal, workers, pushes)
        calls = sb.log()
        sb.reset(latency=latency)
        bare = replay(calls, sb.base)
        per_round.append({"shoal_pushes_per_s": run["pushes_per_s"], "bare_pushes_per_s": pushes / bare,
                          "ratio": bare / run["seconds"], "cpu_ms_per_push": run["cpu_ms_per_push"],
                          "http_calls": len(calls)})
    median = sorted(per_round, key=lambda r: r["ratio"])[len(per_round) // 2]
    return {"pushes": pushes, "latency_ms": latency * 1000, "processes": workers.processes, **median,
            "rounds": per_round}


def budget_drain(shoal: Shoal, sb: Sandbox, workers: Workers, pushes: int) -> dict:
    sb.reset(limit=BUDGET_PER_MIN)
    shoal.set_budget(BUDGET_PER_MIN)
    run = drain(shoal, workers, pushes)
    state = sb.state()
    shoal.set_budget(0)
    per_min = state["requests"] / run["seconds"] * 60
    return {"pushes": pushes, "processes": workers.processes, "calls": state["requests"],
            "seconds": run["seconds"], "calls_per_min": per_min, "fraction_of_budget": per_min / BUDGET_PER_MIN,
            "crm_429s": state["rate_limited"]}


def calls_per_push(shoal: Shoal, sb: Sandbox) -> dict:
    from sandbox import cats
    from services import enrolments

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
    before = sb.state()["requests"]
    enrolments.record_event(enrolment, "reply", channel="email", body="Sounds good")
    shoal.work()
    note = sb.state()["requests"] - before
    return {"new_person": new, "existing_person": existing, "note": note}


def latency(shoal: Shoal, sb: Sandbox, workers: Workers, pushes: int) -> dict:
    sb.reset()
    time.sleep(1)   # idle: every worker blocked on Redis, waiting
    samples = []
    for _ in range(pushes):
        started = time.perf_counter()
        shoal.enrol()
        samples.append(shoal.wait_settled(poll=0.002) - started)
        time.sleep(0.05)
    q = statistics.quantiles(samples, n=20)
    return {"pushes": pushes, "processes": workers.processes, "p50_ms": statistics.median(samples) * 1000,
            "p95_ms": q[18] * 1000}


def main() -> None:
    quick = "--quick" in sys.argv
    only = set(sys.argv[sys.argv.index("--only") + 1].replace(",", "")) if "--only" in sys.argv else set("abcd")
    sb = Sandbox()
    try:
        with tempfile.TemporaryDirectory(prefix="shoal-bench-") as instance:
            shoal = Shoal(sb, instance)
            processes = (int(sys.argv[sys.argv.index("--processes") + 1]) if "--processes" in sys.argv
                         else shoal.app.config["WORKER_PROCESSES"])
            figures: dict = {}
            try:
                if "c" in only:
                    c = calls_per_push(shoal, sb)
                    print(f"(c) HTTP calls per push: new person {c['new_person']}, existing person "
                          f"{c['existing_person']}, note {c['note']}", flush=True)
                    figures["c"] = c
                if only & set("abd"):
                    figures["processes"] = processes
                    workers = None if "a" in only else Workers(shoal, processes)
                    try:
                        if "a" in only:
                            workers = _section_a(shoal, sb, workers, quick, figures)
                        if "d" in only:
                            d = latency(shoal, sb, workers, 10 if quick else 40)
                            print(f"(d) event -> CRM record with an idle worker ({processes} processes): p50 "
                                  f"{d['p50_ms']:.0f} ms, p95 {d['p95_ms']:.0f} ms (target p95 < 1000)", flush=True)
                            figures["d"] = d
                        if "b" in only:
                            b = budget_drain(shoal, sb, workers, 30 if quick else 160)
                            print(f"(b) backlog under {BUDGET_PER_MIN}/min ({processes} processes): "
                                  f"{b['calls_per_min']:.0f} calls/min = {b['fraction_of_budget']:.2f} of the budget "
                                  f"(target >= 0.9), {b['crm_429s']} 429s (target 0)", flush=True)
                            figures["b"] = b
                    finally:
                        if workers is not None:
                            workers.stop()
            finally:
                shoal.close()
    finally:
        sb.stop()
    print(json.dumps(figures, sort_keys=True))


def _section_a(shoal: Shoal, sb: Sandbox, workers: Workers | None, quick: bool, figures: dict) -> Workers:
    """(a); `workers` (the machine's N processes) is started here, after the one-process run."""
    rounds = 1 if quick else 5
    # One process first (nothing else may take jobs meanwhile): Shoal's own overhead per push,
    # nothing overlapped.
    one = Workers(shoal, 1)
    try:
        a50_1 = throughput(shoal, sb, one, 10 if quick else 30, 0.05)
    finally:
        one.stop()
    print(f"(a) 50 ms/call, one process: Shoal {a50_1['shoal_pushes_per_s']:.2f} pushes/s, "
          f"bare {a50_1['bare_pushes_per_s']:.2f}/s, ratio {a50_1['ratio']:.2f}", flush=True)
    workers = workers or Workers(shoal, figures["processes"])
    n = workers.processes
    a0 = throughput(shoal, sb, workers, 40 if quick else 150, 0.0, rounds=rounds)
    each = ", ".join(f"{r['ratio']:.2f}" for r in a0["rounds"])
    print(f"(a) no latency, one worker machine ({n} processes): Shoal {a0['shoal_pushes_per_s']:.1f} pushes/s, "
          f"bare requests {a0['bare_pushes_per_s']:.1f}/s, ratio {a0['ratio']:.2f} (target >= 0.5; median of "
          f"{rounds} rounds: {each}); Shoal CPU {a0['cpu_ms_per_push']:.1f} ms/push", flush=True)
    a50 = throughput(shoal, sb, workers, 20 if quick else 60, 0.05)
    print(f"(a) 50 ms/call, one worker machine ({n} processes): Shoal {a50['shoal_pushes_per_s']:.2f} pushes/s, "
          f"bare {a50['bare_pushes_per_s']:.2f}/s, ratio {a50['ratio']:.2f} (target >= 3)", flush=True)
    memory = workers.rss_mb()
    print(f"(a) resident memory per worker process: {', '.join(f'{m:.0f}' for m in memory['per_worker'])} MB "
          f"(mean {memory['mean_per_worker']:.0f} MB; proportional share {memory['mean_pss_per_worker']:.0f} MB)"
          + (f"; supervisor (and sweeper) {memory['supervisor']:.0f} MB" if memory["supervisor"] else ""), flush=True)
    figures["a"] = {"no_latency": a0, "latency_50ms": a50, "latency_50ms_one_process": a50_1, "memory_mb": memory}
    return workers


if __name__ == "__main__":
    main()
