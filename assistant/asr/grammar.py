"""A device's recognizer grammar, compiled from the intent definitions.

The intents YAML is the single source of truth: the sentences a device's
recognizer listens for are exactly its intents' templates, with each slot
replaced by every phrase the slot's type can say (see `slot_phrases`),
optionally wrapped in the fillers people say around commands ("could you ...
please"). Its indefinite articles agree with the word after them
(`articles.py`): a template's `[a|an]` before a slot is whichever the slot's
phrase takes ("an eight minute timer", "a five minute timer").

`compile_grammar` builds one template tree: a start node and named rules, with
no slots left. Writers turn it into what each engine reads (`jsgf.py` for
PocketSphinx, `phrases.py` for vosk); `accepts` and `sample` let tests and the
benchmark check sentences against it without any engine.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from assistant.articles import ARTICLES, agreeing, disagrees
from assistant.asr.automaton import WordAutomaton
from assistant.asr.slot_phrases import slot_phrases
from assistant.intents import Intent, IntentSet
from assistant.templates import EMPTY, Alternatives, Node, RuleRef, Sequence, SlotRef, Text

log = logging.getLogger(__name__)

START = "command"
FILLER_PREFIX = "filler_prefix"
FILLER_SUFFIX = "filler_suffix"
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class DeviceGrammar:
    """Every sentence a device listens for: `start` and the `rules` it uses.

    Nodes are template nodes (`assistant.templates`) holding only text,
    alternatives, sequences and rule references; rule names are safe for JSGF.
    """

    start: Node
    rules: Mapping[str, Node]
    intents: tuple[str, ...]  # the intent names it covers
    dropped_words: frozenset[str] = frozenset()  # words removed by `restricted_to`
    slots: frozenset[str] = frozenset()  # the rules that are a slot's phrases (`slot_network.py` shares them)
    _words: set[str] = field(default_factory=set, repr=False, compare=False)
    _cache: dict[str, WordAutomaton] = field(default_factory=dict, repr=False, compare=False)

    def words(self) -> set[str]:
        """Every word the grammar can produce."""
        if not self._words:
            for node in (self.start, *self.rules.values()):
                for text in _texts(node):
                    self._words.update(text.split())
        return set(self._words)

    def accepts(self, sentence: str) -> bool:
        """Whether `sentence` (recognizer form) is one the grammar produces."""
        return self.automaton().accepts(sentence.split())

    def matches(self, sentence: str) -> bool:
        """The same answer as `accepts`, found by walking the rules instead of the
        automaton: slow, and independent of `automaton.py` (for cross-checks)."""
        words = tuple(sentence.split())
        return agreeing(words) == list(words) and len(words) in _Matcher(self.rules, words).ends(self.start, 0)

    def automaton(self) -> WordAutomaton:
        """The minimal automaton of every sentence (built once, then kept)."""
        if "automaton" not in self._cache:
            self._cache["automaton"] = _compile_automaton(self)
        return self._cache["automaton"]

    def sample(self, rng: random.Random) -> str:
        """One random sentence of the grammar (its articles made to agree, `articles.py`)."""
        words: list[str] = []
        stack: list[Node] = [self.start]
        while stack:
            node = stack.pop()
            if isinstance(node, Text):
                words.extend(node.text.split())
            elif isinstance(node, RuleRef):
                stack.append(self.rules[node.name])
            elif isinstance(node, Sequence):
                stack.extend(reversed(node.items))
            elif isinstance(node, Alternatives):
                stack.append(rng.choice(node.options))
        return " ".join(word for word in agreeing(words) if word is not None)

    def restricted_to(self, known: Callable[[str], bool]) -> DeviceGrammar:
        """The grammar without every path that has a word `known` rejects.

        An alternative with an unknown word is dropped; a sequence with one is
        dropped up to the nearest enclosing alternative. The words dropped are
        kept in `dropped_words` so the caller can log them.
        """
        dropped = {word for word in self.words() if not known(word)}
        if not dropped:
            return self
        pruned: dict[str, Node | None] = {}

        def prune(node: Node) -> Node | None:
            if isinstance(node, Text):
                return None if any(word in dropped for word in node.text.split()) else node
            if isinstance(node, RuleRef):
                if node.name not in pruned:
                    pruned[node.name] = None  # rules never recurse; this only guards the lookup
                    pruned[node.name] = prune(self.rules[node.name])
                return None if pruned[node.name] is None else node
            if isinstance(node, Sequence):
                items = [prune(item) for item in node.items]
                kept = [item for item in items if item is not None]
                return Sequence(tuple(kept)) if len(kept) == len(items) else None
            if isinstance(node, Alternatives):
                options = [option for option in (prune(o) for o in node.options) if option is not None]
                if not options:
                    return None
                return options[0] if len(options) == 1 else Alternatives(tuple(options))
            return node

        start = prune(self.start)
        if start is None:
            raise ValueError(f"no sentence is left without the words {sorted(dropped)}")
        rules = {name: node for name, node in pruned.items() if node is not None}
        kept = _reachable(start, rules)
        return DeviceGrammar(start, kept, self.intents, self.dropped_words | dropped, self.slots & kept.keys())

    def stats(self) -> dict[str, int]:
        """Sizes for logs and benchmarks."""
        return {"rules": len(self.rules), "words": len(self.words()), "intents": len(self.intents)}


def compile_grammar(intents: IntentSet, *, fillers: bool = False) -> DeviceGrammar:
    """The grammar of every intent in `intents` (pass a device's view:
    `intents.restricted_to(profile.domains)`). `fillers` wraps each sentence in
    the optional filler words of `_common.yaml` (off by default: see
    `factory.GRAMMAR_FILLERS` for the measurement)."""
    started = time.perf_counter()
    compiler = _Compiler(intents)
    options: list[Node] = []
    for intent in intents.intents:
        name = _safe(f"intent_{intent.name}")
        templates = [compiler.convert(t.node, intent) for t in intent.templates]
        compiler.rules[name] = templates[0] if len(templates) == 1 else Alternatives(tuple(templates))
        options.append(RuleRef(name))
    rules = compiler.rules
    body: Node = options[0] if len(options) == 1 else Alternatives(tuple(options))
    start: Node = body
    if fillers:
        f = intents.fillers
        prefixes = _unique(f.prefix_any + f.prefix_command + f.prefix_question)
        suffixes = _unique(f.suffix_any + f.suffix_command)
        rules[FILLER_PREFIX] = Alternatives(tuple(Text(p) for p in prefixes))
        rules[FILLER_SUFFIX] = Alternatives(tuple(Text(s) for s in suffixes))
        start = Sequence((_optional(RuleRef(FILLER_PREFIX)), body, _optional(RuleRef(FILLER_SUFFIX))))
    slots = frozenset(compiler.slot_rules.values())
    grammar = DeviceGrammar(start, rules, tuple(intent.name for intent in intents.intents), slots=slots)
    log.debug("grammar for %d intents: %s in %.2f s", len(options), grammar.stats(), time.perf_counter() - started)
    return grammar


class _Compiler:
    """Turns intent templates into grammar nodes, collecting the rules they need."""

    def __init__(self, intents: IntentSet) -> None:
        self.intents = intents
        self.rules: dict[str, Node] = {}
        self.slot_rules: dict[tuple[str, ...], str] = {}  # phrases -> rule: slots said alike share one rule
        self.phrases: dict[int, tuple[str, ...]] = {}  # by slot type: shared enum lists are one object

    def convert(self, node: Node, intent: Intent) -> Node:
        """A template node with its slots and the intent's rules turned into grammar rules."""
        if isinstance(node, SlotRef):
            return RuleRef(self._slot_rule(node.name, intent))
        if isinstance(node, RuleRef):
            shared = self.intents.rules.get(node.name) is intent.rules[node.name]
            name = _safe(f"rule_{node.name}" if shared else f"rule_{intent.domain}_{node.name}")
            if name not in self.rules:
                self.rules[name] = EMPTY  # placeholder while converting (rules never recurse)
                self.rules[name] = self.convert(intent.rules[node.name], intent)
            return RuleRef(name)
        if isinstance(node, Sequence):
            return Sequence(tuple(self.convert(item, intent) for item in node.items))
        if isinstance(node, Alternatives):
            return Alternatives(tuple(self.convert(option, intent) for option in node.options))
        return node

    def _slot_rule(self, slot_name: str, intent: Intent) -> str:
        slot_type = intent.slots[slot_name].type
        if id(slot_type) not in self.phrases:
            self.phrases[id(slot_type)] = tuple(slot_phrases(slot_type))
        phrases = self.phrases[id(slot_type)]
        if phrases not in self.slot_rules:
            base = _safe(f"slot_{slot_name}")
            name, suffix = base, 2
            while name in self.rules:
                name, suffix = f"{base}_{suffix}", suffix + 1
            start, states = WordAutomaton.phrases(phrases).to_rules(name)
            self.rules.update(states)
            self.rules[name] = start
            self.slot_rules[phrases] = name
        return self.slot_rules[phrases]


def _optional(node: Node) -> Node:
    return Alternatives((node, EMPTY))


def _unique(items: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(" ".join(item.split()) for item in items))


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name)


def _texts(node: Node) -> Iterator[str]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Text):
            yield current.text
        elif isinstance(current, Sequence):
            stack.extend(current.items)
        elif isinstance(current, Alternatives):
            stack.extend(current.options)


def _reachable(start: Node, rules: Mapping[str, Node]) -> dict[str, Node]:
    found: dict[str, Node] = {}
    stack = [start]
    while stack:
        current = stack.pop()
        if isinstance(current, RuleRef):
            if current.name not in found:
                found[current.name] = rules[current.name]
                stack.append(rules[current.name])
        elif isinstance(current, Sequence):
            stack.extend(current.items)
        elif isinstance(current, Alternatives):
            stack.extend(current.options)
    return found


def _compile_automaton(grammar: DeviceGrammar) -> WordAutomaton:
    return _AutomatonCompiler(grammar).compile(grammar.start).without_pairs(ARTICLES, disagrees)


class _AutomatonCompiler:
    """Compiles grammar nodes into automata, each rule once. (A class, not a recursive closure:
    a closure that calls itself is a reference cycle, and its automata would wait for the
    garbage collector.)"""

    def __init__(self, grammar: DeviceGrammar) -> None:
        self.rules = grammar.rules
        self.done: dict[str, WordAutomaton] = {}

    def compile(self, node: Node) -> WordAutomaton:
        if isinstance(node, Text):
            return WordAutomaton.phrases([node.text]) if node.text.split() else WordAutomaton.epsilon()
        if isinstance(node, RuleRef):
            if node.name not in self.done:
                self.done[node.name] = self.compile(self.rules[node.name])
            return self.done[node.name]
        if isinstance(node, Sequence):
            result = WordAutomaton.epsilon()
            for item in node.items:
                result = result.concatenate(self.compile(item))
            return result
        if isinstance(node, Alternatives):
            return WordAutomaton.union([self.compile(option) for option in node.options])
        raise TypeError(f"unexpected grammar node {node!r}")


class _Matcher:
    """Where a node can end when it starts at a word position (memoised)."""

    def __init__(self, rules: Mapping[str, Node], words: tuple[str, ...]) -> None:
        self.rules = rules
        self.words = words
        self.memo: dict[tuple[int, int], frozenset[int]] = {}

    def ends(self, node: Node, position: int) -> frozenset[int]:
        key = (id(node), position)
        if key not in self.memo:
            self.memo[key] = self._ends(node, position)
        return self.memo[key]

    def _ends(self, node: Node, position: int) -> frozenset[int]:
        if isinstance(node, Text):
            words = tuple(node.text.split())
            end = position + len(words)
            return frozenset({end}) if self.words[position:end] == words else frozenset()
        if isinstance(node, RuleRef):
            return self.ends(self.rules[node.name], position)
        if isinstance(node, Alternatives):
            return frozenset().union(*(self.ends(option, position) for option in node.options))
        if isinstance(node, Sequence):
            positions = frozenset({position})
            for item in node.items:
                positions = frozenset().union(*(self.ends(item, p) for p in positions))
                if not positions:
                    break
            return positions
        return frozenset()
