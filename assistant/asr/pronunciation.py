"""Pronunciations for grammar words the engine's dictionary lacks.

A grammar word must be in the recognizer's pronouncing dictionary or the
engine cannot listen for it. Many missing words are built from words that are
there: compounds ("audiobook" = "audio" + "book", "preheat" = "pre" + "heat"),
possessives ("hitchhiker's"), British spellings of listed American words
("favourites", "sanitise") and spelled-out abbreviations ("bpm" = "b p m").
`spell` composes a pronunciation from the dictionary's own entries; a word it
cannot compose is dropped from the grammar by the caller, which logs it.
"""

from __future__ import annotations

from collections.abc import Callable

Lookup = Callable[[str], "str | None"]  # word -> space-separated phones, or None

MIN_PART_LETTERS = 2  # "un" + "mute"; one-letter parts make nonsense splits ("a" + "udiobook")
MAX_ABBREVIATION_LETTERS = 4
_SIBILANTS = {"S", "Z", "SH", "ZH", "CH", "JH"}
_VOICELESS = {"P", "T", "K", "F", "TH"}
_BRITISH = (("our", "or"), ("ise", "ize"), ("lled", "led"), ("lling", "ling"), ("tre", "ter"))


def spell(word: str, lookup: Lookup) -> str | None:
    """Phones for `word` composed from dictionary entries, or None."""
    if word.endswith("'s") and len(word) > 2:
        base = lookup(word[:-2]) or spell(word[:-2], lookup)
        if base is not None:
            last = base.split()[-1]
            suffix = "IH Z" if last in _SIBILANTS else "S" if last in _VOICELESS else "Z"
            return f"{base} {suffix}"
    for british, american in _BRITISH:
        if british in word:
            phones = lookup(word.replace(british, american))
            if phones is not None:
                return phones
    compound = _compound(word, lookup)
    if compound is not None:
        return compound
    if len(word) <= MAX_ABBREVIATION_LETTERS and word.isalpha() and not set(word) & set("aeiouy"):
        letters = [lookup(letter) for letter in word]
        if all(letters):
            return " ".join(p for p in letters if p)
    return None


def _compound(word: str, lookup: Lookup) -> str | None:
    """Two dictionary words that make up `word`, the longest first part first."""
    for split in range(len(word) - MIN_PART_LETTERS, MIN_PART_LETTERS - 1, -1):
        head, tail = word[:split], word[split:]
        if "'" in head:
            continue
        head_phones = lookup(head)
        if head_phones is None:
            continue
        tail_phones = lookup(tail)
        if tail_phones is not None:
            return f"{head_phones} {tail_phones}"
    return None
