"""The provider registry. `load_providers(dotted_paths)` imports each module, whose adapter class
registers itself with `@register`. Blueprints and jobs only ever go through `get_provider`."""
from __future__ import annotations

import importlib
from typing import Iterable

from providers.base import Capability, Provider
from providers.errors import NotSupported

_REGISTRY: dict[str, type[Provider]] = {}

DEFAULT_PROVIDERS = (
    "providers.tracker", "providers.smartrecruiters", "providers.cats", "providers.itris", "providers.pinpoint",
)


def register(cls: type[Provider]) -> type[Provider]:
    """Class decorator: validate that every declared capability is implemented, then register."""
    for cap in cls.capabilities:
        for name in Capability(cap).methods:
            if getattr(cls, name) is getattr(Provider, name):
                raise TypeError(f"{cls.__name__} declares {cap.value} but does not implement {name}()")
    for attr in ("key", "display_name", "auth_kind", "record_types", "credentials_schema",
                 "default_base_url", "rate_budget"):
        if not hasattr(cls, attr):
            raise TypeError(f"{cls.__name__} must declare {attr}")
    _REGISTRY[cls.key] = cls
    return cls


def load_providers(paths: Iterable[str] = DEFAULT_PROVIDERS) -> None:
    for path in paths:
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
