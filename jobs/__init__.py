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


INTENT_JOB_PREFIX = "intent-"


def intent_job_id(intent_id: int) -> str:
    return f"{INTENT_JOB_PREFIX}{intent_id}"


# An intent job's RQ result is kept a minute (the intent row is the record). Keeping it briefly is
# cheaper than RQ deleting the job on success (its delete path costs more round trips than the
# result). Because a finished job's hash keeps that TTL, and a later run of the same intent reuses
# the job id, every enqueue also sets a queued TTL, which resets the key's expiry: otherwise a job
# waiting in a long backlog could lose its hash to the old TTL before a worker reaches it.
INTENT_RESULT_TTL = 60
INTENT_QUEUED_TTL = 30 * 86400


def enqueue_intent(intent_id: int, delay: float | None = None):
    """Enqueue the sync job of one intent (job id `intent-<id>`), after `delay` seconds if given."""
    from jobs.sync import run_intent

    return enqueue(run_intent, intent_id, job_id=intent_job_id(intent_id), delay=delay,
                   result_ttl=INTENT_RESULT_TTL, ttl=INTENT_QUEUED_TTL)


def enqueue(func: Callable[..., Any], *args: Any, queue: str = SYNC, job_id: str | None = None,
            delay: float | None = None, result_ttl: int = 3600, **kwargs: Any):
    """Enqueue `func(*args)`; with `delay` seconds, through RQ's scheduler (never a sleeping worker).

    Sync intents go through `enqueue_intent`, which sets their TTLs."""
    q = get_queue(queue)
    opts: dict[str, Any] = {"job_id": job_id, "result_ttl": result_ttl, "failure_ttl": 7 * 86400}
    if delay and delay > 0:
        return q.enqueue_in(timedelta(seconds=delay), func, *args, **opts, **kwargs)
    return q.enqueue(func, *args, **opts, **kwargs)
