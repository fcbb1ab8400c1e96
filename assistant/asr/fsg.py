"""A device grammar as one finite-state grammar, the form PocketSphinx decodes.

PocketSphinx can read JSGF (`jsgf.py`), but its JSGF compiler copies every rule
at every place it is used, so a slot's phrase graph that shares its states
becomes a tree again: measured on this project's grammars, the clock domain
alone took 605 MB and 2.7 s, and the timer domain failed to allocate. Compiling
the grammar here into one minimal automaton (`automaton.py`) instead gives a
graph of a few thousand states that PocketSphinx loads in well under a second.

What PocketSphinx then holds grows with the graph: a hash table per state (3.2
KB), and for every arc the HMMs of its word, its first and last phone copied for
each phone that can come before and after it (`fsg_lextree.c`). Two steps make
the graph it is given smaller without changing the sentences it accepts:

1. chain states (one way in, one way on) go, their two words joined into one
   decoder word (`compounds.py`);
2. arcs that many states share (the same word to the same next state: "one" ..
   "twelve" after "for", "at" and "until" in a clock time) are given once, from
   a shared state that those states reach by an empty move (`_share_arcs`).

Measured on the smartwatch grammar (pocketsphinx 5.0): 26,913 transitions ->
13,003, 210,921 search HMMs -> 109,906, the decoder's own resident memory (its
model, network and search, after decoding) 58.6 -> 39.3 MB, and the same 53 of
60 espeak-ng commands right.

A profile short of memory can go further (`slot_network.py`): the big slots'
phrases a few times rather than once for each place they are said, which lets
in a few sentences more; each of its parts is built with these two steps.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.asr import compounds
from assistant.asr.automaton import WordAutomaton
from assistant.asr.grammar import DeviceGrammar
from assistant.errors import RecognizerError

Transition = tuple[int, int, float] | tuple[int, int, float, str]  # (from, to, probability[, word]): no word is empty
Arc = tuple[str, int]  # (word, next state)

# What PocketSphinx spends, in bytes, that decides when sharing arcs pays (measured
# on the smartwatch grammar: 210,921 HMMs of 160 bytes for 26,913 arcs; the per-state
# table is `hash_table_new(5)` of 101 entries of 32 bytes, one for the words and one
# for the empty moves of each state that has them).
ARC_BYTES = 700
STATE_TABLE_BYTES = 3300
EMPTY_MOVE_BYTES = 40


@dataclass(frozen=True)
class DecoderNetwork:
    """What the PocketSphinx decoder is given for a grammar: its finite-state grammar
    and the pronunciation of every word in it (joined words included)."""

    start: int
    final: int
    transitions: tuple[Transition, ...]
    pronunciations: Mapping[str, tuple[str, ...]]


def write_fsg(path: Path, network: DecoderNetwork, language_weight: float, name: str = "device") -> None:
    """`network` in PocketSphinx's FSG text format, for `Decoder.read_fsg`: read in C,
    it makes none of the Python objects that `create_fsg`'s list of transitions is.

    Reading a file, PocketSphinx multiplies each transition's log probability by the
    decoder's language weight (`lw`); `create_fsg` does not. The probabilities are
    written to the power 1 / `language_weight`, so the decoder searches the same
    scores either way (measured: written plainly, "set the oven to two hundred
    degrees" was heard as "get the oven up to two hundred degrees")."""
    states = 1 + max(max(t[0], t[1]) for t in network.transitions) if network.transitions else 1
    lines = [f"FSG_BEGIN {name}", f"NUM_STATES {states}", f"START_STATE {network.start}",
             f"FINAL_STATE {network.final}"]  # fmt: skip
    for source, target, probability, *word in network.transitions:
        lines.append(
            " ".join(["TRANSITION", str(source), str(target), repr(probability ** (1 / language_weight)), *word])
        )
    lines.append("FSG_END")
    try:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as error:
        raise RecognizerError(f"cannot write the grammar's FSG {path}: {error}") from error


def grammar_automaton(grammar: DeviceGrammar) -> WordAutomaton:
    """The minimal automaton of every sentence of `grammar`."""
    return grammar.automaton()


def decoder_network(automaton: WordAutomaton, pronunciations: Mapping[str, Sequence[str]]) -> DecoderNetwork:
    """The smallest network found for exactly the sentences of `automaton` (module docstring);
    transcripts decoded with it go through `compounds.split`."""
    arcs, spoken = compounds.join_chains(automaton.arcs, automaton.start, automaton.finals, pronunciations)
    start, final, transitions = fsg_transitions(arcs, automaton.start, automaton.finals)
    return DecoderNetwork(start, final, tuple(transitions), spoken)


def fsg_transitions(
    arcs: Sequence[Mapping[str, int]], start: int, finals: Collection[int]
) -> tuple[int, int, list[Transition]]:
    """(start state, final state, transitions) for `pocketsphinx.Decoder.create_fsg`,
    from a deterministic acyclic graph of words (a `WordAutomaton`'s arcs, or those
    `compounds.join_chains` gives).

    An FSG has one final state. Rather than empty moves from each accepting
    state (PocketSphinx then often failed to end the search: "final result does
    not match the grammar", no text), every word that reaches an accepting
    state also has a copy that goes straight to the final state. Every state
    spreads its probability evenly over its words: the grammar says what can be
    said, not how likely it is; a shared state passes each word on with the
    probability the states that reach it would have given.
    """
    # states no word leads to (those `compounds.join_chains` emptied, accepting states
    # with no way on) are left out: PocketSphinx gives every state a table, if only for
    # its silence loop
    used = {start, *(target for state_arcs in arcs for target in state_arcs.values() if arcs[target])}
    number = {state: index for index, state in enumerate(sorted(used))}
    final = len(number)
    ways_on: list[set[Arc]] = [set() for _ in range(final)]
    for state, index in number.items():
        for word, target in arcs[state].items():
            if target in finals:
                ways_on[index].add((word, final))
                if not arcs[target]:
                    continue
            ways_on[index].add((word, number[target]))
    shared = _share_arcs(ways_on)
    hub_state = {index: final + 1 + index for index in range(len(shared))}
    reaches: dict[int, list[int]] = {}
    for index, (sources, _) in enumerate(shared):
        for source in sources:
            reaches.setdefault(source, []).append(index)
    transitions: list[Transition] = []
    for state, own in enumerate(ways_on):
        hubs = reaches.get(state, [])
        words = len(own) + sum(len(shared[index][1]) for index in hubs)
        transitions += [(state, target, 1.0 / words, word) for word, target in sorted(own)]
        transitions += [(state, hub_state[index], len(shared[index][1]) / words) for index in hubs]
    for index, (_, hub_arcs) in enumerate(shared):
        transitions += [(hub_state[index], target, 1.0 / len(hub_arcs), word) for word, target in hub_arcs]
    return number[start], final, transitions


def _share_arcs(ways_on: list[set[Arc]]) -> list[tuple[tuple[int, ...], tuple[Arc, ...]]]:
    """Groups of (states, arcs) where every one of the states has every one of the
    arcs, chosen greedily by the bytes they save, and taken out of `ways_on`.

    The candidates are, for each arc, the set of states that have it; a group's
    arcs are those all its states share. Taking the best group changes what the
    others share, so the candidates are scored again after each.
    """
    groups: list[tuple[tuple[int, ...], tuple[Arc, ...]]] = []
    has_empty_moves: set[int] = set()
    holders: dict[Arc, set[int]] = {}
    for state, ways in enumerate(ways_on):
        for arc in ways:
            holders.setdefault(arc, set()).add(state)
    while True:
        best: tuple[int, tuple[int, ...], set[Arc]] | None = None
        for states in sorted({tuple(sorted(s)) for s in holders.values() if len(s) > 1}):
            common = set.intersection(*(ways_on[state] for state in states))
            new_tables = 1 + sum(1 for state in states if state not in has_empty_moves)
            saved = (
                ARC_BYTES * (len(states) - 1) * len(common)
                - EMPTY_MOVE_BYTES * len(states)
                - STATE_TABLE_BYTES * new_tables
            )
            if saved > 0 and (best is None or saved > best[0]):
                best = (saved, states, common)
        if best is None:
            return groups
        _, states, common = best
        for state in states:
            ways_on[state] -= common
        for arc in common:
            holders[arc] -= set(states)
        has_empty_moves.update(states)
        groups.append((states, tuple(sorted(common))))


def phrase_loop_transitions(phrases: list[str]) -> tuple[int, int, list[Transition]]:
    """An FSG for one or more of `phrases` in a row: the language of a vosk
    phrase list, so PocketSphinx can measure what such a list costs in accuracy.
    ("[unk]" is left out: PocketSphinx has no such word.)"""
    automaton = WordAutomaton.phrases(p for p in phrases if p != "[unk]")
    start, final, transitions = fsg_transitions(automaton.arcs, automaton.start, automaton.finals)
    return start, final, [*transitions, (final, start, 1.0)]
