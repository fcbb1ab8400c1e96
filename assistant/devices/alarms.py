"""Wake-up alarms: once or repeating, optionally labelled; they ring, snooze and stop."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from assistant.devices.base import Capability, Notice, Outcome
from assistant.devices.clocks import at_time, clock_time, upcoming_day
from assistant.devices.phrases import say_time
from assistant.spoken import number_words

DEFAULT_SNOOZE_S = 9 * 60  # the snooze length of most alarm clocks
MAX_ALARMS = 20
MAX_TIMES_SAID = 3  # a refusal names the alarms that are set, up to this many
RECURRENCE_WEEKDAYS = {  # date.weekday() values each recurrence rings on
    "daily": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
}
RELATIVE = ("today", "tomorrow", "day_after_tomorrow", "yesterday")


@dataclass
class _Alarm:
    time: str  # "HH:MM"
    rings_at: datetime
    recurrence: str | None
    label: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "rings_at": self.rings_at.isoformat(timespec="minutes"),
            "recurrence": self.recurrence,
            "label": self.label,
        }


@dataclass
class _Snooze:
    until: datetime
    alarm: _Alarm


class Alarms(Capability):
    domain = "alarm"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._alarms: list[_Alarm] = []
        self._snoozes: list[_Snooze] = []
        self._ringing_alarms: list[_Alarm] = []

    def set(
        self, time: str, date: str | None = None, recurrence: str | None = None, label: str | None = None
    ) -> Outcome:
        now = self.clock.now()
        first = _first_ring(time, date, recurrence, now)
        if isinstance(first, str):
            return Outcome.refused(first)
        for alarm in self._alarms:
            if alarm.time == time and alarm.rings_at == first and alarm.recurrence == recurrence:
                return Outcome.refused(f"an alarm is already set for {say_time(time)}")
        if len(self._alarms) >= MAX_ALARMS:
            return Outcome.refused(f"{number_words(MAX_ALARMS)} alarms are already set")
        self._alarms.append(_Alarm(time, first, recurrence, label))
        self._alarms.sort(key=lambda alarm: alarm.rings_at)
        return Outcome.done()

    def cancel(self, time: str | None = None) -> Outcome:
        if not self._alarms:
            return Outcome.refused("no alarms are set")
        if time is None:
            self._alarms.pop(0)  # the only one, or the next to ring
            return Outcome.done()
        kept = [alarm for alarm in self._alarms if alarm.time != time]
        if len(kept) == len(self._alarms):
            return Outcome.refused(self._which_are_set())
        self._alarms = kept
        return Outcome.done()

    def list(self) -> Outcome:
        if not self._alarms:
            return Outcome.refused("the alarm list is empty")
        return Outcome.done(count=len(self._alarms), next=self._alarms[0].time)

    def snooze(self, duration: int = DEFAULT_SNOOZE_S) -> Outcome:
        if not self._ringing_alarms:
            return Outcome.refused("no alarm is ringing")
        until = self.clock.now() + timedelta(seconds=duration)
        self._snoozes += [_Snooze(until, alarm) for alarm in self._ringing_alarms]
        self._stop_ringing()
        return Outcome.done(until=clock_time(until))

    def stop(self) -> Outcome:
        if not self._ringing_alarms:
            return Outcome.refused("no alarm is ringing")
        self._stop_ringing()
        return Outcome.done()

    def state(self) -> dict[str, Any]:
        return {
            "alarms": [alarm.to_dict() for alarm in self._alarms],
            "next": self._alarms[0].time if self._alarms else None,
            "ringing": bool(self._ringing_alarms),
            "snoozed_until": clock_time(self._snoozes[0].until) if self._snoozes else None,
        }

    def poll(self) -> builtins.list[Notice]:  # `list` here is the alarm.list action
        now, due = self.clock.now(), []
        for alarm in list(self._alarms):
            if alarm.rings_at > now:
                continue
            due.append((alarm.rings_at, alarm, _ring_text(alarm)))
            if alarm.recurrence is None:
                self._alarms.remove(alarm)
            else:  # rings again on its next day; a day the device slept through is skipped
                alarm.rings_at = _next_recurring(alarm.time, alarm.recurrence, now)
        for snooze in list(self._snoozes):
            if snooze.until <= now:
                self._snoozes.remove(snooze)
                due.append((snooze.until, snooze.alarm, f"Snooze is over: it's {say_time(clock_time(snooze.until))}."))
        self._alarms.sort(key=lambda alarm: alarm.rings_at)
        notices = []
        for at, alarm, text in sorted(due, key=lambda item: item[0]):
            notice = Notice(at, "alarm.ringing", text, ringing=True)
            notices.append(notice)
            self._ringing.append(notice)
            self._ringing_alarms.append(alarm)
        return notices

    def silence(self) -> bool:
        was_ringing = bool(self._ringing_alarms)
        self._stop_ringing()
        return was_ringing

    def _which_are_set(self) -> str:
        times = list(dict.fromkeys(say_time(alarm.time) for alarm in self._alarms))
        if len(times) > MAX_TIMES_SAID:
            return f"the next one is at {times[0]}"
        return f"{'the alarms are' if len(times) > 1 else 'the alarm is'} set for {_and_list(times)}"

    def _stop_ringing(self) -> None:
        self._ringing.clear()
        self._ringing_alarms.clear()


def _first_ring(clock: str, day: str | None, recurrence: str | None, now: datetime) -> datetime | str:
    """When a new alarm first rings, or the reason it cannot be set."""
    if day is None:
        start = now.date()
    else:
        found = upcoming_day(day, now.date())
        if found is None:
            return f"{day} is not a date"
        start = found
    if recurrence is not None:
        return _next_recurring(clock, recurrence, max(now, at_time(start, "00:00") - timedelta(seconds=1)))
    moment = at_time(start, clock)
    if moment > now:
        return moment
    if day is None:
        return moment + timedelta(days=1)
    if day in RELATIVE or "-" in day:  # a named day whose time has passed
        return f"{say_time(clock)} {_said_day(day)} has already passed"
    return moment + timedelta(days=7)  # "on thursday" said on a Thursday after the time: next week


def _next_recurring(clock: str, recurrence: str, after: datetime) -> datetime:
    days = RECURRENCE_WEEKDAYS[recurrence]
    start: date = after.date()
    for offset in range(8):
        moment = at_time(start + timedelta(days=offset), clock)
        if moment > after and moment.weekday() in days:
            return moment
    raise AssertionError(recurrence)  # unreachable: every recurrence has a day each week


def _ring_text(alarm: _Alarm) -> str:
    label = f": your {alarm.label} alarm" if alarm.label else ""
    return f"It's {say_time(alarm.time)}{label}."


def _said_day(day: str) -> str:
    return "on that day" if "-" in day else day.replace("_", " ")


def _and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
