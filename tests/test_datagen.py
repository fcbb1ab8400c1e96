from __future__ import annotations

import random
from collections import Counter, defaultdict

import pytest

from assistant.datagen import (
    NOISY,
    OTHER_DEVICE,
    OUT_OF_SCOPE,
    TRAIN,
    VALIDATION,
    Corpus,
    CorpusGenerator,
    _skeleton,
)
from assistant.intents import NOT_UNDERSTOOD, IntentSet
from assistant.templates import render_reply
from assistant.textnorm import is_normalized

SIZE = 8000


@pytest.fixture(scope="module")
def generator(intents: IntentSet) -> CorpusGenerator:
    return CorpusGenerator(intents, seed=3)


@pytest.fixture(scope="module")
def corpus(generator: CorpusGenerator) -> Corpus:
    return generator.generate(SIZE)


def test_the_requested_number_of_unique_examples(corpus: Corpus) -> None:
    texts = [example.text for example in corpus.examples]
    assert len(texts) == SIZE
    assert len(set(texts)) == SIZE


def test_a_check_of_every_listed_phrase_says_each_in_commands_of_its_intent(intents: IntentSet) -> None:
    checks = CorpusGenerator(intents, seed=5).phrase_examples(2)
    by_phrase = Counter((e.intent, s.name, s.raw, s.value) for e in checks for s in e.slots)
    recurrence = intents.intent("alarm.set").slots["recurrence"].type
    for value in recurrence.values:
        for phrase in recurrence.variants(value):
            assert by_phrase[("alarm.set", "recurrence", phrase, value)] >= 2, phrase
    assert len({e.text for e in checks}) == len(checks)
    assert all(e.variant == "clean" and e.intent is not None for e in checks)


def test_same_seed_same_corpus_other_seed_other_corpus(intents: IntentSet, corpus: Corpus) -> None:
    again = CorpusGenerator(intents, seed=3).generate(SIZE)
    assert [e.to_dict() for e in again.examples] == [e.to_dict() for e in corpus.examples]
    other = CorpusGenerator(intents, seed=4).generate(SIZE)
    assert [e.text for e in other.examples] != [e.text for e in corpus.examples]


def test_every_intent_and_both_splits_are_represented(corpus: Corpus, intents: IntentSet) -> None:
    counts = corpus.counts()
    for intent in intents.intents:
        assert counts.get(intent.name, {}).get(TRAIN, 0) > 0, intent.name
    assert 0.1 < len(corpus.split(VALIDATION)) / SIZE < 0.35


def test_splits_share_no_template_and_no_sentence(corpus: Corpus) -> None:
    train_templates = {e.template for e in corpus.split(TRAIN)}
    validation_templates = {e.template for e in corpus.split(VALIDATION)}
    assert not train_templates & validation_templates
    assert not {e.text for e in corpus.split(TRAIN)} & {e.text for e in corpus.split(VALIDATION)}


def test_a_model_to_ship_learns_every_intent_template_while_out_of_scope_ones_stay_held_out(
    intents: IntentSet,
) -> None:
    corpus = CorpusGenerator(intents, seed=3, validation_share=0.0).generate(SIZE)
    held_out = corpus.split(VALIDATION)
    assert held_out and all(e.intent is None for e in held_out)
    default = CorpusGenerator(intents, seed=3)
    assert any(VALIDATION in family.splits for family in default.families.values())
    assert CorpusGenerator(intents, seed=3, validation_share=0.0).oos_family.splits == default.oos_family.splits


def test_no_validation_phrasing_can_come_from_a_training_template(intents: IntentSet) -> None:
    """Held-out templates must test unseen phrasings, not paraphrases that the
    training templates also produce (e.g. through shared optional words)."""
    generator = CorpusGenerator(intents, seed=3)
    checked = 0
    for family in generator.families.values():
        if family.train_skeletons is None:
            continue
        for _ in range(200):
            sampled = family.sample()
            if sampled is not None and family.splits[sampled[0]] == VALIDATION:
                assert _skeleton(sampled[1]) not in family.train_skeletons
                checked += 1
    assert checked > 1000


def test_slot_spans_point_at_their_words_and_parse_back(corpus: Corpus, intents: IntentSet) -> None:
    for example in corpus.examples:
        assert is_normalized(example.text), example.text
        if example.intent is None:
            assert not example.slots
            continue
        intent = intents.intent(example.intent)
        for span in example.slots:
            assert example.text[span.start : span.end] == span.raw
            assert intent.slots[span.name].type.parse(span.raw) == span.value, (example.text, span)


def test_replies_confirm_values_or_ask_for_missing_ones(corpus: Corpus, intents: IntentSet) -> None:
    for example in corpus.examples:
        assert example.reply and example.reply[0].isupper(), example
        if example.intent is None:
            continue
        intent = intents.intent(example.intent)
        present = {span.name for span in example.slots}
        missing = [slot for slot in intent.required_slots if slot.name not in present]
        if missing:
            assert example.reply in missing[0].ask
            continue
        said = {s.name: intent.slots[s.name].type.say(s.value) for s in example.slots}
        said |= {name: intent.result[name].say(value) for name, value in example.result.items()}
        reply = example.reply.lower()
        if all(said[name].lower() in reply for name in present):
            continue
        # Only acceptable when no success reply can mention every value.
        rng = random.Random(0)
        for template in intents.replies(intent, "success"):
            for _ in range(20):
                text = render_reply(template.node, said, rng)
                assert text is None or not all(said[name].lower() in text.lower() for name in present), example


def test_negatives_are_labelled_not_understood(corpus: Corpus, intents: IntentSet) -> None:
    negatives = [e for e in corpus.examples if e.variant == OUT_OF_SCOPE]
    assert len(negatives) > SIZE * 0.05
    replies = {t.text for t in intents.default_replies[NOT_UNDERSTOOD]}
    for example in negatives:
        assert example.intent is None
        assert example.reply in replies


def test_noisy_variants_keep_the_gold_frame(corpus: Corpus) -> None:
    by_frame = defaultdict(list)
    for example in corpus.examples:
        by_frame[(example.intent, example.template, tuple(s.raw for s in example.slots))].append(example)
    noisy = [e for e in corpus.examples if e.variant == NOISY]
    assert len(noisy) > SIZE * 0.05
    paired = sum(1 for e in noisy if len(by_frame[(e.intent, e.template, tuple(s.raw for s in e.slots))]) > 1)
    assert paired > len(noisy) * 0.9


def test_a_device_corpus_has_only_its_intents_and_others_as_negatives(intents: IntentSet) -> None:
    oven = intents.restricted_to(["general", "timer", "oven"])
    others = intents.restricted_to([d for d in intents.domain_names() if d not in ("general", "timer", "oven")])
    corpus = CorpusGenerator(oven, seed=1, other_device=others).generate(3000)
    in_scope = {e.intent.split(".")[0] for e in corpus.examples if e.intent}
    assert in_scope == {"general", "timer", "oven"}
    foreign = [e for e in corpus.examples if e.variant == OTHER_DEVICE]
    assert foreign and all(e.intent is None and not e.slots for e in foreign)
    assert {e.template.split(".")[0] for e in foreign} <= set(others.domain_names())


def test_no_sentence_of_the_shipped_definitions_means_two_intents(corpus: Corpus) -> None:
    assert not corpus.collisions, list(corpus.collisions.items())[:5]
