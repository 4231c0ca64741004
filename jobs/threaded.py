"""`ThreadedWorker`: an RQ worker that runs up to `threads` jobs at once in one process, each in
a thread of its own with an app context of its own.

Why: a sync job spends most of its life waiting for a CRM (real ones answer in 100–500 ms per
call), and RQ's forking `Worker` runs one job at a time and forks a work horse per job, which costs
more than the job's own CPU. With threads, one process keeps several CRM calls in flight while its
Python work (planning, SQL, Redis) fills the gaps.

Running jobs side by side is safe because every invariant lives in the job, not in the worker:
an intent is claimed by an atomic UPDATE, two intents of one person serialise on a Redis lock, the
per-connection rate budget is a Redis script shared by every thread and process, and every CRM
operation sits behind the idempotency ledger. Everything else is RQ's own bookkeeping, which keeps
one Execution per running job (RQ 3 tracks a worker's executions as a set).

Lifecycle: the main thread dequeues only while a thread is free (a busy worker leaves jobs in
Redis for other workers); a warm shutdown (SIGTERM/SIGINT) stops dequeuing and waits for the jobs
in flight; a second signal abandons them (each intent's ledger and the sweeper recover them). In
burst mode the worker stops only when the queues are empty *and* nothing is in flight, since a
running job may enqueue more (a retry, a back-filled note).
"""
from __future__ import annotations

import ctypes
import logging
import queue as queue_mod
import threading
import time
from typing import Any

from flask import Flask
from rq import SimpleWorker
from rq.exceptions import StopRequested
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.rate_limit import release_slot
from rq.timeouts import BaseDeathPenalty, JobTimeoutException
from rq.utils import now
from rq.worker import WorkerStatus

from jobs import INTENT_JOB_PREFIX

log = logging.getLogger("shoal.worker")

HEARTBEAT_EVERY = 5.0   # seconds between standalone worker heartbeats (see ThreadedWorker.heartbeat)


class _Watchdog:
    """One thread that raises JobTimeoutException in a job thread past its deadline (checked
    twice a second). RQ's TimerDeathPenalty does the same with a new Timer thread per job."""

    def __init__(self) -> None:
        self._deadlines: dict[int, tuple[float, type[BaseException]]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def arm(self, thread_id: int, seconds: float, exc: type[BaseException]) -> None:
        with self._lock:
            self._deadlines[thread_id] = (time.monotonic() + seconds, exc)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="shoal-job-watchdog", daemon=True)
                self._thread.start()

    def disarm(self, thread_id: int) -> None:
        with self._lock:
            self._deadlines.pop(thread_id, None)

    def _run(self) -> None:
        while True:
            time.sleep(0.5)
            now = time.monotonic()
            # Raise while holding the lock: once `disarm` has returned, no exception can still be on
            # its way to that thread. Raised after the job ended, it would land in RQ's bookkeeping
            # or in the thread's own loop, failing a finished job or killing a pool thread.
            with self._lock:
                for t, (at, exc) in list(self._deadlines.items()):
                    if at <= now:
                        del self._deadlines[t]
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(t), ctypes.py_object(exc))


_WATCHDOG = _Watchdog()


class WatchdogDeathPenalty(BaseDeathPenalty):
    """RQ's job timeout for a job running on one of our threads (SIGALRM reaches only the main
    thread, so RQ's default can't be used here). The exception lands when the thread next runs
    Python code: a job blocked in a socket read stops when the read returns or times out, which
    every CRM call's read timeout bounds."""

    def __init__(self, timeout: float, exception: type[BaseException] = JobTimeoutException, **kwargs: Any):
        super().__init__(timeout, exception, **kwargs)

    def setup_death_penalty(self) -> None:
        if self._timeout > 0:
            _WATCHDOG.arm(threading.get_ident(), self._timeout, self._exception)

    def cancel_death_penalty(self) -> None:
        _WATCHDOG.disarm(threading.get_ident())


class ThreadedWorker(SimpleWorker):
    death_penalty_class = WatchdogDeathPenalty

    def __init__(self, queues: Any, *args: Any, app: Flask, threads: int = 4, **kwargs: Any) -> None:
        super().__init__(queues, *args, **kwargs)
        self.app = app
        self.threads = max(1, int(threads))
        self._work: queue_mod.SimpleQueue = queue_mod.SimpleQueue()
        self._free = threading.Semaphore(self.threads)
        self._changed = threading.Condition()
        self._in_flight = 0
        self._dequeuing = False
        self._abandon = False
        self._pool: list[threading.Thread] = []
        self._last_beat = float("-inf")
        self._last_suspension_check = float("-inf")

    # -- running jobs ------------------------------------------------------------------------
    def execute_job(self, job: Job, queue: Queue) -> None:
        """Hand the job to a free thread (the main loop only dequeued it because one was free)."""
        self._start_pool()
        with self._changed:
            self._in_flight += 1
        try:
            execution = self.prepare_execution(job)
        except BaseException:
            self._finished()
            raise
        self._work.put((job, queue, execution))

    def _start_pool(self) -> None:
        if self._pool:
            return
        for n in range(self.threads):
            # Daemon threads: a cold shutdown must not wait for a CRM call to return.
            t = threading.Thread(target=self._thread_main, name=f"shoal-job-{n}", daemon=True)
            t.start()
            self._pool.append(t)

    def _thread_main(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            job, queue, execution = item
            try:
                with self.app.app_context():
                    self.perform_job(job, queue, execution)   # records success/failure in RQ itself
            except Exception:   # RQ's bookkeeping failed (Redis gone): the sweeper re-runs the intent
                log.exception("job %s: worker bookkeeping failed", job.id)
            finally:
                self._finished()

    def _finished(self) -> None:
        with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()
        self._free.release()

    # -- the main loop's hooks ---------------------------------------------------------------
    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None):
        # Wait for a free thread *before* taking a job out of Redis.
        while not self._free.acquire(timeout=1.0):
            if self._stop_requested:
                raise StopRequested()
            self.heartbeat()
        got = False
        self._dequeuing = True
        try:
            while True:
                if self._stop_requested:
                    raise StopRequested()
                result = super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
                if result is not None or timeout is not None or not self._wait_for_a_job_to_finish():
                    got = result is not None
                    return result
        finally:
            self._dequeuing = False
            if not got:
                self._free.release()

    def _wait_for_a_job_to_finish(self) -> bool:
        """Burst mode found the queues empty: if jobs are still running, wait for one to end (it may
        have enqueued more) and say so; False when nothing is in flight."""
        with self._changed:
            if self._in_flight == 0:
                return False
            self._changed.wait(timeout=1.0)
            return True

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        # RQ heartbeats the worker key three or four times per job, each standalone heartbeat
        # three round trips to Redis; the key lives for worker_ttl + 60 s (8 min by default).
        # One standalone heartbeat every HEARTBEAT_EVERY seconds keeps it just as alive.
        if pipeline is None and timeout is None:
            at = time.monotonic()
            if at - self._last_beat < HEARTBEAT_EVERY:
                return
            self._last_beat = at
        super().heartbeat(timeout, pipeline)

    def handle_job_success(self, job: Job, queue: Queue, started_job_registry: Any, execution: Any) -> None:
        """RQ's success handling, without its dependents step for sync intent jobs.

        RQ WATCHes and reads each finished job's dependents set (two round trips) to release jobs
        waiting on it. Nothing can wait on an intent job: `jobs.enqueue_intent` is their only
        producer, it passes no dependencies, and the id is reused by every run of the intent, so it
        can't name one run to depend on. Every other job takes RQ's own path."""
        if not job.id.startswith(INTENT_JOB_PREFIX) or job.repeats_left:
            return super().handle_job_success(job, queue, started_job_registry, execution)
        with self.connection.pipeline() as pipeline:
            pipeline.multi()
            self.increment_successful_job_count(pipeline=pipeline)
            self.increment_total_working_time(job.ended_at - job.started_at, pipeline)
            result_ttl = job.get_result_ttl(self.default_result_ttl)
            if result_ttl != 0:
                job._handle_success(result_ttl, pipeline=pipeline, worker_name=self.name,
                                    execution_id=execution.id, execution_started_at=execution.created_at,
                                    execution_ended_at=job.ended_at)
            job.cleanup(result_ttl, pipeline=pipeline, remove_from_queue=False)
            job._status = JobStatus.FINISHED
            self.cleanup_execution(job, pipeline=pipeline, execution=execution)
            pipeline.execute()
        release_slot(job)

    def handle_execution_ended(self, job: Job, queue: Queue, heartbeat_ttl: int) -> None:
        # RQ refreshes the job's heartbeat here (a round trip) so that a success or failure
        # callback may take its time; a job without callbacks goes straight on to be finished.
        if job._success_callback_name or job._failure_callback_name:
            super().handle_execution_ended(job, queue, heartbeat_ttl)
        else:
            job.ended_at = now()

    def set_state(self, state: str, pipeline: Any = None) -> None:
        # The main loop marks the worker idle while it waits for the next job; with jobs still
        # running in threads it is busy (that is what `rq info` and a warm shutdown go by).
        if state == WorkerStatus.IDLE and self._in_flight:
            state = WorkerStatus.BUSY
        if pipeline is None and state == self._state:
            return   # RQ sets the state around every job; unchanged, it is a wasted round trip
        super().set_state(state, pipeline)

    def check_for_suspension(self, burst: bool) -> None:
        # `rq suspend` is checked once a second rather than before every job (one round trip each).
        at = time.monotonic()
        if at - self._last_suspension_check >= 1.0:
            self._last_suspension_check = at
            super().check_for_suspension(burst)

    def _shutdown(self) -> None:
        """Warm shutdown: stop dequeuing; the jobs in flight finish in `teardown`."""
        self._stop_requested = True
        self.set_shutdown_requested_date()
        if self._dequeuing:   # blocked on Redis: nothing to finish on this thread
            raise StopRequested()

    def request_force_stop(self, signum: int, frame: Any) -> None:
        try:
            super().request_force_stop(signum, frame)   # ignores a repeat within a second
        except SystemExit:
            self._abandon = True
            raise

    def teardown(self) -> None:
        try:
            with self._changed:
                while self._in_flight and not self._abandon:
                    self._changed.wait(timeout=1.0)
        finally:
            for _ in self._pool:
                self._work.put(None)
            super().teardown()

    @property
    def in_flight(self) -> int:
        return self._in_flight
