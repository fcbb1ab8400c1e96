"""Minimal word automata: finite sets of sentences as small graphs.

A slot can be said in thousands of ways (every clock time, every duration), and
a device grammar is the product of many templates with such slots. The
sentences share most of their words, so the minimal deterministic automaton of
the language is small: "half past seven" and "twenty past eight" share their
states. Every operation here returns the minimal automaton of its result,
built bottom-up with a register of states by their future (the classic
construction for acyclic automata), so sizes stay small at every step.

Two uses:
- `WordAutomaton.to_rules` writes an automaton as template nodes (a state
  reached from several places becomes a named rule), which is how a slot's
  phrases enter the `DeviceGrammar`;
- `grammar_automaton` in `fsg.py` compiles a whole grammar into one automaton
  for PocketSphinx, whose own JSGF compiler copies every rule at every use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from assistant.templates import EMPTY, Alternatives, Node, RuleRef, Text
from assistant.templates import Sequence as Seq

Arcs = Mapping[str, int]


@dataclass(frozen=True)
class WordAutomaton:
    """An acyclic deterministic automaton over words, always minimal.

    `arcs[state]` maps each word to the next state; `finals` are the accepting
    states; `start` is where every sentence begins.
    """

    arcs: tuple[Arcs, ...]
    finals: frozenset[int]
    start: int

    @classmethod
    def phrases(cls, phrases: Iterable[str]) -> WordAutomaton:
        """The automaton accepting exactly `phrases` (word sequences)."""
        arcs: list[dict[str, set[int]]] = [{}]
        finals: set[int] = set()
        for phrase in phrases:
            state = 0
            for word in phrase.split():
                targets = arcs[state].setdefault(word, set())
                if not targets:
                    targets.add(len(arcs))
                    arcs.append({})
                state = next(iter(targets))
            finals.add(state)
        return _determinise(arcs, finals, frozenset({0}))

    @classmethod
    def epsilon(cls) -> WordAutomaton:
        """The automaton accepting only the empty sentence."""
        return cls(({},), frozenset({0}), 0)

    def concatenate(self, other: WordAutomaton) -> WordAutomaton:
        """Every sentence of self followed by every sentence of other."""
        offset = len(self.arcs)
        arcs: list[dict[str, set[int]]] = [{w: {t} for w, t in a.items()} for a in self.arcs]
        arcs += [{w: {t + offset} for w, t in a.items()} for a in other.arcs]
        other_start = other.start + offset
        finals = {f + offset for f in other.finals}
        for final in self.finals:
            for word, targets in arcs[other_start].items():
                arcs[final].setdefault(word, set()).update(targets)
            if other_start in finals:
                finals.add(final)
        return _determinise(arcs, finals, frozenset({self.start}))

    @staticmethod
    def union(automata: Sequence[WordAutomaton]) -> WordAutomaton:
        """Every sentence of any of `automata`."""
        arcs: list[dict[str, set[int]]] = []
        finals: set[int] = set()
        starts: set[int] = set()
        for automaton in automata:
            offset = len(arcs)
            arcs += [{w: {t + offset} for w, t in a.items()} for a in automaton.arcs]
            finals |= {f + offset for f in automaton.finals}
            starts.add(automaton.start + offset)
        if not starts:
            raise ValueError("the union of no automata is empty")
        return _determinise(arcs, finals, frozenset(starts))

    def accepts(self, words: Sequence[str]) -> bool:
        state = self.start
        for word in words:
            following = self.arcs[state].get(word)
            if following is None:
                return False
            state = following
        return state in self.finals

    @property
    def n_arcs(self) -> int:
        return sum(len(a) for a in self.arcs)

    def to_rules(self, rule_prefix: str) -> tuple[Node, dict[str, Node]]:
        """The automaton as a start node and rules `{rule_prefix}_{n}` for the
        states reached from more than one place (the others are inlined)."""
        order = self._topological()
        incoming: dict[int, int] = {}
        for state in order:
            for target in self.arcs[state].values():
                incoming[target] = incoming.get(target, 0) + 1
        shared = [s for s in order if incoming.get(s, 0) > 1]
        names = {state: f"{rule_prefix}_{index}" for index, state in enumerate(shared)}
        rules: dict[str, Node] = {}
        nodes: dict[int, Node] = {}
        for state in reversed(order):  # targets before their sources
            node = self._state_node(state, nodes)
            if state in names:
                rules[names[state]] = node
                node = RuleRef(names[state])
            nodes[state] = node
        return nodes[self.start], rules

    def _state_node(self, state: int, nodes: Mapping[int, Node]) -> Node:
        options: list[Node] = []
        for word, target in sorted(self.arcs[state].items()):
            rest = nodes[target]
            if rest == EMPTY:
                options.append(Text(word))
            elif isinstance(rest, Text):
                options.append(Text(f"{word} {rest.text}"))
            elif isinstance(rest, Seq):
                options.append(Seq((Text(word), *rest.items)))
            else:
                options.append(Seq((Text(word), rest)))
        if state in self.finals and options:
            options.append(EMPTY)
        if not options:
            return EMPTY
        return options[0] if len(options) == 1 else Alternatives(tuple(options))

    def _topological(self) -> list[int]:
        """Reachable states, each before every state it leads to."""
        seen: set[int] = set()
        post: list[int] = []
        stack: list[tuple[int, bool]] = [(self.start, False)]
        while stack:
            state, done = stack.pop()
            if done:
                post.append(state)
                continue
            if state in seen:
                continue
            seen.add(state)
            stack.append((state, True))
            stack.extend((t, False) for t in self.arcs[state].values() if t not in seen)
        return post[::-1]


def _determinise(nfa: Sequence[Mapping[str, set[int]]], finals: set[int], start: frozenset[int]) -> WordAutomaton:
    """The minimal DFA of an acyclic NFA without empty moves, from state set `start`.

    Subsets are built depth first; a finished state is looked up in a register
    by (final, arcs), so equivalent states are merged as they are made.
    """
    arcs: list[Arcs] = []
    accepting: set[int] = set()
    register: dict[tuple[object, ...], int] = {}
    built: dict[frozenset[int], int] = {}

    def build(subset: frozenset[int]) -> int:
        if subset in built:
            return built[subset]
        merged: dict[str, set[int]] = {}
        for state in subset:
            for word, targets in nfa[state].items():
                merged.setdefault(word, set()).update(targets)
        children = {word: build(frozenset(targets)) for word, targets in sorted(merged.items())}
        final = not finals.isdisjoint(subset)
        signature = (final, *children.items())
        if signature not in register:
            register[signature] = len(arcs)
            arcs.append(children)
            if final:
                accepting.add(len(arcs) - 1)
        built[subset] = register[signature]
        return built[subset]

    root = build(start)
    return WordAutomaton(tuple(arcs), frozenset(accepting), root)
