"""`flask worker`: an RQ worker (with RQ's scheduler, for delayed retries) that runs up to
WORKER_THREADS jobs at once, each in its own app context (jobs.threaded), so jobs reach the
database and Redis the app was configured with. `flask sweep` re-enqueues lost intents; the worker
also sweeps every minute, and enqueues the periodic jobs of jobs/schedule.py (the outreach tick)."""
from __future__ import annotations

import logging
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from core import get_redis
from jobs import SERIALIZER, get_queue
from jobs.schedule import run_forever as run_periodic
from jobs.threaded import ThreadedWorker
from rq import get_current_job
from services.push.dispatch import sweep


class JobLogFilter(logging.Filter):
    """Adds job_id / job_func to every log record emitted inside a job."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = get_current_job()
        record.job_id = job.id if job else "-"
        record.job_func = job.func_name if job else "-"
        return True


def _sweep_forever(app, interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        with app.app_context():
            try:
                sweep()
            except Exception:   # a sweep failing must not kill the worker; it runs again next minute
                logging.getLogger("shoal.sweeper").exception("sweep failed")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--sweep-every", default=60.0, show_default=True, help="Seconds between outbox sweeps (0: off).")
@click.option("--threads", type=click.IntRange(1, 64), default=None,
              help="Jobs run at once (default: WORKER_THREADS).")
@with_appcontext
def worker_command(burst: bool, sweep_every: float, threads: int | None) -> None:
    """Run one RQ worker on the interactive and sync queues."""
    app = current_app._get_current_object()
    handler = logging.StreamHandler()
    handler.addFilter(JobLogFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(job_func)s %(job_id)s] %(name)s: %(message)s"))
    logging.getLogger("shoal").addHandler(handler)
    logging.getLogger("shoal").setLevel(logging.INFO)
    stop = threading.Event()
    if sweep_every and not burst:
        threading.Thread(target=_sweep_forever, args=(app, sweep_every, stop), daemon=True).start()
    if not burst:   # the periodic jobs (jobs/schedule.py): the outreach scheduler's tick
        threading.Thread(target=run_periodic, args=(app, stop), daemon=True).start()
    queues = [get_queue(name) for name in app.config["RQ_QUEUES"]]
    try:
        # RQ logs two INFO lines per job; with one job per push that is hot-path I/O. Our own
        # "shoal" logger above stays at INFO for what matters (retries, parks, failures).
        ThreadedWorker(queues, connection=get_redis(), app=app, serializer=SERIALIZER,
                       threads=threads or app.config["WORKER_THREADS"]).work(
            burst=burst, with_scheduler=True, logging_level="WARNING")
    finally:
        stop.set()


@click.command("sweep")
@click.option("--older-than", type=float, default=None, help="Seconds (default: SWEEP_AFTER_SECONDS).")
@with_appcontext
def sweep_command(older_than: float | None) -> None:
    """Re-enqueue sync intents stuck past the timeout."""
    click.echo(f"re-enqueued {sweep(older_than)} intent(s)")
