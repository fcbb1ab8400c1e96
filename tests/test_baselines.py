"""The benchmark's baselines must be real competitors: hassil matching our own
templates, and TF-IDF + logistic regression trained on our corpus."""

from __future__ import annotations

import pytest

from assistant.datagen import CorpusGenerator
from assistant.intents import IntentSet

pytest.importorskip("hassil", reason="the [train] extra provides hassil")
pytest.importorskip("sklearn", reason="the [train] extra provides scikit-learn")

from assistant.benchmarks.baselines import HassilBaseline, TfidfBaseline


def test_hassil_matches_template_sentences_with_typed_slots(intents: IntentSet) -> None:
    hassil = HassilBaseline(intents)
    timer = hassil.parse("set a timer for twenty five minutes")
    assert timer.intent == "timer.start"
    assert {s.name: s.value for s in timer.slots} == {"duration": 1500}
    lights = hassil.parse("turn on the kitchen lights")
    assert (lights.intent, {s.name: s.value for s in lights.slots}) == ("lights.on", {"room": "kitchen"})
    assert hassil.parse("what is the capital of peru").intent is None
    assert hassil.parse("turn on the kitchen lights", allowed={"timer.start"}).intent is None


def test_tfidf_learns_intents_and_rejects_with_a_threshold(intents: IntentSet) -> None:
    corpus = CorpusGenerator(intents, seed=0).generate(6000)
    baseline = TfidfBaseline([e.text for e in corpus.examples], [e.intent for e in corpus.examples])
    assert baseline.parse("set a timer for ten minutes").intent == "timer.start"
    assert baseline.parse("turn off the bedroom lights").intent == "lights.off"
    assert baseline.parse("set a timer for ten minutes", allowed={"lights.off"}).intent != "timer.start"
