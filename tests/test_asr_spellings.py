"""Same-sounding spellings: merged into one in the decoder's grammar, and sentences respelled to it."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from assistant.asr.automaton import WordAutomaton
from assistant.asr.grammar import compile_grammar
from assistant.asr.pocketsphinx_engine import PocketSphinxRecognizer
from assistant.asr.spellings import Respelling, canonical_spellings, respell
from assistant.benchmarks.asr import Score, Utterance, spoken_command
from assistant.intents import IntentSet
from assistant.profiles import DeviceProfile

SOUNDS = {
    "zero": ("Z IH R OW",),
    "the": ("DH AH", "DH IY"),
    "stopwatch": ("S T AA P W AA CH",),
    "stop": ("S T AA P",),
    "watch": ("W AA CH",),
    "set": ("S EH T",),
    "color": ("K AH L ER",),
    "colour": ("K AH L ER",),
    "a": ("AH",),
    "timer": ("T AY M ER",),
    "for": ("F AO R",),
    "four": ("F AO R",),
    "ten": ("T EH N",),
    "timers": ("T AY M ER Z",),
    "now": ("N AW",),
    "count": ("K AW N T",),
    "down": ("D AW N",),
    "countdown": ("K AW N T D AW N",),
    "from": ("F R AH M",),
    "twenty": ("T W EH N T IY",),
    "two": ("T UW",),
    "to": ("T UW", "T AH"),
}
PHRASES = [
    "zero the stopwatch",
    "zero the stop watch",
    "stop the watch",  # "stop" and "watch", not the compound: stays
    "stop watch now",  # the split form where the whole word is not in the grammar: stays
    "set the colour",
    "set the color",
    "set a timer for ten",
    "four timers",  # a homophone of "for" leading somewhere else: stays
]


def _sounds(word: str) -> tuple[str, ...]:
    return SOUNDS[word]


def _language(automaton: WordAutomaton) -> set[str]:
    found: set[str] = set()
    stack: list[tuple[int, tuple[str, ...]]] = [(automaton.start, ())]
    while stack:
        state, words = stack.pop()
        if state in automaton.finals:
            found.add(" ".join(words))
        stack.extend((target, (*words, word)) for word, target in automaton.arcs[state].items())
    return found


def test_same_sounding_spellings_at_one_place_keep_one_and_nothing_else_changes() -> None:
    merged, respellings = canonical_spellings(WordAutomaton.phrases(PHRASES), _sounds, lambda word: True)
    assert _language(merged) == set(PHRASES) - {"zero the stop watch", "set the colour"}
    assert set(respellings) == {Respelling(("stop", "watch"), ("stopwatch",)), Respelling(("colour",), ("color",))}
    assert respell(merged, respellings, "zero the stop watch") == "zero the stopwatch"
    assert respell(merged, respellings, "set the colour") == "set the color"
    assert respell(merged, respellings, "stop watch now") == "stop watch now"
    assert respell(merged, respellings, "four timers") == "four timers"
    assert respell(merged, respellings, "set the colour now") is None  # not a sentence in any spelling


def test_a_word_written_in_parts_merges_where_the_whole_word_goes_on_the_same_way() -> None:
    phrases = ["count down for ten", "count down from ten", "countdown for ten", "countdown now"]
    merged, respellings = canonical_spellings(WordAutomaton.phrases(phrases), _sounds, lambda word: True)
    assert _language(merged) == {"count down from ten", "countdown for ten", "countdown now"}
    assert respellings == (Respelling(("count", "down"), ("countdown",)),)
    assert respell(merged, respellings, "count down for ten") == "countdown for ten"


def test_different_words_said_alike_stay_apart_where_they_go_on_differently() -> None:
    phrases = ["twenty two ten", "twenty two now", "twenty to ten"]  # 22:10 and 21:40 sound the same
    automaton = WordAutomaton.phrases(phrases)
    assert canonical_spellings(automaton, _sounds, lambda word: True) == (automaton, ())


def test_the_dictionary_own_spelling_wins_over_a_composed_one() -> None:
    automaton = WordAutomaton.phrases(["set the color", "set the colour"])
    merged, respellings = canonical_spellings(automaton, _sounds, lambda word: word == "colour")
    assert _language(merged) == {"set the colour"}
    assert respellings == (Respelling(("color",), ("colour",)),)


def test_a_grammar_without_duplicate_spellings_is_left_as_it_is() -> None:
    automaton = WordAutomaton.phrases(["set a timer for ten", "four timers", "stop the watch"])
    assert canonical_spellings(automaton, _sounds, lambda word: True) == (automaton, ())


def test_respelled_grammar_sentences_are_in_the_decoder_grammar_and_others_unchanged(
    intents: IntentSet, profiles: dict[str, DeviceProfile]
) -> None:
    grammar = compile_grammar(intents.restricted_to(profiles["dishwasher"].domains))
    heard = PocketSphinxRecognizer(grammar).grammar  # a grammar of its own: `grammar` is sampled below
    assert heard is not None
    assert Respelling(("dish", "washer"), ("dishwasher",)) in heard.respellings
    assert heard.respell("stop the dish washer") == "stop the dishwasher"
    assert not heard.accepts("stop the dish washer") and heard.accepts("stop the dishwasher")
    rng = random.Random(4)
    written = {" ".join(r.written) for r in heard.respellings}
    for _ in range(400):
        sentence = grammar.sample(rng)
        if any(word in heard.dropped_words for word in sentence.split()):
            continue
        respelled = heard.respell(sentence)
        assert respelled is not None and heard.accepts(respelled), sentence
        if not any(f" {w} " in f" {sentence} " for w in written):
            assert respelled == sentence


@pytest.fixture(scope="module")
def dishwasher(intents: IntentSet, profiles: dict[str, DeviceProfile]) -> PocketSphinxRecognizer:
    recognizer = PocketSphinxRecognizer(compile_grammar(intents.restricted_to(profiles["dishwasher"].domains)))
    recognizer.transcribe(spoken_command("what time is it", ("en-us", "m1"), 160, seed=0))  # adapt to the audio
    return recognizer


@pytest.mark.parametrize("said", ["stop the dish washer", "when does the dish washer end"])
def test_the_recognizer_writes_the_canonical_spelling(said: str, dishwasher: PocketSphinxRecognizer) -> None:
    recognizer = dishwasher
    assert recognizer.grammar is not None
    heard = recognizer.transcribe(spoken_command(said, ("en-us", "f3"), 150, seed=3)).text
    assert heard == recognizer.grammar.respell(said) == said.replace("dish washer", "dishwasher")


def _said(sentence: str) -> str:
    return " ".join(SOUNDS[word][0] for word in sentence.split())


def _one_respelling_away(sentence: str, respellings: tuple[Respelling, ...]) -> set[str]:
    words = tuple(sentence.split())
    found = set()
    for r in respellings:
        for position in range(len(words) - len(r.written) + 1):
            if words[position : position + len(r.written)] == r.written:
                found.add(" ".join((*words[:position], *r.canonical, *words[position + len(r.written) :])))
    return found


def test_on_random_grammars_every_sentence_keeps_one_same_sounding_spelling() -> None:
    rng = random.Random(6)
    vocabulary = ["stop", "watch", "stopwatch", "color", "colour", "for", "four", "the", "set", "now"]
    for _ in range(300):
        phrases = {
            " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 12))
        }
        merged, respellings = canonical_spellings(WordAutomaton.phrases(phrases), _sounds, lambda word: True)
        kept = _language(merged)
        assert kept <= phrases
        for sentence in phrases:
            respelled = respell(merged, respellings, sentence)
            assert respelled in kept and _said(respelled) == _said(sentence), (phrases, sentence)
        # No sentence kept has a twin kept that differs by one word's parts written apart: one word, kept once.
        # (Different words said alike, "for" and "four", stay where they go on differently: not checked here.)
        split = tuple(r for r in respellings if len(r.written) > 1)
        for sentence in kept:
            assert not _one_respelling_away(sentence, split) & kept, (phrases, sentence)


def test_the_benchmark_compares_a_command_in_the_recognizer_spelling_and_counts_it() -> None:
    said = Utterance(
        "zero the stop watch", "en-us+m1 150 wpm", "zero the stopwatch", 0.1, 0.1, 2.0, "zero the stopwatch"
    )
    assert said.exact
    assert not replace(said, heard="zero the stop watch").exact  # the recognizer cannot write that
    plain = Utterance("what's the time", "en-us+m1 150 wpm", "what is the time", 0.1, 0.1, 2.0)
    assert not plain.exact  # a contraction is not a spelling: a mistake
    score = Score("smartwatch", "grammar", (said, plain))
    assert (score.exact, score.respelled) == (0.5, 1)
