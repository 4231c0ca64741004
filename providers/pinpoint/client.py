"""Thin HTTP client for the Pinpoint API (JSON:API over `https://<subdomain>.pinpointhq.com/api/v1`).

Wire format from API-FACTS §5 (PP-MAP, notes derived from developers.pinpointhq.com/llms.txt, cross-
checked against several client snippets): `X-API-KEY` header; `application/vnd.api+json` both ways;
documents `{"data": {"type", "id", "attributes", "relationships"}, "included": [...]}`; paging by
`page[number]` / `page[size]`; errors `{"errors": [{status, title, detail, source: {pointer}}]}`.
"""
from __future__ import annotations

from typing import Any, Iterator

import requests

from providers.errors import AuthError
from providers.http import HttpClient

JSONAPI = "application/vnd.api+json"


class PinpointClient(HttpClient):
    def __init__(self, base_url: str, api_key: str | None, session: requests.Session | None = None,
                 max_page_size: int = 100):
        super().__init__(base_url, session)
        self.api_key = api_key
        self.max_page_size = max_page_size

    def auth_headers(self) -> dict[str, str]:
        if not self.api_key:
            raise AuthError("Pinpoint: no API key configured")
        return {"X-API-KEY": self.api_key, "Accept": JSONAPI}

    def error_message(self, resp: requests.Response) -> tuple[str, dict[str, str]]:
        """JSON:API errors: report `detail`s and key field errors by attribute, not by pointer."""
        try:
            body = resp.json()
        except ValueError:
            return (resp.text or resp.reason or "")[:300], {}
        errors = body.get("errors") if isinstance(body, dict) else None
        if not isinstance(errors, list):
            return super().error_message(resp)
        fields: dict[str, str] = {}
        messages = []
        for err in errors:
            if not isinstance(err, dict):
                continue
            text = str(err.get("detail") or err.get("title") or "error")
            messages.append(text)
            pointer = str((err.get("source") or {}).get("pointer") or "")
            if pointer:
                fields[pointer.rsplit("/", 1)[-1]] = text
        return "; ".join(messages) or resp.reason or "", fields

    def document(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                 data: dict[str, Any] | None = None) -> dict[str, Any]:
        """One JSON:API request; returns the whole document (data + included + meta + links)."""
        kwargs: dict[str, Any] = {"params": params}
        if data is not None:
            kwargs["json"] = {"data": data}
            kwargs["headers"] = {"Content-Type": JSONAPI}
        return self.json(method, path, **kwargs) or {}

    def page(self, path: str, params: dict[str, Any] | None, number: int, size: int) -> dict[str, Any]:
        query = dict(params or {})
        query.update({"page[number]": number, "page[size]": min(size, self.max_page_size)})
        return self.document("GET", path, params=query)

    @staticmethod
    def has_next(doc: dict[str, Any], size: int) -> bool:
        """JSON:API `links.next` when the server gives it; otherwise a full page means maybe more."""
        links = doc.get("links")
        if isinstance(links, dict) and "next" in links:
            return bool(links["next"])
        return len(doc.get("data") or []) >= size

    def iterate(self, path: str, params: dict[str, Any] | None = None, size: int = 100,
                max_pages: int = 100) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """(resource, included) for every row of a list, page by page."""
        for number in range(1, max_pages + 1):
            doc = self.page(path, params, number, size)
            included = list(doc.get("included") or [])
            for row in doc.get("data") or []:
                yield row, included
            if not self.has_next(doc, size):
                return
