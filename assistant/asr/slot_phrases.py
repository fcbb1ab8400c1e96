"""Every phrase a slot can be said with, for recognizer grammars.

The phrases come from the slot type itself (`SlotType.variants`), so the grammar
says values exactly the way the intent model reads them back. What changes per
type is which values are listed:

- enumerations: every value; free text: its examples (a grammar cannot hold
  free text, so only the examples can be recognized);
- numbers, percentages, temperatures: every value of the slot's range and step;
- clock times: all 1,440 minutes of the day; dates: the relative days, weekdays
  and every month-day;
- durations: every whole number of minutes up to the slot's maximum (hours and
  minutes, "an hour and a half", "ninety minutes"), plus minutes-and-seconds
  below `SECONDS_GRID_LIMIT_S`: people say "two minutes thirty seconds", not
  "three hours two minutes and five seconds".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from assistant.slot_types import (
    ClockTimeSlot,
    DateSlot,
    DecimalSlot,
    DurationSlot,
    EnumSlot,
    IntegerSlot,
    PercentageSlot,
    SlotType,
    TemperatureSlot,
    TextSlot,
    Value,
)

RangedSlot = IntegerSlot | DecimalSlot | PercentageSlot | TemperatureSlot

log = logging.getLogger(__name__)

MAX_NUMBER_VALUES = 5_000  # a number slot with more values than this is thinned to this many
SECONDS_GRID_LIMIT_S = 600  # durations below ten minutes may have seconds
MINUTES_PER_DAY = 1_440


def slot_values(slot_type: SlotType) -> Iterator[Value]:
    """The values of `slot_type` a grammar lists (see the module docstring)."""
    if isinstance(slot_type, EnumSlot):
        yield from slot_type.values
    elif isinstance(slot_type, TextSlot):
        yield from slot_type.examples
    elif isinstance(slot_type, ClockTimeSlot):
        for minute in range(MINUTES_PER_DAY):
            yield f"{minute // 60:02d}:{minute % 60:02d}"
    elif isinstance(slot_type, DateSlot):
        yield from DateSlot.RELATIVE
        yield from DateSlot.WEEKDAYS
        for month, days in enumerate(DateSlot.DAYS_IN_MONTH, start=1):
            for day in range(1, days + 1):
                yield f"{month:02d}-{day:02d}"
    elif isinstance(slot_type, DurationSlot):
        yield from _duration_values(slot_type)
    elif isinstance(slot_type, (IntegerSlot, DecimalSlot, PercentageSlot, TemperatureSlot)):
        yield from _range_values(slot_type)
    else:
        raise TypeError(f"no grammar values for slot type {slot_type.name!r}")


def slot_phrases(slot_type: SlotType) -> list[str]:
    """Every distinct spoken phrase of the values `slot_values` lists."""
    phrases: dict[str, None] = {}
    for value in slot_values(slot_type):
        for phrase in slot_type.variants(value):
            phrases[" ".join(phrase.split())] = None
    return list(phrases)


def _duration_values(slot: DurationSlot) -> Iterator[int]:
    low, high = int(slot.min), int(slot.max)
    seconds = {s for s in range(1, SECONDS_GRID_LIMIT_S) if low <= s <= high}
    whole_minutes = {60 * m for m in range(1, high // 60 + 1) if low <= 60 * m <= high}
    yield from sorted(seconds | whole_minutes)


def _range_values(slot: RangedSlot) -> Iterator[Value]:
    steps = round((slot.max - slot.min) / slot.step)
    stride = max(1, -(-(steps + 1) // MAX_NUMBER_VALUES))
    if stride > 1:
        log.warning(
            "%s slot range %g..%g step %g has %d values; the grammar lists every %dth",
            slot.name, slot.min, slot.max, slot.step, steps + 1, stride,
        )  # fmt: skip
    for index in range(0, steps + 1, stride):
        value = round(slot.min + index * slot.step, 6)
        yield int(value) if float(value).is_integer() else value
