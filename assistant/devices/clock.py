"""Clocks the devices and the dialogue read the time from.

A simulated clock only moves when told to, so tests and scripted conversations
can make a timer fire or a wash finish without waiting. The wall clock is what a
real device runs on; both have the same two methods.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

DEFAULT_START = datetime(2026, 11, 26, 8, 0, 0)  # a Thursday morning: scenarios start from a known instant


class Clock(Protocol):
    def now(self) -> datetime: ...


class SimClock:
    """Time stands still until `advance` moves it forward."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError(f"the clock cannot go back ({seconds} s)")
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, moment: datetime) -> None:
        if moment < self._now:
            raise ValueError(f"the clock cannot go back to {moment:%H:%M:%S}")
        self._now = moment


class WallClock:
    def now(self) -> datetime:
        return datetime.now()


def seconds_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds()
