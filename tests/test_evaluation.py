"""The scoring definitions, checked on a parser whose answers are fixed in advance."""

from __future__ import annotations

import pytest

from assistant.evaluation import LabelledCommand, evaluate
from assistant.nlu.result import ParseResult, SlotValue


def answers(table: dict[str, tuple[str | None, dict[str, object]]]):  # type: ignore[no-untyped-def]
    def parse(text: str) -> ParseResult:
        intent, slots = table[text]
        values = tuple(SlotValue(name, value, str(value), 0, 0) for name, value in slots.items())  # type: ignore[arg-type]
        return ParseResult(text, intent, values, 1.0 if intent else 0.0, latency_ms=float(len(text)))

    return parse


COMMANDS = [
    LabelledCommand("a", "timer.start", {"duration": 300}),
    LabelledCommand("b", "timer.start", {"duration": 60}),
    LabelledCommand("c", "lights.on", {}),
    LabelledCommand("d", None),
    LabelledCommand("e", None),
]
PARSER = answers(
    {
        "a": ("timer.start", {"duration": 300}),  # all right
        "b": ("timer.start", {"duration": 90}),  # right intent, wrong value
        "c": (None, {}),  # rejected in scope
        "d": (None, {}),  # rejected out of scope: right
        "e": ("lights.on", {"room": "kitchen"}),  # accepted out of scope: wrong
    }
)


def test_metrics_follow_their_definitions() -> None:
    report = evaluate(PARSER, COMMANDS)
    assert report.n == 5
    assert report.intent_accuracy == pytest.approx(2 / 3)
    assert report.frame_accuracy == pytest.approx(1 / 3)
    assert report.oos_recall == pytest.approx(1 / 2)
    assert report.oos_false_reject == pytest.approx(1 / 3)
    # slots: gold {300, 60}; predicted in scope {300, 90}: 1 right of 2 predicted, 2 gold
    assert report.slot_f1 == pytest.approx(0.5)


def test_mistakes_are_reported() -> None:
    seen: list[str] = []
    evaluate(PARSER, COMMANDS, lambda command, result: seen.append(command.text))
    assert seen == ["b", "c", "e"]


def test_coarse_labels_accept_any_listed_intent_and_ignore_slots() -> None:
    command = LabelledCommand("x", "media.volume_up", alternatives=frozenset({"media.volume_set"}), slots_known=False)
    report = evaluate(answers({"x": ("media.volume_set", {"level": 50})}), [command])
    assert report.intent_accuracy == 1.0
    assert report.frame_accuracy == 1.0


def test_a_device_without_the_intent_should_not_understand() -> None:
    command = LabelledCommand("x", "oven.preheat", {"temperature": 180})
    assert command.within({"timer.start"}).intent is None
    assert command.within({"oven.preheat"}) is command
    coarse = LabelledCommand("y", "media.mute", alternatives=frozenset({"general.stop"}), slots_known=False)
    narrowed = coarse.within({"general.stop"})
    assert narrowed.intent == "general.stop"
    assert not narrowed.alternatives
