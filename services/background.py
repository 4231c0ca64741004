"""The one seam between services and the job queue.

Services never import `jobs` (that would run the dependency arrow backwards: jobs call services).
When a service needs work done in a worker it asks this module, and `create_app` installs the
implementation (`jobs.RQBackground`) on the app. Tasks are named, not imported: `jobs.TASKS` maps
each name to its thin job function, so a service only knows "check this connection", never how RQ
runs it. Arguments are ids (they travel through Redis as JSON).

    background.push(intent_id, delay=None)        # one sync intent (job id derived from the intent)
    background.push_many([ids])                    # thousands of intents at once (bulk add)
    background.run("check_connection", conn.id)   # any other named task
    background.waiting_pushes([ids])              # intents whose job is still queued/scheduled
    background.queue_depths()                     # {"sync": n, "interactive": n}
"""
from __future__ import annotations

from typing import Any, Iterable, Protocol

from flask import current_app

INTERACTIVE = "interactive"   # someone is watching: connection checks, CRM options, panel lookups
SYNC = "sync"                 # one job per sync intent


class Background(Protocol):
    def push(self, intent_id: int, delay: float | None = None) -> None: ...

    def push_many(self, intent_ids: Iterable[int]) -> None: ...

    def run(self, task: str, *args: Any, queue: str = INTERACTIVE, job_id: str | None = None,
            delay: float | None = None) -> None: ...

    def waiting_pushes(self, intent_ids: Iterable[int]) -> set[int]: ...

    def queue_depths(self) -> dict[str, int]: ...


def install(app: Any, implementation: Background) -> None:
    app.extensions["shoal_background"] = implementation


def _impl() -> Background:
    try:
        return current_app.extensions["shoal_background"]
    except KeyError:
        raise RuntimeError("no background implementation installed (create_app installs jobs.RQBackground)") from None


def push(intent_id: int, delay: float | None = None) -> None:
    _impl().push(intent_id, delay)


def push_many(intent_ids: Iterable[int]) -> None:
    _impl().push_many(intent_ids)


def run(task: str, *args: Any, queue: str = INTERACTIVE, job_id: str | None = None,
        delay: float | None = None) -> None:
    _impl().run(task, *args, queue=queue, job_id=job_id, delay=delay)


def waiting_pushes(intent_ids: Iterable[int]) -> set[int]:
    return _impl().waiting_pushes(intent_ids)


def queue_depths() -> dict[str, int]:
    return _impl().queue_depths()
