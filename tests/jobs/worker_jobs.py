"""Plain job functions for tests/jobs/test_worker.py. They live in a module of their own so a
worker (in this process, or a `flask worker` process with this folder on its path) can import them
by name."""
from __future__ import annotations

import time

from sqlalchemy import func, select

from core import db
from models import Team


class Boom(RuntimeError):
    """What `explode` raises, so a test can find it in the failed job's traceback."""


def explode(tag: str) -> None:
    """A job that always fails."""
    raise Boom(f"job {tag} failed on purpose")


def echo(value: str) -> str:
    """A job that succeeds and returns its argument (kept as the job's result)."""
    return value


def sleep_for(seconds: float) -> str:
    """Sleep `seconds` (one long sleep: RQ's SIGALRM timeout interrupts it) and say so."""
    time.sleep(seconds)
    return "slept"


def chain(links: int, pause: float = 0.2) -> int:
    """Pause, then, still running, enqueue the next link (job id `chain-<n>`) until `links` runs out:
    work that appears only while a job is in flight, as a retry or a back-fill does."""
    from jobs import enqueue

    time.sleep(pause)
    if links > 1:
        enqueue(chain, links - 1, pause, job_id=f"chain-{links - 1}")
    return links


def break_session(team_id: int) -> None:
    """Fail mid-flush: the session is left needing a rollback (what a bug in a job can leave)."""
    db.session.add_all([Team(id=team_id, name="one"), Team(id=team_id, name="two")])
    db.session.flush()


def count_teams() -> int:
    """A job that needs a working database session."""
    return db.session.scalar(select(func.count()).select_from(Team))
