"""The fridge and its freezer: set points, super cool, super freeze, the ice
maker, and compartments whose real temperature follows the set point (or the
kitchen, while the door stands open) as simulated time passes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from assistant.devices.base import Outcome
from assistant.devices.phrases import say_degree_range, say_degrees, say_duration
from assistant.devices.timeline import TimedCapability, approach

FRIDGE_RANGE_C = (1, 8)  # below freezes food, above spoils it
FREEZER_RANGE_C = (-24, -16)
DEFAULT_FRIDGE_C, DEFAULT_FREEZER_C = 4, -18
KITCHEN_C = 21.0
SUPER_COOL_C, SUPER_COOL_S = 2.0, 6 * 3600  # after a big shop
SUPER_FREEZE_C, SUPER_FREEZE_S = -26.0, 50 * 3600  # the compressor runs flat out
FRIDGE_TIME_CONSTANT_S = 1.5 * 3600  # how fast the fridge air follows its target
FREEZER_TIME_CONSTANT_S = 3 * 3600
OPEN_DOOR_TIME_CONSTANT_S = 0.5 * 3600  # with the door open the fridge warms toward the kitchen
DOOR_ALARM_S = 120  # the fridge beeps when the door stays open this long


class Fridge(TimedCapability):
    domain = "fridge"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._fridge_set, self._freezer_set = DEFAULT_FRIDGE_C, DEFAULT_FREEZER_C
        self._fridge_c, self._freezer_c = float(DEFAULT_FRIDGE_C), float(DEFAULT_FREEZER_C)
        self._super_cool_until: datetime | None = None
        self._super_freeze_until: datetime | None = None
        self._door_alarm_at: datetime | None = None  # while the door is open and has not beeped yet
        self._door_open = False
        self._ice_maker = True

    def set_fridge_temperature(self, temperature: float) -> Outcome:
        low, high = FRIDGE_RANGE_C
        if not low <= temperature <= high:
            return Outcome.refused(f"the fridge goes {say_degree_range(low, high)}")
        self._settle()
        self._fridge_set = round(temperature)
        return Outcome.done()

    def set_freezer_temperature(self, temperature: float) -> Outcome:
        low, high = FREEZER_RANGE_C
        if not low <= temperature <= high:
            return Outcome.refused(f"the freezer goes {say_degree_range(low, high)}")
        self._settle()
        self._freezer_set = round(temperature)
        return Outcome.done()

    def super_cool_on(self) -> Outcome:
        now = self._settle()
        if self._super_cool_until is None:  # asked again while on: it runs its course
            self._super_cool_until = now + timedelta(seconds=SUPER_COOL_S)
        return Outcome.done(ends_in=round(self._seconds_until(self._super_cool_until)))

    def super_cool_off(self) -> Outcome:
        self._settle()
        if self._super_cool_until is None:
            return Outcome.refused("super cool is not on")
        self._super_cool_until = None
        return Outcome.done()

    def super_freeze_on(self) -> Outcome:
        now = self._settle()
        if self._super_freeze_until is None:
            self._super_freeze_until = now + timedelta(seconds=SUPER_FREEZE_S)
        return Outcome.done(ends_in=round(self._seconds_until(self._super_freeze_until)))

    def super_freeze_off(self) -> Outcome:
        self._settle()
        if self._super_freeze_until is None:
            return Outcome.refused("super freeze is not on")
        self._super_freeze_until = None
        return Outcome.done()

    def ice_maker_on(self) -> Outcome:
        self._ice_maker = True
        return Outcome.done()

    def ice_maker_off(self) -> Outcome:
        self._ice_maker = False
        return Outcome.done()

    def status(self) -> Outcome:
        self._settle()
        return Outcome.done(
            fridge_temperature=round(self._fridge_c),
            freezer_temperature=round(self._freezer_c),
            door="open" if self._door_open else "closed",
        )

    # What people do to the appliance besides talking to it (scenarios use these).

    def open_door(self) -> None:
        now = self._settle()
        if not self._door_open:
            self._door_open = True
            self._door_alarm_at = now + timedelta(seconds=DOOR_ALARM_S)

    def close_door(self) -> None:
        self._settle()
        self._door_open, self._door_alarm_at = False, None
        self._ringing.clear()

    def state(self) -> dict[str, Any]:
        self._settle()
        return {
            "fridge_set": self._fridge_set,
            "fridge": round(self._fridge_c),
            "freezer_set": self._freezer_set,
            "freezer": round(self._freezer_c),
            "super_cool": self._super_cool_until is not None,
            "super_freeze": self._super_freeze_until is not None,
            "ice_maker": self._ice_maker,
            "door": "open" if self._door_open else "closed",
        }

    def _next_event(self) -> datetime | None:
        return min(
            (t for t in (self._super_cool_until, self._super_freeze_until, self._door_alarm_at) if t), default=None
        )

    def _on_event(self, at: datetime) -> None:
        if at == self._super_cool_until:
            self._super_cool_until = None
            text = f"Super cool is off; the fridge is back to {say_degrees(self._fridge_set)}."
            self._announce(at, "fridge.super_cool_ended", text)
        elif at == self._super_freeze_until:
            self._super_freeze_until = None
            text = f"Super freeze is off; the freezer is back to {say_degrees(self._freezer_set)}."
            self._announce(at, "fridge.super_freeze_ended", text)
        else:
            self._door_alarm_at = None
            text = f"The fridge door has been open for {say_duration(DOOR_ALARM_S)}."
            self._announce(at, "fridge.door_open", text, ringing=True)

    def _run(self, seconds: float) -> None:
        if self._door_open:
            fridge_target, fridge_tau = KITCHEN_C, OPEN_DOOR_TIME_CONSTANT_S
        else:
            fridge_target = SUPER_COOL_C if self._super_cool_until else float(self._fridge_set)
            fridge_tau = FRIDGE_TIME_CONSTANT_S
        freezer_target = SUPER_FREEZE_C if self._super_freeze_until else float(self._freezer_set)
        self._fridge_c = approach(self._fridge_c, fridge_target, seconds, fridge_tau)
        self._freezer_c = approach(self._freezer_c, freezer_target, seconds, FREEZER_TIME_CONSTANT_S)
