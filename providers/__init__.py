"""The provider registry: THE list of CRMs Shoal speaks to. Config (ENABLED_PROVIDERS), the
`flask sandbox` command and the demo all derive from PROVIDER_KEYS; adding a CRM is one folder
`providers/<key>/` (see docs/adding-a-crm.md) and its key here. Each package's adapter class
registers itself with `@register` when `load_providers` imports it. Blueprints and jobs only ever go
through `get_provider` / `all_providers`."""
from __future__ import annotations

import importlib
from typing import Iterable

from providers.base import AuthKind, Capability, Provider
from providers.errors import NotSupported

_REGISTRY: dict[str, type[Provider]] = {}

# In this order `flask sandbox --all --port P` serves them on P, P+1, ... (see sandbox_port).
PROVIDER_KEYS: tuple[str, ...] = ("tracker", "smartrecruiters", "cats", "itris", "pinpoint")
DEFAULT_PROVIDERS: tuple[str, ...] = tuple(f"providers.{key}" for key in PROVIDER_KEYS)
_OAUTH_METHODS = ("authorization_url", "exchange_code")


def register(cls: type[Provider]) -> type[Provider]:
    """Class decorator: validate that every declared capability (and, for OAuth providers, the
    consent flow) is implemented, then register."""
    for cap in cls.capabilities:
        for name in Capability(cap).methods:
            if getattr(cls, name) is getattr(Provider, name):
                raise TypeError(f"{cls.__name__} declares {cap.value} but does not implement {name}()")
    for attr in ("key", "display_name", "auth_kind", "record_types", "credentials_schema",
                 "default_base_url", "api_hosts", "rate_budget"):
        if not hasattr(cls, attr):
            raise TypeError(f"{cls.__name__} must declare {attr}")
    if cls.auth_kind is AuthKind.OAUTH2:
        for name in _OAUTH_METHODS:
            if getattr(cls, name).__func__ is getattr(Provider, name).__func__:
                raise TypeError(f"{cls.__name__} is an OAuth provider but does not implement {name}()")
    _REGISTRY[cls.key] = cls
    return cls


def load_providers(paths: Iterable[str] | None = None) -> None:
    for path in paths or DEFAULT_PROVIDERS:
        importlib.import_module(path)


def get_provider(key: str) -> type[Provider]:
    if not _REGISTRY:
        load_providers()
    try:
        return _REGISTRY[key]
    except KeyError:
        raise NotSupported(f"unknown provider {key!r}") from None


def all_providers() -> list[type[Provider]]:
    if not _REGISTRY:
        load_providers()
    return sorted(_REGISTRY.values(), key=lambda p: p.display_name.lower())


def sandbox_port(key: str, first_port: int) -> int:
    """The port `flask sandbox --all --port first_port` serves `key`'s simulator on."""
    return first_port + PROVIDER_KEYS.index(key)
