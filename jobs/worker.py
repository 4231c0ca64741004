"""`flask worker`: WORKER_PROCESSES worker processes (`--processes N`), each one RQ `SimpleWorker`
(with RQ's scheduler, for delayed retries) running one job at a time, each job in an app context of
its own. `flask sweep` re-enqueues lost intents; the worker also sweeps every minute, and enqueues
the periodic jobs of jobs/schedule.py (the outreach tick).

Why processes: a push spends most of its life waiting for its CRM, so one machine needs several
jobs in flight; bench/sync.py measures how many processes that takes. Each process is plain RQ on
its public API: SimpleWorker's own loop, warm shutdown (SIGTERM finishes the job in flight) and job
timeouts (SIGALRM, which works because the job runs on the process's main thread). Running jobs
side by side is safe because every invariant lives in the job, not in the worker: an intent is
claimed by an atomic UPDATE, two intents of one person serialise on a Redis lock, the rate budget
is a Redis script shared by every process, and every CRM operation sits behind the ledger.

With N > 1 this process is the supervisor (jobs/processes.py), the sweeper and the periodic timer;
each child is `flask worker --processes 1 --supervised` (a worker and nothing else).
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext
from rq import SimpleWorker
from rq.job import Job

import logs
from core import get_redis
from jobs import SERIALIZER, get_queue, intent_id_of
from jobs.processes import Supervisor
from jobs.schedule import run_forever as run_periodic
from services.push.dispatch import sweep


class AppContextJob(Job):
    """An RQ job run inside an app context of its own (its own database session and `g`, removed
    when the job ends, as a request's are). `job_class_for(app)` binds the app. A worker's
    `job_class` is RQ's own way to supply a Job subclass; `perform()` is the public method its
    worker calls to run the job, wrapped here, not replaced."""

    app: Flask

    def perform(self) -> Any:
        with self.app.app_context():
            return super().perform()


def job_class_for(app: Flask) -> type[Job]:
    return type("AppContextJob", (AppContextJob,), {"app": app})


class ShoalWorker(SimpleWorker):
    """RQ's SimpleWorker, with every line logged while it runs a job (the job's own, RQ's start,
    failure and traceback lines) carrying the job's id, its function and, for a push, the intent's id."""

    def execute_job(self, job: Job, queue) -> None:   # noqa: ANN001 (an rq Queue)
        try:
            func = job.func_name
        except Exception:   # a job that can't be deserialised: RQ itself reports that, with its id
            func = None
        with logs.bound(job_id=job.id, job_func=func, intent_id=intent_id_of(job.id)):
            super().execute_job(job, queue)


def build_worker(app: Flask, queues: tuple[str, ...] | None = None, **kwargs: Any) -> SimpleWorker:
    """The RQ worker one `flask worker` process runs, on the app's queues (RQ_QUEUES, in order)."""
    return ShoalWorker([get_queue(name, app) for name in queues or app.config["RQ_QUEUES"]],
                       connection=get_redis(app), job_class=job_class_for(app), serializer=SERIALIZER,
                       **kwargs)


def _sweep_forever(app: Flask, interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        with app.app_context():
            try:
                sweep()
            except Exception:   # a sweep failing must not kill the worker; it runs again next minute
                logging.getLogger("shoal.sweeper").exception("sweep failed")


def _child_argv(burst: bool) -> list[str]:
    """The command line of one child: this same `flask` app, one process, no timers of its own."""
    info = click.get_current_context().find_object(ScriptInfo)
    app_option = ["--app", info.app_import_path] if info and info.app_import_path else []
    return [sys.executable, "-m", "flask", *app_option, "worker", "--processes", "1", "--supervised",
            *(["--burst"] if burst else [])]


def _child_env(app: Flask) -> dict[str, str]:
    """The children's environment: this one, and with the embedded Redis (no REDIS_URL) its socket,
    which this process starts or attaches to first, so the children never race to start one."""
    env = dict(os.environ)
    if not app.config.get("REDIS_URL"):
        get_redis(app).ping()
        env["REDIS_URL"] = app.config["REDIS_STORAGE_URI"].replace("redis+unix://", "unix://")
    return env


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--sweep-every", default=60.0, show_default=True, help="Seconds between outbox sweeps (0: off).")
@click.option("--processes", type=click.IntRange(1, 64), default=None,
              help="Worker processes, each running one job at a time (default: WORKER_PROCESSES).")
@click.option("--supervised", is_flag=True, hidden=True, help="A child of the supervisor: no sweeper or timer.")
@with_appcontext
def worker_command(burst: bool, sweep_every: float, processes: int | None, supervised: bool) -> None:
    """Run RQ workers on the interactive and sync queues."""
    app = current_app._get_current_object()   # create_app configured logging (logs.py): stdout, LOG_FORMAT
    stop = threading.Event()
    if sweep_every and not burst and not supervised:
        threading.Thread(target=_sweep_forever, args=(app, sweep_every, stop), daemon=True).start()
    if not burst and not supervised:   # the periodic jobs (jobs/schedule.py): the outreach scheduler's tick
        threading.Thread(target=run_periodic, args=(app, stop), daemon=True).start()
    processes = processes or app.config["WORKER_PROCESSES"]
    try:
        if processes > 1:
            sys.exit(Supervisor(_child_argv(burst), processes, burst=burst, env=_child_env(app)).run())
        # RQ logs two INFO lines per job; with one job per push that is hot-path I/O. Our own
        # "shoal" loggers stay at LOG_LEVEL for what matters (retries, parks, failures).
        build_worker(app).work(burst=burst, with_scheduler=True, logging_level="WARNING")
    finally:
        stop.set()


@click.command("sweep")
@click.option("--older-than", type=float, default=None, help="Seconds (default: SWEEP_AFTER_SECONDS).")
@with_appcontext
def sweep_command(older_than: float | None) -> None:
    """Re-enqueue sync intents stuck past the timeout."""
    click.echo(f"re-enqueued {sweep(older_than)} intent(s)")
