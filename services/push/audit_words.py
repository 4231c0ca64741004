"""The words of an audit row's summary: what a push did, by name, never by CRM id or field key.

The names of jobs, tags, lists and statuses come from the CRM's options as the worker last cached
them (services.crm_options, the same cache the panel and settings pages read). When they are not
cached the summary says what was done without the name rather than show an id: reading the CRM
again just for an audit sentence would spend the connection's rate budget."""
from __future__ import annotations

from typing import Any, Iterable

from providers.types import STANDARD_FIELDS
from services.crm_options import cached
from sync.fields import field_label

_AREAS = {"job": "jobs", "tag": "tags", "list": "lists", "status": "statuses"}


class Words:
    """Summaries for one connection and record type; the cache is read once, on first use."""

    def __init__(self, connection_id: int, record_type: str | None) -> None:
        self.connection_id, self.record_type = connection_id, record_type
        self._names: dict[str, dict[str, str]] | None = None

    def _lookup(self, area: str) -> dict[str, str]:
        if self._names is None:
            found = cached(self.connection_id, self.record_type) if self.record_type else None
            self._names = {a: {str(i): str(label) for i, label in (found or {}).get(a) or []}
                           for a in _AREAS.values()} if isinstance(found, dict) else {}
        return self._names.get(_AREAS[area], {})

    def name(self, area: str, ref: Any) -> str | None:
        return self._lookup(area).get(str(ref))

    def job(self, job_id: Any) -> str:
        name = self.name("job", job_id)
        return f"added to the job {name}" if name else "added to a job"

    def tags(self, tags: Iterable[Any]) -> str:
        tags = list(tags)
        names = [self.name("tag", t) for t in tags]
        if all(names):
            return "tags applied: " + ", ".join(names)     # type: ignore[arg-type]
        return f"{len(tags)} tag{'s' if len(tags) != 1 else ''} applied"

    def list(self, list_id: Any) -> str:
        name = self.name("list", list_id)
        return f"added to the list {name}" if name else "added to a list"

    def status(self, status: Any) -> str:
        name = self.name("status", status)
        return f"status set to {name}" if name else "status changed"


def field_names(fields: Any) -> str:
    """"Email, First name and 2 custom fields": our fields by name, the CRM's own by count (an audit
    row names its record beside the summary, as a link, so the summary carries no CRM id)."""
    ours = [field_label(k) for k in sorted(fields) if k in STANDARD_FIELDS]
    others = len([k for k in fields if k not in STANDARD_FIELDS])
    if others:
        ours.append(f"{others} custom field{'s' if others != 1 else ''}")
    return (", ".join(ours[:-1]) + " and " + ours[-1] if len(ours) > 1 else "".join(ours)) or "nothing"
