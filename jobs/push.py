"""The RQ job for one sync intent (job id `intent-<id>`, see jobs.intent_job_id).

Thin on purpose: only the intent id travels through Redis (never credentials or person data);
`flask worker` already runs jobs inside the app context, and all the work is in the service.

Intent jobs keep their result for `jobs.INTENT_RESULT_TTL` (a minute; the intent row is the record).
A run that re-enqueued its own intent (retry, lock busy, run again) has just written a new job under
this same id, maybe delayed by minutes; RQ's success handling sets the result TTL on that shared key,
so such a run keeps KEEP_WHEN_REQUEUED instead (longer than any retry delay), or the delayed job
would expire before it runs."""
from __future__ import annotations

from rq import get_current_job

from services.push.runner import run_intent as run
from sync.types import IntentState

KEEP_WHEN_REQUEUED = 3600


def run_intent(intent_id: int) -> str:
    """Process one sync intent; returns its final state (shown in RQ's job result)."""
    state = run(int(intent_id))
    if state in (IntentState.QUEUED, IntentState.PENDING):
        job = get_current_job()
        if job is not None:
            job.result_ttl = KEEP_WHEN_REQUEUED
    return state
