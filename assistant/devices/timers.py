"""Countdown timers, named or not; several may run at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from assistant.devices.base import Capability, Notice, Outcome
from assistant.spoken import number_words

MAX_TIMERS = 10  # like phones and watches: more is surely a mistake
UNNAMED = ""


@dataclass
class _Timer:
    name: str
    ends_at: datetime | None  # None while paused
    paused_remaining: float = 0.0  # seconds, while paused

    def remaining(self, now: datetime) -> float:
        if self.ends_at is None:
            return self.paused_remaining
        return max(0.0, (self.ends_at - now).total_seconds())


class Timers(Capability):
    domain = "timer"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._timers: dict[str, _Timer] = {}

    def start(self, duration: float, name: str = UNNAMED) -> Outcome:
        if name not in self._timers and len(self._timers) >= MAX_TIMERS:
            return Outcome.refused(f"{number_words(MAX_TIMERS)} timers are already running")
        self._timers[name] = _Timer(name, self.clock.now() + timedelta(seconds=duration))
        return Outcome.done()

    def cancel(self, name: str | None = None) -> Outcome:
        timer = self._find(name)
        if isinstance(timer, str):
            return Outcome.refused(timer)
        del self._timers[timer.name]
        return Outcome.done()

    def pause(self, name: str | None = None) -> Outcome:
        timer = self._find(name)
        if isinstance(timer, str):
            return Outcome.refused(timer)
        if timer.ends_at is None:
            return Outcome.refused("it is already paused")
        timer.paused_remaining, timer.ends_at = timer.remaining(self.clock.now()), None
        return Outcome.done()

    def resume(self, name: str | None = None) -> Outcome:
        timer = self._find(name)
        if isinstance(timer, str):
            return Outcome.refused(timer)
        if timer.ends_at is None:
            timer.ends_at = self.clock.now() + timedelta(seconds=timer.paused_remaining)
        return Outcome.done(remaining=round(timer.remaining(self.clock.now())))

    def remaining(self, name: str | None = None) -> Outcome:
        timer = self._find(name)
        if isinstance(timer, str):
            return Outcome.refused(timer)
        return Outcome.done(remaining=round(timer.remaining(self.clock.now())))

    def add(self, duration: float, name: str | None = None) -> Outcome:
        timer = self._find(name)
        if isinstance(timer, str):
            return Outcome.refused(timer)
        if timer.ends_at is None:
            timer.paused_remaining += duration
        else:
            timer.ends_at += timedelta(seconds=duration)
        return Outcome.done(remaining=round(timer.remaining(self.clock.now())))

    def state(self) -> dict[str, Any]:
        now = self.clock.now()
        return {
            (timer.name or "timer"): {
                "remaining_s": round(timer.remaining(now)),
                "running": timer.ends_at is not None,
            }
            for timer in self._timers.values()
        } | {"ringing": len(self._ringing)}

    def poll(self) -> list[Notice]:
        now, due = self.clock.now(), []
        for timer in list(self._timers.values()):
            if timer.ends_at is not None and timer.ends_at <= now:
                del self._timers[timer.name]
                what = f"your {timer.name} timer" if timer.name else "your timer"
                due.append(Notice(timer.ends_at, "timer.finished", f"Time's up: {what} is done.", ringing=True))
        self._ringing.extend(due)
        return due

    def silence(self) -> bool:
        was_ringing = bool(self._ringing)
        self._ringing.clear()
        return was_ringing

    def _find(self, name: str | None) -> _Timer | str:
        """The timer meant, or the reason none can be picked (a spoken clause)."""
        if name is not None:
            found = self._timers.get(name)
            return found if found is not None else f"there is no {name} timer"
        if not self._timers:
            return "no timer is running"
        if len(self._timers) > 1:
            return f"{number_words(len(self._timers))} timers are running, say which one"
        return next(iter(self._timers.values()))
