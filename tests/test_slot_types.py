from __future__ import annotations

import random
from typing import Any

import pytest

from assistant.config import Section
from assistant.errors import ConfigError, ValueParseError
from assistant.slot_types import SlotType, make_slot_type
from assistant.textnorm import is_normalized

LISTS = {"room": {"living_room": ["living room", "lounge"], "kitchen": ["kitchen"]}}


def slot(**keys: Any) -> SlotType:
    return make_slot_type(Section(keys, "test.yaml", "slots.x"), LISTS)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("twenty five minutes", 1500),
        ("an hour and a half", 5400),
        ("one and a half hours", 5400),
        ("half an hour", 1800),
        ("a quarter of an hour", 900),
        ("three quarters of an hour", 2700),
        ("two hours and thirty minutes", 9000),
        ("one hour thirty minutes", 5400),
        ("ninety seconds", 90),
        ("a minute and a half", 90),
        ("a minute", 60),
        ("half a minute", 30),
        ("five minutes and ten seconds", 310),
        # as people say them (Home Assistant's timer sentences): no "a", a plural after "half a"
        ("two and half hours", 9000),
        ("five and half hour", 19800),
        ("half an hours", 1800),
        ("half a minutes", 30),
    ],
)
def test_duration_reads_spoken_lengths_in_seconds(text: str, seconds: int) -> None:
    assert slot(type="duration").parse(text) == seconds


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("seven thirty", "07:30"),
        ("seven thirty p m", "19:30"),
        ("half past seven", "07:30"),
        ("quarter to eight", "07:45"),
        ("quarter past six in the evening", "18:15"),
        ("ten past six", "06:10"),
        ("twenty minutes to nine p m", "20:40"),
        ("seven oh five a m", "07:05"),
        ("seven o'clock", "07:00"),
        ("noon", "12:00"),
        ("midnight", "00:00"),
        ("twelve thirty a m", "00:30"),
        ("eleven at night", "23:00"),
        ("five o'clock this evening", "17:00"),
        ("nine thirty this morning", "09:30"),
        ("ten tonight", "22:00"),
        ("nineteen hundred", "19:00"),
        ("twenty one fifteen", "21:15"),
    ],
)
def test_clock_time_reads_times_of_day(text: str, clock: str) -> None:
    assert slot(type="time").parse(text) == clock


@pytest.mark.parametrize("text", ["nineteen p m", "twenty five", "half to eight", "seven forty five minutes"])
def test_clock_time_rejects_impossible_times(text: str) -> None:
    with pytest.raises(ValueParseError):
        slot(type="time").parse(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("one eighty degrees", 180),
        ("two hundred degrees celsius", 200),
        ("minus eighteen", -18),
        ("negative twenty degrees", -20),
        ("twenty one point five", 21.5),
        ("three hundred fifty degrees fahrenheit", 176.7),  # converted to the slot's celsius
    ],
)
def test_temperature_reads_in_the_slot_unit(text: str, value: float) -> None:
    assert slot(type="temperature", min=-30, max=300).parse(text) == value


def test_temperature_in_fahrenheit_slot_converts_celsius() -> None:
    assert slot(type="temperature", min=0, max=500, unit="fahrenheit").parse("one hundred degrees celsius") == 212


@pytest.mark.parametrize(
    ("text", "value"), [("fifty percent", 50), ("fifty", 50), ("half", 50), ("maximum", 100), ("five per cent", 5)]
)
def test_percentage(text: str, value: int) -> None:
    assert slot(type="percentage").parse(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("today", "today"),
        ("the day after tomorrow", "day_after_tomorrow"),
        ("friday", "friday"),
        ("december fifth", "12-05"),
        ("the twenty first of june", "06-21"),
        ("march the third", "03-03"),
    ],
)
def test_date(text: str, value: str) -> None:
    assert slot(type="date").parse(text) == value


def test_date_rejects_days_a_month_lacks() -> None:
    with pytest.raises(ValueParseError):
        slot(type="date").parse("february thirtieth")


def test_enum_maps_synonyms_to_canonical_values_and_prefers_the_longest() -> None:
    program = slot(type="enum", values={"cotton": ["cotton", "cottons"], "cotton_eco": ["cotton eco"]})
    assert program.parse("cottons") == "cotton"
    assert program.read(["cotton", "eco", "please"], 0) == ("cotton_eco", 2)
    with pytest.raises(ValueParseError):
        program.parse("wool")


def test_enum_from_a_shared_list() -> None:
    room = slot(type="enum", list="room")
    assert room.parse("lounge") == "living_room"


def test_integer_refuses_fractions() -> None:
    spin = slot(type="integer", min=400, max=1600, step=200)
    assert spin.parse("twelve hundred") == 1200
    with pytest.raises(ValueParseError):
        spin.parse("two point five")


SLOT_DEFINITIONS: list[dict[str, Any]] = [
    {"type": "integer", "min": 0, "max": 2000, "step": 5},
    {"type": "integer", "min": -5, "max": 5},
    {"type": "decimal", "min": 0, "max": 30, "step": 0.5},
    {"type": "duration", "min": 1, "max": 86400},
    {"type": "time"},
    {"type": "date"},
    {"type": "temperature", "min": -30, "max": 300, "step": 0.5},
    {"type": "percentage", "step": 1},
    {"type": "enum", "list": "room"},
    {"type": "text", "examples": ["pasta", "soft boiled eggs"]},
]


@pytest.mark.parametrize("definition", SLOT_DEFINITIONS, ids=lambda d: str(d["type"]))
def test_every_sampled_value_reads_back_from_every_spoken_variant(definition: dict[str, Any]) -> None:
    """The generator's round trip: sample -> say every way -> parse -> same value."""
    slot_type = slot(**definition)
    rng = random.Random(7)
    for _ in range(1500):
        value = slot_type.sample(rng)
        for spoken in slot_type.variants(value):
            assert is_normalized(spoken), spoken
            assert slot_type.parse(spoken) == value, spoken


def test_every_clock_time_reads_back() -> None:
    clock = slot(type="time")
    for hour in range(24):
        for minute in range(60):
            value = f"{hour:02d}:{minute:02d}"
            for spoken in clock.variants(value):
                assert clock.parse(spoken) == value, spoken


def test_every_duration_up_to_a_day_reads_back() -> None:
    duration = slot(type="duration")
    for seconds in [*range(1, 3600), *range(3600, 86401, 60)]:
        for spoken in duration.variants(seconds):
            assert duration.parse(spoken) == seconds, spoken


def test_samples_stay_in_range() -> None:
    rng = random.Random(1)
    spin = slot(type="integer", min=400, max=1600, step=200)
    assert {spin.sample(rng) for _ in range(500)} == set(range(400, 1601, 200))
    short = slot(type="duration", min=60, max=600)
    assert all(60 <= short.sample(rng) <= 600 for _ in range(500))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"type": "integer", "min": 5, "max": 1}, "slots.x.min: min 5 is greater than max 1"),
        ({"type": "integer", "min": 0}, "slots.x.max: expected a number, got nothing"),
        ({"type": "integer", "min": 0, "max": 9, "unit": "rpm"}, "unknown key 'unit'"),
        ({"type": "integr"}, "slots.x.type: 'integr' is not one of"),
        ({"type": "enum"}, "exactly one of 'values' or 'list'"),
        ({"type": "enum", "list": "rooms"}, "undefined list 'rooms'"),
        ({"type": "enum", "values": {"a": ["x"], "b": ["x"]}}, "phrase 'x' means both 'a' and 'b'"),
        ({"type": "enum", "values": {"super_cool": []}}, "'super_cool' is not speakable text"),
        ({"type": "enum", "values": ["Latte"]}, "'Latte' is not speakable text"),
        ({"type": "enum", "values": {"on": [False]}}, "YAML reads unquoted yes/no/on/off as booleans"),
        ({"type": "text", "examples": ["Pasta!"]}, "examples[0]: 'Pasta!' must be written as a recognizer emits it"),
        ({"type": "text", "examples": ["a b c d e"], "max_words": 2}, "longer than max_words"),
        ({"type": "temperature", "min": 0, "max": 9, "unit": "kelvin"}, "'kelvin' is not one of celsius, fahrenheit"),
        ({"type": "decimal", "min": 0, "max": 1, "step": 0}, "slots.x.step: must be greater than 0"),
    ],
)
def test_bad_slot_definitions_name_the_file_key_and_problem(definition: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        slot(**definition)
    assert str(error.value).startswith("test.yaml: slots.x")
    assert message in str(error.value)
