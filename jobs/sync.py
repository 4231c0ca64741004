"""The RQ job for one sync intent (job id `intent-<id>`, see jobs.intent_job_id).

Thin on purpose: only the intent id travels through Redis (never credentials or person data);
`flask worker` already runs jobs inside the app context, and all the work is in the service."""
from __future__ import annotations


def run_intent(intent_id: int) -> str:
    """Process one sync intent; returns its final state (shown in RQ's job result)."""
    from services.sync_runner import run_intent as run

    return run(int(intent_id))
