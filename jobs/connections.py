"""Connection jobs, on the "interactive" queue: an admin is watching the status badge."""
from __future__ import annotations

from services import connections, crm_options, oauth_flow


def check_connection(connection_id: int) -> str:
    """Check a connection's credentials against its CRM; enqueued by Activate / Reconnect / OAuth."""
    return connections.run_check(connection_id)


def load_crm_options(connection_id: int, record_type: str) -> None:
    """Read a CRM's jobs/tags/lists/statuses into the cache; enqueued by the campaign form."""
    crm_options.load(connection_id, record_type)


def exchange_oauth_code(handle: str) -> str:
    """Redeem the OAuth code kept under this opaque handle for tokens; enqueued by the callback."""
    return oauth_flow.exchange(handle)
