"""Settings-page jobs, on the "interactive" queue: an admin is waiting for the CRM's options."""
from __future__ import annotations

from services import settings


def load_settings_options(connection_id: int) -> None:
    """Read the CRM's fields, statuses, note types and job statuses into the settings cache."""
    settings.load_options(connection_id)
