"""The network PocketSphinx is given: joined word chains, shared arcs, the same sentences as the grammar."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pocketsphinx
import pytest
from audio_helpers import speak

from assistant.asr import compounds, rejection
from assistant.asr.automaton import WordAutomaton
from assistant.asr.decoder_grammar import prepare_grammar
from assistant.asr.dictionary import write_dictionary
from assistant.asr.fsg import DecoderNetwork, Transition, decoder_network, fsg_transitions, write_fsg
from assistant.asr.grammar import compile_grammar
from assistant.intents import IntentSet
from assistant.profiles import DeviceProfile

CMUDICT = Path(pocketsphinx.Config()["dict"])
LANGUAGE_WEIGHT = 6.5


def _accepts(start: int, final: int, transitions: Sequence[Transition], words: Sequence[str]) -> bool:
    """Whether the FSG takes `words` (a decoder word may be several joined ones), through any empty moves."""
    leaving: dict[int, list[Transition]] = {}
    for transition in transitions:
        leaving.setdefault(transition[0], []).append(transition)
    frontier, seen = [(start, 0)], set()
    while frontier:
        state, position = frontier.pop()
        if (state, position) in seen:
            continue
        seen.add((state, position))
        if state == final and position == len(words):
            return True
        for transition in leaving.get(state, []):
            if len(transition) == 3:
                frontier.append((transition[1], position))
                continue
            said = compounds.split(transition[3]).split()
            if list(words[position : position + len(said)]) == said:
                frontier.append((transition[1], position + len(said)))
    return False


def _leaving_probability(transitions: Sequence[Transition]) -> dict[int, float]:
    total: dict[int, float] = {}
    for transition in transitions:
        total[transition[0]] = total.get(transition[0], 0.0) + transition[2]
    return total


def test_chains_of_words_always_said_together_become_one_decoder_word() -> None:
    automaton = WordAutomaton.phrases(["what is the time", "what is the date", "stop"])
    spoken = {"what": ("W AH T",), "is": ("IH Z",), "the": ("DH AH", "DH IY"), "time": ("T AY M",),
              "date": ("D EY T",), "stop": ("S T AA P",)}  # fmt: skip
    arcs, pronunciations = compounds.join_chains(automaton.arcs, automaton.start, automaton.finals, spoken)
    assert set(pronunciations) == {"what_is_the", "time", "date", "stop"}
    assert pronunciations["what_is_the"] == ("W AH T IH Z DH AH", "W AH T IH Z DH IY")
    start, final, transitions = fsg_transitions(arcs, automaton.start, automaton.finals)
    assert len({t[0] for t in transitions}) == 2  # the start and the state before "time" | "date"
    for sentence in ("what is the time", "what is the date", "stop"):
        assert _accepts(start, final, transitions, sentence.split())
    assert not _accepts(start, final, transitions, ["what", "is", "the"])
    assert compounds.split("what_is_the time") == "what is the time"


def test_arcs_many_states_share_are_given_once_from_a_shared_state() -> None:
    numbers = [str(n) for n in range(1, 13)]
    automaton = WordAutomaton.phrases(
        [f"{lead} {n} {tail}" for lead in ("at", "for", "until") for n in numbers for tail in ("am", "pm")]
        + ["at noon", "until midnight"]
    )
    start, final, transitions = fsg_transitions(automaton.arcs, automaton.start, automaton.finals)
    empty_moves = [t for t in transitions if len(t) == 3]
    assert len(empty_moves) == 3  # "at", "for" and "until" each reach the shared "1" .. "12"
    assert sum(1 for t in transitions if len(t) == 4 and t[3] == "7") == 1
    for lead in ("at", "for", "until"):
        assert _accepts(start, final, transitions, [lead, "7", "pm"])
    assert _accepts(start, final, transitions, ["at", "noon"])
    assert not _accepts(start, final, transitions, ["for", "noon"])
    assert all(abs(p - 1.0) < 1e-9 for p in _leaving_probability(transitions).values())
    # every word leaving "at" keeps the probability the state spread evenly: 1 of its 13 words
    at = next(t[1] for t in transitions if len(t) == 4 and t[0] == start and t[3] == "at")
    to_hub = next(t for t in empty_moves if t[0] == at)
    seven = next(t for t in transitions if len(t) == 4 and t[0] == to_hub[1] and t[3] == "7")
    assert abs(to_hub[2] * seven[2] - 1 / 13) < 1e-9


@pytest.fixture(scope="module")
def watch_network(intents: IntentSet, profiles: dict[str, DeviceProfile]) -> tuple[WordAutomaton, DecoderNetwork]:
    prepared, pronunciations = prepare_grammar(
        compile_grammar(intents.restricted_to(profiles["smartwatch"].domains)), CMUDICT
    )
    return prepared.automaton, decoder_network(prepared.automaton, pronunciations)


def test_the_network_takes_the_grammar_sentences_and_no_others(
    watch_network: tuple[WordAutomaton, DecoderNetwork],
) -> None:
    automaton, network = watch_network
    sentences = _sentences(automaton, random.Random(4), 300)
    vocabulary = sorted({word for arcs in automaton.arcs for word in arcs})
    rng = random.Random(5)
    for sentence in sentences:
        assert _accepts(network.start, network.final, network.transitions, sentence)
        changed = list(sentence)
        changed[rng.randrange(len(changed))] = rng.choice(vocabulary)  # mostly not a sentence any more
        assert _accepts(network.start, network.final, network.transitions, changed) == automaton.accepts(changed)
    decoder_words = {t[3] for t in network.transitions if len(t) == 4}
    assert decoder_words == set(network.pronunciations)
    assert {w for word in decoder_words for w in compounds.split(word).split()} <= set(vocabulary)


def test_the_packed_automaton_takes_the_same_sentences(watch_network: tuple[WordAutomaton, DecoderNetwork]) -> None:
    automaton, _ = watch_network
    packed = automaton.packed()
    vocabulary = sorted(packed.word_ids)
    rng = random.Random(6)
    for sentence in _sentences(automaton, rng, 300):
        assert packed.accepts(sentence)
        for changed in (
            sentence[:-1],  # cut short: rarely a sentence
            [*sentence, rng.choice(vocabulary)],
            [*sentence[:1], rng.choice(vocabulary), *sentence[2:]],
            [*sentence[:1], "aardvark", *sentence[2:]],  # not a grammar word at all
        ):
            assert packed.accepts(changed) == automaton.accepts(changed), changed
    assert not packed.accepts([])


def test_the_network_is_much_smaller_than_the_automaton(watch_network: tuple[WordAutomaton, DecoderNetwork]) -> None:
    automaton, network = watch_network
    states = {t[0] for t in network.transitions} | {t[1] for t in network.transitions}
    assert len(network.transitions) < 0.6 * automaton.n_arcs  # measured: 13,003 of 23,726
    assert len(states) < 0.9 * len(automaton.arcs)  # measured: 2,685 of 3,519
    assert any(compounds.JOINER in word for word in network.pronunciations)
    assert all(abs(p - 1.0) < 1e-6 for p in _leaving_probability(network.transitions).values())


def _sentences(automaton: WordAutomaton, rng: random.Random, count: int) -> list[list[str]]:
    sentences = []
    for _ in range(count):
        state, words = automaton.start, []
        while automaton.arcs[state] and not (state in automaton.finals and rng.random() < 0.3):
            word = rng.choice(sorted(automaton.arcs[state]))
            words.append(word)
            state = automaton.arcs[state][word]
        sentences.append(words)
    return sentences


def test_a_decoder_reading_the_written_network_scores_as_one_given_the_transitions(
    intents: IntentSet, profiles: dict[str, DeviceProfile], tmp_path: Path
) -> None:
    prepared, pronunciations = prepare_grammar(
        compile_grammar(intents.restricted_to(profiles["oven"].domains)), CMUDICT
    )
    network = decoder_network(prepared.automaton, pronunciations)
    write_dictionary(tmp_path / "grammar.dict", network.pronunciations)
    write_fsg(tmp_path / "grammar.fsg", network, LANGUAGE_WEIGHT)
    audio = np.concatenate([np.zeros(4000, np.int16), speak("set the oven to two hundred degrees", tmp_path)])
    heard = []
    for load in ("file", "transitions"):
        decoder = pocketsphinx.Decoder(lm=None, bestpath=False, loglevel="FATAL", lw=LANGUAGE_WEIGHT,
                                       dict=str(tmp_path / "grammar.dict"))  # fmt: skip
        if load == "file":
            fsg = decoder.read_fsg(str(tmp_path / "grammar.fsg"))
        else:
            fsg = decoder.create_fsg("device", network.start, network.final, list(network.transitions))
        decoder.add_fsg("device", fsg)
        decoder.activate_search("device")
        decoder.start_utt()
        decoder.process_raw(audio.tobytes(), False, True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        heard.append((compounds.split(hypothesis.hypstr), hypothesis.score))
    assert heard[0][0] == "set the oven to two hundred degrees"
    assert heard[0] == heard[1]  # same words, same score: the file's probabilities undo the language weight


def test_the_phone_loop_beside_the_grammar_takes_any_phones_and_leaves_the_sentences_their_odds() -> None:
    automaton = WordAutomaton.phrases(["what is the time", "stop"])
    spoken = {"what": ("W AH T",), "is": ("IH Z",), "the": ("DH AH",), "time": ("T AY M",), "stop": ("S T AA P",)}
    network = decoder_network(automaton, spoken)
    looped = rejection.with_phone_loop(network)
    for sentence in (["what", "is", "the", "time"], ["stop"], ["+hh+", "+eh+", "+l+", "+ow+"], []):
        assert _accepts(looped.start, looped.final, looped.transitions, sentence)
    assert not _accepts(looped.start, looped.final, looped.transitions, ["stop", "+aa+"])  # the loop is all or nothing
    assert all(abs(p - 1.0) < 1e-9 for p in _leaving_probability(looped.transitions).values())
    stop = next(t for t in looped.transitions if len(t) == 4 and t[3] == "stop")
    assert abs(stop[2] - 0.5) < 1e-9  # the grammar's words keep their odds
    assert looped.pronunciations["+zh+"] == ("ZH",) and set(network.pronunciations) < set(looped.pronunciations)
    assert rejection.is_rejected("+hh+ +eh+") and not rejection.is_rejected("stop") and not rejection.is_rejected("")
