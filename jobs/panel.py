"""Panel jobs, on the "interactive" queue: a recruiter is looking at the panel while they run."""
from __future__ import annotations

from services import panel_lookup


def panel_match(connection_id: int, key: str) -> None:
    """Look the person up in the CRM (every record type, with off-limits) and cache the answer."""
    panel_lookup.run("match", connection_id, key)


def panel_company(connection_id: int, key: str) -> None:
    """Search the CRM's companies for names like the person's company and cache them."""
    panel_lookup.run("company", connection_id, key)


def panel_fields(connection_id: int, key: str) -> None:
    """Read a record type's fields (types, options) and cache them."""
    panel_lookup.run("fields", connection_id, key)


TASKS = {"panel_match": panel_match, "panel_company": panel_company, "panel_fields": panel_fields}
