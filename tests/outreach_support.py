"""Helpers shared by the outreach tests (tests/outreach, tests/blueprints/test_outreach_*): the
session's real SMTP server on loopback (sandbox.smtp, aiosmtpd), the injectable outreach clock,
a mailbox pointing at the server, and steps added straight to a campaign."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from core import db
from models import Campaign, Enrolment, Mailbox, SequenceStep, User
from sandbox.smtp import Catcher, SmtpServer
from services.enrolments import enrol
from services.outreach import steps
from sync_support import campaign, profile

# A Monday, 10:00 in London (GMT in November).
MONDAY_10AM = datetime(2026, 11, 2, 10, 0)

_SERVER: dict[str, SmtpServer] = {}


def smtp_server(app) -> SmtpServer:
    """The session's SMTP server, emptied, accepting any login, no faults; the app configured to
    allow it (a loopback host) and to retry fast."""
    if "server" not in _SERVER:
        _SERVER["server"] = SmtpServer(Catcher()).start()
    server = _SERVER["server"]
    server.catcher.reset()
    server.catcher.username = server.catcher.password = None
    app.config.update(SMTP_PRIVATE_HOSTS=("127.0.0.1",), OUTREACH_RETRY_DELAYS=(1, 1),
                      OUTREACH_PUBLIC_URL="http://shoal.test")
    return server


def smtp_server_for_test(app, monkeypatch) -> SmtpServer:
    """`smtp_server(app)` for one test: the settings it changes are put back afterwards."""
    for key in ("SMTP_PRIVATE_HOSTS", "OUTREACH_RETRY_DELAYS", "OUTREACH_PUBLIC_URL"):
        monkeypatch.setitem(app.config, key, app.config.get(key))
    return smtp_server(app)


class Clock:
    """The injected outreach clock (config OUTREACH_CLOCK): tests move it; the jobs read it too."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def make_mailbox(user: User, server: SmtpServer, **kw: Any) -> Mailbox:
    values: dict[str, Any] = dict(from_name="Riley Recruiter", from_address="riley@agency.test",
                                  host="127.0.0.1", port=server.port, security="none", daily_cap=200,
                                  spacing_seconds=0)
    values.update(kw)
    box = Mailbox(team_id=user.team_id, user_id=user.id, **values)
    db.session.add(box)
    db.session.commit()
    return box


def add_steps(campaign: Campaign, *steps: dict[str, Any]) -> list[SequenceStep]:
    rows = []
    for n, spec in enumerate(steps, start=1):
        values = {"kind": "email", "delay_days": 0, "delay_hours": 0, "subject": None, "body_text": "",
                  "body_html": None}
        values.update(spec)
        rows.append(SequenceStep(team_id=campaign.team_id, campaign_id=campaign.id, position=n, **values))
    db.session.add_all(rows)
    db.session.commit()
    return rows


def started_sequence(owner: User, *step_specs: dict[str, Any]) -> tuple[Campaign, Enrolment]:
    """A campaign of `owner`'s that syncs nobody, with these steps, one person (profile 1) in it,
    and its sequence started: the person's first step is due."""
    c = campaign(owner, sync_as="none")
    add_steps(c, *step_specs)
    enrolment, _ = enrol(owner, c, profile(1))
    steps.start(c)
    return c, enrolment
