"""Connection jobs, on the "interactive" queue: an admin is watching the status badge."""
from __future__ import annotations


def check_connection(connection_id: int) -> str:
    """Check a connection's credentials against its CRM; enqueued by Activate / Reconnect / OAuth."""
    from services.connections import run_check

    return run_check(connection_id)


def load_crm_options(connection_id: int, record_type: str) -> None:
    """Read a CRM's jobs/tags/lists/statuses into the cache; enqueued by the campaign form."""
    from services.crm_options import load

    load(connection_id, record_type)
