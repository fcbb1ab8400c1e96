"""Pronunciations for grammar words the engine's dictionary lacks.

A grammar word must be in the recognizer's pronouncing dictionary or the
engine cannot listen for it. Many missing words are built from words that are
there, and `spell` composes their pronunciations from the dictionary's own
entries, trying in turn:

- possessives ("hitchhiker's" = "hitchhiker" + Z) and plurals ("delicates" =
  "delicate" + S), the suffix voiced after the base's last phone;
- British spellings of listed American words ("favourites", "sanitise");
- an English prefix before a listed word ("delime" = de + "lime", "unmute" =
  un + "mute"), with the prefix said as in CMUdict's own prefixed words;
- compounds of two listed words ("audiobook" = "audio" + "book"), the longest
  first part first;
- spelled-out abbreviations ("bpm" = "b p m").

Each way keeps the alternative pronunciations of its parts (at most
`MAX_SPELLINGS`). A few words that composition gets wrong ("roomba" is not
"room" + "ba") have their pronunciation written out in `LISTED`. A word that
cannot be spelled is dropped from the grammar by the caller, which logs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import product

Lookup = Callable[[str], Sequence[str]]  # word -> its pronunciations (space-separated phones), () when unknown

MIN_PART_LETTERS = 2  # "un" + "mute"; one-letter parts make nonsense splits ("a" + "udiobook")
MAX_ABBREVIATION_LETTERS = 4
MAX_SPELLINGS = 4  # alternative pronunciations kept for one composed word
_SIBILANTS = {"S", "Z", "SH", "ZH", "CH", "JH"}
_VOICELESS = {"P", "T", "K", "F", "TH"}
_BRITISH = (("our", "or"), ("ise", "ize"), ("lled", "led"), ("lling", "ling"), ("tre", "ter"))
# How CMUdict says these prefixes in its own prefixed words ("delist" D IY, "defrost" D IH,
# "refill" R IY, "unmute" AH N): not as the words "de" (D IY, D EY, D AH) or "re" (R EY, the note).
PREFIXES = {
    "de": ("D IY", "D IH"),
    "pre": ("P R IY",),
    "re": ("R IY",),
    "un": ("AH N",),
}
# Grammar words CMUdict lacks that composition gets wrong, as people say them.
LISTED = {
    "roomba": ("R UW M B AH",),  # not "room" + "ba" (B IY EY)
    "duvet": ("D UW V EY",),  # not "du" + "vet"
    "limescale": ("L AY M S K EY L",),  # not "limes" + "cale"
    "woollens": ("W UH L AH N Z",),  # not "wool" + "lens"
    "hiit": ("HH IH T", "EY CH AY AY T IY"),  # said "hit" or spelled out; not "hi" + "it"
}


def spell(word: str, lookup: Lookup) -> tuple[str, ...]:
    """Pronunciations for `word` composed from dictionary entries, best first; () if none."""
    if word in LISTED:
        return LISTED[word]
    for base in _inflection_bases(word):
        phones = tuple(lookup(base)) or spell(base, lookup)
        if phones:
            return tuple(f"{p} {_suffix(p)}" for p in phones)[:MAX_SPELLINGS]
    for british, american in _BRITISH:
        if british in word:
            phones = tuple(lookup(word.replace(british, american)))
            if phones:
                return phones[:MAX_SPELLINGS]
    for prefix, said in PREFIXES.items():
        rest = word[len(prefix) :]
        if word.startswith(prefix) and len(rest) >= MIN_PART_LETTERS:
            phones = tuple(lookup(rest))
            if phones:
                return _joined(said, phones)
    compound = _compound(word, lookup)
    if compound:
        return compound
    if len(word) <= MAX_ABBREVIATION_LETTERS and word.isalpha() and not set(word) & set("aeiouy"):
        letters = [tuple(lookup(letter))[:1] for letter in word]
        if all(letters):
            return (" ".join(p[0] for p in letters),)
    return ()


def lookup_keys(word: str) -> set[str]:
    """Every word `spell(word, ...)` may look up, so a caller can read just those entries."""
    keys: set[str] = set()
    for base in _inflection_bases(word):
        keys |= {base} | lookup_keys(base)
    keys |= {word.replace(british, american) for british, american in _BRITISH if british in word}
    keys |= {word[len(prefix) :] for prefix in PREFIXES if word.startswith(prefix)}
    for split in range(len(word) - MIN_PART_LETTERS, MIN_PART_LETTERS - 1, -1):
        keys |= {word[:split], word[split:]}
    if len(word) <= MAX_ABBREVIATION_LETTERS:
        keys |= set(word)
    return keys


def _inflection_bases(word: str) -> list[str]:
    """The bases `word` may be a possessive or plural of: base + 's, s or es."""
    if word.endswith("'s") and len(word) > 2:
        return [word[:-2]]
    if word.endswith("s") and not word.endswith("ss") and len(word) > MIN_PART_LETTERS + 1:
        return [word[:-1], word[:-2]] if word.endswith("es") else [word[:-1]]
    return []


def _suffix(phones: str) -> str:
    """The possessive or plural ending after `phones`: IH Z after a sibilant, S after a voiceless sound, else Z."""
    last = phones.split()[-1]
    return "IH Z" if last in _SIBILANTS else "S" if last in _VOICELESS else "Z"


def _joined(heads: Sequence[str], tails: Sequence[str]) -> tuple[str, ...]:
    return tuple(f"{h} {t}" for h, t in product(heads, tails))[:MAX_SPELLINGS]


def _compound(word: str, lookup: Lookup) -> tuple[str, ...]:
    """Two dictionary words that make up `word`, the longest first part first."""
    for split in range(len(word) - MIN_PART_LETTERS, MIN_PART_LETTERS - 1, -1):
        head, tail = word[:split], word[split:]
        if "'" in head:
            continue
        head_phones = tuple(lookup(head))
        if not head_phones:
            continue
        tail_phones = tuple(lookup(tail))
        if tail_phones:
            return _joined(head_phones, tail_phones)
    return ()
