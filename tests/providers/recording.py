"""A real `requests.Session` that also keeps every prepared request it sends, so quirk tests can
assert on the wire format an adapter produced (headers, query strings, JSON:API bodies)."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests


class RecordingSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append(request)
        return super().send(request, **kwargs)

    def calls(self, method: str | None = None, path_suffix: str = "") -> list[requests.PreparedRequest]:
        return [r for r in self.sent if (method is None or r.method == method)
                and urlsplit(r.url or "").path.endswith(path_suffix)]

    @staticmethod
    def query(req: requests.PreparedRequest) -> dict[str, list[str]]:
        return parse_qs(urlsplit(req.url or "").query)

    @staticmethod
    def body(req: requests.PreparedRequest) -> Any:
        raw = req.body.decode() if isinstance(req.body, bytes) else req.body
        return json.loads(raw) if raw else None
