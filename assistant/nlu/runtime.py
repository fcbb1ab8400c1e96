"""The intent model at run time: LiteRT and numpy only, one thread by default.

`IntentModel.load(directory)` reads `model.json`, the tokenizer and the chosen
TFLite variant and refuses a model this code cannot run. `parse` turns a
transcript into a typed frame, decoding only what the device allows; `write_reply`
writes a reply from a frame with the model's language-model head.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import AssistantError, ValueParseError
from assistant.intents import IntentSet
from assistant.litert import load_interpreter
from assistant.nlu.decoding import allowed_intent_log_probs, log_softmax, viterbi_tags
from assistant.nlu.labels import NONE, LabelSet
from assistant.nlu.listed_phrases import ListedPhrases, WordSpan
from assistant.nlu.result import ParseResult, SlotValue
from assistant.nlu.sequences import detokenize_reply, parse_prefix, reply_prefix
from assistant.nlu.tokenizer import CONTROL_SYMBOLS, END, Tokenizer
from assistant.slot_types import SPOKEN_DETERMINERS, SlotType, TextSlot, Value
from assistant.textnorm import normalize

log = logging.getLogger(__name__)

MODEL_FORMAT = "assistant-intent-model"
MODEL_FORMAT_VERSION = 1
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent.parent / "models" / "nlu"
CANDIDATE_INTENTS = 3  # intents whose slots are decoded before choosing the best frame


class IncompatibleModel(AssistantError):
    """The model directory is missing, malformed, or made for other code or intents."""


@dataclass(frozen=True)
class ModelOutputs:
    intent: np.ndarray  # (I,) logits
    tags: np.ndarray  # (T, G) logits
    next_token: np.ndarray  # (T, V) logits


class IntentModel:
    def __init__(
        self,
        directory: Path,
        metadata: dict[str, Any],
        tokenizer: Tokenizer,
        interpreter: Any,
        intents: IntentSet,
        variant: str,
    ) -> None:
        self.directory = directory
        self.metadata = metadata
        self.tokenizer = tokenizer
        self.labels = LabelSet.from_dict(metadata["labels"])
        self.intents = intents
        self.variant = variant
        self.max_len = int(metadata["config"]["max_len"])
        self.threshold = float(metadata.get("confidence_threshold", 0.5))
        self._interpreter = interpreter
        self._inputs = {d["name"]: d["index"] for d in interpreter.get_input_details()}
        self._outputs = _outputs_by_shape(interpreter, self.labels, tokenizer.size)
        self._tokens = np.zeros((1, self.max_len), np.int32)
        first_piece = len(CONTROL_SYMBOLS)
        self._reply_vocabulary = np.zeros(tokenizer.size, bool)
        self._reply_vocabulary[first_piece : first_piece + len(tokenizer.pieces)] = True
        self._reply_vocabulary[tokenizer.id(END)] = True
        self._listed_phrases: dict[str, ListedPhrases] = {}  # by intent, made when first decoded

    @classmethod
    def load(
        cls, intents: IntentSet, directory: Path | str = DEFAULT_MODEL_DIR, variant: str | None = None, threads: int = 1
    ) -> IntentModel:
        directory = Path(directory)
        metadata = _read_metadata(directory)
        variant = variant or metadata["default_variant"]
        if variant not in metadata["variants"]:
            raise IncompatibleModel(f"{directory}: no {variant!r} variant (has: {', '.join(metadata['variants'])})")
        tokenizer = Tokenizer.load(directory / metadata["tokenizer"])
        if tokenizer.size != metadata["config"]["vocab_size"]:
            raise IncompatibleModel(
                f"{directory}: tokenizer has {tokenizer.size} symbols, the model {metadata['config']['vocab_size']}"
            )
        known = set(metadata["labels"]["intents"])
        missing = [intent.name for intent in intents.intents if intent.name not in known]
        if missing:
            raise IncompatibleModel(
                f"{directory}: the model was not trained on {', '.join(missing[:5])}"
                f"{' and more' if len(missing) > 5 else ''}; retrain it with `assistant train`"
            )
        model_file = directory / metadata["variants"][variant]["file"]
        if not model_file.is_file():
            raise IncompatibleModel(
                f"{model_file}: the {variant} variant is not here (not every variant is shipped); "
                f"`assistant train --out {directory}` writes all of them"
            )
        interpreter = load_interpreter(model_file, threads)
        return cls(directory, metadata, tokenizer, interpreter, intents, variant)

    def run(self, ids: list[int], prefix_length: int) -> ModelOutputs:
        """One forward pass over a sequence of at most max_len tokens."""
        interpreter = self._interpreter
        self._tokens[:] = 0
        self._tokens[0, : len(ids)] = ids
        interpreter.set_tensor(self._inputs["tokens"], self._tokens)
        interpreter.set_tensor(self._inputs["prefix_length"], np.array([prefix_length], np.int32))
        interpreter.set_tensor(self._inputs["length"], np.array([len(ids)], np.int32))
        interpreter.invoke()
        return ModelOutputs(
            intent=interpreter.get_tensor(self._outputs["intent"])[0],
            tags=interpreter.get_tensor(self._outputs["tags"])[0],
            next_token=interpreter.get_tensor(self._outputs["next_token"])[0],
        )

    def parse(self, text: str, allowed: Collection[str] | None = None) -> ParseResult:
        """The frame of `text`, using only the `allowed` intents (default: all loaded)."""
        started = time.perf_counter()
        text = normalize(text)
        if not text:  # silence or noise the recognizer made nothing of: nothing to understand
            return ParseResult(text, None, (), 0.0, _ms(started))
        ids, encoding = parse_prefix(self.tokenizer, text)
        if len(ids) > self.max_len:  # keep the start of an over-long command
            keep = self.max_len - 2
            ids = [*ids[: keep + 1], ids[-1]]
            encoding.ids[keep:], encoding.offsets[keep:], encoding.word_starts[keep:] = [], [], []
        outputs = self.run(ids, len(ids))
        allowed_names = set(allowed) if allowed is not None else {i.name for i in self.intents.intents}
        mask = np.array([name == NONE or name in allowed_names for name in self.labels.intents])
        none_index = self.labels.intent_index(None)
        intent_scores = allowed_intent_log_probs(outputs.intent, mask, none_index)
        tag_scores = log_softmax(outputs.tags[1 : 1 + len(encoding.ids)])

        best_intent: str | None = None
        best_score, best_tags = -math.inf, list[int]()
        ranked = [int(i) for i in np.argsort(-intent_scores) if i != none_index][:CANDIDATE_INTENTS]
        for index in ranked:
            name = self.labels.intents[index]
            if not np.isfinite(intent_scores[index]):
                continue
            slots = list(self.intents.intent(name).slots)
            tags, tag_score = viterbi_tags(tag_scores, encoding.word_starts, slots, self.labels)
            score = float(intent_scores[index]) + tag_score
            if score > best_score:
                best_intent, best_score, best_tags = name, score, tags
        confidence = math.exp(best_score) if best_intent else 0.0
        # "none" competes with intents, not with whole frames: the tags' probability
        # would otherwise count against every command that has slots.
        none_score = float(intent_scores[none_index])
        best_intent_score = float(intent_scores[self.labels.intent_index(best_intent)]) if best_intent else -math.inf
        if best_intent is None or none_score > best_intent_score or confidence < self.threshold:
            return ParseResult(text, None, (), confidence, _ms(started))
        values = self._slot_values(best_intent, text, encoding.offsets, best_tags)
        return ParseResult(text, best_intent, values, confidence, _ms(started))

    def _slot_values(
        self, intent_name: str, text: str, offsets: list[tuple[int, int]], tags: list[int]
    ) -> tuple[SlotValue, ...]:
        intent = self.intents.intent(intent_name)
        spans: list[tuple[str, int, int]] = []
        previous: str | None = None
        for position, tag in enumerate(tags):
            slot = self.labels.tag_slot(tag)
            # a value tagged in two pieces ("six forty" + "five") is one value
            if slot is not None and ((tag == self.labels.begin_tag(slot) and slot != previous) or not spans):
                spans.append((slot, offsets[position][0], offsets[position][1]))
            elif slot is not None and spans[-1][0] == slot:
                spans[-1] = (slot, spans[-1][1], offsets[position][1])
            previous = slot
        words = text.split(" ")
        word_starts = list(itertools.accumulate((len(w) + 1 for w in words[:-1]), initial=0))
        if intent_name not in self._listed_phrases:
            self._listed_phrases[intent_name] = ListedPhrases(intent)
        spans = _listed_phrases_win(self._listed_phrases[intent_name], spans, words, word_starts)
        held = {i: slot for slot, start, end in spans for i, s in enumerate(word_starts) if start <= s < end}
        values: list[SlotValue] = []
        for name, start, end in spans:
            if any(v.name == name for v in values):
                continue  # a slot is filled once; the first mention wins
            # its value may run over words tagged as a second mention of the same slot
            # ("twenty" + "to" + "two": twenty to two), never over another slot's
            taken = {i for i, slot in held.items() if slot != name}
            slot_type = intent.slots[name].type
            if isinstance(slot_type, TextSlot) and slot_type.holds_determiners:
                start = _with_determiner(words, word_starts, start, taken)
            read = self._read_value(slot_type, words, word_starts, start, end, taken)
            if read is None:
                log.debug("dropped %s=%r: not a %s", name, text[start:end], slot_type.name)
                continue
            value, end = read
            values.append(SlotValue(name, value, text[start:end], start, end))
        return tuple(values)

    @staticmethod
    def _read_value(
        slot_type: SlotType, words: list[str], word_starts: list[int], start: int, end: int, taken: set[int]
    ) -> tuple[Value, int] | None:
        """The typed value of a tagged span, and where it ends.

        A number-like value may run past the span the tagger marked ("six forty"
        tagged in "six forty five"): the slot type reads the longest value that
        starts where the span does and covers it, as long as it stays on words no
        other slot has. Free text keeps exactly the tagged words."""
        first = word_starts.index(start) if start in word_starts else -1
        if first < 0 or isinstance(slot_type, TextSlot):
            try:
                return slot_type.parse(" ".join(words_between(words, word_starts, start, end))), end
            except ValueParseError:
                return None
        last_tagged = max(i for i, s in enumerate(word_starts) if s < end)
        free = first + 1
        while free < len(words) and (free <= last_tagged or free not in taken):
            free += 1
        read = slot_type.read(words[:free], first)
        if read is None or read[1] <= last_tagged:
            try:  # the longest reading stops short of the tagged words: trust the tags
                return slot_type.parse(" ".join(words[first : last_tagged + 1])), end
            except ValueParseError:
                return None
        value, stop = read
        return value, word_starts[stop - 1] + len(words[stop - 1])

    def write_reply(self, intent: str, values: Mapping[str, str], drafts: Sequence[str] = ()) -> str | None:
        """The model's greedy reply for `intent` with these spoken values, or None
        if it ran out of room before finishing.

        `drafts` are guesses of the reply (the intent's templates, filled in). Each
        forward pass checks a whole draft at once and keeps the longest part the
        model agrees with, plus the model's own next token: the result is the
        greedy reply (positions never see later tokens), in two or three passes
        instead of one per token.
        """
        prefix = reply_prefix(self.tokenizer, intent, values)
        end = self.tokenizer.id(END)
        guesses = [[*self.tokenizer.encode(d.lower()).ids, end] for d in drafts]
        generated: list[int] = []
        while len(prefix) + len(generated) < self.max_len:
            done = len(generated)
            guess = next((g[done:] for g in guesses if g[:done] == generated and len(g) > done), [])
            room = self.max_len - len(prefix) - done
            sequence = [*prefix, *generated, *guess[: room - 1]]
            try:
                logits = self.run(sequence, len(prefix)).next_token
            except RuntimeError as error:  # an interpreter kernel refused: the caller falls back to a template
                log.warning("reply generation failed in %s: %s", self.variant, error)
                return None
            for offset in range(len(sequence) - len(prefix) - done + 1):
                row = logits[len(prefix) + done + offset - 1]
                token = int(np.argmax(np.where(self._reply_vocabulary, row, -np.inf)))
                generated.append(token)
                if token == end:
                    return detokenize_reply(self.tokenizer, generated[:-1])
                if offset >= len(guess) or token != guess[offset] or len(prefix) + len(generated) >= self.max_len:
                    break
        return None


def _listed_phrases_win(
    listed: ListedPhrases, spans: list[tuple[str, int, int]], words: list[str], word_starts: list[int]
) -> list[tuple[str, int, int]]:
    """The tagged character spans after the intent's listed phrases said whole have
    taken their words (`listed_phrases.py`)."""
    by_words = [
        WordSpan(slot, word_starts.index(start), sum(1 for s in word_starts if s < end))
        for slot, start, end in spans
        if start in word_starts  # a tag starts on a word; keep any span that does not as it is
    ]
    if len(by_words) < len(spans):
        return spans
    return [
        (span.slot, word_starts[span.first], word_starts[span.stop - 1] + len(words[span.stop - 1]))
        for span in listed.place(by_words, words)
    ]


def _with_determiner(words: list[str], word_starts: list[int], start: int, taken: set[int]) -> int:
    """Where a free-text value starts once it takes the determiner said just before
    it ("play some jazz" -> "some jazz"), as the slot's examples and the data sets'
    spans hold it; the tagger draws that boundary one way in one build and the other
    in the next."""
    if start not in word_starts:
        return start
    before = word_starts.index(start) - 1
    if before >= 0 and before not in taken and words[before] in SPOKEN_DETERMINERS:
        return word_starts[before]
    return start


def words_between(words: list[str], word_starts: list[int], start: int, end: int) -> list[str]:
    return [w for w, s in zip(words, word_starts, strict=True) if start <= s < end]


def _outputs_by_shape(interpreter: Any, labels: LabelSet, vocab_size: int) -> dict[str, int]:
    """Output tensor indices by meaning. The converter names outputs Identity,
    Identity_1, ...; their shapes say which is which: (1, I), (1, T, G), (1, T, V)."""
    wanted = {"intent": (len(labels.intents),), "tags": (labels.n_tags,), "next_token": (vocab_size,)}
    found: dict[str, int] = {}
    for detail in interpreter.get_output_details():
        shape = tuple(int(d) for d in detail["shape"])
        for name, tail in wanted.items():
            if shape[-1:] == tail and (len(shape) == 2) == (name == "intent"):
                found[name] = detail["index"]
    if set(found) != set(wanted):
        raise IncompatibleModel(
            f"model outputs {[tuple(d['shape']) for d in interpreter.get_output_details()]} do not match its metadata"
        )
    return found


def _read_metadata(directory: Path) -> dict[str, Any]:
    path = directory / "model.json"
    try:
        metadata: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IncompatibleModel(f"{path}: no model here; train one with `assistant train --out {directory}`") from None
    except (OSError, ValueError) as error:
        raise IncompatibleModel(f"{path}: unreadable model metadata ({error})") from error
    if metadata.get("format") != MODEL_FORMAT:
        raise IncompatibleModel(f"{path}: not an intent model (format {metadata.get('format')!r})")
    if metadata.get("format_version") != MODEL_FORMAT_VERSION:
        raise IncompatibleModel(
            f"{path}: model format version {metadata.get('format_version')}, this code reads {MODEL_FORMAT_VERSION}"
        )
    for key in ("config", "labels", "variants", "default_variant", "tokenizer"):
        if key not in metadata:
            raise IncompatibleModel(f"{path}: missing {key!r}")
    return metadata


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
