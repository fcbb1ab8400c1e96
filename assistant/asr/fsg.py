"""A device grammar as one finite-state grammar, the form PocketSphinx decodes.

PocketSphinx can read JSGF (`jsgf.py`), but its JSGF compiler copies every rule
at every place it is used, so a slot's phrase graph that shares its states
becomes a tree again: measured on this project's grammars, the clock domain
alone took 605 MB and 2.7 s, and the timer domain failed to allocate. Compiling
the grammar here into one minimal automaton (`automaton.py`) instead gives a
graph of a few thousand states that PocketSphinx loads in well under a second.
"""

from __future__ import annotations

from assistant.asr.automaton import WordAutomaton
from assistant.asr.grammar import DeviceGrammar

Transition = tuple[int, int, float] | tuple[int, int, float, str]


def grammar_automaton(grammar: DeviceGrammar) -> WordAutomaton:
    """The minimal automaton of every sentence of `grammar`."""
    return grammar.automaton()


def fsg_transitions(automaton: WordAutomaton) -> tuple[int, int, list[Transition]]:
    """(start state, final state, transitions) for `pocketsphinx.Decoder.create_fsg`.

    An FSG has one final state. Rather than empty moves from each accepting
    state (PocketSphinx then often failed to end the search: "final result does
    not match the grammar", no text), every word that reaches an accepting
    state also has a copy that goes straight to the final state. Every state
    spreads its probability evenly over its ways on: the grammar says what can
    be said, not how likely it is.
    """
    final = len(automaton.arcs)
    transitions: list[Transition] = []
    for state, arcs in enumerate(automaton.arcs):
        ways = sum(2 if target in automaton.finals and automaton.arcs[target] else 1 for target in arcs.values())
        for word, target in arcs.items():
            if target in automaton.finals:
                transitions.append((state, final, 1.0 / ways, word))
                if not automaton.arcs[target]:
                    continue
            transitions.append((state, target, 1.0 / ways, word))
    return automaton.start, final, transitions


def phrase_loop_transitions(phrases: list[str]) -> tuple[int, int, list[Transition]]:
    """An FSG for one or more of `phrases` in a row: the language of a vosk
    phrase list, so PocketSphinx can measure what such a list costs in accuracy.
    ("[unk]" is left out: PocketSphinx has no such word.)"""
    automaton = WordAutomaton.phrases(p for p in phrases if p != "[unk]")
    start, final, transitions = fsg_transitions(automaton)
    return start, final, [*transitions, (final, automaton.start, 1.0)]
