"""Device grammars from the intent definitions: automata, slot phrases, JSGF, phrase lists."""

from __future__ import annotations

import random

import pytest

from assistant.asr.automaton import WordAutomaton
from assistant.asr.fsg import fsg_transitions, grammar_automaton
from assistant.asr.grammar import DeviceGrammar, compile_grammar
from assistant.asr.jsgf import to_jsgf
from assistant.asr.phrases import UNKNOWN, covers, vosk_phrases
from assistant.asr.slot_phrases import slot_phrases, slot_values
from assistant.benchmarks.asr import sample_commands, template_command
from assistant.intents import IntentSet
from assistant.profiles import DeviceProfile
from assistant.slot_types import ClockTimeSlot, DurationSlot, SlotType
from assistant.templates import parse_template


def _device(intents: IntentSet, profiles: dict[str, DeviceProfile], name: str) -> IntentSet:
    return intents.restricted_to(profiles[name].domains)


def _slot_type(intents: IntentSet, intent: str, slot: str) -> SlotType:
    return intents.intent(intent).slots[slot].type


def _template_sentences(intents: IntentSet, count: int, seed: int) -> list[str]:
    """Sentences the intent templates produce, slots filled with any of their spoken forms."""
    rng = random.Random(seed)
    return [template_command(intents, rng).text for _ in range(count)]


# --- the minimal automaton -------------------------------------------------------------------------


def test_an_automaton_accepts_exactly_its_phrases_and_shares_their_endings() -> None:
    phrases = [f"{m} past {h}" for m in ("half", "quarter", "ten") for h in ("one", "two", "three", "four")]
    automaton = WordAutomaton.phrases(phrases)
    for phrase in phrases:
        assert automaton.accepts(phrase.split())
    assert not automaton.accepts(["half", "past"])
    assert not automaton.accepts(["half", "past", "five"])
    # minimal: start, after the minutes word, after "past", the end; a trie would need 17 states
    assert len(automaton.arcs) == 4


def test_phrases_built_incrementally_give_the_minimal_automaton_of_the_phrase_trie() -> None:
    rng = random.Random(2)
    for _ in range(200):
        vocabulary = "a b c d"[: 2 * rng.randint(1, 4) - 1].split()
        phrases = [
            " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 4))) for _ in range(rng.randint(1, 15))
        ]
        trie: list[dict[str, tuple[int, ...]]] = [{}]
        finals = set()
        for phrase in phrases:
            state = 0
            for word in phrase.split():
                if word not in trie[state]:
                    trie[state][word] = (len(trie),)
                    trie.append({})
                state = trie[state][word][0]
            finals.add(state)
        expected = WordAutomaton.minimal(trie, finals, {0})
        built = WordAutomaton.phrases(phrases)
        assert (len(built.arcs), built.n_arcs) == (len(expected.arcs), expected.n_arcs), phrases
        for phrase in phrases:
            assert built.accepts(phrase.split())
        for _ in range(20):
            words = [rng.choice(vocabulary) for _ in range(rng.randint(0, 5))]
            assert built.accepts(words) == (" ".join(words) in phrases), words


def test_concatenation_and_union_give_the_product_and_the_sum_of_the_languages() -> None:
    verbs = WordAutomaton.phrases(["set", "start"])
    objects = WordAutomaton.phrases(["a timer", "the timer", "timer"])
    both = verbs.concatenate(WordAutomaton.union([objects, WordAutomaton.epsilon()]))
    accepted = {"set", "start"} | {f"{v} {o}" for v in ("set", "start") for o in ("a timer", "the timer", "timer")}
    for sentence in accepted:
        assert both.accepts(sentence.split())
    for sentence in ("a timer", "set a", "set timer timer", ""):
        assert not both.accepts(sentence.split())


def test_substituting_a_part_for_a_word_gives_every_sentence_with_it_said_that_way() -> None:
    main = WordAutomaton.phrases(["set <d>", "<d> timer", "<d> <n>", "stop"])
    parts = {"<d>": WordAutomaton.phrases(["ten minutes", "one hour"]),
             "<n>": WordAutomaton.union([WordAutomaton.phrases(["pasta"]), WordAutomaton.epsilon()])}  # fmt: skip
    whole = main.substitute(parts)
    said = {f"{lead}{d}{tail}" for d in ("ten minutes", "one hour") for lead, tail in
            (("set ", ""), ("", " timer"), ("", " pasta"), ("", ""))} | {"stop"}  # fmt: skip
    for sentence in said:
        assert whole.accepts(sentence.split()), sentence
    for sentence in ("set", "timer", "set ten minutes timer", "ten one hour", "pasta", "<d> timer"):
        assert not whole.accepts(sentence.split()), sentence
    alone = WordAutomaton.phrases(said)
    assert (len(whole.arcs), whole.n_arcs) == (len(alone.arcs), alone.n_arcs)  # minimal: no state to spare


def test_leaving_out_word_pairs_keeps_every_other_sentence_and_stays_minimal() -> None:
    said = [f"set {a} {n} timer" for a in ("a", "an", "") for n in ("egg", "pasta", "eight minute")]
    said += ["an egg", "take an pasta"]  # after "take an" no word may follow: "take" goes too
    automaton = WordAutomaton.phrases(" ".join(s.split()) for s in said)
    kept = automaton.without_pairs({"a", "an"}, lambda article, word: (article == "an") != (word[0] in "aeiou"))
    wanted = {"set a pasta timer", "set an egg timer", "set an eight minute timer", "an egg"}
    wanted |= {f"set {n} timer" for n in ("egg", "pasta", "eight minute")}
    assert {" ".join(s.split()) for s in said if kept.accepts(s.split())} == wanted
    alone = WordAutomaton.phrases(wanted)
    assert (len(kept.arcs), kept.n_arcs) == (len(alone.arcs), alone.n_arcs)  # no dead end left behind
    with pytest.raises(ValueError, match="no sentence"):
        WordAutomaton.phrases(["an pasta"]).without_pairs({"an"}, lambda article, word: True)


def test_rules_written_from_an_automaton_say_the_same_phrases() -> None:
    phrases = ["a little bit of milk", "a bit of milk", "some milk", "milk", "a little bit of cream", "cream"]
    start, rules = WordAutomaton.phrases(phrases).to_rules("milk")
    grammar = DeviceGrammar(start, rules, ())
    for phrase in phrases:
        assert grammar.accepts(phrase)
    assert not grammar.accepts("a little milk")
    assert not grammar.accepts("some cream")


# --- slot phrases ----------------------------------------------------------------------------------


def test_every_clock_time_phrase_reads_back_as_its_time(intents: IntentSet) -> None:
    slot_type = _slot_type(intents, "alarm.set", "time")
    assert isinstance(slot_type, ClockTimeSlot)
    values = list(slot_values(slot_type))
    assert len(values) == 24 * 60
    for value in values[::7]:
        for phrase in slot_type.variants(value):
            assert slot_type.parse(phrase) == value


def test_duration_phrases_cover_every_minute_and_short_seconds_within_the_slot_range(intents: IntentSet) -> None:
    slot_type = _slot_type(intents, "alarm.snooze", "duration")  # 60..1800 s
    assert isinstance(slot_type, DurationSlot)
    values = set(slot_values(slot_type))
    assert {60, 90, 125, 599, 600, 1800} <= values
    assert min(values) == 60 and max(values) == 1800
    assert 601 not in values  # seconds only below ten minutes
    phrases = set(slot_phrases(slot_type))
    assert {"five minutes", "half an hour", "a minute and a half", "two minutes and five seconds"} <= phrases
    rng = random.Random(0)
    for _ in range(200):  # the corpus generator's values are all in the grammar
        assert slot_type.sample(rng) in values


def test_number_slots_list_every_value_of_their_range_and_step(intents: IntentSet) -> None:
    level = _slot_type(intents, "watch.brightness", "level")  # percentage 10..100 step 5
    assert list(slot_values(level)) == list(range(10, 101, 5))
    thermostat = _slot_type(intents, "thermostat.set", "temperature")  # 5..30 step 0.5
    values = list(slot_values(thermostat))
    assert values[:3] == [5, 5.5, 6] and values[-1] == 30 and len(values) == 51
    assert "twenty one point five degrees" in slot_phrases(thermostat)


# --- device grammars -------------------------------------------------------------------------------


def test_every_sentence_the_templates_produce_is_in_the_device_grammar(
    intents: IntentSet, profiles: dict[str, DeviceProfile]
) -> None:
    view = _device(intents, profiles, "smartwatch")
    grammar = compile_grammar(view)
    for sentence in _template_sentences(view, 3000, seed=1):
        assert grammar.accepts(sentence), sentence
    assert not grammar.accepts("could you set a timer for twenty five minutes please")
    with_fillers = compile_grammar(view, fillers=True)
    assert with_fillers.accepts("could you set a timer for twenty five minutes please")
    assert with_fillers.accepts("set a timer for twenty five minutes")  # fillers are optional


def test_a_device_grammar_leaves_out_the_other_devices_commands(
    intents: IntentSet, profiles: dict[str, DeviceProfile]
) -> None:
    grammar = compile_grammar(_device(intents, profiles, "smartwatch"))
    assert grammar.accepts("set a timer for ten minutes")
    assert not grammar.accepts("make me a large latte with oat milk")
    assert not grammar.accepts("preheat the oven to two hundred degrees")
    assert "latte" not in grammar.words()
    coffee = compile_grammar(_device(intents, profiles, "coffee_maker"))
    assert coffee.accepts("can i get a small dark roast latte with soy milk")
    assert set(coffee.intents) == {i.name for i in _device(intents, profiles, "coffee_maker").intents}


def test_the_compiled_automaton_accepts_what_the_rules_match(
    intents: IntentSet, profiles: dict[str, DeviceProfile]
) -> None:
    grammar = compile_grammar(_device(intents, profiles, "kitchen_timer"))
    automaton = grammar_automaton(grammar)
    rng = random.Random(3)
    vocabulary = sorted(grammar.words())
    for _ in range(300):
        sentence = grammar.sample(rng)
        assert automaton.accepts(sentence.split()) and grammar.matches(sentence)
        words = sentence.split()
        words[rng.randrange(len(words))] = rng.choice(vocabulary)  # mostly not a sentence any more
        assert automaton.accepts(words) == grammar.matches(" ".join(words))
    start, final, transitions = fsg_transitions(automaton.arcs, automaton.start, automaton.finals)
    assert start != final and all(t[0] != final for t in transitions)  # the final state ends every sentence
    assert len(automaton.arcs) < 5000  # minimal: a few thousand states, not the millions of a tree


def test_restricting_the_vocabulary_drops_only_the_alternatives_that_need_the_word(
    intents: IntentSet, profiles: dict[str, DeviceProfile]
) -> None:
    grammar = compile_grammar(_device(intents, profiles, "coffee_maker"))
    restricted = grammar.restricted_to(lambda word: word not in {"descale", "latte"})
    assert restricted.dropped_words == {"descale", "latte"}
    assert not restricted.accepts("descale the coffee machine")
    assert not restricted.accepts("can i get a latte")
    assert restricted.accepts("can i get a mocha")
    assert restricted.accepts("start the descaling program")
    assert "latte" not in restricted.words()


def test_the_jsgf_text_parses_in_pocketsphinx_and_takes_the_grammar_sentences(intents: IntentSet) -> None:
    import pocketsphinx

    grammar = compile_grammar(intents.restricted_to(["stopwatch"]), fillers=False)
    text = to_jsgf(grammar)
    assert text.startswith("#JSGF V1.0;\ngrammar device;\npublic <command> = ")
    decoder = pocketsphinx.Decoder(lm=None, loglevel="FATAL")
    fsg = decoder.parse_jsgf(text)
    rng = random.Random(0)
    for _ in range(50):
        assert fsg.accept(grammar.sample(rng))
    assert not fsg.accept("set a timer for five minutes")


def test_template_alternatives_and_optionals_become_jsgf_ones() -> None:
    grammar = DeviceGrammar(parse_template("(start|begin) [the] stopwatch"), {}, ())
    assert "public <command> = (start | begin) [the] stopwatch;" in to_jsgf(grammar)


# --- vosk phrase lists -----------------------------------------------------------------------------


def test_the_word_list_covers_every_grammar_sentence_and_the_sentence_list_does_not(
    intents: IntentSet, profiles: dict[str, DeviceProfile]
) -> None:
    view = _device(intents, profiles, "smartwatch")
    grammar = compile_grammar(view)
    words = vosk_phrases(grammar, "words")
    assert words[-1] == UNKNOWN and len(words) == len(grammar.words()) + 1
    sentences = vosk_phrases(grammar, "sentences", sentences=500)
    assert len(sentences) == 501
    held_out = [command.text for command in sample_commands(view, grammar.accepts, 200, seed=5)]
    assert all(covers(words, sentence) for sentence in held_out)
    share = sum(covers(sentences, sentence) for sentence in held_out) / len(held_out)
    assert share < 0.6  # slots multiply: a sample of sentences cannot cover the grammar


def test_an_unknown_phrase_strategy_is_refused(intents: IntentSet) -> None:
    with pytest.raises(ValueError, match="unknown phrase strategy 'ngrams'"):
        vosk_phrases(compile_grammar(intents.restricted_to(["stopwatch"])), "ngrams")
