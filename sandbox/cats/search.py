"""CATS candidate/contact search semantics: the keyword search (`GET /candidates/search?query=`
matches any word, case-insensitive) and the structured filter body of `POST /candidates/search`
(`{field, filter, value}` with `exactly`/`contains`/`is_empty`, combined by `and`/`or`), per API-FACTS §3.2.
"""
from __future__ import annotations

from typing import Any

from sandbox.cats.wire import ApiError


def keyword_text(row: dict[str, Any]) -> str:
    parts = [row.get("first_name"), row.get("last_name"), row.get("title"), row.get("current_employer"),
             *(row.get("emails") or {}).values(), *(row.get("social_media_urls") or [])]
    return " ".join(str(p).lower() for p in parts if p)


def _field_value(row: dict[str, Any], field: str) -> list[str]:
    if field == "emails":
        return [str(v) for v in (row.get("emails") or {}).values() if v]
    if field == "phones":
        return [str(v) for v in (row.get("phones") or {}).values() if v]
    value = row.get(field)
    if isinstance(value, list):
        return [str(v) for v in value]
    return [] if value in (None, "") else [str(value)]


def matches(row: dict[str, Any], flt: Any) -> bool:
    """Evaluate a POST /search filter: {field, filter, value} or {"and"|"or": [...]}."""
    if not isinstance(flt, dict):
        raise ApiError(400, "filter must be an object")
    if "and" in flt or "or" in flt:
        subs = flt.get("and", flt.get("or"))
        if not isinstance(subs, list):
            raise ApiError(400, "and/or takes a list of filters")
        return (all if "and" in flt else any)(matches(row, s) for s in subs)
    values = [v.lower() for v in _field_value(row, str(flt.get("field")))]
    wanted, op = str(flt.get("value") or "").lower(), flt.get("filter")
    if op == "exactly":
        return wanted in values
    if op == "contains":
        return any(w in v for w in wanted.split() for v in values)
    if op == "is_empty":
        return not values
    raise ApiError(400, f"unsupported filter {op!r}")
