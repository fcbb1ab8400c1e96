"""The pronouncing dictionary, read for the words a grammar needs and no others.

PocketSphinx loads its whole dictionary at start (CMUdict, 134,000 words):
measured, a decoder with it took 27.7 MB resident, one with a dictionary of only
a grammar's words 5.7 MB. A device grammar needs a thousand words at most, so
`read_pronunciations` streams the dictionary file once and keeps the entries of
the words asked for (every alternative pronunciation, in the file's order),
and `write_dictionary` writes those in the same format for the decoder to load.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from assistant.errors import RecognizerError

DICTIONARY_ENCODING = "utf-8"
_ALTERNATIVE = re.compile(r"\(\d+\)$")  # "read(2)": the second pronunciation of "read"


def read_pronunciations(path: Path, words: Collection[str]) -> dict[str, tuple[str, ...]]:
    """The pronunciations of each of `words` that `path` lists, in file order; unlisted words are absent."""
    wanted = set(words)
    found: dict[str, list[str]] = {}
    try:
        with path.open(encoding=DICTIONARY_ENCODING) as lines:
            for line in lines:
                head, _, phones = line.partition(" ")
                word = _ALTERNATIVE.sub("", head)
                if word in wanted:
                    phones = phones.split("#", 1)[0].strip()
                    if phones:
                        found.setdefault(word, []).append(" ".join(phones.split()))
    except OSError as error:
        raise RecognizerError(f"cannot read the pronouncing dictionary {path}: {error}") from error
    return {word: tuple(dict.fromkeys(phones)) for word, phones in found.items()}


def write_dictionary(path: Path, pronunciations: Mapping[str, Sequence[str]]) -> None:
    """`pronunciations` as a PocketSphinx dictionary: "word PHONES", then "word(2) PHONES" for each alternative."""
    lines = []
    for word in sorted(pronunciations):
        for index, phones in enumerate(pronunciations[word]):
            lines.append(f"{word if index == 0 else f'{word}({index + 1})'} {phones}")
    try:
        path.write_text("\n".join(lines) + "\n", encoding=DICTIONARY_ENCODING)
    except OSError as error:
        raise RecognizerError(f"cannot write the grammar's dictionary {path}: {error}") from error
