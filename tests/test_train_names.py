"""Training commands with new free-text values (assistant.train.names):
the spans must follow the new value, and a new value must never be made of the
words the commands use around their values."""

from __future__ import annotations

from assistant.datagen import CorpusGenerator
from assistant.intents import IntentSet
from assistant.slot_types import TextSlot
from assistant.train.names import carrier_words, name_pool, value_contexts, with_new_values, with_stray_words


def test_copies_get_new_values_with_spans_that_follow_them(intents: IntentSet) -> None:
    corpus = CorpusGenerator(intents, seed=3).generate(4000)
    carriers = carrier_words(corpus.examples, intents)
    assert {"timer", "play", "set", "minutes"} <= carriers
    pool = name_pool(intents, carriers, ["quokka marmalade with grandpa", "play the timer"])
    assert "quokka" in pool and "marmalade" in pool
    assert not {"timer", "play", "the"} & set(pool)

    renamed = with_new_values(corpus.examples, intents, pool, share=0.5, seed=0)
    assert len(renamed) == len(corpus.examples)  # as many commands with a value as before
    changed = [new for old, new in zip(corpus.examples, renamed, strict=True) if new is not old]
    with_text = [e for e in corpus.examples if _free_text_names(intents, e.intent) & {s.name for s in e.slots}]
    assert 0.35 * len(with_text) < len(changed) < 0.65 * len(with_text)
    from_pool = 0
    for copy in changed:
        assert copy.variant.endswith("+name")
        for slot in copy.slots:
            assert copy.text[slot.start : slot.end] == slot.raw
        free = [s for s in copy.slots if s.name in _free_text_names(intents, copy.intent)]
        from_pool += any(w in pool for s in free for w in str(s.value).split())
    assert from_pool > len(changed) // 2  # most new values are pool words, the rest other slots' examples
    assert with_new_values(corpus.examples, intents, pool, share=0.5, seed=0) == renamed  # seeded


def test_a_copy_keeps_the_other_slots_and_their_values(intents: IntentSet) -> None:
    corpus = CorpusGenerator(intents, seed=5).generate(4000)
    pool = name_pool(intents, carrier_words(corpus.examples, intents))
    timers = [
        e for e in corpus.examples if e.intent == "timer.start" and {s.name for s in e.slots} == {"name", "duration"}
    ]
    assert timers
    for original, copy in zip(timers, with_new_values(timers, intents, pool, share=1.0, seed=1), strict=True):
        before = {s.name: s.value for s in original.slots}
        after = {s.name: s.value for s in copy.slots}
        assert after["duration"] == before["duration"]
        duration = next(s for s in copy.slots if s.name == "duration")
        assert copy.text[duration.start : duration.end] == duration.raw


def _free_text_names(intents: IntentSet, intent: str | None) -> set[str]:
    if intent is None:
        return set()
    return {name for name, slot in intents.intent(intent).slots.items() if isinstance(slot.type, TextSlot)}


def test_stray_words_go_only_where_no_value_of_the_intent_ever_stands(intents: IntentSet) -> None:
    corpus = CorpusGenerator(intents, seed=4).generate(4000)
    pool = name_pool(intents, carrier_words(corpus.examples, intents))
    contexts = value_contexts(corpus.examples, intents)
    before, after = contexts["timer.start"]
    assert {"called", "named"} <= before and {"timer", "countdown"} <= after

    strayed = with_stray_words(corpus.examples, intents, pool, contexts, share=0.5, seed=0)
    assert len(strayed) == len(corpus.examples)
    changed = [(old, new) for old, new in zip(corpus.examples, strayed, strict=True) if new is not old]
    assert changed and all(old.intent is not None for old, _ in changed)  # out-of-scope commands stay as written
    for old, new in changed:
        assert len(new.text.split()) == len(old.text.split()) + 1
        assert [(s.name, s.value, s.raw) for s in new.slots] == [(s.name, s.value, s.raw) for s in old.slots]
        for slot in new.slots:
            assert new.text[slot.start : slot.end] == slot.raw
        words = new.text.split()
        stray = next(i for i, (a, b) in enumerate(zip(words, [*old.text.split(), ""], strict=False)) if a != b)
        own_before, own_after = contexts.get(str(new.intent), (set(), set()))
        assert (words[stray - 1] if stray else "") not in own_before
        assert (words[stray + 1] if stray + 1 < len(words) else "") not in own_after
