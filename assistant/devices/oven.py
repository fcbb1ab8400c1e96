"""The oven: heating modes with their temperature ranges, a preheat curve, a
cooking time that switches it off, the light, and cooling down once off."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from assistant.devices.base import Outcome
from assistant.devices.phrases import say_degree_range, say_degrees, say_name, tidy
from assistant.devices.timeline import TimedCapability, approach

KITCHEN_C = 21.0
HEATING_C_PER_S = 10 / 60  # about ten degrees a minute: 180 degrees in a quarter of an hour
COOLING_TIME_CONSTANT_S = 45 * 60  # a closed, switched-off oven loses heat slowly
STILL_HOT_C = 50  # "the oven is off" adds how hot it still is above this
DEFAULT_MODE = "conventional"
# mode: (lowest, highest, default) temperature in degrees Celsius
MODES: dict[str, tuple[int, int, int]] = {
    "conventional": (50, 250, 180),
    "fan": (30, 250, 160),  # from thirty for proving dough
    "grill": (150, 250, 220),
    "bottom_heat": (50, 220, 160),
    "pizza": (180, 250, 220),
    "defrost": (30, 50, 30),
}


class Oven(TimedCapability):
    domain = "oven"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._mode: str | None = None  # None while off
        self._target = 0.0
        self._temperature = KITCHEN_C
        self._preheat_told = True  # False while heating up to a target not yet announced
        self._cook_until: datetime | None = None
        self._light = False

    def preheat(self, temperature: float, mode: str | None = None) -> Outcome:
        mode = mode or self._mode or DEFAULT_MODE
        low, high, _ = MODES[mode]
        if not low <= temperature <= high:
            return Outcome.refused(f"in {say_name(mode)} mode the oven goes {say_degree_range(low, high)}")
        self._settle()
        self._heat(mode, temperature)
        return Outcome.done(ready_in=round(self._ready_in()))

    def set_mode(self, mode: str) -> Outcome:
        self._settle()
        low, high, default = MODES[mode]
        target = default if self._mode is None else min(high, max(low, self._target))
        self._heat(mode, target)
        return Outcome.done(temperature=tidy(target))

    def cook_timer(self, duration: int) -> Outcome:
        now = self._settle()
        if self._mode is None:
            return Outcome.refused("the oven is off")
        self._cook_until = now + timedelta(seconds=duration)
        return Outcome.done()

    def off(self) -> Outcome:
        self._settle()
        if self._mode is None:
            return Outcome.refused("it is already off")
        self._switch_off()
        return Outcome.done()

    def status(self) -> Outcome:
        self._settle()
        if self._mode is None:
            if self._temperature > STILL_HOT_C:
                return Outcome.refused(f"it is still {say_degrees(round(self._temperature))} inside")
            return Outcome.refused("it has cooled down")
        remaining = self._seconds_until(self._cook_until) if self._cook_until else 0
        return Outcome.done(
            temperature=round(self._temperature), target=tidy(self._target), mode=self._mode, remaining=round(remaining)
        )

    def light_on(self) -> Outcome:
        self._light = True
        return Outcome.done()

    def light_off(self) -> Outcome:
        self._light = False
        return Outcome.done()

    def state(self) -> dict[str, Any]:
        self._settle()
        return {
            "mode": self._mode or "off",
            "target": tidy(self._target) if self._mode else None,
            "temperature": round(self._temperature),
            "cook_remaining_s": round(self._seconds_until(self._cook_until)) if self._cook_until else None,
            "light": self._light,
        }

    def _heat(self, mode: str, target: float) -> None:
        self._mode, self._target = mode, float(target)
        self._preheat_told = self._temperature >= self._target  # cooling down to a lower target: no beep

    def _switch_off(self) -> None:
        self._mode, self._cook_until, self._preheat_told = None, None, True

    def _ready_in(self) -> float:
        """Seconds until the oven is at its target: heating at its rate, or cooling down to it."""
        if self._temperature < self._target:
            return (self._target - self._temperature) / HEATING_C_PER_S
        if self._temperature == self._target:
            return 0.0
        return COOLING_TIME_CONSTANT_S * math.log((self._temperature - KITCHEN_C) / (self._target - KITCHEN_C))

    def _reached_at(self) -> datetime | None:
        if self._mode is None or self._preheat_told:
            return None
        return self._settled_at + timedelta(seconds=(self._target - self._temperature) / HEATING_C_PER_S)

    def _next_event(self) -> datetime | None:
        return min((t for t in (self._reached_at(), self._cook_until) if t), default=None)

    def _on_event(self, at: datetime) -> None:
        if at == self._cook_until:
            self._switch_off()
            self._announce(at, "oven.cooking_done", "Cooking time is over; the oven has switched off.", ringing=True)
        else:  # the target is reached
            self._temperature, self._preheat_told = self._target, True
            self._announce(at, "oven.preheated", f"The oven has reached {say_degrees(tidy(self._target))}.")

    def _run(self, seconds: float) -> None:
        if self._mode is not None and self._temperature < self._target:
            self._temperature = min(self._target, self._temperature + HEATING_C_PER_S * seconds)
        elif self._mode is not None:  # at or above its target: the thermostat holds it there
            self._temperature = max(
                self._target, approach(self._temperature, KITCHEN_C, seconds, COOLING_TIME_CONSTANT_S)
            )
        else:
            self._temperature = approach(self._temperature, KITCHEN_C, seconds, COOLING_TIME_CONSTANT_S)
