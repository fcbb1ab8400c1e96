from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.intents import IntentSet, load_intents

COMMON = """
rules:
  please: "(please|kindly)"
fillers:
  prefix_any: [hey]
  prefix_command: [please]
  prefix_question: [quick question]
  suffix_any: [thanks]
  suffix_command: [now]
  question_words: [what]
  imperative_verbs: [set]
replies:
  success: ["Done."]
  failure: ["Sorry[: {reason}]."]
  not_understood: ["Sorry?"]
"""

DOMAIN = """
domain: timer
description: Timers.
rules:
  timer: "(timer|countdown)"
intents:
  timer.start:
    description: Start a timer.
    slots:
      duration:
        type: duration
        required: true
        ask: ["For how long?"]
    templates:
      - "(set|start) [a] <timer> for {duration}"
    replies:
      success: ["Timer set for {duration}."]
"""

Write = Callable[[str, str], Path]


def load(write: Write, domain: str = DOMAIN, common: str = COMMON, extra: dict[str, str] | None = None) -> IntentSet:
    write("intents/_common.yaml", common)
    write("intents/timer.yaml", domain)
    for name, text in (extra or {}).items():
        write(f"intents/{name}", text)
    return load_intents(write("intents/_common.yaml", common).parent)


def error_of(write: Write, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as error:
        load(write, **kwargs)  # type: ignore[arg-type]
    return str(error.value)


def test_shipped_definitions_cover_at_least_15_domains_and_80_intents(intents: IntentSet) -> None:
    assert len(intents.domains) >= 15
    assert len(intents.intents) >= 80
    assert len(intents.out_of_scope) >= 50


def test_shipped_definitions_cover_what_devices_need(intents: IntentSet) -> None:
    names = {intent.name for intent in intents.intents}
    for required in ["general.cancel", "general.stop", "general.yes", "general.no", "general.help", "general.repeat",
                     "clock.time", "clock.date", "timer.start", "timer.cancel", "timer.pause", "timer.resume",
                     "timer.remaining", "timer.add", "alarm.set", "alarm.cancel", "alarm.snooze",
                     "media.play", "media.pause", "media.next", "media.previous", "media.volume_set",
                     "coffee.orderDrink"]:  # fmt: skip
        assert required in names


def test_coffee_order_matches_the_benchmark_grammar(intents: IntentSet) -> None:
    import yaml

    grammar_path = Path(__file__).resolve().parents[2] / "shared/data/coffee_maker/coffee_maker_grammar.yaml"
    if not grammar_path.is_file():
        pytest.skip(f"coffee-maker grammar not available at {grammar_path}")
    grammar = yaml.safe_load(grammar_path.read_text())["context"]["slots"]
    order = intents.intent("coffee.orderDrink")
    assert set(order.slots) == set(grammar)
    for name, phrases in grammar.items():
        assert set(order.slots[name].type.values) == set(phrases), name  # type: ignore[attr-defined]


def test_a_minimal_domain_loads(write: Write) -> None:
    loaded = load(write)
    intent = loaded.intent("timer.start")
    assert intent.domain == "timer"
    assert intent.required_slots[0].ask == ("For how long?",)
    assert loaded.domain_names() == ["timer"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("    description: Start a timer.", "    descripton: Start a timer."),
         "intents.timer.start: unknown key 'descripton'"),
        (("for {duration}\"", "for {durration}\""),
         "intents.timer.start.templates[0]: undefined slot {durration} (defined: duration)"),
        (("<timer> for", "<timers> for"), "intents.timer.start.templates[0]: undefined rule <timers>"),
        (("type: duration", "type: length"), "intents.timer.start.slots.duration.type: 'length' is not one of"),
        (("required: true", "required: yes please"), "slots.duration.required: expected true or false"),
        (("        ask: [\"For how long?\"]\n", ""), "slots.duration.ask: a required slot needs 'ask'"),
        (("(set|start) [a]", "(set|start [a]"), "templates[0]: missing ')'"),
        (("(set|start) [a]", "Set a"), "templates[0]: 'Set a' must be written as a recognizer emits it"),
        (("for {duration}\"", "for five minutes\""), "slots.duration: slot 'duration' is used by no template"),
        (("Timer set for {duration}.", "Timer {name} set."), "replies.success[0]: undefined slot {name}"),
        (("  timer.start:", "  timers.start:"), "intent names are 'timer.action'"),
        (("timer: \"(timer|countdown)\"", "timer: \"(timer|<clock>)\"\n  clock: \"<timer>\""),
         "rules.timer: rules refer to each other in a cycle: timer -> clock -> timer"),
        (("timer: \"(timer|countdown)\"", "please: \"(pretty please)\""), "rules.please: already defined in _common.yaml"),
        (("domain: timer", "domain: Timer"), "domain: 'Timer' is not a valid domain name"),
    ],
)  # fmt: skip
def test_bad_definitions_name_the_file_and_key(write: Write, change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in DOMAIN
    text = error_of(write, domain=DOMAIN.replace(old, new))
    assert text.startswith(str(Path("intents") / "timer.yaml")) or "timer.yaml: " in text
    assert message in text


def test_duplicate_intent_name_is_refused(write: Write) -> None:
    doubled = DOMAIN + DOMAIN.split("intents:\n", 1)[1]
    text = error_of(write, domain=doubled)
    assert "timer.yaml: line 17: duplicate key 'timer.start'" in text


def test_a_domain_must_be_named_as_its_file_so_one_device_loads_only_its_own(write: Write) -> None:
    other = DOMAIN.replace("timer.start", "timer.begin")
    text = error_of(write, extra={"more_timers.yaml": other})
    assert "more_timers.yaml: domain: the domain must match the file name 'more_timers'" in text


def test_a_reply_must_work_with_only_the_required_slots(write: Write) -> None:
    domain = (
        DOMAIN.replace(
            "      duration:\n",
            "      name:\n        type: text\n        examples: [pasta]\n      duration:\n",
        )
        .replace('for {duration}"', 'for {duration} [called {name}]"')
        .replace("Timer set for {duration}.", "{name} timer set for {duration}.")
    )
    text = error_of(write, domain=domain)
    assert "replies.success: no success reply can be said when only ['duration'] are known" in text


def test_unquoted_yes_no_in_yaml_is_explained(write: Write) -> None:
    domain = DOMAIN.replace(
        "      duration:\n",
        "      state:\n        type: enum\n        values: {on: [on], off: [off]}\n      duration:\n",
    ).replace('for {duration}"', 'for {duration} [{state}]"')
    text = error_of(write, domain=domain)
    assert "YAML reads unquoted yes/no/on/off as booleans" in text


def test_invalid_yaml_names_the_line(write: Write) -> None:
    text = error_of(write, domain=DOMAIN.replace("description: Timers.", "description: [Timers."))
    assert "timer.yaml: line" in text
    assert "invalid YAML" in text


def test_missing_common_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"_common\.yaml: missing"):
        load_intents(tmp_path)


def test_restricted_to_keeps_only_named_domains(intents: IntentSet) -> None:
    watch = intents.restricted_to(["general", "timer"])
    assert {intent.domain for intent in watch.intents} == {"general", "timer"}
    with pytest.raises(KeyError, match="unknown domains: nope"):
        intents.restricted_to(["nope"])


def test_every_shipped_intent_has_several_templates_and_replies(intents: IntentSet) -> None:
    for intent in intents.intents:
        assert len(intent.templates) >= 3, intent.name
        assert intent.replies["success"], intent.name
