"""The home thermostat: a target temperature, a mode, and a room that warms or
cools toward the target as simulated time passes, announcing when it gets there."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from assistant.devices.base import Outcome
from assistant.devices.phrases import say_degree_range, say_degrees, tidy
from assistant.devices.timeline import TimedCapability

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


class Thermostat(TimedCapability):
    domain = "thermostat"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._mode = "heat"
        self._target = DEFAULT_TARGET_C
        self._room = START_ROOM_C
        self._reach_told = True  # False while heading for a setting the user changed and not yet announced

    def set(self, temperature: float) -> Outcome:
        if not MIN_TARGET_C <= temperature <= MAX_TARGET_C:
            return Outcome.refused(f"the thermostat goes {say_degree_range(MIN_TARGET_C, MAX_TARGET_C)}")
        if self._mode == "off":
            return Outcome.refused("the thermostat is switched off")
        self._settle()
        self._target = _half_degrees(temperature)
        self._reach_told = False
        return Outcome.done()

    def up(self, amount: float = STEP_C) -> Outcome:
        return self._change(amount)

    def down(self, amount: float = STEP_C) -> Outcome:
        return self._change(-amount)

    def mode(self, mode: str) -> Outcome:
        self._settle()
        self._mode = mode
        self._reach_told = False
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
        self._reach_told = False
        return Outcome.done(target=tidy(self._target))

    def _holds(self) -> float:
        """The temperature the mode keeps the room at."""
        return self._target - ECO_SETBACK_C if self._mode == "eco" else self._target

    def _heats(self) -> bool:
        return self._mode in ("heat", "auto", "eco")

    def _cools(self) -> bool:
        return self._mode in ("cool", "auto")

    def _run(self, seconds: float) -> None:
        """Heating or cooling at a steady rate toward what the mode holds,
        otherwise drifting toward the outdoors."""
        hours, holds = seconds / 3600, self._holds()
        if self._heats() and self._room < holds:
            self._room = min(holds, self._room + HEATING_C_PER_H * hours)
        elif self._cools() and self._room > holds:
            self._room = max(holds, self._room - COOLING_C_PER_H * hours)
        else:
            drifted = OUTDOOR_C + (self._room - OUTDOOR_C) * math.exp(-hours / DRIFT_TIME_CONSTANT_H)
            self._room = max(holds, drifted) if self._heats() and self._room >= holds else drifted

    def _next_event(self) -> datetime | None:
        """When heating or cooling brings the room to what the mode holds, after
        the user changed the setting (the house warming up on its own is not news)."""
        holds = self._holds()
        if self._reach_told:
            return None
        if self._heats() and self._room < holds:
            return self._settled_at + timedelta(hours=(holds - self._room) / HEATING_C_PER_H)
        if self._cools() and self._room > holds:
            return self._settled_at + timedelta(hours=(self._room - holds) / COOLING_C_PER_H)
        return None

    def _on_event(self, at: datetime) -> None:
        self._room, self._reach_told = self._holds(), True  # exactly there, whatever the float steps left over
        self._announce(at, "thermostat.reached", f"The room has reached {say_degrees(tidy(self._room))}.")


def _half_degrees(value: float) -> float:
    return round(value / SETTING_RESOLUTION_C) * SETTING_RESOLUTION_C
