"""A stopwatch that counts up, stops and runs on, with laps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from assistant.devices.base import Capability, Outcome
from assistant.spoken import number_words

MAX_LAPS = 99  # what the display has room for


class Stopwatch(Capability):
    domain = "stopwatch"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._running_since: datetime | None = None
        self._banked_s = 0.0  # time counted before the last start
        self._laps_s: list[float] = []  # the elapsed time at each lap mark

    def start(self) -> Outcome:
        if self._running_since is None:
            self._running_since = self.clock.now()
        return Outcome.done()

    def stop(self) -> Outcome:
        if self._running_since is None and self._banked_s == 0:
            return Outcome.refused("the stopwatch is not running")
        self._banked_s = self._elapsed()
        self._running_since = None
        return Outcome.done(elapsed=round(self._banked_s))

    def reset(self) -> Outcome:
        self._banked_s, self._laps_s, self._running_since = 0.0, [], None  # back to zero, stopped
        return Outcome.done()

    def lap(self) -> Outcome:
        if self._running_since is None:
            return Outcome.refused("the stopwatch is not running")
        if len(self._laps_s) >= MAX_LAPS:
            return Outcome.refused(f"the stopwatch keeps {number_words(MAX_LAPS)} laps at most")
        elapsed = self._elapsed()
        lap_time = elapsed - (self._laps_s[-1] if self._laps_s else 0.0)
        self._laps_s.append(elapsed)
        return Outcome.done(lap=len(self._laps_s), lap_time=round(lap_time))

    def status(self) -> Outcome:
        if self._running_since is None and self._banked_s == 0:
            return Outcome.refused("the stopwatch has not been started")
        return Outcome.done(elapsed=round(self._elapsed()))

    def state(self) -> dict[str, Any]:
        return {
            "running": self._running_since is not None,
            "elapsed_s": round(self._elapsed()),
            "laps": len(self._laps_s),
        }

    def _elapsed(self) -> float:
        running = self.seconds_since(self._running_since) if self._running_since is not None else 0.0
        return self._banked_s + running
