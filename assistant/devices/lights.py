"""Lights per room: on/off, brightness and colour."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.devices.base import Capability, Outcome

ROOMS = ("living_room", "bedroom", "kitchen", "bathroom", "office", "hallway", "dining_room", "kids_room")
DEFAULT_ROOM = "living_room"  # where the speaker stands when no room is named
STEP_PERCENT = 20  # "brighter" with no amount
MIN_DIMMED_PERCENT = 1  # dimming never switches a light off


@dataclass
class _Light:
    on: bool = False
    brightness: int = 80  # percent
    colour: str = "warm_white"


class Lights(Capability):
    domain = "lights"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._rooms = {room: _Light() for room in ROOMS}

    def on(self, room: str = DEFAULT_ROOM) -> Outcome:
        light = self._light(room)
        if light is None:
            return _no_lights(room)
        light.on = True
        return Outcome.done()

    def off(self, room: str = DEFAULT_ROOM) -> Outcome:
        light = self._light(room)
        if light is None:
            return _no_lights(room)
        light.on = False
        return Outcome.done()

    def brightness(self, level: float, room: str = DEFAULT_ROOM) -> Outcome:
        light = self._light(room)
        if light is None:
            return _no_lights(room)
        light.on, light.brightness = True, round(level)
        return Outcome.done()

    def brighter(self, room: str = DEFAULT_ROOM, amount: float = STEP_PERCENT) -> Outcome:
        return self._change(room, amount)

    def dimmer(self, room: str = DEFAULT_ROOM, amount: float = STEP_PERCENT) -> Outcome:
        return self._change(room, -amount)

    def colour(self, colour: str, room: str = DEFAULT_ROOM) -> Outcome:
        light = self._light(room)
        if light is None:
            return _no_lights(room)
        light.on, light.colour = True, colour
        return Outcome.done()

    def state(self) -> dict[str, Any]:
        return {
            room: {"on": light.on, "brightness": light.brightness, "colour": light.colour}
            for room, light in self._rooms.items()
        }

    def _change(self, room: str, amount: float) -> Outcome:
        light = self._light(room)
        if light is None:
            return _no_lights(room)
        light.on = True
        light.brightness = max(MIN_DIMMED_PERCENT, min(100, light.brightness + round(amount)))
        return Outcome.done(level=light.brightness)

    def _light(self, room: str) -> _Light | None:
        return self._rooms.get(room)


def _no_lights(room: str) -> Outcome:
    return Outcome.refused(f"there are no smart lights in the {room.replace('_', ' ')}")
