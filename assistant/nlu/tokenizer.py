"""The model's tokenizer: unigram subword pieces plus the model's own symbols.

Pieces are learned with SentencePiece at training time (`assistant.train`), but
the runtime segments text itself, in pure Python: a Viterbi search over the
piece scores, word by word, which is what SentencePiece's unigram model does
when it splits on whitespace. So the runtime needs no tokenizer library, and
tests check that both agree.

Vocabulary layout: control symbols, then pieces, then labels (one symbol per
intent and per slot or result name, used to write frames for the reply task).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError

WORD_START = "\u2581"  # SentencePiece's word-boundary mark
PAD, UNK, PARSE, REPLY, LM, SEP, END_VALUE, END = (
    "<pad>",
    "<unk>",
    "<parse>",
    "<reply>",
    "<lm>",
    "<sep>",
    "<eov>",
    "<end>",
)
CONTROL_SYMBOLS = (PAD, UNK, PARSE, REPLY, LM, SEP, END_VALUE, END)
UNKNOWN_PIECE_PENALTY = 10.0  # below any real piece's log-probability


class TokenizerError(AssistantError):
    """A tokenizer file is missing or malformed."""


@dataclass(frozen=True)
class Encoding:
    ids: list[int]
    offsets: list[tuple[int, int]]  # character span of each token in the text
    word_starts: list[bool]  # whether each token begins a word


@dataclass
class Tokenizer:
    pieces: list[str]
    scores: list[float]
    labels: list[str]  # "[timer.start]", "[duration]", ...
    _ids: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if len(self.pieces) != len(self.scores):
            raise TokenizerError("pieces and scores differ in length")
        for index, symbol in enumerate(self.vocabulary):
            if symbol in self._ids:
                raise TokenizerError(f"symbol {symbol!r} appears twice in the vocabulary")
            self._ids[symbol] = index
        self._score = dict(zip(self.pieces, self.scores, strict=True))
        self._longest = max((len(p) for p in self.pieces), default=1)
        self._segment_word = lru_cache(maxsize=65_536)(self._segment)

    @property
    def vocabulary(self) -> list[str]:
        return [*CONTROL_SYMBOLS, *self.pieces, *self.labels]

    @property
    def size(self) -> int:
        return len(CONTROL_SYMBOLS) + len(self.pieces) + len(self.labels)

    def id(self, symbol: str) -> int:
        try:
            return self._ids[symbol]
        except KeyError:
            raise TokenizerError(f"unknown symbol {symbol!r}") from None

    def symbol(self, token_id: int) -> str:
        return self.vocabulary[token_id]

    def is_label(self, token_id: int) -> bool:
        return token_id >= len(CONTROL_SYMBOLS) + len(self.pieces)

    def encode(self, text: str) -> Encoding:
        """Pieces of `text` (words separated by single spaces) with their spans."""
        ids: list[int] = []
        offsets: list[tuple[int, int]] = []
        starts: list[bool] = []
        position = 0
        for word in text.split(" "):
            if not word:
                position += 1
                continue
            start = position
            for index, piece in enumerate(self._segment_word(word)):
                length = len(piece) - (1 if index == 0 else 0)
                ids.append(self._ids.get(piece, self._ids[UNK]))
                offsets.append((start, start + length))
                starts.append(index == 0)
                start += length
            position += len(word) + 1
        return Encoding(ids, offsets, starts)

    def decode(self, ids: list[int]) -> str:
        """Text of piece ids; control symbols and labels are skipped."""
        first = len(CONTROL_SYMBOLS)
        last = first + len(self.pieces)
        text = "".join(self.pieces[i - first] for i in ids if first <= i < last)
        return text.replace(WORD_START, " ").strip()

    def _segment(self, word: str) -> list[str]:
        """Best segmentation of one word by total piece log-probability
        (the unigram model's Viterbi search). Unknown characters become
        single-character pieces, which map to <unk>."""
        text = WORD_START + word
        n = len(text)
        best = [0.0] + [-math.inf] * n
        back = [0] * (n + 1)
        for end in range(1, n + 1):
            for start in range(max(0, end - self._longest), end):
                score = self._score.get(text[start:end])
                if score is None:
                    if end - start != 1:
                        continue
                    score = -UNKNOWN_PIECE_PENALTY
                candidate = best[start] + score
                if candidate > best[end]:
                    best[end], back[end] = candidate, start
        pieces: list[str] = []
        end = n
        while end > 0:
            pieces.append(text[back[end] : end])
            end = back[end]
        pieces.reverse()
        return pieces

    def to_dict(self) -> dict[str, Any]:
        return {"pieces": [[p, s] for p, s in zip(self.pieces, self.scores, strict=True)], "labels": self.labels}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Tokenizer:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            pieces = [str(p) for p, _ in data["pieces"]]
            scores = [float(s) for _, s in data["pieces"]]
            labels = [str(label) for label in data["labels"]]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise TokenizerError(f"{path}: not a tokenizer file ({error})") from error
        return cls(pieces, scores, labels)


def intent_label(name: str) -> str:
    """The symbol for an intent ("[timer.start]"); "[none]" for out of scope."""
    return f"[{name}]"


def value_label(name: str) -> str:
    """The symbol that introduces a slot or result value in a frame."""
    return f"[={name}]"
