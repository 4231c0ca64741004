"""Thin HTTP client for the CATS v3 API (API-FACTS §3).

Auth is a static key sent as `Authorization: Token <key>` (§3.1). Lists are HAL documents: rows
under `_embedded.<collection>`, a `_links.next` link while more pages exist, paged with `page`
(from 1) and `per_page` (max 100) (§3.4). Creates answer 201 with an empty body and the new id only
in the `Location` header (§3.3)."""
from __future__ import annotations

from typing import Any, Iterator

import requests

from providers.errors import Unavailable
from providers.http import HttpClient, default_error_message

MAX_PER_PAGE = 100
# A runaway guard, not a business limit: 200 pages of 100 rows is far beyond any list we read.
MAX_PAGES = 200


class CatsClient(HttpClient):
    def __init__(self, base_url: str, api_key: str, session: requests.Session | None = None):
        super().__init__(base_url, session)
        self.api_key = api_key

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.api_key}"}

    def error_message(self, resp: requests.Response) -> tuple[str, dict[str, str]]:
        """CATS has no documented error envelope (§3.4 [not found]); field errors may come as
        `{"errors": {"field": ["msg", ...]}}`, so lists are joined rather than repr'd."""
        msg, fields = default_error_message(resp)
        try:
            body = resp.json()
        except ValueError:
            return msg, fields
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, dict):
            fields = {str(k): "; ".join(map(str, v)) if isinstance(v, list) else str(v)
                      for k, v in errors.items()}
        return msg, fields

    # -- verbs -----------------------------------------------------------------------------
    def get(self, path: str, **params: Any) -> Any:
        return self.json("GET", path, params=params or None)

    def create(self, path: str, body: dict[str, Any], **params: Any) -> str:
        """POST a new resource; return its id parsed from the `Location` header."""
        resp = self.request("POST", path, json=body, params=params or None)
        return location_id(resp)

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self.json("PUT", path, json=body)

    def post(self, path: str, body: Any, **params: Any) -> Any:
        return self.json("POST", path, json=body, params=params or None)

    # -- HAL paging ------------------------------------------------------------------------
    def page(self, method: str, path: str, page: int, per_page: int = MAX_PER_PAGE,
             body: Any = None, **params: Any) -> tuple[list[dict[str, Any]], bool, int | None]:
        """One HAL page: (rows, has_next, total)."""
        params.update(page=page, per_page=per_page)
        doc = self.json(method, path, params=params, json=body) or {}
        return embedded_rows(doc), has_next(doc, per_page), doc.get("total")

    def iterate(self, path: str, per_page: int = MAX_PER_PAGE, **params: Any) -> Iterator[dict[str, Any]]:
        """Every row of a GET list, following pages to the end."""
        for n in range(1, MAX_PAGES + 1):
            rows, more, _ = self.page("GET", path, n, per_page, **params)
            yield from rows
            if not more or not rows:
                return


def location_id(resp: requests.Response) -> str:
    """The id at the end of `Location: https://api.catsone.com/v3/candidates/123`."""
    loc = resp.headers.get("Location", "").rstrip("/")
    tail = loc.rsplit("/", 1)[-1] if loc else ""
    if not tail:
        # A 2xx without the id means we cannot link the record; treat it as a server fault.
        raise Unavailable(f"CATS answered {resp.status_code} without a Location header")
    return tail


def embedded_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of a HAL list: the (single) collection under `_embedded`."""
    embedded = doc.get("_embedded") or {}
    for value in embedded.values():
        if isinstance(value, list):
            return [r for r in value if isinstance(r, dict)]
    return []


def has_next(doc: dict[str, Any], per_page: int) -> bool:
    links = doc.get("_links")
    if isinstance(links, dict):
        return bool(links.get("next"))
    # No links at all: a full page is the only hint that another one may follow.
    return len(embedded_rows(doc)) >= per_page
