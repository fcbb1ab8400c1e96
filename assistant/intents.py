"""Intent definitions: the single source of truth for what devices understand.

`intents/*.yaml` holds one domain per file; `intents/_common.yaml` holds the rules,
enum lists, fillers and default replies every domain shares; and
`intents/_out_of_scope.yaml` holds templates of requests no device handles. The
same definitions produce the training corpus, recognizer grammars, replies and
tests. Loading is strict: every mistake is reported with its file and key.
See docs/intents.md for the format.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from assistant.config import Section, read_yaml
from assistant.errors import ConfigError, TemplateError
from assistant.slot_types import SlotType, check_spoken, make_slot_type
from assistant.templates import Node, literal_texts, parse_template, references, render_reply

DEFAULT_INTENTS_DIR = Path(__file__).resolve().parent.parent / "intents"
COMMON_FILE = "_common.yaml"
OUT_OF_SCOPE_FILE = "_out_of_scope.yaml"
REPLY_KINDS = ("success", "failure")
CONFIRM = "confirm"  # the question asked before a risky action (intents with `confirm: true`)
NOT_UNDERSTOOD = "not_understood"  # a common reply kind: nothing matched
FAILURE_REASON = "reason"  # a failure reply may say why, as {reason}
INTENT_NAME = re.compile(r"^[a-z][a-z_]*\.[a-z][a-zA-Z_]*$")
NAME = re.compile(r"^[a-z][a-zA-Z0-9_]*$")


@dataclass(frozen=True)
class Template:
    """A template as written (for messages and split keys) and as parsed."""

    text: str
    node: Node


@dataclass(frozen=True)
class Slot:
    name: str
    type: SlotType
    required: bool
    ask: tuple[str, ...]  # questions to ask when a required slot is missing
    description: str = ""


@dataclass(frozen=True)
class Intent:
    name: str  # "domain.action"
    description: str
    slots: Mapping[str, Slot]
    templates: tuple[Template, ...]
    replies: Mapping[str, tuple[Template, ...]]  # kind -> variants
    result: Mapping[str, SlotType]  # values the device's action reports back
    confirm: bool
    source: str
    rules: Mapping[str, Node] = field(repr=False)  # the expansion rules its templates may use

    @property
    def domain(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def required_slots(self) -> list[Slot]:
        return [slot for slot in self.slots.values() if slot.required]


@dataclass(frozen=True)
class Domain:
    name: str
    description: str
    intents: tuple[Intent, ...]
    source: str


@dataclass(frozen=True)
class Fillers:
    """Words people put around a command. Which set applies depends on how the
    sentence starts: a question, an imperative verb, or anything else."""

    prefix_any: tuple[str, ...]
    prefix_command: tuple[str, ...]
    prefix_question: tuple[str, ...]
    suffix_any: tuple[str, ...]
    suffix_command: tuple[str, ...]
    question_words: frozenset[str]
    imperative_verbs: frozenset[str]


@dataclass(frozen=True)
class IntentSet:
    """Every domain, with the shared rules and the out-of-scope templates."""

    domains: tuple[Domain, ...]
    rules: Mapping[str, Node]  # the shared rules and the out-of-scope file's own
    fillers: Fillers
    default_replies: Mapping[str, tuple[Template, ...]]
    out_of_scope: tuple[Template, ...]
    directory: Path
    _by_name: dict[str, Intent] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for domain in self.domains:
            for intent in domain.intents:
                self._by_name[intent.name] = intent

    @cached_property
    def intents(self) -> tuple[Intent, ...]:
        return tuple(intent for domain in self.domains for intent in domain.intents)

    def intent(self, name: str) -> Intent:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"unknown intent {name!r}") from None

    def domain_names(self) -> list[str]:
        return [domain.name for domain in self.domains]

    def restricted_to(self, domain_names: Iterable[str]) -> IntentSet:
        """The same definitions with only the named domains (a device's view)."""
        wanted = set(domain_names)
        unknown = wanted - set(self.domain_names())
        if unknown:
            raise KeyError(f"unknown domains: {', '.join(sorted(unknown))}")
        return IntentSet(
            domains=tuple(d for d in self.domains if d.name in wanted),
            rules=self.rules,
            fillers=self.fillers,
            default_replies=self.default_replies,
            out_of_scope=self.out_of_scope,
            directory=self.directory,
        )

    def replies(self, intent: Intent, kind: str) -> tuple[Template, ...]:
        return intent.replies.get(kind) or self.default_replies.get(kind, ())


def load_intents(directory: Path | str = DEFAULT_INTENTS_DIR, only: Collection[str] | None = None) -> IntentSet:
    """Load and check every intent file in `directory`, or only those of the domains `only` names.

    A device needs only its own domains (`assistant.profiles.load_device`): the
    others and the out-of-scope templates, which only the generator uses, would
    cost it a few MB of parsed templates. A domain asked for but missing is left
    out, for the profile's check to name."""
    directory = Path(directory)
    common_path = directory / COMMON_FILE
    if not common_path.is_file():
        raise ConfigError(str(common_path), "", "missing: the shared rules, lists and fillers live here")
    common = Section(read_yaml(common_path), str(common_path))
    common.check_keys({"rules", "lists", "fillers", "replies"}, {"rules", "fillers", "replies"})
    lists = dict(common.mapping("lists", {}))
    rules = _parse_rules(common, {})
    fillers = _load_fillers(common.section("fillers"))
    default_replies = _load_replies(
        common.section("replies"),
        set(),
        {},
        kinds=(*REPLY_KINDS, CONFIRM, NOT_UNDERSTOOD),
        required=(*REPLY_KINDS, NOT_UNDERSTOOD),
    )

    domains: list[Domain] = []
    seen_intents: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name.startswith("_") or (only is not None and path.stem not in only):
            continue
        domain = _load_domain(path, rules, lists)  # named as its file: no two domains share a name
        for intent in domain.intents:
            if intent.name in seen_intents:
                raise ConfigError(
                    str(path),
                    f"intents.{intent.name}",
                    f"duplicate intent name, first defined in {seen_intents[intent.name]}",
                )
            seen_intents[intent.name] = str(path)
        domains.append(domain)
    if not domains:
        raise ConfigError(str(directory), "", "no domain files (*.yaml) found")

    oos_path = directory / OUT_OF_SCOPE_FILE
    out_of_scope: tuple[Template, ...] = ()
    if oos_path.is_file() and only is None:
        section = Section(read_yaml(oos_path), str(oos_path))
        section.check_keys({"description", "rules", "templates"}, {"templates"})
        oos_rules = _parse_rules(section, rules)
        rules = {**rules, **oos_rules}
        out_of_scope = _load_templates(section, "templates", set(), rules, spoken=True)
    return IntentSet(tuple(domains), rules, fillers, default_replies, out_of_scope, directory)


def _load_domain(path: Path, common_rules: Mapping[str, Node], common_lists: Mapping[str, Any]) -> Domain:
    top = Section(read_yaml(path), str(path))
    top.check_keys({"domain", "description", "rules", "lists", "intents"}, {"domain", "description", "intents"})
    name = top.string("domain")
    if not NAME.match(name):
        raise top.error(f"{name!r} is not a valid domain name (lowercase letters, digits, _)", "domain")
    if name != path.stem:
        raise top.error(f"the domain must match the file name {path.stem!r}", "domain")
    lists = dict(common_lists)
    for list_name in top.mapping("lists", {}):
        if list_name in lists:
            raise top.error("already defined in _common.yaml", f"lists.{list_name}")
        lists[list_name] = top.mapping("lists")[list_name]
    rules = {**common_rules, **_parse_rules(top, common_rules)}
    intents = tuple(
        _load_intent(intent_name, section, name, rules, lists) for intent_name, section in top.sections("intents")
    )
    if not intents:
        raise top.error("a domain needs at least one intent", "intents")
    return Domain(name, top.string("description"), intents, str(path))


INTENT_KEYS = frozenset({"description", "slots", "templates", "replies", "result", "confirm"})


def _load_intent(
    name: str, section: Section, domain: str, rules: Mapping[str, Node], lists: Mapping[str, Any]
) -> Intent:
    section.check_keys(INTENT_KEYS, {"description", "templates", "replies"})
    if not INTENT_NAME.match(name) or name.split(".")[0] != domain:
        raise section.error(f"intent names are '{domain}.action' (lowercase domain, then the action), got {name!r}")
    slots: dict[str, Slot] = {}
    for slot_name, slot_section in section.sections("slots") if section.has("slots") else ():
        if not NAME.match(slot_name):
            raise slot_section.error(f"{slot_name!r} is not a valid slot name")
        slots[slot_name] = _load_slot(slot_name, slot_section, lists)
    result: dict[str, SlotType] = {}
    for field_name, field_section in section.sections("result") if section.has("result") else ():
        if field_name in slots:
            raise field_section.error("a result field cannot share a slot's name")
        result[field_name] = make_slot_type(field_section, lists)

    templates = _load_templates(section, "templates", set(slots), rules, spoken=True)
    used = set().union(*(_all_slot_refs(t.node, rules) for t in templates))
    for slot_name in slots:
        if slot_name not in used:
            raise section.error(f"slot {slot_name!r} is used by no template", f"slots.{slot_name}")
    replies = _load_replies(
        section.section("replies"), set(slots), result, kinds=(*REPLY_KINDS, CONFIRM), required=("success",)
    )
    minimal = {name: name for name, slot in slots.items() if slot.required} | {name: name for name in result}
    if all(render_reply(t.node, minimal, random.Random(0)) is None for t in replies["success"]):
        raise section.error(
            f"no success reply can be said when only {sorted(minimal) or 'no values'} are known: "
            "make the optional slots' parts optional ([...])",
            "replies.success",
        )
    return Intent(
        name=name,
        description=section.string("description"),
        slots=slots,
        templates=templates,
        replies=replies,
        result=result,
        confirm=section.boolean("confirm", False),
        source=section.source,
        rules=rules,
    )


def _load_slot(name: str, section: Section, lists: Mapping[str, Any]) -> Slot:
    slot_type = make_slot_type(section, lists)
    required = section.boolean("required", False)
    ask: tuple[str, ...] = ()
    if section.has("ask"):
        ask = tuple(section.strings("ask"))
    if required and not ask:
        raise section.error("a required slot needs 'ask': the question for when it is missing", "ask")
    return Slot(name, slot_type, required, ask, section.data.get("description", "") or "")


def _load_replies(
    section: Section, slots: set[str], result: Mapping[str, Any], *, kinds: tuple[str, ...], required: tuple[str, ...]
) -> dict[str, tuple[Template, ...]]:
    section.check_keys(frozenset(kinds), frozenset(required))
    replies: dict[str, tuple[Template, ...]] = {}
    for kind in kinds:
        if section.has(kind):
            names = slots | set(result) | ({FAILURE_REASON} if kind == "failure" else set())
            replies[kind] = _load_templates(section, kind, names, {}, spoken=False)
    return replies


def _load_templates(
    section: Section, key: str, names: set[str], rules: Mapping[str, Node], *, spoken: bool
) -> tuple[Template, ...]:
    """Parse a list of templates, checking references and, for sentences, that
    the literal words are written as a recognizer emits them."""
    templates = []
    for index, text in enumerate(section.strings(key)):
        where = f"{key}[{index}]"
        try:
            node = parse_template(text)
        except TemplateError as error:
            raise section.error(str(error), where) from error
        slot_refs, rule_refs = references(node)
        for ref in sorted(slot_refs - names):
            known = ", ".join(sorted(names)) or "none"
            raise section.error(f"undefined slot {{{ref}}} (defined: {known})", where)
        for ref in sorted(rule_refs - set(rules)):
            raise section.error(f"undefined rule <{ref}>", where)
        if spoken:
            for literal in literal_texts(node):
                words = " ".join(literal.split())
                if words:
                    check_spoken(words, section, where)
        templates.append(Template(text, node))
    return tuple(templates)


def _parse_rules(section: Section, known: Mapping[str, Node]) -> dict[str, Node]:
    """Parse the `rules` mapping; rules may use each other but not in a cycle."""
    raw = section.mapping("rules", {})
    parsed: dict[str, Node] = {}
    for name, text in raw.items():
        where = f"rules.{name}"
        if name in known:
            raise section.error("already defined in _common.yaml", where)
        if not isinstance(text, str):
            raise section.error("a rule is a template string", where)
        try:
            parsed[name] = parse_template(text)
        except TemplateError as error:
            raise section.error(str(error), where) from error
        for literal in literal_texts(parsed[name]):
            words = " ".join(literal.split())
            if words:
                check_spoken(words, section, where)
    visible = {**known, **parsed}
    for name, node in parsed.items():
        slot_refs, _ = references(node)
        if slot_refs:
            raise section.error("rules cannot refer to slots", f"rules.{name}")
        _check_rule_cycle(name, visible, section, [])
    return parsed


def _check_rule_cycle(name: str, rules: Mapping[str, Node], section: Section, path: list[str]) -> None:
    if name in path:
        raise section.error(f"rules refer to each other in a cycle: {' -> '.join([*path, name])}", f"rules.{name}")
    if name not in rules:
        raise section.error(f"undefined rule <{name}>", f"rules.{path[-1]}" if path else "rules")
    for ref in sorted(references(rules[name])[1]):
        _check_rule_cycle(ref, rules, section, [*path, name])


def _all_slot_refs(node: Node, rules: Mapping[str, Node]) -> set[str]:
    slots, rule_refs = references(node)
    for rule in rule_refs:
        slots |= _all_slot_refs(rules[rule], rules)
    return slots


def _load_fillers(section: Section) -> Fillers:
    keys = {"prefix_any", "prefix_command", "prefix_question", "suffix_any", "suffix_command",
            "question_words", "imperative_verbs"}  # fmt: skip
    section.check_keys(keys, keys)
    words: dict[str, tuple[str, ...]] = {}
    for key in sorted(keys):
        words[key] = tuple(section.strings(key))
        for index, phrase in enumerate(words[key]):
            check_spoken(phrase, section, f"{key}[{index}]")
    return Fillers(
        prefix_any=words["prefix_any"],
        prefix_command=words["prefix_command"],
        prefix_question=words["prefix_question"],
        suffix_any=words["suffix_any"],
        suffix_command=words["suffix_command"],
        question_words=frozenset(words["question_words"]),
        imperative_verbs=frozenset(words["imperative_verbs"]),
    )
