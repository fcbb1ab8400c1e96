"""The command corpus generator: the TinyStories idea applied to device commands.

From the intent definitions alone it writes many labelled commands, each rendered
exactly as a speech recognizer emits it ("set a timer for twenty five minutes"),
with its gold frame (intent, slots with raw span and typed value) and a gold
reply. It wraps commands in fillers and politeness, adds recognizer-noise
variants (dropped, inserted, repeated and misheard words) and out-of-scope
negatives.

Train and validation are split by whole templates, so validation measures
generalisation to unseen phrasings, not memory: a validation sentence whose
phrasing (the sentence with slot values abstracted) a training template can
also produce is dropped. Output is deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.articles import agreeing
from assistant.evaluation import LabelledCommand
from assistant.intents import NOT_UNDERSTOOD, Intent, IntentSet, Template
from assistant.slot_types import EnumSlot, Value
from assistant.templates import Node, SlotRef, count_paths, expand, render_reply, sample_pieces

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
TRAIN, VALIDATION = "train", "validation"
CLEAN, NOISY, OUT_OF_SCOPE, OTHER_DEVICE = "clean", "noisy", "out_of_scope", "other_device"

PREFIX_PROBABILITY = 0.3
SUFFIX_PROBABILITY = 0.15
VALIDATION_SHARE = 0.2  # of each family's templates held out: the split every model is scored on
MAX_MISSES = 400  # consecutive duplicates before a template family counts as exhausted
MAX_SKELETONS = 50_000  # paths enumerated per intent to keep validation phrasings unseen
PHRASE_TRIES = 20  # sampled paths per command of `phrase_examples` before a phrase is given up

# What recognizers get wrong on carrier words: hesitations, homophones, near misses,
# and short function words lost altogether (never a verb: that would change the intent).
HESITATIONS = ("uh", "um", "the", "a", "and", "oh")
DROPPABLE = frozenset({"the", "a", "an", "my", "to", "for", "of", "me", "please", "now", "just", "that", "some"})
HOMOPHONES = {
    "to": ("too", "two"), "for": ("four", "far"), "the": ("a", "that"), "a": ("the", "uh"),
    "set": ("sat", "sit"), "timer": ("time", "timers"), "turn": ("turned", "tune"),
    "on": ("in", "an"), "off": ("of",), "start": ("started", "stark"), "light": ("like", "lite"),
    "lights": ("likes", "light"), "my": ("by", "mine"), "it": ("at", "is"), "what's": ("what", "whats"),
    "is": ("his", "as"), "and": ("an", "in"), "in": ("and", "on"), "me": ("mean",),
    "stop": ("top", "stopped"), "oven": ("of in",), "alarm": ("alarms", "a lot"),
}  # fmt: skip


@dataclass(frozen=True)
class SlotSpan:
    name: str
    value: Value
    raw: str
    start: int  # character offsets of `raw` in the text
    end: int


@dataclass(frozen=True)
class Example:
    text: str
    intent: str | None  # None: out of scope, the expected answer is "not understood"
    slots: tuple[SlotSpan, ...]
    reply: str
    result: dict[str, Value]
    template: str  # "timer.start/3": which template produced it
    split: str
    variant: str

    def labelled(self) -> LabelledCommand:
        """The command as the evaluation scores it: text, intent and typed slot values."""
        return LabelledCommand(self.text, self.intent, {s.name: s.value for s in self.slots})

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": self.intent,
            "slots": {s.name: {"value": s.value, "raw": s.raw, "start": s.start, "end": s.end} for s in self.slots},
            "reply": self.reply,
            "result": self.result,
            "template": self.template,
            "split": self.split,
            "variant": self.variant,
        }


@dataclass
class Corpus:
    examples: list[Example]
    seed: int
    collisions: dict[str, tuple[str, str]] = field(default_factory=dict)  # text -> (kept intent, other intent)
    exhausted: list[str] = field(default_factory=list)

    def split(self, name: str) -> list[Example]:
        return [e for e in self.examples if e.split == name]

    def counts(self) -> dict[str, dict[str, int]]:
        """Examples per intent (None -> "(out of scope)") and split."""
        table: dict[str, Counter[str]] = {}
        for example in self.examples:
            key = example.intent or f"({example.variant.replace('_', ' ')})"
            table.setdefault(key, Counter())[example.split] += 1
        return {key: dict(counter) for key, counter in sorted(table.items())}


Tokens = list[tuple[str, str | None]]  # (word, slot name or None)


class _TemplateFamily:
    """One intent's (or the out-of-scope set's) templates with their split and
    its own random stream, so every family is deterministic on its own."""

    def __init__(
        self,
        key: str,
        templates: tuple[Template, ...],
        rules: Mapping[str, Node],
        seed: int,
        validation_share: float,
    ) -> None:
        self.key = key
        self.templates = templates
        self.rules = rules
        self.rng = random.Random(f"{seed}:{key}")
        self.splits = _assign_splits(len(templates), validation_share, random.Random(f"{seed}:{key}:split"))
        self.train_skeletons = self._train_skeletons()
        self.misses = 0

    def _train_skeletons(self) -> set[tuple[str, ...]] | None:
        """Every phrasing the training templates can produce, or None if too many."""
        train = [t.node for t, split in zip(self.templates, self.splits, strict=False) if split == TRAIN]
        if sum(count_paths(node, self.rules) for node in train) > MAX_SKELETONS:
            return None
        return {_skeleton(pieces) for node in train for pieces in expand(node, self.rules)}

    @property
    def exhausted(self) -> bool:
        return self.misses >= MAX_MISSES

    def sample(self) -> tuple[int, list[str | SlotRef]] | None:
        """A template index and one path through it; None when the path's
        phrasing would leak a training phrasing into validation."""
        index = self.rng.randrange(len(self.templates))
        pieces = sample_pieces(self.templates[index].node, self.rng, self.rules)
        leaks = (
            self.splits[index] == VALIDATION
            and self.train_skeletons is not None
            and _skeleton(pieces) in self.train_skeletons
        )
        return None if leaks else (index, pieces)


class CorpusGenerator:
    """Expands intent definitions into a labelled corpus of a requested size."""

    def __init__(
        self,
        intents: IntentSet,
        *,
        seed: int = 0,
        validation_share: float = VALIDATION_SHARE,
        out_of_scope_validation_share: float = VALIDATION_SHARE,
        noise_share: float = 0.15,
        out_of_scope_share: float = 0.08,
        other_device: IntentSet | None = None,
        other_device_share: float = 0.04,
    ) -> None:
        """`validation_share` of each intent's templates (this device's and
        `other_device`'s) and `out_of_scope_validation_share` of the out-of-scope
        templates are held out. `other_device`, when given, holds intents this
        device lacks: their commands become negatives ("not understood" here)."""
        self.intents = intents
        self.seed = seed
        self.noise_share = noise_share
        self.out_of_scope_share = out_of_scope_share if intents.out_of_scope else 0.0
        self.other_device = other_device
        self.other_device_share = other_device_share if other_device else 0.0
        self.families = {
            intent.name: _TemplateFamily(intent.name, intent.templates, intent.rules, seed, validation_share)
            for intent in intents.intents
        }
        self.other_families = {
            intent.name: _TemplateFamily(intent.name, intent.templates, intent.rules, seed, validation_share)
            for intent in (other_device.intents if other_device else ())
        }
        self.oos_family = _TemplateFamily(
            "out_of_scope", intents.out_of_scope, intents.rules, seed, out_of_scope_validation_share
        )

    def generate(self, size: int, progress: Callable[[int, int], None] | None = None) -> Corpus:
        """At least `size` unique examples when the templates allow that many."""
        corpus = Corpus([], self.seed)
        seen: dict[str, str | None] = {}
        negatives = {
            OUT_OF_SCOPE: round(size * self.out_of_scope_share),
            OTHER_DEVICE: round(size * self.other_device_share),
        }
        quota_in_scope = size - sum(negatives.values())

        def add(example: Example) -> bool:
            if example.text in seen:
                owner = seen[example.text]
                if owner != example.intent:
                    corpus.collisions.setdefault(example.text, (str(owner), str(example.intent)))
                return False
            seen[example.text] = example.intent
            corpus.examples.append(example)
            if progress is not None and len(corpus.examples) % 5000 == 0:
                progress(len(corpus.examples), size)
            return True

        # Out-of-scope negatives first: an in-scope command never overwrites one.
        self._fill([self.oos_family], negatives[OUT_OF_SCOPE], add, self._out_of_scope_example)
        others = list(self.other_families.values())
        self._fill(others, negatives[OTHER_DEVICE], add, self._other_device_example)
        families = [self.families[intent.name] for intent in self.intents.intents]
        self._fill(families, quota_in_scope, add, self._intent_examples)
        corpus.exhausted = sorted(f.key for f in families if f.exhausted)
        if progress is not None:
            progress(len(corpus.examples), size)
        return corpus

    def _fill(
        self,
        families: list[_TemplateFamily],
        quota: int,
        add: Callable[[Example], bool],
        make: Callable[[_TemplateFamily], Iterator[Example]],
    ) -> None:
        """Share `quota` between families round by round; a family that runs out
        of new sentences leaves its share to the others."""
        remaining = quota
        active = [f for f in families if f.templates]
        while remaining > 0 and active:
            share = math.ceil(remaining / len(active))
            for family in active:
                produced = 0
                while produced < share and remaining > 0 and not family.exhausted:
                    added = 0
                    for example in make(family):
                        if remaining - added > 0 and add(example):
                            added += 1
                    produced += added
                    remaining -= added
                    family.misses = 0 if added else family.misses + 1
            active = [f for f in active if not f.exhausted]

    def _intent_examples(self, family: _TemplateFamily) -> Iterator[Example]:
        intent = self.intents.intent(family.key)
        sampled = family.sample()
        if sampled is None:
            return
        index, pieces = sampled
        rng = family.rng
        values: dict[str, Value] = {}
        tokens = self._fill_slots(intent, pieces, values, rng)
        tokens = self._wrap_in_fillers(tokens, rng)
        result = {name: slot_type.sample(rng) for name, slot_type in intent.result.items()}
        reply = self._reply(intent, values, result, rng)
        key, split = f"{intent.name}/{index}", family.splits[index]
        yield _example(tokens, intent.name, values, reply, result, key, split, CLEAN)
        if rng.random() < self.noise_share:
            noisy = _add_recognizer_noise(tokens, rng)
            if noisy is not None:
                yield _example(noisy, intent.name, values, reply, result, key, split, NOISY)

    def phrase_examples(self, per_phrase: int) -> list[Example]:
        """`per_phrase` commands for every way of saying every value of every intent's enumeration
        slots, each from any of the intent's templates that has the slot: whether each phrase is
        understood (`assistant bench nlu`)."""
        found: dict[str, Example] = {}
        for intent, slot_name, templates, value, phrase in self._listed_phrases():
            rng = random.Random(f"{self.seed}:{intent.name}:{slot_name}:{phrase}:check")
            made = 0
            for _ in range(per_phrase * PHRASE_TRIES):
                example = self._saying(intent, slot_name, value, phrase, templates, rng)
                if example is not None and example.text not in found:
                    found[example.text] = example
                    made += 1
                    if made == per_phrase:
                        break
        return list(found.values())

    def _listed_phrases(self) -> Iterator[tuple[Intent, str, list[int], Value, str]]:
        """(intent, slot, indices of the templates with the slot, value, phrase) for every way
        of saying every value of an intent's enumeration slots that one of its templates asks for."""
        for intent in self.intents.intents:
            for slot_name, slot in intent.slots.items():
                templates = [i for i, t in enumerate(intent.templates) if f"{{{slot_name}}}" in t.text]
                if isinstance(slot.type, EnumSlot) and templates:
                    for value in slot.type.values:
                        for phrase in slot.type.variants(value):
                            yield intent, slot_name, templates, value, phrase

    def _saying(
        self, intent: Intent, slot_name: str, value: Value, phrase: str, templates: list[int], rng: random.Random
    ) -> Example | None:
        """A clean command of one of `templates` (indices of templates with the slot) with `slot_name`
        said as `phrase`; None when the path drawn leaves the slot out."""
        index = rng.choice(templates)
        pieces = sample_pieces(intent.templates[index].node, rng, intent.rules)
        if not any(isinstance(piece, SlotRef) and piece.name == slot_name for piece in pieces):
            return None  # an optional slot left out on this path
        values: dict[str, Value] = {slot_name: value}
        tokens = self._wrap_in_fillers(self._fill_slots(intent, pieces, values, rng, {slot_name: phrase}), rng)
        result = {name: slot_type.sample(rng) for name, slot_type in intent.result.items()}
        reply = self._reply(intent, values, result, rng)
        split = self.families[intent.name].splits[index]
        return _example(tokens, intent.name, values, reply, result, f"{intent.name}/{index}", split, CLEAN)

    def _out_of_scope_example(self, family: _TemplateFamily) -> Iterator[Example]:
        sampled = family.sample()
        if sampled is None:
            return
        index, pieces = sampled
        tokens = self._wrap_in_fillers(_words(pieces), family.rng)
        reply = self._not_understood(family.rng)
        yield _example(tokens, None, {}, reply, {}, f"out_of_scope/{index}", family.splits[index], OUT_OF_SCOPE)

    def _other_device_example(self, family: _TemplateFamily) -> Iterator[Example]:
        assert self.other_device is not None
        intent = self.other_device.intent(family.key)
        sampled = family.sample()
        if sampled is None:
            return
        index, pieces = sampled
        tokens = self._fill_slots(intent, pieces, {}, family.rng)
        tokens = [(word, None) for word, _ in self._wrap_in_fillers(tokens, family.rng)]
        reply = self._not_understood(family.rng)
        yield _example(tokens, None, {}, reply, {}, f"{intent.name}/{index}", family.splits[index], OTHER_DEVICE)

    @staticmethod
    def _fill_slots(
        intent: Intent,
        pieces: list[str | SlotRef],
        values: dict[str, Value],
        rng: random.Random,
        said_as: Mapping[str, str] | None = None,
    ) -> Tokens:
        """The words of a sampled path, its slots filled with `values` (drawn where missing) and
        said one of their ways at random, or as `said_as` says for a slot."""
        tokens: Tokens = []
        for piece in pieces:
            if isinstance(piece, str):
                tokens.extend((word, None) for word in piece.split())
                continue
            slot_type = intent.slots[piece.name].type
            value = values.setdefault(piece.name, slot_type.sample(rng))
            said = (said_as or {}).get(piece.name) or rng.choice(slot_type.variants(value))
            tokens.extend((word, piece.name) for word in said.split())
        return _agreeing(tokens)

    def _wrap_in_fillers(self, tokens: Tokens, rng: random.Random) -> Tokens:
        fillers = self.intents.fillers
        first = tokens[0][0] if tokens else ""
        is_question = first in fillers.question_words
        is_command = first in fillers.imperative_verbs
        if rng.random() < PREFIX_PROBABILITY:
            choices = fillers.prefix_any
            if is_question:
                choices += fillers.prefix_question
            elif is_command:
                choices += fillers.prefix_command
            tokens = [(word, None) for word in rng.choice(choices).split()] + tokens
        if rng.random() < SUFFIX_PROBABILITY:
            choices = fillers.suffix_any + (fillers.suffix_command if is_command else ())
            tokens = tokens + [(word, None) for word in rng.choice(choices).split()]
        return tokens

    def _reply(self, intent: Intent, values: dict[str, Value], result: dict[str, Value], rng: random.Random) -> str:
        """A success reply that mentions every slot value it can, or the
        question for a missing required slot (the dialogue asks before acting)."""
        missing = [slot for slot in intent.required_slots if slot.name not in values]
        if missing:
            return rng.choice(missing[0].ask)
        said = {name: intent.slots[name].type.say(value) for name, value in values.items()}
        said |= {name: intent.result[name].say(value) for name, value in result.items()}
        rendered = [render_reply(t.node, said, rng) for t in self.intents.replies(intent, "success")]
        usable = [r for r in rendered if r is not None]
        if not usable:
            raise AssertionError(f"{intent.name}: no success reply can be rendered with {sorted(said)}")
        complete = [r for r in usable if all(said[name] in r for name in values)]
        return _sentence(rng.choice(complete or usable))

    def _not_understood(self, rng: random.Random) -> str:
        options = self.intents.default_replies[NOT_UNDERSTOOD]
        reply = render_reply(rng.choice(options).node, {}, rng)
        assert reply is not None, "not_understood replies take no values"
        return reply


def _assign_splits(count: int, validation_share: float, rng: random.Random) -> list[str]:
    """Hold out whole templates; an intent with fewer than three keeps all for training."""
    splits = [TRAIN] * count
    if count >= 3 and validation_share > 0:
        held_out = max(1, round(count * validation_share))
        for index in rng.sample(range(count), held_out):
            splits[index] = VALIDATION
    return splits


def _skeleton(pieces: list[str | SlotRef]) -> tuple[str, ...]:
    words: list[str] = []
    for piece in pieces:
        words.extend(piece.split() if isinstance(piece, str) else [f"{{{piece.name}}}"])
    return tuple(words)


def _words(pieces: list[str | SlotRef]) -> Tokens:
    return _agreeing([(word, None) for piece in pieces if isinstance(piece, str) for word in piece.split()])


def _agreeing(tokens: Tokens) -> Tokens:
    """The tokens with their indefinite articles made to agree with the word after them (`articles.py`)."""
    said = agreeing([word for word, _ in tokens])
    return [(word, slot) for word, (_, slot) in zip(said, tokens, strict=True) if word is not None]


def _add_recognizer_noise(tokens: Tokens, rng: random.Random) -> Tokens | None:
    """One recognizer-style error on a carrier word; slot words stay intact so
    the gold frame still holds. None when there is no carrier word to change."""
    carriers = [i for i, (_, slot) in enumerate(tokens) if slot is None]
    if not carriers:
        return None
    i = rng.choice(carriers)
    word = tokens[i][0]
    kind = rng.choice(("drop", "insert", "substitute", "repeat"))
    if kind == "drop" and word in DROPPABLE and len(tokens) > 2:
        return tokens[:i] + tokens[i + 1 :]
    if kind == "substitute" and word in HOMOPHONES:
        heard = rng.choice(HOMOPHONES[word])
        return tokens[:i] + [(w, None) for w in heard.split()] + tokens[i + 1 :]
    if kind == "repeat":
        return [*tokens[: i + 1], (word, None), *tokens[i + 1 :]]
    return [*tokens[:i], (rng.choice(HESITATIONS), None), *tokens[i:]]


def _example(
    tokens: Tokens,
    intent: str | None,
    values: dict[str, Value],
    reply: str,
    result: dict[str, Value],
    template: str,
    split: str,
    variant: str,
) -> Example:
    text = " ".join(word for word, _ in tokens)
    spans: list[SlotSpan] = []
    offset = 0
    for index, (word, slot) in enumerate(tokens):
        if slot is not None and index > 0 and tokens[index - 1][1] == slot:
            last = spans[-1]
            spans[-1] = SlotSpan(slot, last.value, f"{last.raw} {word}", last.start, offset + len(word))
        elif slot is not None:
            spans.append(SlotSpan(slot, values[slot], word, offset, offset + len(word)))
        offset += len(word) + 1
    return Example(text, intent, tuple(spans), reply, result, template, split, variant)


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text[:1].upper() + text[1:]


def corpus_fingerprint(intents: IntentSet) -> str:
    """A hash of every intent file, so a corpus (and a model) records what it was built from."""
    digest = hashlib.sha256()
    for path in sorted(intents.directory.glob("*.yaml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def write_corpus(corpus: Corpus, out_dir: Path, intents: IntentSet, device: str | None) -> dict[str, Any]:
    """Write train.jsonl, validation.jsonl and summary.json; return the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for split in (TRAIN, VALIDATION):
        with (out_dir / f"{split}.jsonl").open("w", encoding="utf-8") as handle:
            for example in corpus.split(split):
                handle.write(json.dumps(example.to_dict(), ensure_ascii=False) + "\n")
    summary = {
        "format_version": FORMAT_VERSION,
        "seed": corpus.seed,
        "device": device,
        "intents_hash": corpus_fingerprint(intents),
        "examples": len(corpus.examples),
        "splits": {split: len(corpus.split(split)) for split in (TRAIN, VALIDATION)},
        "variants": dict(Counter(e.variant for e in corpus.examples)),
        "per_intent": corpus.counts(),
        "exhausted_intents": corpus.exhausted,
        "collisions": [{"text": t, "kept": a, "also": b} for t, (a, b) in list(corpus.collisions.items())[:200]],
        "collision_count": len(corpus.collisions),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
