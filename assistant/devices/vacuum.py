"""The robot vacuum: cleaning the whole home or one room, pausing, going back to
its dock, suction power, and a battery that drains while cleaning and charges
on the dock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from assistant.devices.base import Outcome
from assistant.devices.phrases import say_name, say_percent
from assistant.devices.timeline import TimedCapability

CLEANING, RETURNING, DOCKED, CHARGING, PAUSED, IDLE = "cleaning", "returning", "docked", "charging", "paused", "idle"
MAPPED_ROOMS = ("living_room", "kitchen", "hallway", "dining_room", "bedroom", "kids_room", "office", "bathroom")
ROOM_CLEAN_S = 180  # about three minutes a room
RETURN_S = 60  # from wherever it is back to the dock
MIN_START_BATTERY_PERCENT = 15
RESERVE_BATTERY_PERCENT = 10  # it heads home on its own at this level
DRAIN_PERCENT_PER_MIN = {"quiet": 0.5, "standard": 0.7, "turbo": 1.0, "max": 1.4}  # while cleaning
MOVING_DRAIN_PERCENT_PER_MIN = 0.3  # driving home with the brushes off
CHARGE_PERCENT_PER_MIN = 100 / 180  # three hours from empty to full
FULL_EPSILON = 1e-6  # float slack when a room's time or the battery runs out at an event


class Vacuum(TimedCapability):
    domain = "vacuum"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._state = DOCKED
        self._battery = 100.0
        self._suction = "standard"
        self._rooms: list[str] = []  # the rooms of the job, the one being cleaned first
        self._whole_home = False
        self._room_left_s = 0.0
        self._return_left_s = 0.0

    def start(self) -> Outcome:
        self._settle()
        if self._state == CLEANING and self._whole_home:
            return Outcome.refused("it is already cleaning")
        too_low = self._too_low()
        if too_low is not None:
            return Outcome.refused(too_low)
        self._clean(list(MAPPED_ROOMS), whole_home=True)
        return Outcome.done(battery=round(self._battery))

    def clean_room(self, room: str) -> Outcome:
        self._settle()
        if room not in MAPPED_ROOMS:
            return Outcome.refused(f"the vacuum has no map of the {say_name(room)}")
        too_low = self._too_low()
        if too_low is not None:
            return Outcome.refused(too_low)
        self._clean([room], whole_home=False)  # instead of whatever it was doing
        return Outcome.done()

    def stop(self) -> Outcome:
        self._settle()
        if self._state not in (CLEANING, PAUSED, RETURNING):
            return Outcome.refused("it is not cleaning")
        self._state, self._rooms = IDLE, []  # it stays where it is
        return Outcome.done()

    def pause(self) -> Outcome:
        self._settle()
        if self._state != CLEANING:
            return Outcome.refused("it is not cleaning")
        self._state = PAUSED
        return Outcome.done()

    def resume(self) -> Outcome:
        self._settle()
        if self._state != PAUSED:
            return Outcome.refused("it is not paused")
        self._state = CLEANING
        return Outcome.done()

    def dock(self) -> Outcome:
        self._settle()
        if self._state in (DOCKED, CHARGING):
            return Outcome.refused("it is already on its dock")
        self._head_home()
        return Outcome.done(battery=round(self._battery))

    def status(self) -> Outcome:
        self._settle()
        return Outcome.done(state=self._shown_state(), battery=round(self._battery))

    def suction(self, level: str) -> Outcome:
        self._settle()
        self._suction = level
        return Outcome.done()

    def state(self) -> dict[str, Any]:
        self._settle()
        return {
            "state": self._shown_state(),
            "battery": round(self._battery),
            "room": self._rooms[0] if self._state in (CLEANING, PAUSED) and self._rooms else None,
            "suction": self._suction,
        }

    def _too_low(self) -> str | None:
        if self._battery < MIN_START_BATTERY_PERCENT:
            return f"the battery is at {say_percent(round(self._battery))}, too low to clean"
        return None

    def _clean(self, rooms: list[str], *, whole_home: bool) -> None:
        self._state, self._rooms, self._whole_home, self._room_left_s = CLEANING, rooms, whole_home, ROOM_CLEAN_S

    def _head_home(self) -> None:
        self._state, self._rooms, self._return_left_s = RETURNING, [], RETURN_S

    def _shown_state(self) -> str:
        if self._state == DOCKED and self._battery < 100 - FULL_EPSILON:
            return CHARGING
        return self._state

    def _next_event(self) -> datetime | None:
        if self._state == CLEANING:
            drain_per_s = DRAIN_PERCENT_PER_MIN[self._suction] / 60
            flat_in_s = (self._battery - RESERVE_BATTERY_PERCENT) / drain_per_s
            return self._settled_at + timedelta(seconds=max(0.0, min(self._room_left_s, flat_in_s)))
        if self._state == RETURNING:
            return self._settled_at + timedelta(seconds=self._return_left_s)
        return None

    def _on_event(self, at: datetime) -> None:
        if self._state == RETURNING:
            self._state = DOCKED
            self._announce(at, "vacuum.docked", "The vacuum is back on its dock.")
        elif self._battery <= RESERVE_BATTERY_PERCENT + FULL_EPSILON:
            self._head_home()
            self._announce(at, "vacuum.battery_low", "The battery is low: the vacuum is going back to its dock.")
        else:  # a room is done
            room = self._rooms.pop(0)
            if self._rooms:
                self._room_left_s = ROOM_CLEAN_S
                return
            text = "The whole home is clean." if self._whole_home else f"The {say_name(room)} is clean."
            self._head_home()
            self._announce(at, "vacuum.cleaned", text)

    def _run(self, seconds: float) -> None:
        minutes = seconds / 60
        if self._state == CLEANING:
            self._room_left_s = max(0.0, self._room_left_s - seconds)
            self._battery -= DRAIN_PERCENT_PER_MIN[self._suction] * minutes
        elif self._state == RETURNING:
            self._return_left_s = max(0.0, self._return_left_s - seconds)
            self._battery -= MOVING_DRAIN_PERCENT_PER_MIN * minutes
        elif self._state == DOCKED:
            self._battery += CHARGE_PERCENT_PER_MIN * minutes
        self._battery = min(100.0, max(0.0, self._battery))
