"""Replies: written by the model, checked, and replaced by a template when wrong.

A reply must state what was done, so one that fails to state every slot value it
confirms and every value the device reported is not used; the intent's reply templates are used instead. The model
only writes replies when every value it would have to state is known (it is not
allowed to invent the time for "what time is it").
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assistant.intents import NOT_UNDERSTOOD, Intent, IntentSet
from assistant.nlu.result import ParseResult
from assistant.nlu.runtime import IntentModel
from assistant.nlu.sequences import sentence_case
from assistant.slot_types import Value
from assistant.spoken import NEGATIVE_WORDS, SCALES, SMALL, TENS
from assistant.templates import render_all, render_reply

MODEL, TEMPLATE, QUESTION = "model", "template", "question"
# Words that would change a number stated right after them ("thirty" five, "minus" two).
NUMBER_WORDS = frozenset({*SMALL, *TENS, *SCALES, "hundred", "point", "and", *NEGATIVE_WORDS})
DRAFTS = 6  # renderings of each reply template offered to the model as drafts


@dataclass(frozen=True)
class Reply:
    text: str
    source: str  # model | template | question
    latency_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "source": self.source, "latency_ms": round(self.latency_ms, 3)}


def compose_reply(
    intents: IntentSet,
    frame: ParseResult,
    outcome: Mapping[str, Value] | None = None,
    model: IntentModel | None = None,
    rng: random.Random | None = None,
) -> Reply | None:
    """The reply to `frame` after the device acted; `outcome` holds the action's
    result values (the intent's `result` fields). None when the reply can only
    state values the action has not supplied ("It's {time}.")."""
    started = time.perf_counter()
    rng = rng or random.Random()
    if frame.intent is None:
        template = rng.choice(intents.default_replies[NOT_UNDERSTOOD])
        return Reply(render_reply(template.node, {}, rng) or "Sorry?", TEMPLATE, _ms(started))
    intent = intents.intent(frame.intent)
    present = {s.name for s in frame.slots}
    missing = [slot for slot in intent.required_slots if slot.name not in present]
    if missing:
        return Reply(rng.choice(missing[0].ask), QUESTION, _ms(started))
    said = {s.name: intent.slots[s.name].type.say(s.value) for s in frame.slots}
    results = {name: intent.result[name].say(value) for name, value in (outcome or {}).items() if name in intent.result}
    if model is not None and set(results) == set(intent.result):
        values = {**said, **results}
        drafts = [text for t in intents.replies(intent, "success") for text in render_all(t.node, values, DRAFTS)]
        text = model.write_reply(intent.name, values, drafts)
        if text is not None and mentions_all(text, values.values()):
            return Reply(text, MODEL, _ms(started))
    text = template_reply(intents, intent, {**said, **results}, set(said) | set(results), rng)
    if text is None:
        return None
    return Reply(text, TEMPLATE, _ms(started))


def template_reply(
    intents: IntentSet, intent: Intent, values: Mapping[str, str], confirm: set[str], rng: random.Random
) -> str | None:
    """A success template with these values, preferring one that states all of `confirm`."""
    rendered = [render_reply(t.node, values, rng) for t in intents.replies(intent, "success")]
    usable = [text for text in rendered if text is not None]
    complete = [text for text in usable if mentions_all(text, [values[n] for n in confirm])]
    if complete or usable:
        return sentence_case(rng.choice(complete or usable))
    return None  # every reply states a value only the device's action can supply


def mentions_all(text: str, values: Any) -> bool:
    """Whether `text` states every value as said, as whole words: "five minutes"
    is not stated by "thirty five minutes", nor "two degrees" by "minus two degrees"."""
    return all(_states(text.lower(), value.lower()) for value in values)


def _states(text: str, value: str) -> bool:
    for match in re.finditer(rf"(?<![\w']){re.escape(value)}(?![\w'])", text):
        before = text[: match.start()].split()
        if not before or before[-1].strip(",.:;") not in NUMBER_WORDS:
            return True
    return False


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
