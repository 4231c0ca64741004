"""Thin HTTP client for the itris 9 REST API (API-FACTS §4; almost all of it per docs/assumptions.md
"itris", since no public spec was found; paths and limits in providers/itris/assumed.py).

Auth: the API user's username/password are swapped at `POST /token` for a bearer token with
`expires_in`; there is no refresh token, so the client logs in again shortly before expiry and once
on a 401. Lists are `{items, page, pageSize, totalItems, totalPages}` paged with `page` and
`pageSize` (max 200). Errors are `{"error": {code, message, details: [{field, message}]}}`."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import requests

from providers.errors import AuthError
from providers.http import TokenAuthClient
from providers.itris.assumed import MAX_PAGE_SIZE, TOKEN_MARGIN, TOKEN_PATH

MAX_PAGES = 100    # runaway guard: 20,000 rows is beyond any list we read

TokenCallback = Callable[[str, datetime], None]


class ItrisClient(TokenAuthClient):
    max_margin = TOKEN_MARGIN

    def __init__(self, base_url: str, username: str, password: str,
                 session: requests.Session | None = None, *,
                 token: str | None = None, expires_at: datetime | None = None,
                 on_new_token: TokenCallback | None = None):
        super().__init__(base_url, session, token=token, expires_at=expires_at)
        self.username, self.password = username, password
        self.on_new_token = on_new_token
        self.logins = 0

    def renew_token(self) -> None:
        """Log in with the API user's password and report the token for encrypted storage."""
        if not (self.username and self.password):
            raise AuthError("itris needs the API user's username and password")
        body = super().request("POST", TOKEN_PATH, auth=False,
                               json={"username": self.username, "password": self.password}).json()
        if not isinstance(body, dict) or not body.get("access_token"):
            raise AuthError("itris login returned no access token")
        now = datetime.now(timezone.utc)
        expires_at = now + timedelta(seconds=float(body.get("expires_in") or 3600))
        self.set_token(str(body["access_token"]), expires_at, now)
        self.logins += 1
        if self.on_new_token:
            self.on_new_token(str(body["access_token"]), expires_at)

    def error_message(self, resp: requests.Response) -> tuple[str, dict[str, str]]:
        try:
            body = resp.json()
        except ValueError:
            return (resp.text or resp.reason or "")[:300], {}
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict):
            return str(body)[:300], {}
        fields = {str(d.get("field") or "error"): str(d.get("message") or "")
                  for d in err.get("details") or [] if isinstance(d, dict)}
        return str(err.get("message") or err.get("code") or resp.reason or ""), fields

    def page(self, path: str, page: int = 1, page_size: int = MAX_PAGE_SIZE,
             **params: Any) -> tuple[list[dict[str, Any]], bool, int | None]:
        """One list page: (rows, has_next, total)."""
        doc = self.json("GET", path, params={**params, "page": page, "pageSize": page_size})
        if isinstance(doc, list):    # tolerate a bare array: then it is the whole list
            return [r for r in doc if isinstance(r, dict)], False, len(doc)
        doc = doc or {}
        rows = [r for r in doc.get("items") or [] if isinstance(r, dict)]
        pages = doc.get("totalPages")
        more = bool(rows) and (page < pages if isinstance(pages, int) else len(rows) >= page_size)
        return rows, more, doc.get("totalItems")

    def iterate(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        for n in range(1, MAX_PAGES + 1):
            rows, more, _ = self.page(path, n, **params)
            yield from rows
            if not more:
                return
