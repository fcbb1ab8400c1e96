"""The home thermostat: a target temperature, a mode, and a room that warms or
cools toward the target as simulated time passes."""

from __future__ import annotations

import math
from typing import Any

from assistant.devices.base import Capability, Outcome
from assistant.devices.phrases import say_degree_range, say_degrees, tidy

MIN_TARGET_C, MAX_TARGET_C = 5.0, 30.0  # frost protection up to the usual top
DEFAULT_TARGET_C = 21.0
START_ROOM_C = 19.0
OUTDOOR_C = 8.0  # a late-November day; an unheated room drifts toward it
STEP_C = 1.0  # "warmer" with no amount
SETTING_RESOLUTION_C = 0.5  # targets and readings are in half degrees
HEATING_C_PER_H = 1.5  # what a boiler and radiators manage
COOLING_C_PER_H = 1.0  # air conditioning
DRIFT_TIME_CONSTANT_H = 10.0  # how fast a room loses heat with nothing running
ECO_SETBACK_C = 3.0  # eco holds this much below the target


class Thermostat(Capability):
    domain = "thermostat"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._mode = "heat"
        self._target = DEFAULT_TARGET_C
        self._room = START_ROOM_C
        self._settled_at = self.clock.now()

    def set(self, temperature: float) -> Outcome:
        if not MIN_TARGET_C <= temperature <= MAX_TARGET_C:
            return Outcome.refused(f"the thermostat goes {say_degree_range(MIN_TARGET_C, MAX_TARGET_C)}")
        if self._mode == "off":
            return Outcome.refused("the thermostat is switched off")
        self._settle()
        self._target = _half_degrees(temperature)
        return Outcome.done()

    def up(self, amount: float = STEP_C) -> Outcome:
        return self._change(amount)

    def down(self, amount: float = STEP_C) -> Outcome:
        return self._change(-amount)

    def mode(self, mode: str) -> Outcome:
        self._settle()
        self._mode = mode
        return Outcome.done()

    def current(self) -> Outcome:
        self._settle()
        return Outcome.done(temperature=tidy(_half_degrees(self._room)), target=tidy(self._target))

    def status(self) -> Outcome:
        return Outcome.done(mode=self._mode, target=tidy(self._target))

    def state(self) -> dict[str, Any]:
        self._settle()
        return {"mode": self._mode, "target": tidy(self._target), "room": tidy(_half_degrees(self._room))}

    def _change(self, amount: float) -> Outcome:
        if self._mode == "off":
            return Outcome.refused("the thermostat is switched off")
        limit = MAX_TARGET_C if amount > 0 else MIN_TARGET_C
        if self._target == limit:
            return Outcome.refused(
                f"it is already at {say_degrees(limit)}, the {'highest' if amount > 0 else 'lowest'} setting"
            )
        self._settle()
        self._target = min(MAX_TARGET_C, max(MIN_TARGET_C, _half_degrees(self._target + amount)))
        return Outcome.done(target=tidy(self._target))

    def _settle(self) -> None:
        """Move the room temperature on to now: heating or cooling at a steady rate
        toward what the mode holds, otherwise drifting toward the outdoors."""
        now = self.clock.now()
        hours = (now - self._settled_at).total_seconds() / 3600
        self._settled_at = now
        holds = self._target - ECO_SETBACK_C if self._mode == "eco" else self._target
        heats = self._mode in ("heat", "auto", "eco")
        cools = self._mode in ("cool", "auto")
        if heats and self._room < holds:
            self._room = min(holds, self._room + HEATING_C_PER_H * hours)
        elif cools and self._room > holds:
            self._room = max(holds, self._room - COOLING_C_PER_H * hours)
        else:
            drifted = OUTDOOR_C + (self._room - OUTDOOR_C) * math.exp(-hours / DRIFT_TIME_CONSTANT_H)
            self._room = max(holds, drifted) if heats and self._room >= holds else drifted


def _half_degrees(value: float) -> float:
    return round(value / SETTING_RESOLUTION_C) * SETTING_RESOLUTION_C
