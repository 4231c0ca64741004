"""Links into a CRM's own web app: the page of one record, for the ids Shoal shows.

A link is only ever rendered, never fetched, so it needs no host policy; it must still never be
anything but an http(s) address (no `javascript:`, no user info), and when no address can be built
the caller shows the id as plain text. Each adapter says where its web app lives
(`Provider.web_root`, derived from the connection) and which page shows a record
(`Provider.record_pages`, from its `assumed.py`: no vendor documents these). The optional
connection field built by `web_address_field` ("Web address of your <CRM>") overrides the derived
root: a CRM whose web app can't be derived from the API credentials, a vanity domain, the demo.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import quote, urlsplit

from marshmallow import ValidationError, fields as mf

from providers.hosts import LABEL

WEB_URL = "web_url"          # the credentials key of the optional web address
MAX_URL = 300
_HOST_RE = re.compile(rf"\A(?:{LABEL}\.)*{LABEL}\Z", re.IGNORECASE)


def _host_ok(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_HOST_RE.match(host))


def web_root(value: Any) -> str | None:
    """`scheme://host[:port]` of an http(s) web address with a clean host (no user info, no path,
    query or fragment), lowercased; None for anything else."""
    text = str(value or "").strip().rstrip("/")
    if not text or len(text) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if (parts.scheme.lower() not in ("http", "https") or not host or not _host_ok(host)
            or "@" in parts.netloc or parts.path or parts.query or parts.fragment or "\\" in text):
        return None
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme.lower()}://{shown.lower()}" + (f":{port}" if port else "")


def origin(url: str | None) -> str | None:
    """The web root of an API URL's host (where a CRM serves its app beside its API)."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return None
    return web_root(f"{parts.scheme}://{parts.netloc}") if parts.netloc else None


def record_link(root: str | None, page: str | None, remote_id: Any) -> str | None:
    """`root` + the record's page (`{id}` filled in, escaped as one path or query segment), or None."""
    root = web_root(root)
    rid = str(remote_id or "").strip()
    if root is None or not page or not rid:
        return None
    return root + page.format(id=quote(rid, safe=""))


def _validate(value: str) -> None:
    if web_root(value) is None:
        raise ValidationError("Enter the address only, e.g. https://acme.example.com (https, no path).")


def web_address_field(crm: str, example: str, derived: str = "") -> mf.String:
    """The optional connection field "Web address of your <CRM>". `derived`: what Shoal uses when
    it is left blank (said in the hint). The schema accepts http(s); the connect form also wants
    https unless the host is on the operator's allow-list (services/connections.py)."""
    hint = f"Where your team opens {crm} in the browser, e.g. {example}. Used only for links to records"
    hint += f"; leave blank for {derived}." if derived else "; without it ids are shown as plain text."
    return mf.String(validate=_validate, metadata={"label": f"Web address of your {crm} (optional)",
                                                   "help": hint, "web_address": True})
