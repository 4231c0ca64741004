"""The sync engine is pure: its tests need no app, database or Redis. This overrides the suite's
autouse `_clean` fixture (which builds the app) so they run in milliseconds and don't depend on
the rest of the app importing cleanly."""
from __future__ import annotations

from typing import Iterator

import pytest


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    yield
