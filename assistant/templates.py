"""Sentence and reply templates, in the spirit of hassil.

Syntax:
    (a|b|c)      one of the alternatives
    [a|b]        optional: one of the alternatives or nothing
    {name}       a slot (in sentences) or a slot or result value (in replies)
    <name>       a reusable expansion rule, itself a template

`parse_template` turns the text into a small tree of frozen dataclasses;
`sample_pieces` walks one random path through it; `expand` lists every path;
`render_reply` fills a reply template, keeping only the parts whose values exist.
A template writes `[a|an]` before a slot; the reply rendered here, and every
sentence made from `sample_pieces`, keeps the one that agrees with the word
after it (`articles.py`).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from assistant.articles import agree
from assistant.errors import TemplateError


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class SlotRef:
    name: str


@dataclass(frozen=True)
class RuleRef:
    name: str


@dataclass(frozen=True)
class Sequence:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Alternatives:
    """One of `options`; an optional group has an empty Sequence among them."""

    options: tuple[Node, ...]


Node = Text | SlotRef | RuleRef | Sequence | Alternatives
Piece = str | SlotRef  # a stretch of literal text, or a slot to fill

_CLOSERS = {"(": ")", "[": "]", "{": "}", "<": ">"}
EMPTY = Sequence(())


def parse_template(text: str) -> Node:
    """Parse template text; a syntax error names the position and the problem."""
    node, end = _parse_alternatives(text, 0, closer=None)
    if end != len(text):
        raise TemplateError(f"unexpected {text[end]!r} at position {end} in {text!r}")
    return node


def _parse_alternatives(text: str, i: int, closer: str | None) -> tuple[Node, int]:
    options: list[Node] = []
    items: list[Node] = []
    literal = ""
    while i < len(text):
        char = text[i]
        if char in "([":
            group, i = _parse_alternatives(text, i + 1, _CLOSERS[char])
            if char == "[":
                group = Alternatives((*_options(group), EMPTY))
            items, literal = [*_flush(items, literal), group], ""
            continue
        if char in "{<":
            end = text.find(_CLOSERS[char], i)
            name = text[i + 1 : end].strip() if end != -1 else ""
            if end == -1 or not name or any(c in name for c in "()[]{}<>|"):
                raise TemplateError(f"unclosed or empty {char}...{_CLOSERS[char]} at position {i} in {text!r}")
            ref: Node = SlotRef(name) if char == "{" else RuleRef(name)
            items, literal, i = [*_flush(items, literal), ref], "", end + 1
            continue
        if char == "|":
            options.append(Sequence(tuple(_flush(items, literal))))
            items, literal, i = [], "", i + 1
            continue
        if char in ")]":
            if char != closer:
                raise TemplateError(f"unexpected {char!r} at position {i} in {text!r}")
            break
        if char in "}>":
            raise TemplateError(f"unexpected {char!r} at position {i} in {text!r}")
        literal += char
        i += 1
    else:
        if closer is not None:
            raise TemplateError(f"missing {closer!r} at the end of {text!r}")
    options.append(Sequence(tuple(_flush(items, literal))))
    node: Node = options[0] if len(options) == 1 else Alternatives(tuple(options))
    return node, i + 1 if closer is not None else i


def _flush(items: list[Node], literal: str) -> list[Node]:
    return [*items, Text(literal)] if literal else items


def _options(node: Node) -> tuple[Node, ...]:
    return node.options if isinstance(node, Alternatives) else (node,)


def references(node: Node) -> tuple[set[str], set[str]]:
    """The slot names and rule names a template refers to directly."""
    slots: set[str] = set()
    rules: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, SlotRef):
            slots.add(current.name)
        elif isinstance(current, RuleRef):
            rules.add(current.name)
        elif isinstance(current, Sequence):
            stack.extend(current.items)
        elif isinstance(current, Alternatives):
            stack.extend(current.options)
    return slots, rules


def literal_texts(node: Node) -> Iterator[str]:
    """Every stretch of literal text in the template (for validating its words)."""
    if isinstance(node, Text):
        yield node.text
    elif isinstance(node, Sequence):
        for item in node.items:
            yield from literal_texts(item)
    elif isinstance(node, Alternatives):
        for option in node.options:
            yield from literal_texts(option)


def sample_pieces(node: Node, rng: random.Random, rules: Mapping[str, Node]) -> list[Piece]:
    """One random path through the template: literal text and slots to fill."""
    pieces: list[Piece] = []
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Text):
            pieces.append(current.text)
        elif isinstance(current, SlotRef):
            pieces.append(current)
        elif isinstance(current, RuleRef):
            stack.append(rules[current.name])
        elif isinstance(current, Sequence):
            stack.extend(reversed(current.items))
        else:
            stack.append(rng.choice(current.options))
    return pieces


def expand(node: Node, rules: Mapping[str, Node]) -> Iterator[list[Piece]]:
    """Every path through the template (for grammars and exhaustive tests)."""
    if isinstance(node, (Text, SlotRef)):
        yield [node.text if isinstance(node, Text) else node]
    elif isinstance(node, RuleRef):
        yield from expand(rules[node.name], rules)
    elif isinstance(node, Alternatives):
        for option in node.options:
            yield from expand(option, rules)
    else:
        for combination in itertools.product(*(list(expand(item, rules)) for item in node.items)):
            yield [piece for part in combination for piece in part]


def count_paths(node: Node, rules: Mapping[str, Node]) -> int:
    """How many sentences the template yields before slots are filled."""
    if isinstance(node, (Text, SlotRef)):
        return 1
    if isinstance(node, RuleRef):
        return count_paths(rules[node.name], rules)
    if isinstance(node, Alternatives):
        return sum(count_paths(option, rules) for option in node.options)
    total = 1
    for item in node.items:
        total *= count_paths(item, rules)
    return total


def render_reply(node: Node, values: Mapping[str, str], rng: random.Random) -> str | None:
    """Fill a reply template with spoken values.

    An optional part that mentions a value is kept whenever that value exists,
    so a reply confirms every value it can; its indefinite articles agree with
    the words after them ("an 800 rpm spin", `articles.py`). Returns None when
    no path through the template has all the values it needs.
    """
    text = _render(node, values, rng)
    return None if text is None else agree(text)


def _render(node: Node, values: Mapping[str, str], rng: random.Random) -> str | None:
    if isinstance(node, Text):
        return node.text
    if isinstance(node, SlotRef):
        return values.get(node.name)
    if isinstance(node, RuleRef):
        raise TemplateError(f"rules are not allowed in replies: <{node.name}>")
    if isinstance(node, Sequence):
        parts = [_render(item, values, rng) for item in node.items]
        return None if any(p is None for p in parts) else "".join(p for p in parts if p is not None)
    # Try the alternatives in random order, those that mention a value first:
    # a reply should confirm every value it can.
    options = list(node.options)
    rng.shuffle(options)
    options.sort(key=lambda option: not references(option)[0])
    for option in options:
        text = _render(option, values, rng)
        if text is not None:
            return text
    return None


def format_template(node: Node) -> str:
    """Template text for a tree: parse_template(format_template(n)) == n."""
    if isinstance(node, Text):
        return node.text
    if isinstance(node, SlotRef):
        return f"{{{node.name}}}"
    if isinstance(node, RuleRef):
        return f"<{node.name}>"
    if isinstance(node, Sequence):
        return "".join(format_template(item) for item in node.items)
    options = [option for option in node.options if option != EMPTY]
    inner = "|".join(format_template(option) for option in options)
    return f"[{inner}]" if len(options) < len(node.options) else f"({inner})"


def render_all(node: Node, values: Mapping[str, str], limit: int = 64) -> list[str]:
    """Up to `limit` distinct texts of a reply template with these values, each
    keeping every optional part whose values are known (as render_reply does)."""
    texts: list[str] = []
    for pieces in expand(node, {}):
        names = {piece.name for piece in pieces if isinstance(piece, SlotRef)}
        if not names <= values.keys():
            continue
        text = agree("".join(values[piece.name] if isinstance(piece, SlotRef) else piece for piece in pieces))
        if text not in texts:
            texts.append(text)
        if len(texts) >= limit:
            break
    return texts
