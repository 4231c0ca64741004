"""When a sequence step is due: a delay in calendar days, then a delay counted in business hours,
in the team's time zone (pure functions; the sequence service stores the result as naive UTC).

Example: anchor Friday 16:00 Europe/London, 0 days + 2 business hours, hours 09–17 Mon–Fri →
Monday 10:00 London. A step with no delay sent outside hours waits for the next opening.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class BusinessHours:
    """A team's sending window: [start_hour, end_hour) on `days` (0 = Monday) in `time_zone`."""
    time_zone: str = "Europe/London"
    start_hour: int = 9
    end_hour: int = 17
    days: tuple[int, ...] = (0, 1, 2, 3, 4)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def label(self) -> str:
        days = ", ".join(WEEKDAYS[d] for d in sorted(self.days))
        return f"{days} {self.start_hour:02d}:00–{self.end_hour:02d}:00 ({self.time_zone})"

    def _window(self, day: date) -> tuple[datetime, datetime]:
        # Midnight plus hours, in wall-clock time (aware arithmetic in one zone), so 24 means
        # the next midnight and a DST change on the day doesn't shift the window.
        midnight = datetime.combine(day, time(0), tzinfo=self.tz)
        return midnight + timedelta(hours=self.start_hour), midnight + timedelta(hours=self.end_hour)

    def next_open(self, at: datetime) -> datetime:
        """`at` (aware) if it is inside the window, else the start of the next window."""
        local = at.astimezone(self.tz)
        day = local.date()
        for _ in range(8):
            start, end = self._window(day)
            if day.weekday() in self.days:
                if local < start:
                    return start
                if local < end:
                    return local
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), tzinfo=self.tz)
        raise ValueError("business hours have no open day")

    def is_open(self, at_utc: datetime) -> bool:
        """Whether naive-UTC `at_utc` falls inside the window."""
        at = from_utc_naive(at_utc)
        return self.next_open(at) == at

    def day_start(self, at_utc: datetime) -> datetime:
        """Naive UTC of local midnight on `at_utc`'s day (a mailbox's daily cap counts from it)."""
        local = from_utc_naive(at_utc).astimezone(self.tz)
        return to_utc_naive(datetime.combine(local.date(), time(0), tzinfo=self.tz))

    def add_hours(self, at: datetime, hours: float) -> datetime:
        """`hours` of business time after `at` (aware): time outside the window doesn't count."""
        t = self.next_open(at)
        left = timedelta(hours=hours)
        while left > timedelta(0):
            _start, end = self._window(t.astimezone(self.tz).date())
            if t + left <= end:
                return t + left
            left -= end - t
            t = self.next_open(end)
        return t


def validate_hours(time_zone: str, start_hour: int, end_hour: int, days: tuple[int, ...]) -> dict[str, str]:
    """Field errors for a team's business hours (empty when valid)."""
    errors: dict[str, str] = {}
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = f"Unknown time zone {time_zone!r}: use a name like Europe/London."
    if not (0 <= start_hour < end_hour <= 24):
        errors["work_end_hour"] = "The day must end after it starts (hours 0–24)."
    if not days or any(d not in range(7) for d in days):
        errors["work_days"] = "Choose at least one day."
    return errors


def time_zones() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))


def to_utc_naive(at: datetime) -> datetime:
    return at.astimezone(timezone.utc).replace(tzinfo=None)


def from_utc_naive(at: datetime) -> datetime:
    return at.replace(tzinfo=timezone.utc)


def due_at(anchor: datetime, delay_days: int, delay_hours: int, hours: BusinessHours) -> datetime:
    """Naive UTC `anchor` + `delay_days` calendar days, then `delay_hours` business hours; the result
    is always inside the business window (naive UTC)."""
    start = from_utc_naive(anchor) + timedelta(days=delay_days)
    return to_utc_naive(hours.add_hours(start, delay_hours) if delay_hours else hours.next_open(start))
