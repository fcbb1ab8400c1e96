"""The clock: the time, the date of a day, and how many days until one.

Also where spoken days and clock times become calendar moments, for every device
that schedules something (alarms, delayed washes, the watch's step history):
"friday" is the next Friday looking forward and the last one looking back,
"12-25" the next or the last Christmas.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from assistant.devices.base import Capability, Outcome
from assistant.slot_types import DateSlot

WEEKDAYS = DateSlot.WEEKDAYS  # monday first, as date.weekday() counts
RELATIVE_DAYS = {"yesterday": -1, "today": 0, "tomorrow": 1, "day_after_tomorrow": 2}
LEAP_CYCLE_YEARS = 8  # the 29th of February comes back within this many years


class Clocks(Capability):
    domain = "clock"

    def time(self) -> Outcome:
        return Outcome.done(time=clock_time(self.clock.now()))

    def date(self, day: str = "today") -> Outcome:
        found = upcoming_day(day, self.clock.now().date())
        if found is None:
            return Outcome.refused(f"{day} is not a date")
        return Outcome.done(date=month_day(found), weekday=WEEKDAYS[found.weekday()])

    def days_until(self, date: str) -> Outcome:
        today = self.clock.now().date()
        found = upcoming_day(date, today)
        if found is None:
            return Outcome.refused(f"{date} is not a date")
        if found < today:
            return Outcome.refused("that day has already passed")
        return Outcome.done(days=(found - today).days)

    def state(self) -> dict[str, Any]:
        now = self.clock.now()
        return {"time": clock_time(now), "date": now.date().isoformat(), "weekday": WEEKDAYS[now.weekday()]}


def upcoming_day(value: str, today: date) -> date | None:
    """The day a spoken date means looking forward: a weekday or "MM-DD" is its
    next occurrence, today included. None for a value that is no date."""
    return _resolve(value, today, forward=True)


def past_day(value: str, today: date) -> date | None:
    """The day a spoken date means looking back ("steps on monday"): a weekday or
    "MM-DD" is its last occurrence, today included."""
    return _resolve(value, today, forward=False)


def next_at(clock: str, after: datetime) -> datetime:
    """The first moment after `after` at which a clock shows `clock` ("HH:MM")."""
    moment = at_time(after.date(), clock)
    return moment if moment > after else moment + timedelta(days=1)


def at_time(day: date, clock: str) -> datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime.combine(day, time(hour, minute))


def clock_time(moment: datetime) -> str:
    """ "HH:MM", as clock-time values are written."""
    return f"{moment:%H:%M}"


def month_day(day: date) -> str:
    """ "MM-DD", as date values are written."""
    return f"{day:%m-%d}"


def _resolve(value: str, today: date, *, forward: bool) -> date | None:
    if value in RELATIVE_DAYS:
        return today + timedelta(days=RELATIVE_DAYS[value])
    direction = 1 if forward else -1
    if value in WEEKDAYS:
        return today + timedelta(days=direction * ((WEEKDAYS.index(value) - today.weekday()) * direction % 7))
    try:
        month, day = (int(part) for part in value.split("-"))
    except ValueError:
        return None
    for years in range(LEAP_CYCLE_YEARS + 1):
        try:
            found = date(today.year + direction * years, month, day)
        except ValueError:
            continue
        if (found >= today) if forward else (found <= today):
            return found
    return None
