from __future__ import annotations

import pytest

from assistant.spoken import number_variants, number_words, ordinal_words, parse_number, parse_ordinal, words_to_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("zero", 0),
        ("seven", 7),
        ("twenty five", 25),
        ("a hundred", 100),
        ("one hundred and five", 105),
        ("one hundred five", 105),
        ("twelve hundred", 1200),
        ("one thousand four hundred", 1400),
        ("two thousand twenty", 2020),
        ("twenty five thousand three hundred", 25300),
        ("one eighty", 180),
        ("three fifty", 350),
        ("four twenty five", 425),
        ("two oh five", 205),
        ("minus eighteen", -18),
        ("negative twenty four", -24),
        ("twenty one point five", 21.5),
        ("zero point two five", 0.25),
        ("one and a half", 1.5),
        ("two and a quarter", 2.25),
        ("six and half", 6.5),
    ],
)
def test_words_to_number_reads_spoken_numbers(text: str, value: float) -> None:
    assert words_to_number(text) == value


@pytest.mark.parametrize("text", ["", "hello", "twenty twenty twenty", "a", "and five", "hundred"])
def test_words_to_number_rejects_non_numbers(text: str) -> None:
    assert words_to_number(text) is None


def test_parse_number_reports_where_the_number_ends() -> None:
    words = ["set", "it", "to", "one", "hundred", "and", "eighty", "degrees"]
    assert parse_number(words, 3) == (180, 7)
    assert parse_number(words, 0) is None


def test_colloquial_pairs_only_when_asked() -> None:
    words = ["one", "eighty"]
    assert parse_number(words) == (1, 1)
    assert parse_number(words, pairs=True) == (180, 2)


def test_sign_only_when_asked() -> None:
    assert parse_number(["minus", "five"]) is None
    assert parse_number(["minus", "five"], signed=True) == (-5, 2)


@pytest.mark.parametrize(
    ("value", "words"),
    [(0, "zero"), (13, "thirteen"), (40, "forty"), (99, "ninety nine"), (125, "one hundred twenty five"),
     (1200, "one thousand two hundred"), (-18, "minus eighteen"), (21.5, "twenty one point five"),
     (1_000_001, "one million one")],
)  # fmt: skip
def test_number_words_standard_form(value: float, words: str) -> None:
    assert number_words(value) == words


def test_every_variant_of_every_number_reads_back() -> None:
    for n in range(0, 12_000):
        for spoken in number_variants(n, pairs=True):
            assert words_to_number(spoken) == n, spoken
    for n in range(-40, 0):
        for spoken in number_variants(n):
            assert words_to_number(spoken) == n, spoken
    for tenths in range(0, 400):
        value = tenths / 10
        for spoken in number_variants(value):
            assert words_to_number(spoken) == pytest.approx(value), spoken


def test_variants_include_the_ways_people_say_numbers() -> None:
    assert "twelve hundred" in number_variants(1200)
    assert "one eighty" in number_variants(180, pairs=True)
    assert "one eighty" not in number_variants(180)
    assert "a hundred" in number_variants(100)
    assert "twenty one and a half" in number_variants(21.5)


def test_ordinals_round_trip() -> None:
    for n in range(1, 32):
        words = ordinal_words(n).split()
        assert parse_ordinal(words) == (n, len(words))
    assert ordinal_words(22) == "twenty second"
