"""Which hosts a CRM call may reach (issue #10, part 1): the vendor's own hosts, declared by each
adapter (`Provider.api_hosts`), plus what the operator allow-lists (`CRM_HOST_ALLOWLIST`: the
local sandboxes in the demo and the tests). A tenant never types a host: only what the real CRM
needs (a subdomain, a region), from which the adapter builds the vendor's URL.

Two checks, both here as pure functions, both applied by the HTTP layer (providers/http.py):

- by URL, before a request leaves: https, a vendor host on the default port, no user info; or a
  host[:port] on the allow-list (any scheme, any address);
- by address, when a connection is opened: every address the name resolves to must be public
  (not private, loopback, link-local, shared, reserved, multicast or unspecified), unless the
  host[:port] is allow-listed. Checked on the socket's own address, so DNS rebinding can't slip a
  private address in between the check and the connect.

Allow-list entries, comma or space separated: `host:port` (that port), `host:*` (any port),
`host` (the scheme's default port). A host is a DNS name or an IP literal; IPv6 in brackets
(`[::1]:*`). Names are compared lowercased, without a trailing dot.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Iterable
from urllib.parse import urlsplit

from providers.errors import HostNotAllowed

DEFAULT_PORTS = {"http": 80, "https": 443}
# One DNS label: what a `*` in a vendor host pattern stands for (never a dot, never a `#`).
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
SUBDOMAIN_RE = re.compile(rf"\A{LABEL}\Z", re.IGNORECASE)   # \Z: no trailing newline
SUBDOMAIN_MESSAGE = "Enter the subdomain only: letters, digits and hyphens (e.g. acme)."


def normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def valid_subdomain(value: str) -> bool:
    return bool(SUBDOMAIN_RE.match(value or ""))


@dataclass(frozen=True)
class Allowlist:
    """The operator's allow-list, parsed: (host, port or None for the default, or "*")."""
    entries: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, value: str | Iterable[str] | None) -> "Allowlist":
        if not value:
            return cls()
        items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
        out = []
        for item in items:
            item = item.strip()
            if not item:
                continue
            if item.startswith("["):
                host, _, rest = item[1:].partition("]")
                port = rest[1:] if rest.startswith(":") else ""
            elif item.count(":") == 1:
                host, port = item.split(":")
            else:
                host, port = item, ""
            if port and port != "*" and not port.isdigit():
                raise ValueError(f"CRM_HOST_ALLOWLIST: bad entry {item!r} (host, host:port or host:*)")
            out.append((normal_host(host), port))
        return cls(tuple(out))

    def allows(self, host: str, port: int | None, scheme: str = "https") -> bool:
        host = normal_host(host or "")
        port = port or DEFAULT_PORTS.get(scheme)
        for h, p in self.entries:
            if h == host and (p == "*" or (p == "" and port == DEFAULT_PORTS.get(scheme))
                              or (p.isdigit() and int(p) == port)):
                return True
        return False

    def __bool__(self) -> bool:
        return bool(self.entries)


def host_matches(host: str, pattern: str) -> bool:
    """`api.catsone.com` matches itself; `*.pinpointhq.com` matches one label before it."""
    host, pattern = normal_host(host), pattern.lower()
    if "*" not in pattern:
        return host == pattern
    regex = re.escape(pattern).replace(r"\*", LABEL)
    return re.fullmatch(regex, host) is not None


@dataclass(frozen=True)
class HostPolicy:
    """Where one adapter may call: its vendor's host patterns and the operator's allow-list."""
    vendor_hosts: tuple[str, ...] = ()
    allowlist: Allowlist = field(default_factory=Allowlist)

    def check_url(self, url: str) -> None:
        """Raise HostNotAllowed (our own words, safe to show) unless `url` is a vendor URL over
        https on the standard port, or its host[:port] is allow-listed."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise HostNotAllowed("the address is not a valid URL") from None
        host = parts.hostname or ""
        if parts.scheme not in DEFAULT_PORTS or not host:
            raise HostNotAllowed("the address must be a full http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise HostNotAllowed("the address must not carry a user name or password")
        if self.allowlist.allows(host, port, parts.scheme):
            return
        if not any(host_matches(host, p) for p in self.vendor_hosts):
            raise HostNotAllowed(f"{host} is not one of this CRM's hosts")
        if parts.scheme != "https":
            raise HostNotAllowed("the CRM must be called over https")
        if port not in (None, 443):
            raise HostNotAllowed("the CRM must be called on its standard https port")


def address_refusal(address: str) -> str | None:
    """Why a resolved address may not be called (None: a public address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return "a non-public address"
    return None
