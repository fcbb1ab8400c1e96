"""Home Assistant's English sentence templates, expanded into sentences.

home-assistant/intents (CC BY 4.0) writes, for each intent and entity domain, the
sentences Home Assistant's own matcher understands: `sentences/en/<domain>_<Intent>.yaml`
in hassil's template syntax, with shared lists and rules in `_common.yaml`. They are
other people's phrasings of much of what our devices do ("pause the timer", "what's
the temperature in the kitchen"), so they train the model and, a fifth of the
templates held out, measure it.

A sentence's label is its file's stem (`light_HassTurnOn`): the mapping file turns
labels into our intents and their slots into ours. A sentence is written annotated,
`[type : value]` as HWU64 writes its slots, for the types the mapping names: a list's
slot (`area` for `{area}`, `name` for `{timer_name:name}`) or a whole rule
(`<timer_duration>`, which says the number and its unit). Lists a home fills in (areas, device names, what to play)
take the mapping's values, by the file's domain first (`light`, `vacuum`); a
sentence that needs a list with no values is skipped. Each template is split whole, by a hash of
its text, so a held-out template's sentences were never trained on. The subfolders
(hassil test fixtures with entity contexts) are not read.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import DatasetError

DATA_FOLDER = Path("home_assistant_intents")  # a checkout of home-assistant/intents, in the data folder
SENTENCES = Path("sentences/en")  # inside that checkout
COMMON = "_common.yaml"
TRAIN, VALIDATION = "train", "validation"
VALIDATION_SHARE = 0.2  # of each file's templates
SAMPLES_PER_TEMPLATE = 12  # random expansions of one template (fewer where it has fewer)
ListValues = Mapping[str, Mapping[str, Sequence[str]]]  # domain ("*": any) -> list name -> values


@dataclass(frozen=True)
class Sentence:
    label: str  # the file's stem
    template: str
    text: str  # with `[type : value]` around the values of the types asked for


def sentence_folder(path: Path) -> Path:
    """`path` is a checkout of home-assistant/intents or its `sentences/en` folder."""
    folder = path / SENTENCES if (path / SENTENCES).is_dir() else path
    if not (folder / COMMON).is_file():
        raise DatasetError(f"{path}: not Home Assistant's sentences (no {SENTENCES / COMMON} or {COMMON})")
    return folder


def split_of(label: str, template: str) -> str:
    """The template's split, fixed by its text: the same on every machine and run."""
    bucket = zlib.crc32(f"{label}\n{template}".encode()) % 1000
    return VALIDATION if bucket < VALIDATION_SHARE * 1000 else TRAIN


def expand(
    path: Path,
    list_values: ListValues,
    split: str | None = None,
    annotate: frozenset[str] = frozenset(),
    samples_per_template: int = SAMPLES_PER_TEMPLATE,
    seed: int = 0,
) -> Iterator[Sentence]:
    """Up to `samples_per_template` distinct sentences of every template of `split`
    (every split when None), file by file in name order; the values of the slots and
    rules named in `annotate` are marked `[type : value]`."""
    from hassil import Intents  # the [train] extra: only training and evaluation read these files
    from hassil.parse_expression import parse_sentence
    from hassil.util import merge_dict

    folder = sentence_folder(path)
    common = _read(folder / COMMON)
    for file in sorted(folder.glob("*.yaml")):
        if file.name == COMMON:
            continue
        label = file.stem
        data: dict[str, Any] = {}
        merge_dict(data, common)
        merge_dict(data, _read(file))
        try:
            parsed = Intents.from_dict(data)
        except Exception as error:  # hassil raises its own parse errors and plain ValueErrors
            raise DatasetError(f"{file}: not a hassil sentence file ({error})") from error
        scope = _Scope(parsed.expansion_rules, {**parsed.slot_lists, **_lists(list_values, label)}, annotate)
        for intent in parsed.intents.values():
            for block in intent.data:
                block_scope = scope.with_block(block.expansion_rules, block.slot_lists)
                for template in block.sentence_texts:
                    if split is not None and split_of(label, template) != split:
                        continue
                    try:
                        expression = parse_sentence(template).expression
                    except Exception as error:  # hassil's parse errors have no common base
                        raise DatasetError(f"{file}: template {template!r}: {error}") from error
                    rng = random.Random(f"{seed}\n{label}\n{template}")
                    texts: dict[str, None] = {}  # distinct, in the order drawn
                    for _ in range(4 * samples_per_template):
                        text = block_scope.sample(expression, rng)
                        if text is None:
                            break  # a list no one gave values for
                        texts.setdefault(" ".join(text.split()), None)
                        if len(texts) == samples_per_template:
                            break
                    for text in texts:
                        yield Sentence(label, template, text)


def _read(file: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise DatasetError(f"{file}: cannot read ({error})") from error
    if not isinstance(data, dict):
        raise DatasetError(f"{file}: expected a mapping at the top")
    return data


def _lists(list_values: ListValues, label: str) -> dict[str, Any]:
    """The mapping's values for the lists a home fills in, the file's domain first."""
    from hassil.intents import TextSlotList

    domain = label.split("_Hass")[0]
    merged = {**list_values.get("*", {}), **list_values.get(domain, {})}
    return {name: TextSlotList.from_strings(list(values), name=name) for name, values in merged.items()}


@dataclass(frozen=True)
class _Scope:
    rules: Mapping[str, Any]
    lists: Mapping[str, Any]
    annotate: frozenset[str]

    def with_block(self, rules: Mapping[str, Any], lists: Mapping[str, Any]) -> _Scope:
        return _Scope({**self.rules, **rules}, {**self.lists, **lists}, self.annotate)

    def sample(self, expression: Any, rng: random.Random, inside: bool = False) -> str | None:
        """One random expansion of a hassil expression; None when it needs a list with no
        values. `inside`: within an annotated value, whose parts are not annotated again."""
        kind = None if inside else self._type(expression)
        annotated = kind in self.annotate
        text = self._sample(expression, rng, inside or annotated)
        if text is None or not annotated or not text.strip():
            return text
        return f"[{kind} : {text.strip()}]"

    @staticmethod
    def _type(expression: Any) -> str | None:
        from hassil.expression import ListReference, RuleReference

        if isinstance(expression, ListReference):
            return str(expression.slot_name)
        return f"<{expression.rule_name}>" if isinstance(expression, RuleReference) else None

    def _sample(self, expression: Any, rng: random.Random, inside: bool) -> str | None:
        from hassil.expression import Alternative, Group, ListReference, Permutation, RuleReference, TextChunk
        from hassil.intents import RangeSlotList, TextSlotList

        if isinstance(expression, TextChunk):
            return str(expression.text)
        if isinstance(expression, Alternative):
            return self.sample(rng.choice(expression.items), rng, inside)
        if isinstance(expression, Group):  # a sequence, or a permutation in a random order
            items = list(expression.items)
            if isinstance(expression, Permutation):
                rng.shuffle(items)
            parts = [self.sample(item, rng, inside) for item in items]
            return None if any(p is None for p in parts) else "".join(p for p in parts if p is not None)
        if isinstance(expression, RuleReference):
            if expression.rule_name not in self.rules:
                raise DatasetError(f"Home Assistant sentences: no rule <{expression.rule_name}>")
            return self.sample(self.rules[expression.rule_name].expression, rng, inside)
        if isinstance(expression, ListReference):
            slot_list = self.lists.get(expression.list_name)
            if isinstance(slot_list, TextSlotList) and slot_list.values:
                return self.sample(rng.choice(slot_list.values).text_in, rng, inside)
            if isinstance(slot_list, RangeSlotList):
                number = rng.choice(list(slot_list.get_numbers()))
                return str(int(number)) if float(number).is_integer() else str(number)
            return None  # a wildcard or empty list the mapping gives no values for
        raise DatasetError(f"Home Assistant sentences: unexpected template part {type(expression).__name__}")
