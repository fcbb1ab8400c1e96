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

from array import array
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
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
        """The automaton accepting exactly `phrases` (word sequences).

        Built incrementally from the sorted phrases (Daciuk et al., 2000): each
        phrase's states past the prefix it shares with the next phrase are final
        then, and are merged with an equal registered state at once. So only the
        minimal automaton and one phrase's path are ever held, never the trie of
        every phrase (measured: the trie of a clock-time slot's 4,576 phrases
        left 5 MB of resident memory behind).
        """
        sentences = sorted({tuple(phrase.split()) for phrase in phrases})
        arcs: list[dict[str, int]] = [{}]
        finals: set[int] = set()
        register: dict[tuple[object, ...], int] = {}
        path = [0]  # the states of the previous phrase, from the start
        previous: tuple[str, ...] = ()

        def close(depth: int) -> None:
            """Register the previous phrase's states deeper than `depth` (deepest first)."""
            for index in range(len(path) - 1, depth, -1):
                state = path[index]
                signature = (state in finals, *sorted(arcs[state].items()))
                known = register.setdefault(signature, state)
                if known != state:
                    arcs[path[index - 1]][previous[index - 1]] = known
                    arcs[state] = {}
                    finals.discard(state)
            del path[depth + 1 :]

        for words in sentences:
            shared = 0
            while shared < min(len(words), len(previous)) and words[shared] == previous[shared]:
                shared += 1
            close(shared)
            for word in words[shared:]:
                arcs[path[-1]][word] = len(arcs)
                path.append(len(arcs))
                arcs.append({})
            finals.add(path[-1])
            previous = words
        close(0)
        return _renumbered(arcs, finals, 0)

    @classmethod
    def minimal(
        cls, nfa: Sequence[Mapping[str, Collection[int]]], finals: Collection[int], starts: Collection[int]
    ) -> WordAutomaton:
        """The minimal automaton of an acyclic automaton with several next states per word
        (`nfa[state][word]`) and no empty moves, from the states `starts`."""
        return _determinise(nfa, set(finals), frozenset(starts))

    @classmethod
    def epsilon(cls) -> WordAutomaton:
        """The automaton accepting only the empty sentence."""
        return cls(({},), frozenset({0}), 0)

    def concatenate(self, other: WordAutomaton) -> WordAutomaton:
        """Every sentence of self followed by every sentence of other."""
        offset = len(self.arcs)
        arcs: list[dict[str, tuple[int, ...]]] = [{w: (t,) for w, t in a.items()} for a in self.arcs]
        arcs += [{w: (t + offset,) for w, t in a.items()} for a in other.arcs]
        other_start = other.start + offset
        finals = {f + offset for f in other.finals}
        for final in self.finals:
            for word, targets in arcs[other_start].items():
                arcs[final][word] = arcs[final].get(word, ()) + targets
            if other_start in finals:
                finals.add(final)
        return _determinise(arcs, finals, frozenset({self.start}))

    @staticmethod
    def union(automata: Sequence[WordAutomaton]) -> WordAutomaton:
        """Every sentence of any of `automata`."""
        arcs: list[dict[str, tuple[int, ...]]] = []
        finals: set[int] = set()
        starts: set[int] = set()
        for automaton in automata:
            offset = len(arcs)
            arcs += [{w: (t + offset,) for w, t in a.items()} for a in automaton.arcs]
            finals |= {f + offset for f in automaton.finals}
            starts.add(automaton.start + offset)
        if not starts:
            raise ValueError("the union of no automata is empty")
        return _determinise(arcs, finals, frozenset(starts))

    def substitute(self, parts: Mapping[str, WordAutomaton]) -> WordAutomaton:
        """Every sentence with each word that `parts` has replaced by any sentence of its
        automaton (which holds no such word itself)."""
        copies: dict[tuple[str, int], int] = {}  # (word, state it leads to) -> offset of that copy of its part
        size = len(self.arcs)
        for arcs in self.arcs:
            for word, target in arcs.items():
                if word in parts and (word, target) not in copies:
                    copies[word, target] = size
                    size += len(parts[word].arcs)
        nfa: list[dict[str, tuple[int, ...]]] = [{} for _ in range(size)]
        finals = set(self.finals)

        def add(state: int, arcs: Mapping[str, int], offset: int = 0) -> None:
            for word, target in arcs.items():
                nfa[state][word] = (*nfa[state].get(word, ()), target + offset)

        def go_on(state: int, main_state: int) -> None:
            """`state` also goes on as the main automaton's `main_state` does."""
            for word, target in self.arcs[main_state].items():
                if word in parts:
                    part, offset = parts[word], copies[word, target]
                    add(state, part.arcs[part.start], offset)
                    if part.start in part.finals:
                        go_on(state, target)
                else:
                    add(state, {word: target})
            if main_state in self.finals:
                finals.add(state)

        for state in range(len(self.arcs)):
            go_on(state, state)
        for (word, target), offset in copies.items():
            part = parts[word]
            for state, arcs in enumerate(part.arcs):
                add(state + offset, arcs, offset)
                if state in part.finals:
                    go_on(state + offset, target)
        return _determinise(nfa, finals, frozenset({self.start}))

    def without_pairs(self, firsts: Collection[str], forbidden: Callable[[str, str], bool]) -> WordAutomaton:
        """Every sentence in which no word of `firsts` is followed by a word `forbidden(first, word)`
        holds ("an" before "bread"). The product with a memory of the last word, where it is one of
        `firsts`: a state after "a" keeps only the words "a" may come before."""
        number: dict[tuple[int, str], int] = {(self.start, ""): 0}
        order = [(self.start, "")]
        nfa: list[dict[str, tuple[int, ...]]] = []
        for state, last in order:  # grows while it is read: every reachable pair once
            arcs: dict[str, tuple[int, ...]] = {}
            for word, target in self.arcs[state].items():
                if last and forbidden(last, word):
                    continue
                pair = (target, word if word in firsts else "")
                if pair not in number:
                    number[pair] = len(order)
                    order.append(pair)
                arcs[word] = (number[pair],)
            nfa.append(arcs)
        finals = {index for index, (state, _) in enumerate(order) if state in self.finals}
        # A state whose every way on was left out ends no sentence: it goes, and so do the arcs to it.
        sources: list[list[int]] = [[] for _ in order]
        for index, arcs in enumerate(nfa):
            for (target,) in arcs.values():
                sources[target].append(index)
        live, stack = set(finals), list(finals)
        while stack:
            for source in sources[stack.pop()]:
                if source not in live:
                    live.add(source)
                    stack.append(source)
        if 0 not in live:
            raise ValueError("no sentence is left without the forbidden pairs")
        nfa = [{w: t for w, t in arcs.items() if t[0] in live} for arcs in nfa]
        return _determinise(nfa, finals, frozenset({0}))

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

    def packed(self) -> PackedAutomaton:
        """The same sentences in flat integer arrays (`PackedAutomaton`)."""
        words = sorted({word for arcs in self.arcs for word in arcs})
        word_ids = {word: index for index, word in enumerate(words)}
        offsets, labels, targets = array("i", [0]), array("i"), array("i")
        for arcs in self.arcs:
            for word, target in sorted(arcs.items(), key=lambda arc: word_ids[arc[0]]):
                labels.append(word_ids[word])
                targets.append(target)
            offsets.append(len(labels))
        return PackedAutomaton(word_ids, offsets, labels, targets, self.finals, self.start)

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


@dataclass(frozen=True)
class PackedAutomaton:
    """A `WordAutomaton` that only answers `accepts`, held in three integer arrays.

    A running recognizer checks its n-best paths against the grammar, and needs
    nothing else of it. The smartwatch grammar's automaton as Python dicts held
    1.9 MB; the arcs of a state here are a slice, `offsets[state]` to
    `offsets[state + 1]`, of `labels` (word numbers, ascending) and `targets`."""

    word_ids: Mapping[str, int]
    offsets: array[int]
    labels: array[int]
    targets: array[int]
    finals: frozenset[int]
    start: int

    def accepts(self, words: Sequence[str]) -> bool:
        state = self.start
        for word in words:
            label = self.word_ids.get(word)
            if label is None:
                return False
            low, high = self.offsets[state], self.offsets[state + 1]
            arc = bisect_left(self.labels, label, low, high)
            if arc == high or self.labels[arc] != label:
                return False
            state = self.targets[arc]
        return state in self.finals


def _renumbered(arcs: Sequence[Mapping[str, int]], finals: set[int], start: int) -> WordAutomaton:
    """The states reachable from `start`, numbered children first (as `_determinise` numbers them)."""
    number: dict[int, int] = {}
    order: list[int] = []
    stack: list[tuple[int, bool]] = [(start, False)]
    while stack:
        state, done = stack.pop()
        if done:
            if state not in number:
                number[state] = len(order)
                order.append(state)
            continue
        if state in number:
            continue
        stack.append((state, True))
        stack.extend((target, False) for target in arcs[state].values() if target not in number)
    renumbered = tuple({word: number[target] for word, target in arcs[state].items()} for state in order)
    return WordAutomaton(renumbered, frozenset(number[s] for s in order if s in finals), number[start])


def _determinise(
    nfa: Sequence[Mapping[str, Collection[int]]], finals: set[int], start: frozenset[int]
) -> WordAutomaton:
    """The minimal DFA of an acyclic NFA without empty moves, from state set `start`.

    Subsets are built depth first; a finished state is looked up in a register
    by (final, arcs), so equivalent states are merged as they are made. Targets
    are tuples, not sets, in the automata built here: most are single states,
    and a set costs four times the memory of a one-state tuple.
    """
    builder = _Determiniser(nfa, finals)
    root = builder.build(start)
    return WordAutomaton(tuple(builder.arcs), frozenset(builder.accepting), root)


class _Determiniser:
    """The tables of one `_determinise` run. (A class, not a recursive closure: a closure that
    calls itself is a reference cycle, and its tables would wait for the garbage collector.)"""

    def __init__(self, nfa: Sequence[Mapping[str, Collection[int]]], finals: set[int]) -> None:
        self.nfa = nfa
        self.finals = finals
        self.arcs: list[Arcs] = []
        self.accepting: set[int] = set()
        self.register: dict[tuple[object, ...], int] = {}
        self.built: dict[frozenset[int], int] = {}

    def build(self, subset: frozenset[int]) -> int:
        if subset in self.built:
            return self.built[subset]
        merged: dict[str, set[int]] = {}
        for state in subset:
            for word, targets in self.nfa[state].items():
                merged.setdefault(word, set()).update(targets)
        children = {word: self.build(frozenset(targets)) for word, targets in sorted(merged.items())}
        final = not self.finals.isdisjoint(subset)
        signature = (final, *children.items())
        if signature not in self.register:
            self.register[signature] = len(self.arcs)
            self.arcs.append(children)
            if final:
                self.accepting.add(len(self.arcs) - 1)
        self.built[subset] = self.register[signature]
        return self.built[subset]
