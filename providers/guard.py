"""The outbound guard (issue #10): a CRM call reaches only the hosts its adapter's HostPolicy
allows (providers/hosts.py has the rules). `guard(session, policy)` mounts an adapter that checks
every request's URL (redirect hops included) against the policy, ignores environment proxies,
refuses any 3xx before requests could follow it, and opens each socket itself: the name is
resolved once and refused if any address is not public (unless the operator allow-listed the
host:port), and the socket goes to an address just checked, so DNS rebinding can't slip past."""
from __future__ import annotations

import os
import socket
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import create_connection

from providers.errors import HostNotAllowed
from providers.hosts import Allowlist, HostPolicy, address_refusal, normal_host

class _CheckedSocket:
    """Mixed into urllib3's connections: open the socket ourselves. The name is resolved once; if
    any address is not public (and host:port isn't allow-listed) the host is refused, else we
    connect to the addresses we checked, so a second lookup (DNS rebinding) can't change them.
    TLS still verifies the certificate against the host name (urllib3 wraps this socket)."""
    allowlist: ClassVar[Allowlist]
    scheme: ClassVar[str]

    def _new_conn(self) -> socket.socket:
        host, port = self._dns_host, self.port   # type: ignore[attr-defined]
        if self.allowlist.allows(host, port, self.scheme):
            return super()._new_conn()   # type: ignore[misc]
        try:
            infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NameResolutionError(host, self, exc) from exc   # type: ignore[arg-type]
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            why = address_refusal(address)
            if why:
                raise HostNotAllowed(f"{normal_host(host)} resolves to {why}")
        error: OSError | None = None
        for address in addresses:
            try:
                return create_connection((address, port), self.timeout,   # type: ignore[attr-defined]
                                         source_address=self.source_address,   # type: ignore[attr-defined]
                                         socket_options=self.socket_options)   # type: ignore[attr-defined]
            except socket.timeout as exc:
                raise ConnectTimeoutError(self, f"Connection to {host} timed out") from exc
            except OSError as exc:
                error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")  # type: ignore[arg-type]


class GuardedTransport(HTTPAdapter):
    """A pooled transport whose sockets are opened by `_CheckedSocket` for this allow-list.
    Environment proxies are ignored: a proxy resolves names itself, where no check can see."""

    def __init__(self, allowlist: Allowlist, **kwargs: Any):
        self.allowlist = allowlist
        attrs = {"allowlist": allowlist}
        http_conn = type("CheckedHTTPConnection", (_CheckedSocket, HTTPConnection), {**attrs, "scheme": "http"})
        https_conn = type("CheckedHTTPSConnection", (_CheckedSocket, HTTPSConnection), {**attrs, "scheme": "https"})
        self._pools = {"http": type("CheckedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
                       "https": type("CheckedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})}
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(self._pools)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["proxies"] = {}
        return super().send(request, *args, **kwargs)


class _PolicyAdapter(BaseAdapter):
    """Checks each request's URL against one connection's HostPolicy, then hands it to the
    (shared, pooled) transport. Redirect hops come through here too, so none can leave the hosts."""

    def __init__(self, policy: HostPolicy, transport: HTTPAdapter):
        super().__init__()
        self.policy, self.transport = policy, transport

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.policy.check_url(request.url or "")
        return self.transport.send(request, *args, **kwargs)

    def close(self) -> None:
        """The transport outlives this session (other jobs share its pool)."""


_TRANSPORTS: dict[tuple[int, Allowlist], GuardedTransport] = {}


def shared_transport(allowlist: Allowlist) -> GuardedTransport:
    """One connection pool per process and allow-list, shared by every job's session, so a
    kept-alive connection (against a real CRM: its TLS session too) outlives the job that opened
    it. Keyed by process id: a forked work horse never reuses sockets opened by its parent."""
    key = (os.getpid(), allowlist)
    transport = _TRANSPORTS.get(key)
    if transport is None:
        transport = _TRANSPORTS[key] = GuardedTransport(allowlist, pool_connections=16, pool_maxsize=16)
    return transport


def guard(session: requests.Session, policy: HostPolicy) -> requests.Session:
    """Make `session` call only where `policy` allows (URL, then address at connect time), with
    no redirect followed and no credentials from ~/.netrc or proxies from the environment."""
    adapter = _PolicyAdapter(policy, shared_transport(policy.allowlist))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    # A response hook runs before requests looks at a redirect, so none is ever followed, whoever
    # calls (Authlib's token requests too); raising keeps a 3xx from reading as a success.
    if _refuse_redirect not in session.hooks["response"]:
        session.hooks["response"].append(_refuse_redirect)
    session.trust_env = False
    return session


def _refuse_redirect(resp: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    if resp.is_redirect or 300 <= resp.status_code < 400:
        resp.close()   # give the socket back to the pool: nobody will read this body
        raise HostNotAllowed(f"the CRM answered {resp.request.method} {_path(resp.request.url)} with a redirect "
                             f"(HTTP {resp.status_code}); Shoal does not follow redirects", status=resp.status_code)
    return resp


def _path(url: str | None) -> str:
    return urlsplit(url or "").path or "/"
