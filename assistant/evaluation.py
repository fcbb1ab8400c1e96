"""Scoring a parser on labelled commands, with the definitions every report uses.

- intent_accuracy: share of in-scope examples given the right intent (a rejection is an error);
- slot_f1: micro F1 over (slot, typed value) pairs of in-scope examples with slot labels
  (a slot predicted under a wrong intent counts as a false positive);
- frame_accuracy: share of in-scope examples with the right intent and every slot value right
  (the intent alone where the data has no slot labels);
- oos_recall: share of out-of-scope examples rejected;
- oos_false_reject: share of in-scope examples rejected;
- latency_ms_p50 / _p95: parse latency percentiles.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from assistant.nlu.result import ParseResult
from assistant.slot_types import Value


@dataclass(frozen=True)
class LabelledCommand:
    text: str
    intent: str | None  # None: out of scope
    slots: Mapping[str, Value] = field(default_factory=dict)
    alternatives: frozenset[str] = frozenset()  # other intents that also answer it (coarse labels)
    slots_known: bool = True  # False: the data has no slot labels; score the intent only
    spans: Mapping[str, tuple[int, int]] | None = None  # character spans of the slots, when known

    def accepts(self, intent: str | None) -> bool:
        return intent == self.intent or (intent is not None and intent in self.alternatives)

    def within(self, enabled: Collection[str]) -> LabelledCommand:
        """The command as a device with only `enabled` intents should answer it:
        a command for an intent the device lacks is out of scope there."""
        every = [name for name in (self.intent, *sorted(self.alternatives)) if name is not None]
        answers = [name for name in every if name in enabled]
        if answers == every:
            return self
        if not answers:
            return LabelledCommand(self.text, None, {}, frozenset(), True, None)
        keep_slots = answers[0] == self.intent
        return LabelledCommand(
            self.text,
            answers[0],
            self.slots if keep_slots else {},
            frozenset(answers[1:]),
            self.slots_known and keep_slots,
            self.spans if keep_slots else None,
        )


@dataclass(frozen=True)
class EvalReport:
    n: int
    intent_accuracy: float
    slot_f1: float
    frame_accuracy: float
    oos_recall: float | None  # None when there were no out-of-scope examples
    oos_false_reject: float
    latency_ms_p50: float
    latency_ms_p95: float

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def evaluate(
    parse: Callable[[str], ParseResult],
    commands: Iterable[LabelledCommand],
    on_error: Callable[[LabelledCommand, ParseResult], None] | None = None,
) -> EvalReport:
    """Parse every command and score the results."""
    in_scope = right_intent = right_frame = rejected_in_scope = 0
    out_of_scope = rejected_out_of_scope = 0
    true_positive = predicted = gold = 0
    latencies: list[float] = []
    n = 0
    for command in commands:
        n += 1
        result = parse(command.text)
        latencies.append(result.latency_ms)
        if command.intent is None:
            out_of_scope += 1
            rejected_out_of_scope += result.intent is None
            if result.intent is not None and on_error:
                on_error(command, result)
            continue
        in_scope += 1
        rejected_in_scope += result.intent is None
        intent_right = command.accepts(result.intent)
        right_intent += intent_right
        if not command.slots_known:
            right_frame += intent_right
            if not intent_right and on_error:
                on_error(command, result)
            continue
        got = {s.name: s.value for s in result.slots} if intent_right else {}
        want = dict(command.slots)
        pairs_right = sum(1 for name, value in got.items() if name in want and _same(want[name], value))
        true_positive += pairs_right
        predicted += len(result.slots)
        gold += len(want)
        frame_right = intent_right and pairs_right == len(want) == len(got)
        right_frame += frame_right
        if not frame_right and on_error:
            on_error(command, result)
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / gold if gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return EvalReport(
        n=n,
        intent_accuracy=right_intent / in_scope if in_scope else 0.0,
        slot_f1=f1,
        frame_accuracy=right_frame / in_scope if in_scope else 0.0,
        oos_recall=rejected_out_of_scope / out_of_scope if out_of_scope else None,
        oos_false_reject=rejected_in_scope / in_scope if in_scope else 0.0,
        latency_ms_p50=float(np.percentile(latencies, 50)) if latencies else 0.0,
        latency_ms_p95=float(np.percentile(latencies, 95)) if latencies else 0.0,
    )


def _same(want: Value, got: Value) -> bool:
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return abs(float(want) - float(got)) < 1e-6
    return want == got
