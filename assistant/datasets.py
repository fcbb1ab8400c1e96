"""Labelled commands from files: our own formats and public data sets.

Formats (`assistant eval --format`):
- `synthetic`: a folder written by `assistant data generate` (`--split train|validation`);
- `jsonl`: one `{"text", "intent", "slots": {name: value}}` a line, intent null for out of scope;
- `hwu64`: a folder of per-label `;`-separated CSV files (NLU-Evaluation-Data);
- `slurp`: SLURP jsonl, label = scenario_action;
- `clinc`: CLINC150's json with split keys; `--split val` also reads `oos_val`;
- `home_assistant`: Home Assistant's sentence templates (a checkout of home-assistant/intents),
  expanded (`assistant.ha_sentences`); `--split validation` (default) reads the held-out fifth
  of the templates, `train` the rest, `all` both.

Public labels become our intents through a mapping file in `mappings/`; a label
with no mapping is out of scope for us (the right answer is "not understood"). A
mapping may also ignore a label (its examples mix what we do and what we don't, with
no way to tell them apart: neither trained on nor scored), and make an example out
of scope when it names one of a label's slot types (a world-clock question is a
`datetime_query` with a place name), keep a label's slots out (`intent_only`: its
spans follow other conventions than our slots), and give values for the open lists
a data set leaves to its user (`lists`: Home Assistant's areas and device names).
Gold slot text is normalised and read by our own slot types before comparing. A
free-text slot is kept as spoken: two spans of the one slot that touch or are
joined by "by" are one value ("[dynamite] by [acdc]"), and where the slot's own
examples start with a determiner ("some jazz"), a data set's span gets back the one
said just before it ("my [workout playlist]" -> "my workout playlist").
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant import ha_sentences
from assistant.config import Section, read_yaml
from assistant.errors import ConfigError, DatasetError, ValueParseError
from assistant.evaluation import LabelledCommand
from assistant.intents import IntentSet
from assistant.slot_types import SPOKEN_DETERMINERS, TextSlot, Value
from assistant.textnorm import normalize

DEFAULT_MAPPINGS_DIR = Path(__file__).resolve().parent.parent / "mappings"
DATA_ENV = "ASSISTANT_DATA"  # a folder laid out like the shared data folder (hwu64/, slurp/, clinc150/)
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
FORMATS = ("synthetic", "jsonl", "hwu64", "slurp", "clinc", "home_assistant")
_ANNOTATION = re.compile(r"\[\s*([^\[\]:]+?)\s*:\s*([^\[\]]*?)\s*\]")
JOINING_WORDS = frozenset({"by"})  # "[song] by [artist]" is one thing to play


@dataclass(frozen=True)
class LabelMapping:
    """A public data set's labels in terms of our intents and slots."""

    dataset: str
    intents: dict[str, tuple[str, ...]]  # label -> the intents that answer it; one: trainable
    slots: dict[str, dict[str, str]]  # our intent -> {their slot type: our slot name}
    source: str
    ignore: frozenset[str] = frozenset()  # labels neither trained on nor scored
    intent_only: frozenset[str] = frozenset()  # labels whose slot spans do not follow our slots' conventions
    out_of_scope_with: dict[str, frozenset[str]] = field(default_factory=dict)  # label -> their slot types
    # values for a data set's open lists (Home Assistant's areas and device names): group -> list -> values
    list_values: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def answers(self, label: str) -> tuple[str, ...]:
        """Our intents for `label`; empty when the label is out of scope for us."""
        return self.intents.get(label, ())

    def ignores(self, label: str) -> bool:
        return label in self.ignore


def data_dir() -> Path:
    """Where the public corpora are: $ASSISTANT_DATA, else the shared folder beside the project."""
    return Path(os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR)


def load_mapping(path: Path, intents: IntentSet) -> LabelMapping:
    top = Section(read_yaml(path), str(path))
    allowed = {"dataset", "description", "intents", "slots", "ignore", "intent_only", "out_of_scope_with", "lists"}
    top.check_keys(allowed, {"dataset", "intents"})
    known = {intent.name for intent in intents.intents}
    mapped: dict[str, tuple[str, ...]] = {}
    for label, target in top.mapping("intents").items():
        names = (target,) if isinstance(target, str) else tuple(target) if isinstance(target, list) else ()
        if not names or not all(isinstance(n, str) for n in names):
            raise top.error("expected an intent name or a list of intent names", f"intents.{label}")
        for name in names:
            if name not in known:
                raise top.error(f"unknown intent {name!r}", f"intents.{label}")
        mapped[str(label)] = names
    slots: dict[str, dict[str, str]] = {}
    for intent_name, section in top.sections("slots") if top.has("slots") else ():
        if intent_name not in known:
            raise section.error(f"unknown intent {intent_name!r}")
        for their_type, ours in section.data.items():
            if ours not in intents.intent(intent_name).slots:
                raise section.error(f"{intent_name} has no slot {ours!r}", str(their_type))
        slots[intent_name] = {str(k): str(v) for k, v in section.data.items()}
    ignore = frozenset(top.strings("ignore")) if top.has("ignore") else frozenset()
    for label in sorted(ignore & set(mapped)):
        raise top.error(f"{label!r} is both mapped and ignored", "ignore")
    intent_only = frozenset(top.strings("intent_only")) if top.has("intent_only") else frozenset()
    for label in sorted(intent_only - set(mapped)):
        raise top.error(f"{label!r} is not a mapped label", "intent_only")
    out_of_scope_with: dict[str, frozenset[str]] = {}
    if top.has("out_of_scope_with"):
        section = top.section("out_of_scope_with")
        for label in section.data:
            if str(label) not in mapped:
                raise section.error("not a mapped label: only a mapped label's examples can be put out of scope", label)
            out_of_scope_with[str(label)] = frozenset(section.strings(label))
    list_values: dict[str, dict[str, tuple[str, ...]]] = {}
    for group, section in top.sections("lists") if top.has("lists") else ():
        list_values[group] = {str(name): tuple(section.strings(str(name))) for name in section.data}
    return LabelMapping(
        top.string("dataset"), mapped, slots, str(path), ignore, intent_only, out_of_scope_with, list_values
    )


def mapping_for(format_name: str, intents: IntentSet, directory: Path = DEFAULT_MAPPINGS_DIR) -> LabelMapping | None:
    """The shipped mapping a format uses (SLURP shares HWU64's labels)."""
    names = {"hwu64": "hwu64", "slurp": "hwu64", "clinc": "clinc150", "home_assistant": "home_assistant"}
    name = names.get(format_name)
    if name is None:
        return None
    path = directory / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(str(path), "", "missing: the label mapping for this data set")
    return load_mapping(path, intents)


def read_commands(
    format_name: str, path: Path, intents: IntentSet, split: str | None = None, mapping: LabelMapping | None = None
) -> Iterator[LabelledCommand]:
    """Labelled commands from `path` in the given format."""
    if format_name not in FORMATS:
        raise DatasetError(f"unknown format {format_name!r} (formats: {', '.join(FORMATS)})")
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder")
    if format_name == "synthetic":
        yield from _read_synthetic(path, split or "validation")
    elif format_name == "jsonl":
        yield from _read_jsonl(path)
    else:
        mapping = mapping or mapping_for(format_name, intents)
        assert mapping is not None
        if format_name == "hwu64":
            yield from _read_hwu64(path, mapping, intents)
        elif format_name == "slurp":
            yield from _read_slurp(path, mapping, intents)
        elif format_name == "home_assistant":
            yield from _read_home_assistant(path, mapping, intents, split or ha_sentences.VALIDATION)
        else:
            yield from _read_clinc(path, mapping, split or "val")


def annotated_command(annotation: str, label: str, mapping: LabelMapping, intents: IntentSet) -> LabelledCommand:
    """A command from `[type : value]`-annotated text, with spans of mapped slots."""
    answers = mapping.answers(label)
    types = {match.group(1).strip() for match in _ANNOTATION.finditer(annotation)}
    if types & mapping.out_of_scope_with.get(label, frozenset()):
        answers = ()
    slots_known = len(answers) == 1 and label not in mapping.intent_only
    slot_names = mapping.slots.get(answers[0], {}) if slots_known else {}
    free_text = (
        {name: slot.type for name, slot in intents.intent(answers[0]).slots.items() if isinstance(slot.type, TextSlot)}
        if slots_known
        else {}
    )
    text, spans = "", dict[str, tuple[int, int]]()
    position = 0
    for match in _ANNOTATION.finditer(annotation):
        between = normalize(annotation[position : match.start()])
        text = _join(text, between)
        value = normalize(match.group(2))
        ours = slot_names.get(match.group(1).strip())
        start = len(text) + (1 if text and value else 0)
        text = _join(text, value)
        if ours and value and ours in free_text:
            spans[ours] = _free_text_span(text, spans.get(ours), start, len(text), between, free_text[ours])
        elif ours and value and ours not in spans:
            spans[ours] = (start, len(text))
        position = match.end()
    text = _join(text, normalize(annotation[position:]))
    slots: dict[str, Value] = {}
    if slots_known:
        intent = intents.intent(answers[0])
        for name, (start, end) in spans.items():
            raw = text[start:end]
            try:
                slots[name] = intent.slots[name].type.parse(raw)
            except ValueParseError:
                slots[name] = raw  # kept as said: a model cannot match it, and is scored so
    return LabelledCommand(
        text=text,
        intent=answers[0] if answers else None,
        slots=slots,
        alternatives=frozenset(answers[1:]),
        slots_known=slots_known,
        spans={name: span for name, span in spans.items()} if slots_known else None,
    )


def _free_text_span(
    text: str, earlier: tuple[int, int] | None, start: int, end: int, between: str, slot_type: TextSlot
) -> tuple[int, int]:
    """The span of a free-text value as our slot holds it: one value with an earlier
    span of the same slot that it touches or is joined to by "by" (else the first
    span is the value), and with the determiner said just before it where the slot's
    own examples hold one ("some jazz"; a timer's name never does)."""
    if earlier is not None:
        joined = earlier[1] == start - 1 - (len(between) + 1 if between else 0)
        if joined and (not between or between in JOINING_WORDS):
            return earlier[0], end
        return earlier
    before = text[:start].split()
    if before and before[-1] in SPOKEN_DETERMINERS and slot_type.holds_determiners:
        start -= len(before[-1]) + 1  # data sets mostly leave the determiner out
    return start, end


def _join(text: str, more: str) -> str:
    return f"{text} {more}" if text and more else text or more


def _read_synthetic(path: Path, split: str) -> Iterator[LabelledCommand]:
    file = path / f"{split}.jsonl" if path.is_dir() else path
    for number, data in _json_lines(file):
        try:
            slots = {name: slot["value"] for name, slot in data["slots"].items()}
            spans = {name: (slot["start"], slot["end"]) for name, slot in data["slots"].items()}
            yield LabelledCommand(data["text"], data["intent"], slots, spans=spans)
        except (KeyError, TypeError) as error:
            raise DatasetError(f"{file}: line {number}: not a generated example ({error})") from error


def _read_jsonl(path: Path) -> Iterator[LabelledCommand]:
    for number, data in _json_lines(path):
        text, intent, slots = data.get("text"), data.get("intent"), data.get("slots", {})
        if not isinstance(text, str) or not (intent is None or isinstance(intent, str)) or not isinstance(slots, dict):
            raise DatasetError(
                f'{path}: line {number}: expected {{"text": str, "intent": str or null, "slots": {{...}}}}'
            )
        yield LabelledCommand(normalize(text), intent, slots)


def _read_hwu64(path: Path, mapping: LabelMapping, intents: IntentSet) -> Iterator[LabelledCommand]:
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    if not files:
        raise DatasetError(f"{path}: no CSV files")
    for file in files:
        with file.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter=";")
            for number, row in enumerate(reader, start=2):
                try:
                    label = f"{row['scenario']}_{row['intent']}"
                    annotation = row["answer_annotation"]
                except KeyError as error:
                    raise DatasetError(f"{file}: line {number}: missing column {error}") from error
                if annotation and not mapping.ignores(label):
                    yield annotated_command(annotation, label, mapping, intents)


def _read_slurp(path: Path, mapping: LabelMapping, intents: IntentSet) -> Iterator[LabelledCommand]:
    for number, data in _json_lines(path):
        try:
            label = f"{data['scenario']}_{data['action']}"
            annotation = data["sentence_annotation"]
        except KeyError as error:
            raise DatasetError(f"{path}: line {number}: missing key {error}") from error
        if not mapping.ignores(label):
            yield annotated_command(annotation, label, mapping, intents)


def _read_clinc(path: Path, mapping: LabelMapping, split: str) -> Iterator[LabelledCommand]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DatasetError(f"{path}: not CLINC150 json ({error})") from error
    keys = [split, f"oos_{split}"]
    if split not in data:
        raise DatasetError(f"{path}: no split {split!r} (has: {', '.join(data)})")
    for key in keys:
        for index, item in enumerate(data.get(key, [])):
            if not (isinstance(item, list) and len(item) == 2):
                raise DatasetError(f"{path}: {key}[{index}]: expected [sentence, label]")
            sentence, label = item
            if not key.startswith("oos_") and mapping.ignores(label):
                continue
            answers = () if key.startswith("oos_") else mapping.answers(label)
            yield LabelledCommand(
                normalize(sentence),
                answers[0] if answers else None,
                {},
                alternatives=frozenset(answers[1:]),
                slots_known=False,
            )


def _read_home_assistant(
    path: Path, mapping: LabelMapping, intents: IntentSet, split: str
) -> Iterator[LabelledCommand]:
    if split not in (ha_sentences.TRAIN, ha_sentences.VALIDATION, "all"):
        raise DatasetError(f"{path}: no split {split!r} for Home Assistant sentences (train, validation, all)")
    annotate = frozenset(their for slots in mapping.slots.values() for their in slots)
    for sentence in ha_sentences.expand(path, mapping.list_values, None if split == "all" else split, annotate):
        if not mapping.ignores(sentence.label):
            yield annotated_command(sentence.text, sentence.label, mapping, intents)


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise DatasetError(f"{path}: cannot read ({error.strerror})") from error
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError as error:
                raise DatasetError(f"{path}: line {number}: invalid JSON ({error})") from error
            if not isinstance(data, dict):
                raise DatasetError(f"{path}: line {number}: expected a JSON object")
            yield number, data


@dataclass(frozen=True)
class TrainingCorpus:
    """The training split of a labelled public corpus: where it lies in the data
    folder, how it is read, and the key model.json records it under."""

    key: str  # model.json's training.human_data key
    name: str  # for messages
    format: str
    path: Path  # relative to the data folder
    split: str | None

    def read(self, path: Path, intents: IntentSet) -> Iterator[LabelledCommand]:
        """Its commands, from `path` (where the data folder has it, or where a model.json says it was)."""
        return read_commands(self.format, path, intents, self.split)

    def content(self, path: Path) -> Path:
        """The file or folder whose bytes are the corpus: a checkout of home-assistant/intents
        holds much besides its English sentences."""
        return ha_sentences.sentence_folder(path) if self.format == "home_assistant" else path


HWU64_TRAIN = TrainingCorpus("hwu64_train", "HWU64", "hwu64", Path("hwu64/train"), None)
CLINC150_TRAIN = TrainingCorpus("clinc150_train", "CLINC150", "clinc", Path("clinc150/data_trainval.json"), "train")
HOME_ASSISTANT_TRAIN = TrainingCorpus(
    "home_assistant_train", "Home Assistant's sentences", "home_assistant", ha_sentences.DATA_FOLDER, ha_sentences.TRAIN
)
# Every labelled corpus a model may train on; training, deduplication before scoring and
# the benchmark's baselines all read this one list.
TRAINING_CORPORA = (HWU64_TRAIN, CLINC150_TRAIN, HOME_ASSISTANT_TRAIN)


def training_texts(metadata: dict[str, Any], intents: IntentSet, data_root: Path) -> set[str]:
    """The human commands a model was trained on, read again from `data_root` at
    the paths its model.json records (empty when they are not on this machine). SLURP devel
    shares sentences with HWU64 train; a fair score leaves those out."""
    texts: set[str] = set()
    human = metadata.get("training", {}).get("human_data", {})
    for corpus in TRAINING_CORPORA:
        path = data_root / human.get(corpus.key, {}).get("path", "")
        if corpus.key in human and path.exists():
            texts.update(command.text for command in corpus.read(path, intents))
    return texts
