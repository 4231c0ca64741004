"""Plain job functions for tests/jobs/test_threaded_worker.py. They live in a module of their own
so RQ can import them by name when a worker thread runs the job."""
from __future__ import annotations

import time


class Boom(RuntimeError):
    """What `explode` raises, so a test can find it in the failed job's traceback."""


def explode(tag: str) -> None:
    """A job that always fails."""
    raise Boom(f"job {tag} failed on purpose")


def echo(value: str) -> str:
    """A job that succeeds and returns its argument (kept as the job's result)."""
    return value


def sleep_in_slices(seconds: float) -> str:
    """Sleep `seconds` in short slices and say so. The slices matter: the timeout watchdog's
    exception reaches a thread only between Python instructions, not inside one long sleep."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.05)
    return "slept"


def chain(links: int, pause: float = 0.2) -> int:
    """Pause, then, still running, enqueue the next link (job id `chain-<n>`) until `links` runs out:
    work that appears only while a job is in flight, as a retry or a back-fill does."""
    from jobs import enqueue

    sleep_in_slices(pause)
    if links > 1:
        enqueue(chain, links - 1, pause, job_id=f"chain-{links - 1}")
    return links
