"""Text normalisation: any input text, written the way a speech recognizer emits it.

Typed text, recognizer output and data set sentences all pass through `normalize`
so the model sees one form: lowercase ASCII words, no punctuation (apostrophes inside
words stay: "what's"), digits and symbols spoken ("7:30" -> "seven thirty",
"5%" -> "five percent", "20°C" -> "twenty degrees celsius").
"""

from __future__ import annotations

import re
import unicodedata

from assistant.spoken import SMALL_WORDS, number_words, ordinal_words

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_MERIDIEM = r"(?:\s*(a|p)\.?\s?m\b\.?)"
_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"

_CLOCK = re.compile(rf"\b(\d{{1,2}}):(\d{{2}}){_MERIDIEM}?")
_HOUR_MERIDIEM = re.compile(rf"\b(\d{{1,2}}){_MERIDIEM}")
_TEMPERATURE = re.compile(rf"(-?{_NUMBER})\s*°\s*([cf]\b)?")
_PERCENT = re.compile(rf"(-?{_NUMBER})\s*%")
_ORDINAL = re.compile(r"\b(\d{1,2})(st|nd|rd|th)\b")
_UNIT = re.compile(rf"({_NUMBER})\s*(mins?|hrs?|secs?)\b")
_NUMBER_TOKEN = re.compile(rf"(?<![\w.])(-?)({_NUMBER})")
_SYMBOLS = {"&": " and ", "+": " plus ", "@": " at ", "=": " equals "}
_UNIT_WORDS = {"min": "minutes", "mins": "minutes", "hr": "hours", "hrs": "hours", "sec": "seconds", "secs": "seconds"}
_NOT_WORD = re.compile(r"[^a-z' ]+")
_STRAY_APOSTROPHE = re.compile(r"(?<![a-z])'|'(?![a-z])")


def normalize(text: str) -> str:
    """The recognizer-style form of `text`."""
    text = unicodedata.normalize("NFKD", text).translate(_APOSTROPHES).lower()
    text = "".join(
        char for char in text if not unicodedata.combining(char)
    )  # "café" -> "cafe", as English recognizers spell it
    text = _CLOCK.sub(_say_clock, text)
    text = _HOUR_MERIDIEM.sub(lambda m: f"{_say_number(m.group(1))} {m.group(2)} m", text)
    text = _TEMPERATURE.sub(_say_temperature, text)
    text = _PERCENT.sub(lambda m: f" {_say_number(m.group(1))} percent ", text)
    text = _ORDINAL.sub(
        lambda m: f" {ordinal_words(int(m.group(1)))} " if 0 < int(m.group(1)) < 40 else m.group(0), text
    )
    text = _UNIT.sub(lambda m: f"{m.group(1)} {_UNIT_WORDS[m.group(2)]}", text)
    text = _NUMBER_TOKEN.sub(lambda m: f" {_say_number(m.group(1) + m.group(2))} ", text)
    for symbol, words in _SYMBOLS.items():
        text = text.replace(symbol, words)
    text = _NOT_WORD.sub(" ", text)
    text = _STRAY_APOSTROPHE.sub(" ", text)
    return " ".join(text.split())


def is_normalized(text: str) -> bool:
    """True when `text` is already in recognizer form."""
    return bool(text) and normalize(text) == text


def _say_number(digits: str) -> str:
    value = float(digits.replace(",", ""))
    return number_words(int(value) if value.is_integer() and "." not in digits else value)


def _say_clock(match: re.Match[str]) -> str:
    hour, minute, meridiem = int(match.group(1)), int(match.group(2)), match.group(3)
    if hour > 23 or minute > 59:
        return match.group(0).replace(":", " ")
    if minute == 0:
        said_minute = "" if meridiem or hour > 12 else " o'clock"
        said = f"{number_words(hour)}{said_minute}" if hour <= 12 else f"{number_words(hour)} hundred"
    else:
        said_minute = f"oh {SMALL_WORDS[minute]}" if minute < 10 else number_words(minute)
        said = f"{number_words(hour)} {said_minute}"
    return f" {said} {meridiem} m " if meridiem else f" {said} "


def _say_temperature(match: re.Match[str]) -> str:
    unit = {"c": " celsius", "f": " fahrenheit"}.get(match.group(2) or "", "")
    return f" {_say_number(match.group(1))} degrees{unit} "
