"""Outreach tests: a real SMTP server on loopback that keeps what it receives, a mailbox pointing
at it, and the injected clock (tests/outreach_support.py)."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from models import Mailbox, User
from outreach_support import MONDAY_10AM, Clock, make_mailbox, smtp_server
from sandbox.smtp import SmtpServer

_KEYS = ("SMTP_PRIVATE_HOSTS", "OUTREACH_RETRY_DELAYS", "OUTREACH_PUBLIC_URL")


@pytest.fixture
def smtp(app) -> Iterator[SmtpServer]:
    saved = {k: app.config.get(k) for k in _KEYS}
    yield smtp_server(app)
    app.config.update(saved)


@pytest.fixture
def clock(app) -> Iterator[Clock]:
    c = Clock(MONDAY_10AM)
    app.config["OUTREACH_CLOCK"] = c
    yield c
    app.config.pop("OUTREACH_CLOCK", None)


@pytest.fixture
def mailbox_for(smtp) -> Callable[..., Mailbox]:
    def _make(user: User, **kw: Any) -> Mailbox:
        return make_mailbox(user, smtp, **kw)
    return _make
