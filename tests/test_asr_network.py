"""The network PocketSphinx is given: joined word chains, shared arcs, the same sentences as the grammar."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pocketsphinx
import pytest
from audio_helpers import speak

from assistant.asr import compounds, rejection
from assistant.asr.automaton import WordAutomaton
from assistant.asr.decoder_grammar import prepare_network
from assistant.asr.dictionary import write_dictionary
from assistant.asr.fsg import DecoderNetwork, Transition, fsg_transitions, write_fsg
from assistant.asr.grammar import DeviceGrammar, compile_grammar
from assistant.asr.slot_network import slot_network, split_at_slots, stand_in
from assistant.intents import IntentSet
from assistant.profiles import DeviceProfile
from assistant.templates import Alternatives, RuleRef, Text
from assistant.templates import Sequence as Seq

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


WatchNetworks = tuple[WordAutomaton, DecoderNetwork, DecoderNetwork]  # the sentences; exact; big slots shared


@pytest.fixture(scope="module")
def watch_networks(intents: IntentSet, profiles: dict[str, DeviceProfile]) -> WatchNetworks:
    grammar = compile_grammar(intents.restricted_to(profiles["smartwatch"].domains))
    prepared, exact = prepare_network(grammar, CMUDICT, phone_loop=False)
    _, shared = prepare_network(grammar, CMUDICT, phone_loop=False, share_slots=True)
    return prepared.automaton, exact, shared


def test_the_network_without_shared_slots_takes_the_grammar_sentences_and_no_others(
    watch_networks: WatchNetworks,
) -> None:
    automaton, network, _ = watch_networks
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
    assert {w for word in decoder_words for w in compounds.split(word).split()} == set(vocabulary)


def test_the_network_with_shared_slots_takes_every_grammar_sentence_in_fewer_transitions(
    watch_networks: WatchNetworks,
) -> None:
    automaton, exact, shared = watch_networks
    vocabulary = sorted({word for arcs in automaton.arcs for word in arcs})
    rng = random.Random(7)
    for sentence in _sentences(automaton, rng, 300):
        assert _accepts(shared.start, shared.final, shared.transitions, sentence)
        changed = list(sentence)
        changed[rng.randrange(len(changed))] = rng.choice(vocabulary)
        if automaton.accepts(changed):
            assert _accepts(shared.start, shared.final, shared.transitions, changed)
    assert len(shared.transitions) < 0.7 * len(exact.transitions)  # measured: 8,870 of 12,999
    said = [
        {w for word in network.pronunciations for w in compounds.split(word).split()} for network in (exact, shared)
    ]
    assert said[0] == said[1]  # the same words, some joined differently
    assert _accepts(shared.start, shared.final, shared.transitions, ["set", "a", "timer", "for", "ten", "minutes"])


def test_the_grammar_cut_at_its_slots_and_put_together_again_is_the_grammar(
    intents: IntentSet, profiles: dict[str, DeviceProfile]
) -> None:
    grammar = compile_grammar(intents.restricted_to(profiles["kitchen_timer"].domains))
    parts = split_at_slots(grammar, lambda word: True)
    assert len(parts.slots) == len(grammar.slots) > 3
    assert all(stand_in(rule) in parts.main.packed().word_ids for rule in grammar.slots)
    whole, automaton = parts.whole(), grammar.automaton()
    assert (len(whole.arcs), whole.n_arcs) == (len(automaton.arcs), automaton.n_arcs)  # both minimal
    rng = random.Random(8)
    for _ in range(200):
        sentence = grammar.sample(rng).split()
        assert whole.accepts(sentence)
        sentence[rng.randrange(len(sentence))] = rng.choice(sorted(grammar.words()))
        assert whole.accepts(sentence) == automaton.accepts(sentence)


def test_a_shared_slot_is_left_to_every_way_on_and_a_copied_one_to_its_own() -> None:
    phrases = Alternatives(tuple(Text(f"{n} minutes") for n in ("one", "two", "ten")))
    duration = RuleRef("slot_duration")
    grammar = DeviceGrammar(
        Alternatives((Seq((Text("set a timer for"), duration)), Seq((Text("wake me in"), duration, Text("please"))),
                      Seq((Text("set a timer for"), duration, Text("called pasta"))), Seq((duration, Text("timer"))))),
        {"slot_duration": phrases}, (), slots=frozenset({"slot_duration"}),
    )  # fmt: skip
    words = grammar.words()
    spoken = {word: (" ".join(letter.upper() for letter in word),) for word in words}

    def network(shared_from: float) -> DecoderNetwork:
        return slot_network(split_at_slots(grammar, lambda word: word in spoken), spoken, shared_from)

    def takes(built: DecoderNetwork, sentence: str) -> bool:
        return _accepts(built.start, built.final, built.transitions, sentence.split())

    copied, shared = network(math.inf), network(1)
    for built in (copied, shared):
        for sentence in ("set a timer for ten minutes", "wake me in two minutes please", "one minutes timer"):
            assert takes(built, sentence)
        for sentence in ("set a timer for", "ten timer", "ten minutes", "ten minutes please", "wake me in ten minutes"):
            assert not takes(built, sentence)  # a slot's copy for opening or ending sentences goes on only as they do
    assert not takes(copied, "wake me in ten minutes called pasta")
    assert takes(shared, "wake me in ten minutes called pasta")  # the price of sharing: left to every way on
    said = lambda built: sum(1 for t in built.transitions if len(t) == 4 and t[3] == "ten")  # noqa: E731
    assert (said(copied), said(shared)) == (4, 3)  # one for each way on; opening, ending, and in between
    assert stand_in("slot_duration") not in shared.pronunciations


def test_the_packed_automaton_takes_the_same_sentences(watch_networks: WatchNetworks) -> None:
    automaton, _, _ = watch_networks
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


def test_the_network_is_much_smaller_than_the_automaton(watch_networks: WatchNetworks) -> None:
    automaton, network, _ = watch_networks
    states = {t[0] for t in network.transitions} | {t[1] for t in network.transitions}
    assert len(network.transitions) < 0.6 * automaton.n_arcs  # measured: 12,999 of 23,722
    assert len(states) < 0.8 * len(automaton.arcs)  # measured: 2,684 of 3,519
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
    _, network = prepare_network(compile_grammar(intents.restricted_to(profiles["oven"].domains)), CMUDICT)
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
    network = DecoderNetwork(*fsg_transitions(automaton.arcs, automaton.start, automaton.finals), spoken)
    looped = rejection.with_phone_loop(network)
    for sentence in (["what", "is", "the", "time"], ["stop"], ["+hh+", "+eh+", "+l+", "+ow+"], []):
        assert _accepts(looped.start, looped.final, looped.transitions, sentence)
    assert not _accepts(looped.start, looped.final, looped.transitions, ["stop", "+aa+"])  # the loop is all or nothing
    assert all(abs(p - 1.0) < 1e-9 for p in _leaving_probability(looped.transitions).values())
    stop = next(t for t in looped.transitions if len(t) == 4 and t[3] == "stop")
    assert abs(stop[2] - 0.5) < 1e-9  # the grammar's words keep their odds
    assert looped.pronunciations["+zh+"] == ("ZH",) and set(network.pronunciations) < set(looped.pronunciations)
    assert rejection.is_rejected("+hh+ +eh+") and not rejection.is_rejected("stop") and not rejection.is_rejected("")
