"""Per-provider fixtures for the contract suite: a sandbox on a real loopback socket and an adapter
pointed at it exactly as a connection would be (base URL = server + the sandbox's API_ROOT,
credentials = the sandbox's DEFAULT_CREDENTIALS). Providers whose sandbox isn't built yet skip."""
from __future__ import annotations

import importlib
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Iterator

import pytest
import requests

import providers
from providers.base import Provider
from tests.conftest import SANDBOX_ALLOWLIST

# Loaded once at collection so tests can be parametrised over what is registered right now. A module
# that fails to import is kept in IMPORT_ERRORS (test_contract reports it) instead of hiding the rest.
IMPORT_ERRORS: dict[str, str] = {}
for _path in providers.DEFAULT_PROVIDERS:
    try:
        providers.load_providers([_path])
    except Exception as _exc:   # noqa: BLE001 - any import failure is reported as a test failure
        IMPORT_ERRORS[_path] = f"{type(_exc).__name__}: {_exc}"
PROVIDER_KEYS = sorted(p.key for p in providers.all_providers())


def sandbox_module(key: str) -> ModuleType:
    try:
        module = importlib.import_module(f"sandbox.{key}")
    except ImportError:
        pytest.skip(f"sandbox.{key} is not built yet")
    if not hasattr(module, "create_app") or not hasattr(module, "DEFAULT_CREDENTIALS"):
        pytest.skip(f"sandbox.{key} is not built yet")
    return module


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    """Adapter tests touch no database or Redis: replace the root conftest's per-test wipe (and so
    its dependency on the app fixture) with nothing; the sandbox is reset by `sandbox(key)` instead."""
    yield


@dataclass
class Crm:
    """One provider under test: its sandbox, module, and a way to build adapters against it."""
    key: str
    base: str                       # the sandbox server root (admin routes live under it)
    module: ModuleType
    cls: type[Provider]
    credentials: dict[str, Any]

    @property
    def base_url(self) -> str:
        return self.base + getattr(self.module, "API_ROOT", "")

    def adapter(self, credentials: dict[str, Any] | None = None, **kwargs: Any) -> Provider:
        kwargs.setdefault("allowlist", SANDBOX_ALLOWLIST)   # the sandbox is on loopback, like the operator's
        return self.cls(self.base_url, dict(self.credentials if credentials is None else credentials), **kwargs)

    def fault(self, mode: str | None, count: int = 1) -> None:
        requests.post(f"{self.base}/__sandbox/faults", json={"mode": mode, "count": count}, timeout=5).raise_for_status()

    def state(self) -> dict[str, Any]:
        return requests.get(f"{self.base}/__sandbox/state", timeout=5).json()


@pytest.fixture
def make_crm(sandbox: Callable[..., Any]) -> Callable[[str], Crm]:
    def _make(key: str) -> Crm:
        module = sandbox_module(key)
        server = sandbox(key)
        cls = providers.get_provider(key)
        crm = Crm(key, server.base, module, cls, dict(module.DEFAULT_CREDENTIALS))
        # A CRM that can only create people on a job (Pinpoint) gets the first seeded job as the
        # connection's default job, the way an admin would set it.
        if "default_job_id" in cls.credentials_schema().fields and not crm.credentials.get("default_job_id"):
            jobs = crm.adapter().list_jobs()
            if jobs:
                crm.credentials["default_job_id"] = jobs[0].id
        return crm
    return _make


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


def person_fields(uid: str) -> dict[str, str]:
    """A realistic person in our standard field keys, unique per test."""
    return {"first_name": "Ada", "last_name": f"Lovelace{uid[:4]}", "email": f"ada.{uid}@example.com",
            "phone": "+44 20 7946 0123", "title": "Head of Engineering", "company": "Analytical Engines Ltd",
            "location": "London, United Kingdom", "linkedin_url": f"https://www.linkedin.com/in/ada-{uid}"}
