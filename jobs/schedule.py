"""The periodic jobs, in one list, and the worker's timer that enqueues them.

Every worker process runs the timer; a Redis key per period (SET NX) lets exactly one of them
enqueue each run, so ten workers still tick once per period."""
from __future__ import annotations

import logging
import threading
import time
from flask import Flask

from core import get_redis
from jobs import TASKS, enqueue

log = logging.getLogger("shoal.schedule")

# (task name in jobs.TASKS, the config key holding its period in seconds)
PERIODIC: tuple[tuple[str, str], ...] = (("outreach_tick", "OUTREACH_TICK_SECONDS"),)


def enqueue_due(app: Flask, now: float | None = None) -> list[str]:
    """Enqueue each periodic task whose period began and wasn't claimed yet. Returns their names."""
    now = time.time() if now is None else now
    started = []
    for task, key in PERIODIC:
        period = max(1, int(app.config.get(key) or 60))
        slot = int(now // period)
        if get_redis(app).set(f"shoal:periodic:{task}:{slot}", "1", nx=True, ex=period * 2):
            enqueue(TASKS[task], job_id=f"{task.replace('_', '-')}-{slot}", result_ttl=period * 2)
            started.append(task)
    return started


def run_forever(app: Flask, stop: threading.Event, every: float = 5.0) -> None:
    """The worker's timer thread: check every few seconds whether a period began."""
    while not stop.wait(every):
        with app.app_context():
            try:
                enqueue_due(app)
            except Exception:   # Redis away: try again next time; the worker itself carries on
                log.exception("periodic jobs not enqueued")
