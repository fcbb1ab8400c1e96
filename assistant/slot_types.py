"""Typed slot values: how each kind of slot is read from speech, said back and sampled.

Each slot type does four things with the same rules, so they cannot drift apart:
- `read(words, i)`: the value spoken at position i and where it ends, or None;
- `parse(text)`: the value of a whole span, or ValueParseError;
- `variants(value)`: the ways people say it (the first is the one replies use);
- `sample(rng)`: a value from the slot's range, for the corpus generator.

Typed values are plain JSON values: int seconds for durations, "HH:MM" for clock
times, numbers for temperatures (in the slot's unit) and percentages, canonical
names for enumerations.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from assistant.config import Section, describe_value
from assistant.errors import ValueParseError
from assistant.spoken import (
    SMALL,
    SMALL_WORDS,
    Number,
    number_variants,
    number_words,
    ordinal_words,
    parse_number,
    parse_ordinal,
    read_below_hundred,
)
from assistant.textnorm import is_normalized

Value = int | float | str
SECONDS_PER_DAY = 86_400


class SlotType(ABC):
    """The behaviour shared by every slot type; subclasses add their own keys."""

    name: ClassVar[str]
    KEYS: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def read(self, words: Sequence[str], start: int) -> tuple[Value, int] | None:
        """The value spoken at `words[start]` and the index after it, or None."""

    @abstractmethod
    def variants(self, value: Value) -> list[str]:
        """Spoken forms of `value`; every one parses back to `value`."""

    @abstractmethod
    def sample(self, rng: random.Random) -> Value:
        """A value a user might ask for, drawn from the slot's range."""

    def parse(self, text: str) -> Value:
        words = text.split()
        read = self.read(words, 0)
        if read is None or read[1] != len(words):
            raise ValueParseError(f"{text!r} is not a {self.name}")
        return read[0]

    def say(self, value: Value) -> str:
        """How a reply says the value."""
        return self.variants(value)[0]


class _RangedNumber(SlotType):
    """Shared by the number-like types: a range with a step, checked at load."""

    KEYS = frozenset({"min", "max", "step"})
    default_range: ClassVar[tuple[float | None, float | None]] = (None, None)
    signed_words = True
    pairs = False

    def __init__(self, section: Section) -> None:
        low, high = self.default_range
        self.min = section.number("min", low)
        self.max = section.number("max", high)
        self.step = section.number("step", 1, minimum=0)
        if self.step <= 0:
            raise section.error("must be greater than 0", "step")
        if self.min > self.max:
            raise section.error(f"min {self.min} is greater than max {self.max}", "min")

    def sample(self, rng: random.Random) -> Value:
        steps = int((self.max - self.min) // self.step)
        return _tidy(self.min + self.step * rng.randint(0, steps))

    def read_number(self, words: Sequence[str], start: int) -> tuple[Number, int] | None:
        return parse_number(words, start, signed=self.signed_words, pairs=self.pairs)


class IntegerSlot(_RangedNumber):
    name = "integer"

    def __init__(self, section: Section) -> None:
        super().__init__(section)
        for key in ("min", "max", "step"):
            if not float(getattr(self, key)).is_integer():
                raise section.error("an integer slot needs whole numbers", key)

    def read(self, words: Sequence[str], start: int) -> tuple[Value, int] | None:
        read = self.read_number(words, start)
        if read is None or not isinstance(read[0], int):
            return None
        return read

    def variants(self, value: Value) -> list[str]:
        return number_variants(_number(value), pairs=self.pairs)


class DecimalSlot(_RangedNumber):
    name = "decimal"

    def read(self, words: Sequence[str], start: int) -> tuple[Value, int] | None:
        return self.read_number(words, start)

    def variants(self, value: Value) -> list[str]:
        return number_variants(_number(value))


class PercentageSlot(_RangedNumber):
    name = "percentage"
    default_range = (0, 100)
    signed_words = False
    WORDS: ClassVar[dict[str, int]] = {"half": 50, "full": 100, "maximum": 100, "max": 100}

    def read(self, words: Sequence[str], start: int) -> tuple[Value, int] | None:
        if start < len(words) and words[start] in self.WORDS:
            return self.WORDS[words[start]], start + 1
        read = self.read_number(words, start)
        if read is None:
            return None
        value, end = read
        if words[end : end + 1] == ["percent"]:
            end += 1
        elif words[end : end + 2] == ["per", "cent"]:
            end += 2
        return value, end

    def variants(self, value: Value) -> list[str]:
        spoken = number_variants(_number(value))
        forms = [f"{s} percent" for s in spoken] + spoken
        forms += [word for word, number in self.WORDS.items() if number == value]
        return forms


class TemperatureSlot(_RangedNumber):
    """A temperature in the slot's unit; a value spoken in the other unit is converted."""

    name = "temperature"
    KEYS = _RangedNumber.KEYS | {"unit"}
    UNIT_WORDS: ClassVar[dict[str, str]] = {
        "celsius": "celsius", "centigrade": "celsius", "fahrenheit": "fahrenheit",
    }  # fmt: skip
    pairs = True  # "one eighty", "three fifty"

    def __init__(self, section: Section) -> None:
        super().__init__(section)
        self.unit = section.choice("unit", ("celsius", "fahrenheit"), "celsius")

    def read(self, words: Sequence[str], start: int) -> tuple[Value, int] | None:
        read = self.read_number(words, start)
        if read is None:
            return None
        value, end = read
        if words[end : end + 1] in (["degrees"], ["degree"]):
            end += 1
        spoken_unit = self.UNIT_WORDS.get(words[end]) if end < len(words) else None
        if spoken_unit is not None:
            end += 1
            value = _convert_temperature(value, spoken_unit, self.unit)
        return value, end

    def variants(self, value: Value) -> list[str]:
        degrees = "degree" if abs(_number(value)) == 1 else "degrees"
        forms = []
        for spoken in number_variants(_number(value), pairs=self.pairs):
            forms += [f"{spoken} {degrees}", spoken, f"{spoken} {degrees} {self.unit}"]
        return forms


class DurationSlot(_RangedNumber):
    """A length of time in whole seconds: "an hour and a half" -> 5400."""

    name = "duration"
    default_range = (1, SECONDS_PER_DAY)
    UNITS: ClassVar[dict[str, int]] = {
        "second": 1, "seconds": 1, "minute": 60, "minutes": 60, "hour": 3600, "hours": 3600,
    }  # fmt: skip
    UNIT_NAMES: ClassVar[tuple[tuple[int, str], ...]] = ((3600, "hour"), (60, "minute"), (1, "second"))

    def read(self, words: Sequence[str], start: int) -> tuple[Value, int] | None:
        part = self._read_part(words, start)
        if part is None:
            return None
        total, end = part
        while True:
            joined = end + 1 if words[end : end + 1] == ["and"] else end
            part = self._read_part(words, joined)
            if part is None:
                break
            total, end = total + part[0], part[1]
        return round(total), end

    def _read_part(self, words: Sequence[str], i: int) -> tuple[float, int] | None:
        """One quantity with its unit: "twenty minutes", "an hour and a half",
        "half an hour", "a quarter of an hour"."""
        head = words[i : i + 5]
        for phrase, seconds in (
            (["three", "quarters", "of", "an", "hour"], 2700),
            (["a", "quarter", "of", "an", "hour"], 900),
            (["quarter", "of", "an", "hour"], 900),
        ):
            if head[: len(phrase)] == phrase:
                return seconds, i + len(phrase)
        if head[:1] == ["half"] and head[1:2] in (["an"], ["a"]) and head[2:3]:
            unit = self.UNITS.get(head[2])  # "half an hours" too: people say it (Home Assistant's sentences do)
            return (unit / 2, i + 3) if unit is not None else None
        if head[:1] in (["a"], ["an"]):
            quantity: float = 1
            end = i + 1
        else:
            read = parse_number(words, i)
            if read is None:
                return None
            quantity, end = read
        if end >= len(words) or words[end] not in self.UNITS:
            return None
        unit = self.UNITS[words[end]]
        end += 1
        if words[end : end + 3] == ["and", "a", "half"]:
            quantity, end = quantity + 0.5, end + 3
        return quantity * unit, end

    def variants(self, value: Value) -> list[str]:
        seconds = int(_number(value))
        if seconds == 0:
            return ["zero seconds"]
        hours, remainder = divmod(seconds, 3600)
        minutes, rest = divmod(remainder, 60)
        counts = (hours, minutes, rest)
        parts = [_count(n, unit) for n, (_, unit) in zip(counts, self.UNIT_NAMES, strict=False) if n]
        forms = [" ".join(parts)]
        if len(parts) > 1:
            forms.append(" ".join(parts[:-1]) + " and " + parts[-1])
        if seconds in (3600, 60, 1):
            forms.append(("an " if seconds == 3600 else "a ") + parts[0].split()[1])
        halves = {1800: "half an hour", 30: "half a minute"}
        if seconds in halves:
            forms.append(halves[seconds])
        if seconds == 900:
            forms += ["a quarter of an hour", "quarter of an hour"]
        if seconds == 2700:
            forms.append("three quarters of an hour")
        if minutes == 30 and rest == 0 and hours:
            forms.append(f"{number_words(hours)} and a half hours")
            forms.append("an hour and a half" if hours == 1 else f"{number_words(hours)} hours and a half")
        if rest == 30 and hours == 0 and minutes:
            forms.append(f"{number_words(minutes)} and a half minutes")
            if minutes == 1:
                forms.append("a minute and a half")
        if hours and rest == 0 and seconds <= 3 * 3600:
            forms.append(_count(seconds // 60, "minute"))
        if hours == 0 and minutes and rest and seconds <= 300:
            forms.append(_count(seconds, "second"))
        return forms

    def sample(self, rng: random.Random) -> Value:
        pools = [
            range(5, 60, 5),
            [60 * m for m in range(1, 60)],
            [3600 * h for h in range(1, 13)],
            [3600 * h + 60 * m for h in range(1, 4) for m in (10, 15, 20, 30, 40, 45)],
            [60 * m + s for m in range(1, 5) for s in (15, 30, 45)],
        ]
        pools = [[s for s in pool if self.min <= s <= self.max] for pool in pools]
        pool = rng.choice([pool for pool in pools if pool] or [[int(self.min)]])
        return rng.choice(pool)


class ClockTimeSlot(SlotType):
    """A time of day as "HH:MM" (24-hour). A bare "seven" is read as said (07:00)."""

    name = "time"
    MORNING, EVENING, NIGHT = "am", "pm", "night"
    MARKERS: ClassVar[tuple[tuple[tuple[str, ...], str], ...]] = (
        (("a", "m"), "am"), (("am",), "am"), (("in", "the", "morning"), "am"),
        (("p", "m"), "pm"), (("pm",), "pm"), (("in", "the", "afternoon"), "pm"),
        (("in", "the", "evening"), "pm"), (("at", "night"), "night"),
        (("this", "morning"), "am"), (("this", "afternoon"), "pm"), (("this", "evening"), "pm"),
        (("tonight",), "night"),
    )  # fmt: skip
    NAMED: ClassVar[dict[str, str]] = {"noon": "12:00", "midday": "12:00", "midnight": "00:00"}

    def __init__(self, section: Section) -> None:
        del section  # a clock time has no settings of its own

    def read(self, words: Sequence[str], start: int) -> tuple[Value, int] | None:
        if start < len(words) and words[start] in self.NAMED:
            return self.NAMED[words[start]], start + 1
        read = self._read_relative(words, start) or self._read_hour_first(words, start)
        if read is None:
            return None
        hour, minute, end = read
        for phrase, marker in self.MARKERS:
            if tuple(words[end : end + len(phrase)]) == phrase:
                if hour > 12 or hour == 0:
                    return None  # "nineteen p m" is not a time
                hour = _apply_marker(hour, marker)
                end += len(phrase)
                break
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            return None
        return f"{hour:02d}:{minute:02d}", end

    @staticmethod
    def _read_relative(words: Sequence[str], i: int) -> tuple[int, int, int] | None:
        """ "half past seven", "quarter to eight", "twenty minutes past six"."""
        if words[i : i + 1] in (["half"], ["quarter"]):
            minutes, end = (30 if words[i] == "half" else 15), i + 1
        else:
            read = read_below_hundred(words, i)
            if read is None or not 1 <= read[0] <= 59:
                return None
            minutes, end = read
            if words[end : end + 1] in (["minutes"], ["minute"]):
                end += 1
        direction = words[end] if end < len(words) else ""
        if direction not in ("past", "after", "to", "before", "till"):
            return None
        hour_read = read_below_hundred(words, end + 1)
        if hour_read is None or not 1 <= hour_read[0] <= 12:
            return None
        hour, end = hour_read
        if direction in ("past", "after"):
            return hour, minutes, end
        if minutes == 30:
            return None  # "half to eight" is not English
        return (hour - 1) or 12, 60 - minutes, end

    @staticmethod
    def _read_hour_first(words: Sequence[str], i: int) -> tuple[int, int, int] | None:
        """ "seven", "seven o'clock", "seven oh five", "seven thirty", "nineteen hundred"."""
        read = read_below_hundred(words, i)
        if read is None or read[0] > 23:
            return None
        hour, end = read
        if words[end : end + 1] == ["o'clock"]:
            return hour, 0, end + 1
        if words[end : end + 2] == ["o", "clock"]:
            return hour, 0, end + 2
        if words[end : end + 1] == ["hundred"] and hour >= 13:
            end += 1
            if words[end : end + 1] == ["hours"]:
                end += 1
            return hour, 0, end
        if words[end : end + 1] == ["oh"] and 1 <= SMALL.get(words[end + 1] if end + 1 < len(words) else "", 0) <= 9:
            return hour, SMALL[words[end + 1]], end + 2
        minutes = read_below_hundred(words, end)
        if minutes is not None and 10 <= minutes[0] <= 59:
            return hour, minutes[0], minutes[1]
        return hour, 0, end

    def variants(self, value: Value) -> list[str]:
        hour, minute = (int(part) for part in str(value).split(":"))
        if hour == 0 and minute == 0:
            return ["midnight", "twelve a m"]
        h12 = hour % 12 or 12
        said = SMALL_WORDS[h12]
        next_hour = SMALL_WORDS[h12 % 12 + 1]
        if minute == 0:
            bases = [f"{said} o'clock", said]
        elif minute < 10:
            bases = [f"{said} oh {SMALL_WORDS[minute]}"]
        else:
            bases = [f"{said} {number_words(minute)}"]
        if minute == 15:
            bases.append(f"quarter past {said}")
        elif minute == 30:
            bases.append(f"half past {said}")
        elif minute % 5 == 0 and 0 < minute < 30:
            bases.append(f"{number_words(minute)} past {said}")
        elif minute % 5 == 0 and minute > 30 and h12 not in (11, 12):
            to = 60 - minute
            bases.append(f"{'quarter' if to == 15 else number_words(to)} to {next_hour}")
        if hour == 0:
            markers = [" a m"]
        elif hour < 12:
            markers = [" a m", "", " in the morning"] if hour >= 5 else [" a m", ""]
        elif hour == 12:
            markers = [" p m", "", " in the afternoon"]
        else:
            markers = [" p m", " in the afternoon" if hour < 17 else " in the evening" if hour < 22 else " at night"]
        forms = [base + marker for marker in markers for base in bases]
        if hour == 12 and minute == 0:
            forms.insert(0, "noon")
        if hour >= 13:
            forms.append(
                f"{number_words(hour)} hundred"
                if minute == 0
                else f"{number_words(hour)} {number_words(minute) if minute >= 10 else 'oh ' + SMALL_WORDS[minute]}"
            )
        return forms

    def sample(self, rng: random.Random) -> Value:
        minute = rng.choice([0, 0, 0, 15, 30, 30, 45, rng.randrange(0, 60, 5), rng.randrange(60)])
        return f"{rng.randrange(24):02d}:{minute:02d}"


class DateSlot(SlotType):
    """A day: "yesterday", "today", "tomorrow", "day_after_tomorrow", a weekday, or "MM-DD"."""

    name = "date"
    RELATIVE: ClassVar[dict[str, tuple[str, ...]]] = {
        "yesterday": ("yesterday",),
        "today": ("today",),
        "tomorrow": ("tomorrow",),
        "day_after_tomorrow": ("the day after tomorrow", "day after tomorrow"),
    }
    WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    MONTHS = (
        "january", "february", "march", "april", "may", "june", "july",
        "august", "september", "october", "november", "december",
    )  # fmt: skip
    DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

    def __init__(self, section: Section) -> None:
        del section  # a date has no settings of its own

    def read(self, words: Sequence[str], start: int) -> tuple[Value, int] | None:
        for value, phrases in self.RELATIVE.items():
            for phrase in phrases:
                tokens = phrase.split()
                if list(words[start : start + len(tokens)]) == tokens:
                    return value, start + len(tokens)
        if start >= len(words):
            return None
        if words[start] in self.WEEKDAYS:
            return words[start], start + 1
        if words[start] in self.MONTHS:  # "december fifth", "december the fifth"
            month = self.MONTHS.index(words[start]) + 1
            day_at = start + 2 if words[start + 1 : start + 2] == ["the"] else start + 1
            day = parse_ordinal(words, day_at)
            if day is not None:
                return self._month_day(month, day[0], day[1])
            return None
        day_at = start + 1 if words[start] == "the" else start  # "the fifth of december"
        day = parse_ordinal(words, day_at)
        if day is None or words[day[1] : day[1] + 1] != ["of"] or day[1] + 1 >= len(words):
            return None
        month_word = words[day[1] + 1]
        if month_word not in self.MONTHS:
            return None
        return self._month_day(self.MONTHS.index(month_word) + 1, day[0], day[1] + 2)

    def _month_day(self, month: int, day: int, end: int) -> tuple[Value, int] | None:
        if not 1 <= day <= self.DAYS_IN_MONTH[month - 1]:
            return None
        return f"{month:02d}-{day:02d}", end

    def variants(self, value: Value) -> list[str]:
        text = str(value)
        if text in self.RELATIVE:
            return list(self.RELATIVE[text])
        if text in self.WEEKDAYS:
            return [text]
        month, day = (int(part) for part in text.split("-"))
        month_word, day_words = self.MONTHS[month - 1], ordinal_words(day)
        return [f"{month_word} {day_words}", f"{month_word} the {day_words}", f"the {day_words} of {month_word}"]

    def sample(self, rng: random.Random) -> Value:
        kind = rng.random()
        if kind < 0.35:
            return rng.choice(list(self.RELATIVE))
        if kind < 0.7:
            return rng.choice(self.WEEKDAYS)
        month = rng.randrange(12)
        return f"{month + 1:02d}-{rng.randint(1, self.DAYS_IN_MONTH[month]):02d}"


class EnumSlot(SlotType):
    """A closed set of canonical values, each said in one or more ways.

    `values` is a list of canonical names that are also what people say, or a
    mapping from canonical name to its synonyms. The canonical name is itself a
    synonym when it is speakable text.
    """

    name = "enum"
    KEYS = frozenset({"values", "list"})

    def __init__(self, section: Section, lists: Mapping[str, Any] | None = None) -> None:
        if section.has("values") == section.has("list"):
            raise section.error("an enum slot needs exactly one of 'values' or 'list'")
        if section.has("list"):
            list_name = section.string("list")
            if lists is None or list_name not in lists:
                known = ", ".join(sorted(lists or {})) or "none"
                raise section.error(f"undefined list {list_name!r} (defined: {known})", "list")
            raw_values, where = (
                lists[list_name],
                Section({"values": lists[list_name]}, section.source, f"lists.{list_name}"),
            )
        else:
            raw_values, where = section.data["values"], section
        self.phrases: dict[str, list[str]] = _enum_phrases(raw_values, where)
        self._by_phrase: dict[tuple[str, ...], str] = {}
        for canonical, phrases in self.phrases.items():
            for phrase in phrases:
                owner = self._by_phrase.setdefault(tuple(phrase.split()), canonical)
                if owner != canonical:
                    raise where.error(f"phrase {phrase!r} means both {owner!r} and {canonical!r}", "values")
        self._longest = max(len(p) for p in self._by_phrase)

    @property
    def values(self) -> list[str]:
        return list(self.phrases)

    def read(self, words: Sequence[str], start: int) -> tuple[Value, int] | None:
        for length in range(min(self._longest, len(words) - start), 0, -1):
            canonical = self._by_phrase.get(tuple(words[start : start + length]))
            if canonical is not None:
                return canonical, start + length
        return None

    def variants(self, value: Value) -> list[str]:
        return list(self.phrases[str(value)])

    def sample(self, rng: random.Random) -> Value:
        return rng.choice(self.values)


# Said just before a free-text value and part of it where the slot's examples have them
# ("some jazz", "my workout playlist", "the beatles"); a timer's name never has one.
SPOKEN_DETERMINERS = frozenset({"my", "some", "the", "a", "an", "our", "your"})


class TextSlot(SlotType):
    """Short free text (a timer's name, a reminder), kept as spoken."""

    name = "text"
    KEYS = frozenset({"examples", "max_words"})

    def __init__(self, section: Section) -> None:
        self.max_words = section.integer("max_words", 4, minimum=1)
        self.examples = section.strings("examples")
        for index, example in enumerate(self.examples):
            check_spoken(example, section, f"examples[{index}]")
            if len(example.split()) > self.max_words:
                raise section.error(f"longer than max_words ({self.max_words})", f"examples[{index}]")
        # whether a value takes the determiner said before it, as the examples do
        self.holds_determiners = any(example.split()[0] in SPOKEN_DETERMINERS for example in self.examples)

    def read(self, words: Sequence[str], start: int) -> tuple[Value, int] | None:
        end = min(len(words), start + self.max_words)
        return (" ".join(words[start:end]), end) if end > start else None

    def variants(self, value: Value) -> list[str]:
        return [str(value)]

    def sample(self, rng: random.Random) -> Value:
        return rng.choice(self.examples)


SLOT_TYPES: dict[str, type[SlotType]] = {
    cls.name: cls
    for cls in (IntegerSlot, DecimalSlot, DurationSlot, ClockTimeSlot, DateSlot,
                TemperatureSlot, PercentageSlot, EnumSlot, TextSlot)
}  # fmt: skip


def make_slot_type(section: Section, lists: Mapping[str, Any]) -> SlotType:
    """Build a slot's type from its YAML keys; `lists` holds the shared enum lists."""
    cls = SLOT_TYPES[section.choice("type", tuple(SLOT_TYPES))]
    section.check_keys(cls.KEYS | _COMMON_SLOT_KEYS, {"type"})
    if cls is EnumSlot:
        return EnumSlot(section, lists)
    return cls(section)  # type: ignore[call-arg]


_COMMON_SLOT_KEYS = frozenset({"type", "required", "ask", "description"})


def _enum_phrases(raw: Any, where: Section) -> dict[str, list[str]]:
    if isinstance(raw, list):
        raw = {item: [] for item in raw} if all(isinstance(i, str) for i in raw) else raw
    if not isinstance(raw, Mapping) or not raw:
        raise where.error("expected a non-empty list of values or a mapping of value to synonyms", "values")
    phrases: dict[str, list[str]] = {}
    for canonical, synonyms in raw.items():
        key = f"values.{canonical}"
        if synonyms is None:
            synonyms = []
        if isinstance(synonyms, str):
            synonyms = [synonyms]
        if not isinstance(canonical, str):
            raise where.error(f"a value name must be a string, got {describe_value(canonical)}", key)
        if not isinstance(synonyms, list):
            raise where.error(f"expected a list of synonyms, got {describe_value(synonyms)}", key)
        said = [canonical] if is_normalized(canonical) else []
        for index, synonym in enumerate(synonyms):
            if not isinstance(synonym, str):
                raise where.error(f"a synonym must be a string, got {describe_value(synonym)}", f"{key}[{index}]")
            check_spoken(synonym, where, f"{key}[{index}]")
            if synonym not in said:
                said.append(synonym)
        if not said:
            raise where.error(f"{canonical!r} is not speakable text; give it synonyms", key)
        phrases[canonical] = said
    return phrases


def check_spoken(text: str, section: Section, key: str) -> None:
    """Words in our own files must be as a recognizer emits them, or they could
    never match what the device hears."""
    if not is_normalized(text):
        raise section.error(
            f"{text!r} must be written as a recognizer emits it: lowercase words, no digits or punctuation", key
        )


def _number(value: Value) -> Number:
    if isinstance(value, str):
        raise ValueParseError(f"expected a number, got {value!r}")
    return value


def _tidy(value: float) -> Number:
    value = round(value, 6)
    return int(value) if float(value).is_integer() else value


def _count(n: int, unit: str) -> str:
    return f"one {unit}" if n == 1 else f"{number_words(n)} {unit}s"


def _apply_marker(hour: int, marker: str) -> int:
    if marker == "am":
        return 0 if hour == 12 else hour
    if marker == "pm":
        return hour if hour == 12 else hour + 12
    # "at night": eleven at night is 23:00, two at night is 02:00
    if hour == 12:
        return 0
    return hour + 12 if hour >= 6 else hour


def _convert_temperature(value: Number, spoken: str, wanted: str) -> Number:
    if spoken == wanted:
        return value
    converted = (value - 32) * 5 / 9 if wanted == "celsius" else value * 9 / 5 + 32
    return _tidy(round(converted, 1))
