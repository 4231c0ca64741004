"""Where a team's CRM connection may point (issue #10): the operator's settings, read from the app
config at each use, and the check a connection's API root must pass before it is stored.

A tenant types only what the real CRM needs (a subdomain, a region); the adapter builds the vendor's
URL from it. An "API base URL" is accepted only if the CRM's own HostPolicy allows it: one of the
vendor's hosts over https, or a host[:port] the operator put on CRM_HOST_ALLOWLIST (the sandboxes
of the demo and the tests). The same policy guards every call at the HTTP layer (providers/http.py),
so a stored URL that stops passing (the allow-list shrank) fails its next call, not just its form.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from marshmallow import ValidationError

from providers.base import OAuthApp, Provider
from providers.errors import HostNotAllowed
from providers.hosts import Allowlist, HostPolicy
from providers.weblinks import WEB_URL, web_root

MAX_URL = 500


@lru_cache(maxsize=8)
def _parsed(value: str) -> Allowlist:
    return Allowlist.parse(value)


def allowlist() -> Allowlist:
    """CRM_HOST_ALLOWLIST, parsed (once per value)."""
    return _parsed(str(current_app.config.get("CRM_HOST_ALLOWLIST") or ""))


def oauth_app(provider_cls: type[Provider]) -> OAuthApp | None:
    """The app's OAuth client for this CRM (config), or None where the operator set none."""
    return OAuthApp.from_config(current_app.config, provider_cls.key)


def adapter_options(provider_cls: type[Provider]) -> dict[str, Any]:
    """The keyword arguments every adapter is built with from the app's config."""
    return {"allowlist": allowlist(), "oauth_app": oauth_app(provider_cls)}


def base_url_editable() -> bool:
    """The connect form offers an API base URL only when the operator allow-listed hosts (the
    demo, the tests): in production there is nothing a tenant could type that isn't the vendor's."""
    return bool(allowlist())


def check_base_url(url: str, provider_cls: type[Provider]) -> str:
    """The API root, normalised, if this CRM may be called there; else ValidationError on base_url
    with our reason (never a fetch: nothing is called to decide)."""
    url = (url or "").strip().rstrip("/")
    example = provider_cls.default_base_url
    if not url or len(url) > MAX_URL or "{" in url:
        raise ValidationError({"base_url": [f"Enter a full https URL, e.g. {example}"]})
    try:
        HostPolicy(provider_cls.api_hosts, allowlist()).check_url(url)
    except HostNotAllowed as exc:
        raise ValidationError({"base_url": [
            f"Shoal connects to {provider_cls.display_name} only at its own address "
            f"({example.replace('{subdomain}', '<subdomain>')}): {exc.message}."]}) from None
    return url


def check_web_address(value: str) -> str:
    """A connection's "Web address" (only ever a link, never fetched), normalised: https with a
    clean host, or http only for a host on the operator's allow-list (the demo's sandbox). Else
    ValidationError on web_url."""
    root = web_root(value)
    if root is None:
        raise ValidationError({WEB_URL: ["Enter the address only, e.g. https://acme.example.com (https, no path)."]})
    parts = urlsplit(root)
    if parts.scheme != "https" and not allowlist().allows(parts.hostname or "", parts.port, parts.scheme):
        raise ValidationError({WEB_URL: ["Enter an https address (e.g. https://acme.example.com)."]})
    return root
