"""How the simulated devices put values into words, for refusal reasons and notices.

Replies say values the way the slot types do, so the reasons and notices here use
the same slot types: "seven thirty p m", "two hours fifty minutes", "minus
eighteen degrees".
"""

from __future__ import annotations

from assistant.config import Section
from assistant.slot_types import ClockTimeSlot, DurationSlot
from assistant.spoken import number_words

_NO_SETTINGS = Section({}, __name__)
_CLOCK_TIME = ClockTimeSlot(_NO_SETTINGS)
_DURATION = DurationSlot(_NO_SETTINGS)


def say_time(clock_time: str) -> str:
    """ "19:30" -> "seven thirty p m"."""
    return _CLOCK_TIME.say(clock_time)


def say_duration(seconds: float) -> str:
    """10200 -> "two hours fifty minutes"."""
    return _DURATION.say(round(seconds))


def say_degrees(value: float) -> str:
    """-18 -> "minus eighteen degrees"."""
    return f"{number_words(tidy(value))} {'degree' if abs(value) == 1 else 'degrees'}"


def say_degree_range(low: float, high: float) -> str:
    """ "from minus twenty four to minus sixteen degrees"."""
    return f"from {number_words(tidy(low))} to {say_degrees(high)}"


def say_percent(value: float) -> str:
    return f"{number_words(tidy(value))} percent"


def say_name(canonical: str) -> str:
    """A canonical enum value as words: "hand_wash" -> "hand wash"."""
    return canonical.replace("_", " ")


def tidy(value: float) -> int | float:
    """A whole number as int (21.0 -> 21), anything else as float rounded to 0.1."""
    rounded = round(float(value), 1)
    return int(rounded) if rounded.is_integer() else rounded
