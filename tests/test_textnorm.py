from __future__ import annotations

import pytest

from assistant.textnorm import is_normalized, normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Set a timer for 25 minutes!", "set a timer for twenty five minutes"),
        ("Wake me at 7:30 PM.", "wake me at seven thirty p m"),
        ("7:30", "seven thirty"),
        ("7:05", "seven oh five"),
        ("7:00", "seven o'clock"),
        ("19:30", "nineteen thirty"),
        ("at 19:00", "at nineteen hundred"),
        ("10am", "ten a m"),
        ("6 p.m.", "six p m"),
        ("5%", "five percent"),
        ("Set it to 20°C", "set it to twenty degrees celsius"),
        ("preheat to 350°F", "preheat to three hundred fifty degrees fahrenheit"),
        ("-18 degrees", "minus eighteen degrees"),
        ("spin at 1,200", "spin at one thousand two hundred"),
        ("2.5 hours", "two point five hours"),
        ("30 mins", "thirty minutes"),
        ("on the 5th of May", "on the fifth of may"),
        ("What’s the time?", "what's the time"),
        ("rock & roll", "rock and roll"),
        ("'quoted' words", "quoted words"),
        ("  lots   of\tspace ", "lots of space"),
        ("Café au lait", "cafe au lait"),
    ],
)
def test_normalize_writes_text_as_a_recognizer_emits_it(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize("text", ["Set a TIMER for 25 minutes!", "7:30 pm", "20°C", "it's 5%"])
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert is_normalized(once)


def test_is_normalized_rejects_digits_capitals_and_punctuation() -> None:
    assert is_normalized("set a timer for five minutes")
    assert not is_normalized("set a timer for 5 minutes")
    assert not is_normalized("Set a timer")
    assert not is_normalized("set a timer.")
    assert not is_normalized("")
