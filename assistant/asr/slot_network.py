"""A device grammar's decoder network with each big slot's phrases in it a few times, not everywhere.

The minimal automaton of a grammar holds a slot's phrases once for every
different way on after them: the smartwatch's durations come before "timer",
before "for the break time", at the end of a sentence, ..., and each of those
places holds another copy of the forty states and two hundred transitions that
say a duration. What PocketSphinx holds grows with every copy (`fsg.py`).

`slot_network` builds the network from parts instead (`split_at_slots`):

- the grammar with each slot said as one stand-in word ("<slot_duration>"),
  as its minimal automaton;
- each slot's phrases, as their own minimal automaton, entered from a
  stand-in's arc by an empty move, and left by an empty move to where that arc
  went.

A part entered from several places is left to all of them: "wake me in" a
duration may then go on "... called pasta", as a timer's name does, and an
article before a slot is not matched to the phrase's first word ("an five
minutes", `articles.py`). Every grammar sentence is still there; a few others
come in. So only a big slot
(`SHARED_SLOT_TRANSITIONS` transitions or more: durations, clock times, dates,
what to play) is shared; a small one (levels, temperatures, names) is copied
for each way on, which adds no sentence. And a shared slot has up to four
copies: for the sentences it opens or not, and ends or not. With one copy for
all, a slot said alone became a sentence ("eight", a clock time), and so did a
verb and a slot ("delete eight", from "delete eight alarm"): in the benchmark
below, the watch took 178 of 260 one-word recordings of words it does not know
(Speech Commands) as commands, against 138 with the exact network; with a copy
for opening and one for the rest, 151; with the four copies, 143.

The empty move out of a shared part has probability 1: where the sentence goes
on was chosen when it took the stand-in's arc, so it is not paid for again.

Measured on 2026-12-07, every device's network exact, then with its big slots
shared (`assistant bench asr --commands 120 --seed 100`: five devices, 600
espeak-ng commands, the same said by flite's voices, 1,300 one-word recordings
of words that are not commands; memory from `assistant bench --all`):

| measure | exact | slots shared |
|---|---|---|
| espeak-ng commands exact | 90.7% | 90.5% |
| flite voices exact | 95.8% | 95.5% |
| one-word recordings of other words taken as commands: smartwatch, all five | 138, 653 | 143, 661 |
| rtf (cpu) | 0.036 | 0.035 |
| recognizer MB: smartwatch, fitness band, oven, kitchen timer | 44.5, 34.4, 28.3, 22.8 | 35.4, 30.6, 26.0, 21.5 |

A little less accuracy and a little more taken as a command, for memory. So
sharing is the profile's choice (`recognizer.network: shared_slots`): the
smartwatch and the fitness band, where memory binds, take it; the others keep
the exact network (`fsg.decoder_network`, of the parts put together again:
measured about 1 MB less than the same sentences built here with each slot
copied for each way on, whose empty moves cost states and tables).

Tried first, for the watch, and not kept: PocketSphinx's n-gram search with a
trigram model of 30,000 grammar sentences instead of a grammar. Its
recognizer held 13 MB against 40 MB, but got 42 of 60 espeak-ng commands
exact against 55 (37 with more smoothing; taking the first n-best path in the
grammar did not help), and a 5-gram model took 31 MB.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from assistant.articles import ARTICLES, disagrees
from assistant.asr import compounds
from assistant.asr.automaton import WordAutomaton
from assistant.asr.fsg import DecoderNetwork, Transition, fsg_transitions
from assistant.asr.grammar import DeviceGrammar
from assistant.asr.spellings import Respelling, Sounds, canonical_spellings
from assistant.templates import Text

# Slot parts of fewer transitions are copied for each way on (module docstring). The smartwatch's
# durations have 120-240, clock times 250, what to play 210, dates 135; levels and temperatures
# about 70, lists of names and modes 4-30.
SHARED_SLOT_TRANSITIONS = 100
STAND_IN_MARKS = ("<", ">")  # grammar words are written words and apostrophes; they never hold these


def stand_in(rule: str) -> str:
    """The word that says the slot `rule` in the grammar's part that holds the rest."""
    return f"{STAND_IN_MARKS[0]}{rule}{STAND_IN_MARKS[1]}"


def is_stand_in(word: str) -> bool:
    return word.startswith(STAND_IN_MARKS[0]) and word.endswith(STAND_IN_MARKS[1])


@dataclass(frozen=True)
class SlotParts:
    """A grammar cut at its slots: `main`, the minimal automaton of its sentences with each
    slot said as its stand-in word, and `slots`, each slot's phrases by stand-in."""

    main: WordAutomaton
    slots: Mapping[str, WordAutomaton]

    def whole(self) -> WordAutomaton:
        """The minimal automaton of the grammar's sentences (their articles agreeing across the
        slots' edges too, as `DeviceGrammar.automaton`'s do)."""
        return self.main.substitute(self.slots).without_pairs(ARTICLES, disagrees)

    def respelled(self, sounds: Sounds, listed: Callable[[str], bool]) -> tuple[SlotParts, tuple[Respelling, ...]]:
        """Each part without same-sounding duplicate spellings (`spellings.canonical_spellings`),
        and the merges made. (Respelled as parts, a word is merged wherever its part allows:
        "my favourite" before a slot goes on as "my favorite" does there, which the whole
        grammar, where "my favorite" also goes on to other templates' words, does not show.)"""
        merges: dict[Respelling, None] = {}

        def respell(automaton: WordAutomaton) -> WordAutomaton:
            respelled, found = canonical_spellings(automaton, sounds, listed)
            merges.update(dict.fromkeys(found))
            return respelled

        main = respell(self.main)
        slots = {word: respell(automaton) for word, automaton in self.slots.items()}
        return SlotParts(main, slots), tuple(merges)


def split_at_slots(grammar: DeviceGrammar, known: Callable[[str], bool]) -> SlotParts:
    """`grammar` cut at its slots, keeping only the sentences of words `known` takes (a slot
    none of whose phrases is left goes with the sentences that say it, as in the whole grammar)."""
    slots: dict[str, WordAutomaton] = {}
    for rule in sorted(grammar.slots):
        phrases = DeviceGrammar(grammar.rules[rule], grammar.rules, grammar.intents)
        try:
            slots[stand_in(rule)] = phrases.restricted_to(known).automaton()
        except ValueError:  # no phrase left
            continue
    rules = {**grammar.rules, **{rule: Text(stand_in(rule)) for rule in grammar.slots if stand_in(rule) in slots}}
    main = DeviceGrammar(grammar.start, rules, grammar.intents).restricted_to(lambda word: known(word) or word in slots)
    return SlotParts(main.automaton(), slots)


def slot_network(
    parts: SlotParts, pronunciations: Mapping[str, Sequence[str]], shared_from: float = SHARED_SLOT_TRANSITIONS
) -> DecoderNetwork:
    """The decoder network of a grammar from its parts (module docstring), `pronunciations`
    giving every word's; transcripts decoded with it go through `compounds.split`. Slot parts
    of `shared_from` transitions or more are shared (infinity: none is, and the network takes
    the grammar's sentences and no others)."""
    built: dict[str, _Part] = {}
    spoken: dict[str, tuple[str, ...]] = {}
    for name, automaton in {"": parts.main, **parts.slots}.items():
        arcs, part_spoken = compounds.join_chains(automaton.arcs, automaton.start, automaton.finals, pronunciations)
        start, final, transitions = fsg_transitions(arcs, automaton.start, automaton.finals)
        if automaton.start in automaton.finals:  # a part that may say nothing
            transitions.append((start, final, 1.0))
        built[name] = _Part(start, final, transitions, shared=len(transitions) >= shared_from)
        spoken.update(part_spoken)
    start, final, transitions = _assemble(built)
    return DecoderNetwork(start, final, tuple(transitions), spoken)


class _Part:
    """One part's network: its start, its one final state and its transitions."""

    def __init__(self, start: int, final: int, transitions: list[Transition], *, shared: bool) -> None:
        self.start, self.final, self.transitions = start, final, transitions
        self.states = 1 + max((max(t[0], t[1]) for t in transitions), default=max(start, final))
        self.shared = shared  # up to four copies (opening or not, ending or not), not one for each way on


def _assemble(parts: Mapping[str, _Part]) -> tuple[int, int, list[Transition]]:
    """One network of the parts: the main part ("") with each stand-in arc replaced by
    empty moves into a copy of its slot's part and out of it (module docstring)."""
    placed = 0

    def place(part: _Part) -> tuple[int, int, list[Transition]]:
        nonlocal placed
        offset, placed = placed, placed + part.states
        moved: list[Transition] = [(t[0] + offset, t[1] + offset, *t[2:]) for t in part.transitions]
        return part.start + offset, part.final + offset, moved

    start, final, waiting = place(parts[""])
    opening = _empty_closure(start, waiting)  # where the main part's first word leaves from
    copies: dict[tuple[object, ...], tuple[int, int]] = {}  # which copy (module docstring) -> (entry, exit)
    transitions: list[Transition] = []
    while waiting:
        transition = waiting.pop()
        if len(transition) == 3 or not is_stand_in(transition[3]):
            transitions.append(transition)
            continue
        source, target, probability, word = transition
        part = parts[word]
        key = (word, source in opening, target == final) if part.shared else (word, target)
        if key not in copies:
            entry, exit_, inside = place(part)
            copies[key] = (entry, exit_)
            waiting += inside
        entry, exit_ = copies[key]
        transitions.append((source, entry, probability))
        transitions.append((exit_, target, 1.0))
    return start, final, list(dict.fromkeys(transitions))


def _empty_closure(state: int, transitions: Sequence[Transition]) -> set[int]:
    """`state` and every state it reaches by empty moves alone."""
    empty: dict[int, list[int]] = {}
    for transition in transitions:
        if len(transition) == 3:
            empty.setdefault(transition[0], []).append(transition[1])
    reached, stack = {state}, [state]
    while stack:
        for target in empty.get(stack.pop(), []):
            if target not in reached:
                reached.add(target)
                stack.append(target)
    return reached
