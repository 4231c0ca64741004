"""CRM search jobs, on the "interactive" queue: someone is waiting for the results."""
from __future__ import annotations

from services import crm_search


def search_crm(connection_id: int, search_id: str) -> str:
    """Run one stored CRM search and cache its page; enqueued by the search page."""
    return crm_search.run(connection_id, search_id)
