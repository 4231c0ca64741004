"""The one HTTP layer adapters share: a `requests.Session` per connection with timeouts and a user
agent, and the mapping of HTTP outcomes onto `providers.errors`. No retries happen here: a retry is
a decision for the sync engine, which knows the rate budget and the intent's attempts.

Every adapter's session is guarded (providers/guard.py: the CRM's own hosts, addresses checked at
connect time, no redirects); `HttpClient` also asks for no redirect and treats a 3xx as refused.
Error text from here is ours: a remote body never becomes a message except a JSON error's own
message field, one line, trimmed (`default_error_message`, `raise_for_status`)."""
from __future__ import annotations

import email.utils
import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import requests

from providers.errors import AuthError, HostNotAllowed, NotFound, RateLimited, Rejected, Unavailable

log = logging.getLogger("shoal.providers.http")

USER_AGENT = "Shoal/0.1 (+https://shoal.example/crm-integrations)"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0


MESSAGE_CHARS = 200   # a CRM's own error message, at most (a JSON `message` field, one line)


def make_session(extra_headers: dict[str, str] | None = None) -> requests.Session:
    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    s.headers["Accept"] = "application/json"
    if extra_headers:
        s.headers.update(extra_headers)
    return s


def parse_retry_after(value: str | None, default: float = 60.0) -> float:
    """Retry-After as seconds (delta-seconds or an HTTP date)."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else default


ErrorMessage = Callable[[requests.Response], tuple[str, dict[str, str]]]


def one_line(text: Any, limit: int = MESSAGE_CHARS) -> str:
    """A CRM's message as one printable line of at most `limit` characters."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def default_error_message(resp: requests.Response) -> tuple[str, dict[str, str]]:
    """Best-effort (message, field errors) from a JSON error body. A body that isn't JSON (an HTML
    error page, a proxy's text) is never repeated: the message is then empty (callers add ours)."""
    try:
        body = resp.json()
    except ValueError:
        return "", {}
    if isinstance(body, dict):
        msg = body.get("message") or body.get("error") or body.get("title") or body.get("detail") or ""
        errors = body.get("errors")
        fields: dict[str, str] = {}
        if isinstance(errors, dict):
            fields = {str(k): str(v) for k, v in errors.items()}
        elif isinstance(errors, list):
            for e in errors:
                if isinstance(e, dict):
                    name = e.get("field") or (e.get("source") or {}).get("pointer") or e.get("code") or "error"
                    fields[str(name)] = str(e.get("message") or e.get("detail") or e.get("title") or e)
        return one_line(msg), {str(k)[:100]: one_line(v) for k, v in fields.items()}
    return "", {}


def _json_object(resp: requests.Response) -> bool:
    """Whether the body is a JSON object: the only error body whose message we repeat."""
    try:
        return isinstance(resp.json(), dict)
    except ValueError:
        return False


class HttpClient:
    """Thin wrapper: absolute URLs from the base URL, JSON in/out, statuses → typed errors.

    Subclasses add auth by overriding `auth_headers()` (called per request, so a token refreshed
    mid-session is picked up) and, if the CRM's error body differs, `error_message`."""

    def __init__(self, base_url: str, session: requests.Session | None = None,
                 timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)):
        self.base_url = base_url.rstrip("/")
        self.session = session or make_session()
        self.timeout = timeout
        self.calls = 0   # HTTP calls made, for bench/ and the audit summary

    def auth_headers(self) -> dict[str, str]:
        return {}

    def error_message(self, resp: requests.Response) -> tuple[str, dict[str, str]]:
        return default_error_message(resp)

    def url(self, path: str) -> str:
        if path.startswith("http://") or path.startswith("https://"):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if auth:
            headers.update(self.auth_headers())
        kwargs.setdefault("timeout", self.timeout)
        kwargs["allow_redirects"] = False   # a CRM call never follows one (issue #10)
        self.calls += 1
        try:
            resp = self.session.request(method, self.url(path), headers=headers, **kwargs)
        except requests.exceptions.InvalidHeader:
            # requests quotes the header's value in its message, so a credential with a stray line
            # break or leading space would reach the log with the traceback: say it without the value.
            raise AuthError(f"{method} {path}: a credential holds a line break or leading space, which a "
                            "request header can't carry") from None
        except requests.Timeout as exc:
            raise Unavailable(f"{method} {path}: timed out") from exc
        except requests.ConnectionError as exc:
            log.info("crm connection failed %s %s: %r", method, path, exc)
            raise Unavailable(f"{method} {path}: could not connect") from exc
        self.raise_for_status(resp, method, path)
        return resp

    def raise_for_status(self, resp: requests.Response, method: str, path: str) -> None:
        code = resp.status_code
        if 300 <= code < 400:
            raise HostNotAllowed(f"the CRM answered {method} {path} with a redirect (HTTP {code}); "
                                 "Shoal does not follow redirects", status=code)
        if code < 400:
            return
        msg, fields = self.error_message(resp) if _json_object(resp) else ("", {})
        msg, fields = one_line(msg), {str(k)[:100]: one_line(v) for k, v in fields.items()}
        where = f"{method} {path} → {code}"
        log.info("crm error %s: %s", where, msg)
        if code in (401, 403):
            raise AuthError(f"{where}: {msg}" if msg else where, status=code)
        if code == 429:
            raise RateLimited(where, retry_after=parse_retry_after(resp.headers.get("Retry-After")))
        if code == 404:
            raise NotFound(where, status=code)
        if code >= 500 or code == 408:
            raise Unavailable(where, status=code)
        raise Rejected(msg or where, field_errors=fields, status=code)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.request(method, path, **kwargs)
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            raise Unavailable(f"{method} {path}: response is not JSON") from exc


class TokenAuthClient(HttpClient):
    """A client whose bearer token comes from the CRM's own token endpoint (Tracker's JWT exchange,
    itris's login), kept until shortly before `expires_at` and renewed once on a 401.

    Subclasses implement `renew_token()`: call the endpoint with `auth=False`, then `set_token()`.
    The margin before expiry is a tenth of the token's lifetime, at most `max_margin`, so short
    (sandbox) tokens are not renewed on every call; with no `obtained_at` the lifetime is unknown
    and `max_margin` applies."""

    max_margin: timedelta = timedelta(hours=1)

    def __init__(self, base_url: str, session: requests.Session | None = None, *,
                 token: str | None = None, expires_at: datetime | None = None,
                 obtained_at: datetime | None = None):
        super().__init__(base_url, session)
        self.token, self.expires_at, self.obtained_at = token, expires_at, obtained_at

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def renew_token(self) -> None:
        raise NotImplementedError

    def set_token(self, token: str, expires_at: datetime, obtained_at: datetime) -> None:
        self.token, self.expires_at, self.obtained_at = token, expires_at, obtained_at

    def token_due(self) -> bool:
        if not self.token or self.expires_at is None:
            return True
        lifetime = self.expires_at - (self.obtained_at or self.expires_at - self.max_margin * 10)
        return datetime.now(timezone.utc) >= self.expires_at - min(self.max_margin, lifetime / 10)

    def request(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> requests.Response:
        if not auth:
            return super().request(method, path, auth=False, **kwargs)
        fresh = self.token_due()
        if fresh:
            self.renew_token()
        try:
            return super().request(method, path, **kwargs)
        except HostNotAllowed:
            raise   # not a token problem: a new token would be refused just the same
        except AuthError:
            if fresh:
                raise
            # Auth mechanics, not a retry policy: the stored token expired early or was revoked
            # server-side (e.g. Tracker's JWT dies when the customer token is regenerated).
            self.renew_token()
            return super().request(method, path, **kwargs)
