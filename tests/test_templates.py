from __future__ import annotations

import random

import pytest

from assistant.errors import TemplateError
from assistant.intents import IntentSet
from assistant.templates import (
    Alternatives,
    RuleRef,
    Sequence,
    SlotRef,
    Text,
    count_paths,
    expand,
    format_template,
    parse_template,
    references,
    render_reply,
    sample_pieces,
)


def sentences(template: str, rules: dict[str, str] | None = None) -> set[str]:
    parsed_rules = {name: parse_template(text) for name, text in (rules or {}).items()}
    out = set()
    for pieces in expand(parse_template(template), parsed_rules):
        out.add(" ".join("".join(p if isinstance(p, str) else f"{{{p.name}}}" for p in pieces).split()))
    return out


def test_parse_builds_the_tree() -> None:
    node = parse_template("(set|start) [a] {duration} <timer>")
    assert node == Sequence(
        (
            Alternatives((Sequence((Text("set"),)), Sequence((Text("start"),)))),
            Text(" "),
            Alternatives((Sequence((Text("a"),)), Sequence(()))),
            Text(" "),
            SlotRef("duration"),
            Text(" "),
            RuleRef("timer"),
        )
    )


def test_expand_lists_every_sentence() -> None:
    assert sentences("(set|start) [a] timer") == {"set a timer", "set timer", "start a timer", "start timer"}
    assert sentences("<verb> the {thing}", {"verb": "(open|close)"}) == {"open the {thing}", "close the {thing}"}
    assert sentences("[please|kindly] stop") == {"please stop", "kindly stop", "stop"}


def test_count_paths_matches_expand() -> None:
    node = parse_template("(a|b|c) [d|e] (f [g]|h)")
    assert count_paths(node, {}) == len(list(expand(node, {}))) == 3 * 3 * 3


def test_references() -> None:
    assert references(parse_template("{a} [{b}] <r> (x|{c})")) == ({"a", "b", "c"}, {"r"})


def test_sample_pieces_is_one_path() -> None:
    node = parse_template("(set|start) [a] timer for {duration}")
    allowed = sentences("(set|start) [a] timer for {duration}")
    rng = random.Random(0)
    for _ in range(50):
        pieces = sample_pieces(node, rng, {})
        text = " ".join("".join(p if isinstance(p, str) else f"{{{p.name}}}" for p in pieces).split())
        assert text in allowed


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("(set|start a timer", "missing ')'"),
        ("set a timer)", "unexpected ')'"),
        ("[a|b) c", "unexpected ')'"),
        ("set {duration timer", "unclosed or empty {...}"),
        ("set {} timer", "unclosed or empty {...}"),
        ("set <> timer", "unclosed or empty <...>"),
        ("set {a|b} timer", "unclosed or empty {...}"),
        ("set a } timer", "unexpected '}'"),
    ],
)
def test_syntax_errors_say_what_and_where(template: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=problem.replace("(", r"\(").replace(")", r"\)").replace("{", r"\{")):
        parse_template(template)


def test_reply_keeps_optional_parts_whose_values_are_known() -> None:
    node = parse_template("Okay, [{name} ]timer set for {duration}.")
    rng = random.Random(0)
    assert render_reply(node, {"duration": "five minutes"}, rng) == "Okay, timer set for five minutes."
    assert (
        render_reply(node, {"duration": "five minutes", "name": "pasta"}, rng)
        == "Okay, pasta timer set for five minutes."
    )
    assert render_reply(node, {"name": "pasta"}, rng) is None


def test_reply_prefers_alternatives_that_mention_values() -> None:
    node = parse_template("(Done.|Set to {level}.)")
    rng = random.Random(0)
    assert all(render_reply(node, {"level": "fifty percent"}, rng) == "Set to fifty percent." for _ in range(20))
    assert render_reply(node, {}, rng) == "Done."


def test_format_template_round_trips(intents: IntentSet) -> None:
    for intent in intents.intents:
        for template in intent.templates:
            assert parse_template(format_template(template.node)) == template.node
    for node in intents.rules.values():
        assert parse_template(format_template(node)) == node
