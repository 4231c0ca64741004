"""Bulk jobs, on the "interactive" queue: someone is watching the progress bar."""
from __future__ import annotations

from services import bulk_add


def bulk_add_rows(import_id: int) -> str:
    """Add the valid rows of a validated CSV import to its campaign; enqueued by "Add N people"."""
    return bulk_add.run(import_id)
