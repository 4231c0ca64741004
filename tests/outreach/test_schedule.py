"""When a step is due (services/outreach/schedule.py, pure): calendar days, then business hours in
the team's time zone, across a weekend, a DST change and a round-the-clock team."""
from __future__ import annotations

from datetime import datetime

import pytest

from services.outreach.schedule import BusinessHours, due_at, validate_hours

LONDON = BusinessHours("Europe/London", 9, 17, (0, 1, 2, 3, 4))


@pytest.mark.parametrize("anchor,days,hours,due", [
    (datetime(2026, 12, 4, 16, 0), 0, 2, datetime(2026, 12, 7, 10, 0)),    # Fri 16:00 + 2 bh → Mon 10:00
    (datetime(2026, 12, 4, 16, 0), 0, 0, datetime(2026, 12, 4, 16, 0)),    # inside hours: at once
    (datetime(2026, 12, 4, 18, 0), 0, 0, datetime(2026, 12, 7, 9, 0)),     # Fri evening → Mon opening
    (datetime(2026, 12, 4, 10, 0), 3, 0, datetime(2026, 12, 7, 10, 0)),    # Fri + 3 days = Mon 10:00
    (datetime(2026, 12, 5, 10, 0), 1, 0, datetime(2026, 12, 7, 9, 0)),     # Sat + 1 = Sun → Mon opening
    (datetime(2026, 7, 3, 15, 0), 0, 3, datetime(2026, 7, 6, 10, 0)),      # BST: Fri 16:00 local + 3 bh → Mon 11:00 local
    (datetime(2026, 3, 27, 16, 0), 0, 2, datetime(2026, 3, 30, 9, 0)),     # clocks go forward on the Sunday
])
def test_due_at(anchor, days, hours, due):
    assert due_at(anchor, days, hours, LONDON) == due


def test_a_round_the_clock_team_and_another_time_zone():
    always = BusinessHours("UTC", 0, 24, tuple(range(7)))
    assert due_at(datetime(2026, 12, 5, 23, 30), 0, 1, always) == datetime(2026, 12, 6, 0, 30)
    assert always.is_open(datetime(2026, 12, 6, 3, 0))
    new_york = BusinessHours("America/New_York", 9, 17, (0, 1, 2, 3, 4))
    assert due_at(datetime(2026, 12, 7, 13, 0), 0, 0, new_york) == datetime(2026, 12, 7, 14, 0)   # 08:00 EST → 09:00
    assert new_york.day_start(datetime(2026, 12, 7, 3, 0)) == datetime(2026, 12, 6, 5, 0)


def test_bad_hours_are_named():
    assert set(validate_hours("Mars/Base", 17, 9, ())) == {"time_zone", "work_end_hour", "work_days"}
    assert validate_hours("Europe/Paris", 8, 24, (5,)) == {}
