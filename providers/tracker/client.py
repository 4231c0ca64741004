"""Thin HTTP client for the Tracker RMS REST API (API-FACTS §1, docs/assumptions.md "Tracker").

Auth: the customer's bearer token (or an OAuth access token) is exchanged at
`POST /api/Auth/ExchangeToken` for a JWT with an `expiration` (§1.1); REST calls send
`Authorization: Bearer <JWT>`. The JWT is re-exchanged shortly before it expires and once on a 401
(a JWT revoked by a regenerated customer token looks exactly like that). Searches are
`POST .../Search` with `pageNumber`/`pageSize` and answer 10 rows a page whatever `pageSize` says
(§1.4), wrapped in `{data, totalRecords}` or as a bare array."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import requests

from providers.errors import AuthError, Unavailable
from providers.http import TokenAuthClient

EXCHANGE_PATH = "/api/Auth/ExchangeToken"
SERVER_PAGE_ROWS = 10          # what the server really returns per page (§1.4)
REQUESTED_PAGE_SIZE = 100      # asked for anyway, in case a tenant's server honours it
MAX_MARGIN = timedelta(hours=1)   # clients re-exchange within an hour of expiry (§1.1)

JwtCallback = Callable[[str, datetime, datetime], None]


def parse_expiration(value: Any) -> datetime:
    """`2026-11-29T06:00:00Z` (or without a zone, read as UTC) → aware datetime."""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise Unavailable(f"Tracker sent an unreadable JWT expiration {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def stored_time(value: Any) -> datetime | None:
    """A persisted JWT timestamp; an unreadable one just means "exchange again"."""
    try:
        return parse_expiration(value) if value else None
    except Unavailable:
        return None


class TrackerClient(TokenAuthClient):
    max_margin = MAX_MARGIN

    def __init__(self, base_url: str, customer_token: str, session: requests.Session | None = None, *,
                 jwt: str | None = None, expires_at: datetime | None = None,
                 obtained_at: datetime | None = None, on_new_jwt: JwtCallback | None = None):
        super().__init__(base_url, session, token=jwt, expires_at=expires_at, obtained_at=obtained_at)
        self.customer_token = customer_token
        self.on_new_jwt = on_new_jwt
        self.exchanges = 0

    def renew_token(self) -> None:
        """Swap the customer token for a fresh JWT and report it for encrypted storage."""
        if not self.customer_token:
            raise AuthError("no Tracker bearer token to exchange")
        body = super().request("POST", EXCHANGE_PATH, auth=False,
                               json={"bearerToken": self.customer_token}).json()
        if not isinstance(body, dict) or not body.get("token"):
            raise AuthError("Tracker's token exchange returned no JWT")
        jwt, obtained_at = str(body["token"]), datetime.now(timezone.utc)
        # No `expiration` (not seen, but cheap to survive): assume an hour; a 401 re-exchanges anyway.
        expiration = body.get("expiration")
        expires_at = parse_expiration(expiration) if expiration else obtained_at + MAX_MARGIN
        self.set_token(jwt, expires_at, obtained_at)
        self.exchanges += 1
        if self.on_new_jwt:
            self.on_new_jwt(jwt, expires_at, obtained_at)

    def error_message(self, resp: requests.Response) -> tuple[str, dict[str, str]]:
        """ASP.NET ProblemDetails: `detail` or `title`, and `errors {field: [messages]}` (assumed)."""
        try:
            body = resp.json()
        except ValueError:
            return (resp.text or resp.reason or "")[:300], {}
        if not isinstance(body, dict):
            return str(body)[:300], {}
        errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
        fields = {str(k): "; ".join(map(str, v)) if isinstance(v, list) else str(v)
                  for k, v in errors.items()}
        message = body.get("detail") or body.get("title") or body.get("message") or resp.reason or ""
        return str(message), fields

    # -- paging ----------------------------------------------------------------------------------
    def search_pages(self, path: str, body: dict[str, Any], max_pages: int) -> Iterator[list[dict[str, Any]]]:
        """Pages of a POST search, until a short page, the reported total or `max_pages`."""
        seen = 0
        for number in range(1, max_pages + 1):
            doc = self.json("POST", path,
                            json={**body, "pageNumber": number, "pageSize": REQUESTED_PAGE_SIZE})
            rows = doc if isinstance(doc, list) else (doc or {}).get("data") or []
            rows = [r for r in rows if isinstance(r, dict)]
            yield rows
            seen += len(rows)
            total = doc.get("totalRecords") if isinstance(doc, dict) else None
            if len(rows) < SERVER_PAGE_ROWS or (isinstance(total, int) and seen >= total):
                return

    def rows(self, method: str, path: str, **kwargs: Any) -> list[dict[str, Any]]:
        """A non-paged list: a bare array or a `{data: [...]}` envelope."""
        doc = self.json(method, path, **kwargs)
        rows = doc if isinstance(doc, list) else (doc or {}).get("data") or []
        return [r for r in rows if isinstance(r, dict)]
