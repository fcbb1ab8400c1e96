"""Training tensors: corpus examples and human text turned into fixed-length rows.

Every row carries the inputs (tokens, prefix length, length) and three kinds of
targets: the intents that answer it (parse rows; usually one, several when a
data set's label is coarser than ours, none for other rows), a slot tag per
transcript token (parse rows with slot spans; -1 elsewhere), and the next token
(reply and lm rows; -1 elsewhere).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.datagen import Example
from assistant.intents import IntentSet
from assistant.nlu.labels import LabelSet
from assistant.nlu.sequences import lm_sequence, parse_prefix, reply_prefix, reply_target
from assistant.nlu.tokenizer import Tokenizer

IGNORE = -1


@dataclass
class Rows:
    tokens: np.ndarray  # (N, T) int32
    prefix_length: np.ndarray  # (N,) int32
    length: np.ndarray  # (N,) int32
    intents: np.ndarray  # (N, I) uint8: 1 for every intent that answers the row
    tags: np.ndarray  # (N, T) int32
    next_token: np.ndarray  # (N, T) int32

    def __len__(self) -> int:
        return len(self.length)

    def fingerprint(self) -> str:
        """A hash of everything the rows train: the tokens and every target. (The tokens
        alone missed a change of tags: HWU64's coffee commands trained as intent only
        gave the same hash as before.)"""
        digest = hashlib.sha256()
        for name in _FIELDS:
            array = getattr(self, name)
            digest.update(f"{name}{array.shape}{array.dtype}".encode())
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]

    def take(self, index: np.ndarray) -> Rows:
        return Rows(*(getattr(self, name)[index] for name in _FIELDS))

    @staticmethod
    def concatenate(parts: Iterable[Rows]) -> Rows:
        parts = [p for p in parts if len(p)]
        return Rows(*(np.concatenate([getattr(p, name) for p in parts]) for name in _FIELDS))


_FIELDS = ("tokens", "prefix_length", "length", "intents", "tags", "next_token")


class RowBuilder:
    """Encodes examples into rows of one fixed length; longer ones are skipped and counted."""

    def __init__(self, tokenizer: Tokenizer, labels: LabelSet, max_len: int) -> None:
        self.tokenizer = tokenizer
        self.labels = labels
        self.max_len = max_len
        self.too_long = 0
        self._rows: list[tuple[list[int], int, list[int], list[int], list[int]]] = []

    def add_parse(
        self, text: str, intent: str | Collection[str] | None, spans: Mapping[str, tuple[int, int]] | None
    ) -> None:
        """A parse row. `intent` is one intent, None (out of scope), or several that
        all answer it; `spans` maps slot name to character span, None when unknown
        (data sets without slot labels train the intent only). An out-of-scope row
        trains no tags either: its tags are never read, and tagging every name in
        "who sings rebel yell" as no value works against "play rebel yell" (SLURP's
        slot F1 rose at each of three seeds without them; docs/model.md)."""
        ids, encoding = parse_prefix(self.tokenizer, text)
        tags = [IGNORE] * len(ids)
        if spans is not None and intent is not None:
            tags[1:-1] = [0] * len(encoding.ids)
            for name, (span_start, span_end) in spans.items():
                covered = [
                    position
                    for position, (start, end) in enumerate(encoding.offsets, start=1)
                    if span_start <= start and end <= span_end
                ]
                for k, position in enumerate(covered):
                    tags[position] = self.labels.begin_tag(name) if k == 0 else self.labels.inside_tag(name)
        names = [intent] if intent is None or isinstance(intent, str) else sorted(intent)
        self._add(ids, len(ids), [self.labels.intent_index(name) for name in names], tags, [])

    def add_reply(self, intent: str, values: Mapping[str, str], reply: str) -> None:
        prefix = reply_prefix(self.tokenizer, intent, values)
        target = reply_target(self.tokenizer, reply)
        ids = prefix + target
        next_token = [IGNORE] * (len(prefix) - 1) + target
        self._add(ids, len(prefix), [], [], next_token)

    def add_text(self, text: str) -> None:
        ids = lm_sequence(self.tokenizer, text)
        self._add(ids, 1, [], [], ids[1:])

    def _add(self, ids: list[int], prefix: int, intents: list[int], tags: list[int], next_token: list[int]) -> None:
        if len(ids) > self.max_len:
            self.too_long += 1
            return
        self._rows.append((ids, prefix, intents, tags, next_token))

    def build(self) -> Rows:
        n, t = len(self._rows), self.max_len
        rows = Rows(
            tokens=np.zeros((n, t), np.int32),
            prefix_length=np.zeros(n, np.int32),
            length=np.zeros(n, np.int32),
            intents=np.zeros((n, len(self.labels.intents)), np.uint8),
            tags=np.full((n, t), IGNORE, np.int32),
            next_token=np.full((n, t), IGNORE, np.int32),
        )
        for i, (ids, prefix, intents, tags, next_token) in enumerate(self._rows):
            rows.tokens[i, : len(ids)] = ids
            rows.prefix_length[i] = prefix
            rows.length[i] = len(ids)
            rows.intents[i, intents] = 1
            rows.tags[i, : len(tags)] = tags
            rows.next_token[i, : len(next_token)] = next_token
        return rows


def add_corpus(
    builder: RowBuilder,
    examples: Sequence[Example],
    intents: IntentSet,
    reply_share: float,
    seed: int,
    parse_as: Sequence[Example] | None = None,
) -> None:
    """Parse rows for every example, and reply rows for a share of the in-scope ones.
    `parse_as`, one for each example, is what its parse row says instead (the same
    command with other slot values); its reply row keeps the example's own."""
    rng = random.Random(seed)
    for index, example in enumerate(examples):
        parsed = example if parse_as is None else parse_as[index]
        spans = {s.name: (s.start, s.end) for s in parsed.slots}
        builder.add_parse(parsed.text, parsed.intent, spans)
        if example.intent is None or rng.random() >= reply_share:
            continue
        intent = intents.intent(example.intent)
        values = {s.name: intent.slots[s.name].type.say(s.value) for s in example.slots}
        values |= {name: intent.result[name].say(value) for name, value in example.result.items()}
        builder.add_reply(example.intent, values, example.reply)
