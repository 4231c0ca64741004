"""Queues and enqueue helpers. Jobs are enqueued by function reference with ids derived from the
rows they work on (RQ ids allow only letters, digits, `_` and `-`)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable

from flask import Flask, current_app
from rq import Queue

from extensions import get_redis

INTERACTIVE = "interactive"   # connection checks, panel-triggered previews
SYNC = "sync"                 # one job per sync intent


def get_queue(name: str = SYNC, app: Flask | None = None) -> Queue:
    app = app or current_app
    return Queue(name, connection=get_redis(app), default_timeout=120)


def intent_job_id(intent_id: int) -> str:
    return f"intent-{intent_id}"


def enqueue(func: Callable[..., Any], *args: Any, queue: str = SYNC, job_id: str | None = None,
            delay: float | None = None, result_ttl: int = 3600, **kwargs: Any):
    """Enqueue `func(*args)`; with `delay` seconds, through RQ's scheduler (never a sleeping worker).

    `result_ttl=0` drops the job and its result as soon as it succeeds: for a sync intent the
    intent row is the record, and keeping results costs Redis writes on every job."""
    q = get_queue(queue)
    opts: dict[str, Any] = {"job_id": job_id, "result_ttl": result_ttl, "failure_ttl": 7 * 86400}
    if delay and delay > 0:
        return q.enqueue_in(timedelta(seconds=delay), func, *args, **opts, **kwargs)
    return q.enqueue(func, *args, **opts, **kwargs)
