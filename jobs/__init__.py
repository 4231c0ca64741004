"""Everything that knows RQ: queues, job ids, the task table, and `RQBackground`, the implementation
of the `services.background` seam that `create_app` installs.

Jobs are thin (ids in, reload, call one service) and named in TASKS; services ask for a task by
name through the seam and never import this package. Job ids derive from the rows they work on
(RQ ids allow only letters, digits, `_` and `-`).

Jobs travel through Redis as JSON (RQ's JSONSerializer, SERIALIZER below), never pickle: a job is
a function's import path and its ids, and whoever can write to Redis can then name a job but not
make a worker unpickle arbitrary objects. Every queue, worker and registry reading these jobs
passes SERIALIZER."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Callable, Iterable

from flask import Flask, current_app
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from core import get_redis
from jobs import accounts, bulk, connections, outreach, push, search, settings
from jobs import panel as panel_jobs
from services import background
from services.background import INTERACTIVE, SYNC

__all__ = ["INTERACTIVE", "SERIALIZER", "SYNC", "TASKS", "RQBackground", "enqueue", "get_queue", "intent_id_of",
           "intent_job_id"]

SERIALIZER = JSONSerializer

# The task names services may ask for (services.background.run), and the job each runs.
TASKS: dict[str, Callable[..., Any]] = {
    "check_connection": connections.check_connection,
    "oauth_exchange": connections.exchange_oauth_code,
    "load_crm_options": connections.load_crm_options,
    "load_settings_options": settings.load_settings_options,
    "bulk_add": bulk.bulk_add_rows,
    "outreach_tick": outreach.outreach_tick,
    "send_step": outreach.send_step,
    "check_mailbox": outreach.check_mailbox,
    "crm_search": search.search_crm,
    "signup_mail": accounts.signup_mail,
}
TASKS.update(panel_jobs.TASKS)   # the extension panel's CRM reads (jobs/panel.py)


def get_queue(name: str = SYNC, app: Flask | None = None) -> Queue:
    app = app or current_app
    return Queue(name, connection=get_redis(app), default_timeout=120, serializer=SERIALIZER)


INTENT_JOB_PREFIX = "intent-"


def intent_job_id(intent_id: int) -> str:
    return f"{INTENT_JOB_PREFIX}{intent_id}"


def intent_id_of(job_id: str) -> int | None:
    """The intent a push job works on (None for any other job)."""
    rest = job_id[len(INTENT_JOB_PREFIX):] if job_id.startswith(INTENT_JOB_PREFIX) else ""
    return int(rest) if rest.isdigit() else None


# An intent job's RQ result is kept a minute (the intent row is the record). Keeping it briefly is
# cheaper than RQ deleting the job on success (its delete path costs more round trips than the
# result). Because a finished job's hash keeps that TTL, and a later run of the same intent reuses
# the job id, every enqueue also sets a queued TTL, which resets the key's expiry: otherwise a job
# waiting in a long backlog could lose its hash to the old TTL before a worker reaches it.
INTENT_RESULT_TTL = 60
INTENT_QUEUED_TTL = 30 * 86400
PUSH_MANY_BATCH = 500


def enqueue_intent(intent_id: int, delay: float | None = None):
    """Enqueue the push job of one intent (job id `intent-<id>`), after `delay` seconds if given."""
    return enqueue(push.run_intent, intent_id, job_id=intent_job_id(intent_id), delay=delay,
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


class RQBackground:
    """`services.background` on RQ (installed by create_app)."""

    def push(self, intent_id: int, delay: float | None = None) -> None:
        enqueue_intent(intent_id, delay)

    def push_many(self, intent_ids: Iterable[int]) -> None:
        """Enqueue many intents' push jobs in pipelined batches (a bulk add's thousands at once)."""
        ids = list(intent_ids)
        q = get_queue(SYNC)
        for start in range(0, len(ids), PUSH_MANY_BATCH):
            q.enqueue_many([Queue.prepare_data(push.run_intent, args=(i,), job_id=intent_job_id(i),
                                               result_ttl=INTENT_RESULT_TTL, ttl=INTENT_QUEUED_TTL,
                                               failure_ttl=7 * 86400)
                            for i in ids[start:start + PUSH_MANY_BATCH]])

    def run(self, task: str, *args: Any, queue: str = INTERACTIVE, job_id: str | None = None,
            delay: float | None = None) -> None:
        try:
            func = TASKS[task]
        except KeyError:
            raise ValueError(f"unknown background task {task!r}") from None
        enqueue(func, *args, queue=queue, job_id=job_id, delay=delay)

    def waiting_pushes(self, intent_ids: Iterable[int]) -> set[int]:
        """The intents whose job is still queued or scheduled (one pipelined round trip). A job
        `started` long ago belongs to a worker that died, so it doesn't count."""
        ids = list(intent_ids)
        with get_redis().pipeline(transaction=False) as pipe:
            for intent_id in ids:
                pipe.hget(Job.key_for(intent_job_id(intent_id)), "status")
            statuses = pipe.execute()
        return {i for i, status in zip(ids, statuses) if status in (b"queued", b"scheduled", b"deferred")}

    def queue_depths(self) -> dict[str, int]:
        return {name: get_queue(name).count for name in (SYNC, INTERACTIVE)}


def install(app: Flask) -> None:
    background.install(app, RQBackground())
