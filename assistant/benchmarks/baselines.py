"""The systems our model is compared with, each behind the same `parse(text)`.

- TF-IDF + logistic regression (scikit-learn), trained on the same rows as our
  model: intent only, with a probability threshold for "not understood";
- hassil template matching over the same intent templates (what Home Assistant
  uses): exact matches only, slot values read by our own slot types.

Both need the [train] extra; they are benchmark tools, never used at run time.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Sequence
from typing import Any

from assistant.errors import ValueParseError
from assistant.intents import Intent, IntentSet
from assistant.nlu.result import ParseResult, SlotValue
from assistant.slot_types import EnumSlot, SlotType
from assistant.templates import format_template
from assistant.textnorm import normalize

NO_INTENT = "__none__"


class TfidfBaseline:
    """Word and character n-gram TF-IDF features, multinomial logistic regression."""

    def __init__(
        self, texts: Sequence[str], labels: Sequence[str | None], threshold: float = 0.5, seed: int = 0
    ) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        features = make_union(
            TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=3, sublinear_tf=True),
        )
        self.model = make_pipeline(features, LogisticRegression(C=10.0, max_iter=300, random_state=seed))
        self.model.fit(list(texts), [label or NO_INTENT for label in labels])
        self.threshold = threshold
        self.classes = list(self.model.classes_)

    def parse(self, text: str, allowed: Collection[str] | None = None) -> ParseResult:
        started = time.perf_counter()
        text = normalize(text)
        probabilities = self.model.predict_proba([text])[0]
        best, best_p = None, 0.0
        for name, p in zip(self.classes, probabilities, strict=True):
            if (allowed is None or name == NO_INTENT or name in allowed) and p > best_p:
                best, best_p = name, float(p)
        intent = None if best in (None, NO_INTENT) or best_p < self.threshold else best
        return ParseResult(text, intent, (), best_p, (time.perf_counter() - started) * 1000)


class HassilBaseline:
    """Our templates compiled to hassil intents; a sentence no template matches
    is "not understood"."""

    def __init__(self, intents: IntentSet) -> None:
        from hassil import Intents

        self.definitions = intents
        self.intents = Intents.from_dict(_hassil_dict(intents))

    def parse(self, text: str, allowed: Collection[str] | None = None) -> ParseResult:
        from hassil import recognize_all

        started = time.perf_counter()
        text = normalize(text)
        matches = [r for r in recognize_all(text, self.intents) if allowed is None or r.intent.name in allowed]
        result = _most_literal(matches)
        if result is None:
            return ParseResult(text, None, (), 0.0, (time.perf_counter() - started) * 1000)
        intent = self.definitions.intent(result.intent.name)
        slots = tuple(_slot_values(intent, result.entities_list))
        return ParseResult(text, intent.name, slots, 1.0, (time.perf_counter() - started) * 1000)


def _most_literal(matches: list[Any]) -> Any:
    """hassil's own preference: the match with the most literal text, fewest wildcards."""
    if not matches:
        return None
    return max(matches, key=lambda r: (r.text_chunks_matched, -sum(1 for e in r.entities_list if e.is_wildcard)))


def _slot_values(intent: Intent, entities: list[Any]) -> list[SlotValue]:
    values = []
    for entity in entities:
        name = entity.name
        if name not in intent.slots:
            continue
        slot_type = intent.slots[name].type
        raw = str(entity.text or entity.value).strip()
        try:
            value = (
                entity.value
                if isinstance(slot_type, EnumSlot) and not entity.is_wildcard
                else slot_type.parse(normalize(raw))
            )
        except ValueParseError:
            continue
        values.append(SlotValue(name, value, raw, 0, 0))
    return values


def _hassil_dict(intents: IntentSet) -> dict[str, Any]:
    """Our definitions in hassil's layout: every {slot} gets a list of its own and
    every domain's own rules get the domain as a prefix, so no two names clash."""
    lists: dict[str, Any] = {}
    rules = {name: format_template(node) for name, node in intents.rules.items()}
    data: dict[str, Any] = {}
    for intent in intents.intents:
        own = {name for name in intent.rules if name not in intents.rules}
        for name in own:
            rules[f"{intent.domain}__{name}"] = _rename(format_template(intent.rules[name]), intent.domain, own, {})
        slot_lists = {slot: f"{intent.name.replace('.', '__')}__{slot}" for slot in intent.slots}
        for slot_name, list_name in slot_lists.items():
            lists[list_name] = _hassil_list(intent.slots[slot_name].type)
        sentences = [_rename(t.text, intent.domain, own, slot_lists) for t in intent.templates]
        data[intent.name] = {"data": [{"sentences": sentences}]}
    return {"language": "en", "intents": data, "lists": lists, "expansion_rules": rules}


def _rename(text: str, domain: str, own_rules: set[str], slot_lists: dict[str, str]) -> str:
    text = re.sub(r"<(\w+)>", lambda m: f"<{domain}__{m.group(1)}>" if m.group(1) in own_rules else m.group(0), text)
    return re.sub(r"\{(\w+)\}", lambda m: "{" + f"{slot_lists.get(m.group(1), m.group(1))}:{m.group(1)}" + "}", text)


def _hassil_list(slot_type: SlotType) -> dict[str, Any]:
    if isinstance(slot_type, EnumSlot):
        return {
            "values": [
                {"in": phrase, "out": canonical}
                for canonical, phrases in slot_type.phrases.items()
                for phrase in phrases
            ]
        }
    return {"wildcard": True}
