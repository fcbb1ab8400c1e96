"""Spellings a recognizer cannot tell apart, written one way.

Intent authors list spelling variants so that typed text parses:
"(stopwatch|stop watch)", rooms [bathroom, bath room], "(color|colour)". To a
recognizer each pair is one sound at one place in the grammar, and which
spelling it wrote was chance (measured: "zero the stop watch" was heard as
"zero the stopwatch", "use my watch as a flashlight" as "... a flash light").
`canonical_spellings` removes such duplicates from a grammar's automaton,
keeping one spelling:

- two words that lead from the same state to the same state and share a
  pronunciation ("color", "colour"): the one the dictionary lists itself (not
  a composed pronunciation), then the shorter, then the alphabetically first.
  Only the same way on counts: "twenty two ten" (22:10) and "twenty to ten"
  (21:40) sound alike, but "two" and "to" go on differently, so both stay;
  they are different words, and the transcript must not pretend otherwise.
- a word written in two parts ("stop watch", "count down") where the whole
  word ("stopwatch", "countdown") also leads on from the same state, said the
  same: the whole word, for every way on the two share ("count down for ten
  minutes" becomes "countdown for ten minutes"; "count down from ten minutes"
  has no one-word twin and stays). These are one word's letters either way.

Every sentence removed has a same-sounding twin that stays; no other sentence
changes. (A sentence whose twin differs in two places at once, each of which
alone is no sentence, keeps both spellings: none was found in this project's
grammars.) Each merge is a `Respelling`; `respell` writes a sentence of the
original grammar the way the recognizer can return it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

from assistant.asr.automaton import WordAutomaton

Sounds = Callable[[str], Collection[str]]  # word -> its pronunciations (space-separated phones)


@dataclass(frozen=True)
class Respelling:
    """`written` is said like `canonical`, and the recognizer writes `canonical`."""

    written: tuple[str, ...]
    canonical: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"written": " ".join(self.written), "canonical": " ".join(self.canonical)}


def canonical_spellings(
    automaton: WordAutomaton, sounds: Sounds, listed: Callable[[str], bool]
) -> tuple[WordAutomaton, tuple[Respelling, ...]]:
    """`automaton` without same-sounding duplicate spellings (module docstring), and the merges made.

    `listed(word)`: the dictionary has the word itself, so its spelling is preferred. Each pass
    merges what it finds on the automaton it is given; the copies a merge makes may hold more, so
    passes repeat until one finds nothing (two, on this project's grammars)."""
    merges: dict[Respelling, None] = {}
    while True:
        merged, found = _merge_once(automaton, sounds, listed)
        if not found:
            return automaton, tuple(merges)
        merges.update(dict.fromkeys(found))
        automaton = merged


def _merge_once(
    automaton: WordAutomaton, sounds: Sounds, listed: Callable[[str], bool]
) -> tuple[WordAutomaton, list[Respelling]]:
    arcs = automaton.arcs
    found: list[Respelling] = []
    singles: list[tuple[int, str, str]] = []  # (state, word, its preferred same-sounding sibling)
    pairs: dict[tuple[int, str], list[tuple[str, str]]] = {}  # (state, first word) -> (second word, whole word)
    for state, out in enumerate(arcs):
        preferred: dict[str, str] = {}  # pronunciation -> the first word that has it, in order of preference
        for word in sorted(out, key=lambda w: (not listed(w), len(w), w)):
            twin = next((preferred[p] for p in sounds(word) if p in preferred), None)
            if twin is None:
                preferred.update((p, word) for p in sounds(word))
            elif out[word] == out[twin]:  # same place, same way on: two spellings of one word
                singles.append((state, word, twin))
                found.append(Respelling((word,), (twin,)))
        for word in out:
            for split in range(1, len(word)):
                first, second = word[:split], word[split:]
                middle = out.get(first)
                if (
                    middle is not None
                    and second in arcs[middle]
                    and _said_alike((first, second), word, sounds)
                    and _overlap(automaton, arcs[middle][second], out[word])
                ):
                    pairs.setdefault((state, first), []).append((second, word))
                    found.append(Respelling((first, second), (word,)))
    if not found:
        return automaton, found
    difference = _Difference(automaton)
    nfa = difference.nfa
    for state, word, _ in singles:
        if (state, word) not in pairs:  # else the split spelling's merge rewrites its arc (and the next pass this)
            del nfa[state][word]
    for (state, first), seconds in pairs.items():
        middle = arcs[state][first]
        copy = dict(nfa[middle])  # the middle state, reached only from here, without what the whole words say
        for second, whole in seconds:
            target = difference.of(arcs[middle][second], arcs[state][whole])
            if target is None:
                copy.pop(second, None)
            else:
                copy[second] = (target,)
        if copy or middle in automaton.finals:
            nfa.append(copy)
            if middle in automaton.finals:
                difference.finals.add(len(nfa) - 1)
            nfa[state][first] = (len(nfa) - 1,)
        else:
            del nfa[state][first]
    return WordAutomaton.minimal(nfa, difference.finals, {automaton.start}), found


def _overlap(automaton: WordAutomaton, first: int, second: int) -> bool:
    """Whether some sentence ends from both states: they share a way on."""
    seen: set[tuple[int, int]] = set()
    stack = [(first, second)]
    while stack:
        pair = stack.pop()
        if pair in seen:
            continue
        seen.add(pair)
        a, b = pair
        if a in automaton.finals and b in automaton.finals:
            return True
        stack.extend((t, automaton.arcs[b][w]) for w, t in automaton.arcs[a].items() if w in automaton.arcs[b])
    return False


class _Difference:
    """New states whose sentences are those of one state of `automaton` that another lacks,
    added to `nfa`, a copy of `automaton` (its states keep their numbers)."""

    def __init__(self, automaton: WordAutomaton) -> None:
        self.automaton = automaton
        self.nfa: list[dict[str, tuple[int, ...]]] = [{w: (t,) for w, t in out.items()} for out in automaton.arcs]
        self.finals = set(automaton.finals)
        self.made: dict[tuple[int, int], int | None] = {}

    def of(self, kept: int, removed: int) -> int | None:
        """A state saying what `kept` says and `removed` does not; None when that is nothing."""
        if (kept, removed) not in self.made:
            arcs = self.automaton.arcs
            out: dict[str, tuple[int, ...]] = {}
            for word, target in arcs[kept].items():
                other = arcs[removed].get(word)
                following = target if other is None else self.of(target, other)
                if following is not None:
                    out[word] = (following,)
            final = kept in self.automaton.finals and removed not in self.automaton.finals
            made: int | None = None
            if out or final:
                self.nfa.append(out)
                made = len(self.nfa) - 1
                if final:
                    self.finals.add(made)
            self.made[(kept, removed)] = made
        return self.made[(kept, removed)]


def respell(automaton: WordAutomaton, respellings: Sequence[Respelling], sentence: str) -> str | None:
    """`sentence` with its words respelled where `automaton` (the merged grammar) needs it; None
    when no respelling of it is a sentence of `automaton`."""
    found = _Respeller(automaton, respellings, tuple(sentence.split())).walk(automaton.start, 0)
    return None if found is None else " ".join(found)


class _Respeller:
    """A search for one sentence's path through the automaton, trying the respellings where
    its own words have no arc (depth first, failures remembered)."""

    def __init__(self, automaton: WordAutomaton, respellings: Sequence[Respelling], words: tuple[str, ...]) -> None:
        self.automaton = automaton
        self.words = words
        self.by_first: dict[str, list[Respelling]] = {}
        for respelling in respellings:
            self.by_first.setdefault(respelling.written[0], []).append(respelling)
        self.failed: set[tuple[int, int]] = set()

    def walk(self, state: int, position: int) -> list[str] | None:
        words = self.words
        if position == len(words):
            return [] if state in self.automaton.finals else None
        if (state, position) in self.failed:
            return None
        ways: list[tuple[tuple[str, ...], int]] = [((words[position],), 1)]
        for respelling in self.by_first.get(words[position], []):
            if words[position : position + len(respelling.written)] == respelling.written:
                ways.append((respelling.canonical, len(respelling.written)))
        for said, length in ways:
            reached = _follow(self.automaton.arcs, state, said)
            if reached is not None:
                rest = self.walk(reached, position + length)
                if rest is not None:
                    return [*said, *rest]
        self.failed.add((state, position))
        return None


def _follow(arcs: Sequence[Mapping[str, int]], state: int, words: Sequence[str]) -> int | None:
    for word in words:
        following = arcs[state].get(word)
        if following is None:
            return None
        state = following
    return state


def _said_alike(parts: Sequence[str], word: str, sounds: Sounds) -> bool:
    whole = set(sounds(word))
    return any(" ".join(joined) in whole for joined in product(*(sounds(part) for part in parts)))
