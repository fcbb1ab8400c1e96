"""A device grammar as JSGF, the grammar format PocketSphinx reads.

Templates map onto JSGF one to one: alternatives `(a | b)`, optionals `[a]`,
rules `<name>`; slots are already rules of their spoken phrases (see
`grammar.py`). Words are written bare: PocketSphinx keeps quotes as part of
the word, and apostrophes ("what's") pass its tokenizer as they are.

PocketSphinx decodes the device grammar from `fsg.py` instead: its JSGF
compiler copies every rule at every use, which does not fit in memory for the
larger devices. The JSGF text is for reading, for other tools, and for small
grammars.
"""

from __future__ import annotations

from assistant.asr.grammar import START, DeviceGrammar
from assistant.templates import EMPTY, Alternatives, Node, RuleRef, Sequence, Text

GRAMMAR_NAME = "device"


def to_jsgf(grammar: DeviceGrammar, name: str = GRAMMAR_NAME) -> str:
    """The JSGF text of `grammar`; its public rule is `<command>`."""
    lines = ["#JSGF V1.0;", f"grammar {name};", f"public <{START}> = {_expression(grammar.start)};"]
    lines += [f"<{rule}> = {_expression(node)};" for rule, node in grammar.rules.items()]
    return "\n".join(lines) + "\n"


def _expression(node: Node) -> str:
    if isinstance(node, Text):
        words = node.text.split()
        return " ".join(words) if words else "<NULL>"
    if isinstance(node, RuleRef):
        return f"<{node.name}>"
    if isinstance(node, Sequence):
        parts = [_expression(item) for item in node.items]
        parts = [part for part in parts if part != "<NULL>"]
        return " ".join(parts) if parts else "<NULL>"
    if isinstance(node, Alternatives):
        options = [option for option in node.options if option != EMPTY]
        inner = " | ".join(_expression(option) for option in options)
        if len(options) < len(node.options):
            return f"[{inner}]"
        return f"({inner})"
    return "<NULL>"
