"""The error taxonomy every adapter maps HTTP outcomes onto. The sync engine decides what to do by type:

- AuthError: no retry; the connection is marked "needs attention" at once.
- HostNotAllowed (an AuthError): the call would leave the CRM's own hosts (providers/hosts.py):
  a base URL, a redirect or a resolved address Shoal refuses; handled like bad credentials.
- RateLimited(retry_after): re-enqueue after `retry_after` seconds; a worker never sleeps on it.
- Unavailable: 5xx or a timeout/connection failure; retried with backoff, then parked.
- Rejected(message, field_errors): the CRM refused the data; parked and shown to the user.
- NotFound: the record is gone (e.g. deleted in the CRM); the link is dropped and the person re-matched.
- NotSupported: the adapter doesn't declare this capability.
"""
from __future__ import annotations


class ProviderError(Exception):
    def __init__(self, message: str = "", *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


class AuthError(ProviderError):
    pass


class HostNotAllowed(AuthError):
    """Refused before anything was sent; `message` is our own text (never the remote's)."""


class RateLimited(ProviderError):
    def __init__(self, message: str = "rate limited", *, retry_after: float = 60.0, status: int | None = 429):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class Unavailable(ProviderError):
    pass


class Rejected(ProviderError):
    def __init__(self, message: str = "rejected", *, field_errors: dict[str, str] | None = None,
                 status: int | None = None):
        super().__init__(message, status=status)
        self.field_errors = field_errors or {}


class NotFound(ProviderError):
    pass


class NotSupported(ProviderError):
    pass
