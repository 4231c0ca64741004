"""Sandbox tests talk to the simulators over sockets only: they need neither the Shoal app, its
database nor Redis, so the root conftest's per-test wipe is replaced by a no-op here."""
from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    yield
