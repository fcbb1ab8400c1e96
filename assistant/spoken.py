"""Spoken English numbers: words to values and values to words.

Speech recognizers write numbers as words ("twenty five", "one eighty"), so the
assistant reads and writes them in that form. `parse_number` reads the number at
a position in a word list; `number_variants` lists the ways people say a value,
which the corpus generator samples from. The two are tested as round trips.

Written here rather than taken from a library because the assistant needs both
directions, the span a number covers, and colloquial forms ("one eighty" for 180,
"twelve hundred" for 1200, "seven oh five") that general libraries reject.
"""

from __future__ import annotations

from collections.abc import Sequence

Number = int | float

SMALL = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
SCALES = {"thousand": 1_000, "million": 1_000_000}
DIGITS = {**{w: v for w, v in SMALL.items() if v < 10}, "oh": 0}
FRACTIONS = {"half": 0.5, "quarter": 0.25}
NEGATIVE_WORDS = ("minus", "negative")

SMALL_WORDS = {v: w for w, v in SMALL.items()}
TENS_WORDS = {v: w for w, v in TENS.items()}

ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11,
    "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
    "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
ORDINAL_WORDS = {v: w for w, v in ORDINALS.items()}


def read_below_hundred(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """Read 0-99 ("seven", "seventeen", "seventy", "seventy seven") at `i`."""
    if i >= len(words):
        return None
    word = words[i]
    if word in SMALL:
        return SMALL[word], i + 1
    if word in TENS:
        if i + 1 < len(words) and 1 <= SMALL.get(words[i + 1], 0) <= 9:
            return TENS[word] + SMALL[words[i + 1]], i + 2
        return TENS[word], i + 1
    return None


def _cardinal(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """Read a whole number in standard form: "a hundred and five", "twelve hundred",
    "twenty five thousand three hundred"."""
    total = 0
    group = 0  # the part below the last scale word
    last: str | None = None  # kind of the last token: small | hundred | scale
    j = i
    n = len(words)
    while j < n:
        word = words[j]
        if word == "a" and last is None and j + 1 < n and words[j + 1] in ("hundred", "thousand"):
            group, last, j = 1, "small", j + 1
            continue
        if word == "and" and last in ("hundred", "scale") and read_below_hundred(words, j + 1):
            j += 1  # "one hundred and five": the number goes on after "and"
            word = words[j]
            small = read_below_hundred(words, j)
            assert small is not None
            group, last, j = group + small[0], "small", small[1]
            continue
        if last in (None, "hundred", "scale"):
            small = read_below_hundred(words, j)
            if small is not None:
                if last is None and small[0] == 0:
                    return 0, small[1]  # "zero" never starts a longer number
                group, last, j = group + small[0], "small", small[1]
                continue
        if word == "hundred" and last == "small" and group % 100 != 0 and group < 100:
            group, last, j = group * 100, "hundred", j + 1
            continue
        if word in SCALES and last in ("small", "hundred") and group:
            total, group, last, j = total + group * SCALES[word], 0, "scale", j + 1
            continue
        break
    if last is None:
        return None
    return total + group, j


def _colloquial_pair(words: Sequence[str], i: int, first: int, j: int) -> tuple[int, int] | None:
    """Extend a number below 100 by a second pair of digits: "one eighty" -> 180,
    "three fifty" -> 350, "two oh five" -> 205 (how people read oven temperatures)."""
    if not 1 <= first <= 99 or j >= len(words):
        return None
    if words[j] == "oh" and j + 1 < len(words) and 1 <= SMALL.get(words[j + 1], 0) <= 9:
        return first * 100 + SMALL[words[j + 1]], j + 2
    second = read_below_hundred(words, j)
    if second is not None and 10 <= second[0] <= 99:
        return first * 100 + second[0], second[1]
    return None


def parse_number(
    words: Sequence[str], start: int = 0, *, signed: bool = False, pairs: bool = False
) -> tuple[Number, int] | None:
    """Read the number that starts at `words[start]`.

    Returns (value, index after the number) or None when no number starts there.
    Handles "point" decimals ("twenty one point five") and "and a half" (also said
    "and half": "two and half hours").
    `signed` accepts a leading "minus"/"negative"; `pairs` accepts colloquial
    digit pairs ("one eighty"). Integral values come back as int.
    """
    i = start
    sign = 1
    if signed and i < len(words) and words[i] in NEGATIVE_WORDS:
        sign, i = -1, i + 1
    read = _cardinal(words, i)
    if read is None:
        return None
    value: Number
    value, j = read
    if (pairs and j == i + 1) or (pairs and j == i + 2 and words[i] in TENS):
        paired = _colloquial_pair(words, i, int(value), j)
        if paired is not None:
            value, j = paired
    if j + 1 < len(words) and words[j] == "point" and words[j + 1] in DIGITS:
        k = j + 1
        digits = ""
        while k < len(words) and words[k] in DIGITS:
            digits += str(DIGITS[words[k]])
            k += 1
        value, j = float(f"{value}.{digits}"), k
    elif words[j : j + 3] in (["and", "a", "half"], ["and", "a", "quarter"]):
        value, j = value + FRACTIONS[words[j + 2]], j + 3
    elif words[j : j + 2] == ["and", "half"]:
        value, j = value + FRACTIONS["half"], j + 2
    value = sign * value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value, j


def words_to_number(text: str, *, signed: bool = True, pairs: bool = True) -> Number | None:
    """The value of `text` when the whole text is one number, else None."""
    words = text.split()
    read = parse_number(words, signed=signed, pairs=pairs)
    if read is None or read[1] != len(words):
        return None
    return read[0]


def number_words(value: Number) -> str:
    """The standard spoken form: 125 -> "one hundred twenty five",
    -18 -> "minus eighteen", 21.5 -> "twenty one point five"."""
    if value < 0:
        return "minus " + number_words(-value)
    if isinstance(value, float) and not value.is_integer():
        whole, _, decimals = f"{value:.6f}".rstrip("0").partition(".")
        digit_words = " ".join(SMALL_WORDS[int(d)] for d in decimals)
        return f"{number_words(int(whole))} point {digit_words}"
    n = int(value)
    if n < 20:
        return SMALL_WORDS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return TENS_WORDS[tens * 10] + (f" {SMALL_WORDS[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{SMALL_WORDS[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    for scale_word, scale in sorted(SCALES.items(), key=lambda item: -item[1]):
        if n >= scale:
            high, rest = divmod(n, scale)
            return f"{number_words(high)} {scale_word}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError(n)  # unreachable: every n >= 1000 has a scale


def number_variants(value: Number, *, pairs: bool = False) -> list[str]:
    """Every common way to say `value`, the standard form first.

    `pairs` adds the colloquial digit-pair forms ("one eighty") that
    `parse_number(..., pairs=True)` reads back.
    """
    standard = number_words(value)
    variants = [standard]
    if value < 0:
        return variants + ["negative " + v[len("minus ") :] for v in variants if v.startswith("minus ")]
    if isinstance(value, float):
        whole = int(value)
        if value - whole == 0.5:
            variants.append(f"{number_words(whole)} and a half")
        return variants
    n = int(value)
    if n in (100, 1000):
        variants.append("a " + standard.split()[1])
    if 100 < n < 1000 and n % 100:
        hundreds, rest = divmod(n, 100)
        variants.append(f"{SMALL_WORDS[hundreds]} hundred and {number_words(rest)}")
        if pairs:
            variants.append(
                f"{SMALL_WORDS[hundreds]} {number_words(rest)}"
                if rest >= 10
                else f"{SMALL_WORDS[hundreds]} oh {SMALL_WORDS[rest]}"
            )
    if 1100 <= n < 10000 and n % 100 == 0 and n % 1000:
        variants.append(f"{number_words(n // 100)} hundred")
    return variants


def parse_ordinal(words: Sequence[str], start: int = 0) -> tuple[int, int] | None:
    """Read an ordinal 1-31: "fifth", "twenty first", "thirtieth"."""
    if start >= len(words):
        return None
    word = words[start]
    if word in ORDINALS:
        return ORDINALS[word], start + 1
    if word in TENS and start + 1 < len(words) and words[start + 1] in ORDINALS:
        unit = ORDINALS[words[start + 1]]
        if 1 <= unit <= 9:
            return TENS[word] + unit, start + 2
    return None


def ordinal_words(n: int) -> str:
    """1 -> "first", 22 -> "twenty second"."""
    if n in ORDINAL_WORDS:
        return ORDINAL_WORDS[n]
    tens, unit = divmod(n, 10)
    return f"{TENS_WORDS[tens * 10]} {ORDINAL_WORDS[unit]}"
