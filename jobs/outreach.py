"""Outreach jobs: the scheduler's tick (every OUTREACH_TICK_SECONDS, jobs/schedule.py), one send
per email step run (job id `step-run-<id>`), and a mailbox's Test (interactive: someone watches)."""
from __future__ import annotations

from services.outreach import mailboxes, scheduler, sending


def outreach_tick() -> dict[str, int]:
    """Turn due sequence steps into sends and tasks; enqueued periodically by the worker."""
    return scheduler.tick()


def send_step(run_id: int) -> str:
    """Send one email step run (at most once); enqueued by the tick and by its own retries."""
    return sending.send_run(int(run_id))


def check_mailbox(mailbox_id: int) -> str:
    """Connect and log in to a mailbox's SMTP server; enqueued by the Account page's Test button."""
    return mailboxes.run_test(int(mailbox_id))
