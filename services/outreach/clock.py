"""The outreach clock: every outreach service takes `now`, and falls back to this. An app can
inject its own (config OUTREACH_CLOCK: a callable returning naive UTC), so a test drives a whole
sequence, worker jobs included, through days of schedule without sleeping."""
from __future__ import annotations

from datetime import datetime

from flask import current_app

from models import utcnow


def now() -> datetime:
    clock = current_app.config.get("OUTREACH_CLOCK")
    return clock() if clock else utcnow()
