"""Appliances whose state moves with time: brought up to the clock lazily.

A simulated oven does not tick. Whenever it is asked anything, it first replays
the time since it was last asked: the continuous part (heating, cooling, a
battery draining) in one step up to the next event, then the event itself (the
target reached, the cooking time over), and so on up to now. Events queue the
notices the device will announce at its next `poll()`.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from assistant.devices.base import Capability, Notice

MAX_EVENTS_PER_SETTLE = 100_000  # a handler that never moves its event on would loop forever


class TimedCapability(Capability):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._settled_at = self.clock.now()

    def poll(self) -> list[Notice]:
        self._settle()
        due, self._pending = sorted(self._pending, key=lambda notice: notice.at), []
        return due

    def silence(self) -> bool:
        was_ringing = bool(self._ringing)
        self._ringing.clear()
        return was_ringing

    def _settle(self) -> datetime:
        """Replay the time up to now; returns now."""
        now = self.clock.now()
        for _ in range(MAX_EVENTS_PER_SETTLE):
            event = self._next_event()
            if event is None or event > now:
                self._run_until(now)
                return now
            self._run_until(event)
            self._on_event(event)
        raise RuntimeError(f"{type(self).__name__}: an event handler does not move its event on")

    def _run_until(self, moment: datetime) -> None:
        if moment > self._settled_at:
            self._run((moment - self._settled_at).total_seconds())
            self._settled_at = moment

    def _next_event(self) -> datetime | None:
        """When the next discrete change happens, if one is scheduled."""
        return None

    def _on_event(self, at: datetime) -> None:
        """Apply the change scheduled at `at`; it must schedule the next one later (or none)."""

    def _run(self, seconds: float) -> None:
        """The continuous change over `seconds` with no event in between."""

    def _announce(self, at: datetime, event: str, text: str, *, ringing: bool = False) -> None:
        notice = Notice(at, event, text, ringing)
        self._pending.append(notice)
        if ringing:
            self._ringing.append(notice)

    def _seconds_until(self, moment: datetime) -> float:
        return (moment - self.clock.now()).total_seconds()


def approach(value: float, target: float, seconds: float, time_constant_s: float) -> float:
    """Newton's law of cooling: `value` after `seconds` of closing in on `target`."""
    return target + (value - target) * math.exp(-seconds / time_constant_s)
