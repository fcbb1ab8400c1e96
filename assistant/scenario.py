"""Scripted conversations: a YAML file of turns, each with what to expect.

    device: smartwatch
    description: A morning with the watch.
    turns:
      - say: set a timer               # or tts: (synthesized, recognised) / audio: FILE.wav
        expect:
          intent: timer.start          # null: not understood
          expects: slot:duration       # the question the reply asked
          reply: [how long]            # fragments the reply contains (any case)
      - say: ten minutes
        expect:
          slots: {duration: 600}       # typed values, as `assistant parse --json` gives them
          outcome: done                # done | refused
          state: {timer.timer.running: true}
      - advance: 10m                   # seconds, or 1h30m / 10m / 45s
        expect:
          notices: [timer is done]

A malformed file is refused with its name and the turn's key path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Section, describe_value, read_yaml
from assistant.dialogue import Turn
from assistant.errors import ConfigError

INPUTS = ("say", "tts", "audio", "advance")
EXPECT_KEYS = frozenset({"intent", "slots", "reply", "expects", "state", "outcome", "notices", "follow_up"})
OUTCOMES = ("done", "refused")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+(?:\.\d+)?)\s*s)?\s*$")


@dataclass(frozen=True)
class Expectation:
    """Only what is written is checked; an absent key checks nothing."""

    checks: Mapping[str, Any] = field(default_factory=dict)

    def failures(self, turns: Sequence[Turn], flat_state: Mapping[str, Any]) -> list[str]:
        """What did not come out as expected, in words; empty when the turn passed.

        `turns` is the spoken turn (one) or the notices that an `advance` produced."""
        problems: list[str] = []
        turn = turns[0] if turns else None
        for key, wanted in self.checks.items():
            if key == "notices":
                said = [t.reply.text for t in turns]
                problems += [
                    f"no notice says {fragment!r} (notices: {said})" for fragment in wanted if not _in(fragment, said)
                ]
            elif key == "state":
                for name, value in wanted.items():
                    if name not in flat_state:
                        problems.append(f"state has no {name!r}")
                    elif not _same(flat_state[name], value):
                        problems.append(f"state {name} is {flat_state[name]!r}, expected {value!r}")
            elif turn is None:
                problems.append(f"expected {key} but nothing was said")
            else:
                problems += _check_turn(key, wanted, turn)
        return problems


@dataclass(frozen=True)
class ScriptTurn:
    kind: str  # say | tts | audio | advance
    value: str | float  # the words, the WAV path, or seconds to advance
    expect: Expectation
    where: str  # "FILE: turns[3]" for messages


@dataclass(frozen=True)
class Scenario:
    device: str
    description: str
    turns: tuple[ScriptTurn, ...]
    source: str


def load_scenario(path: Path | str) -> Scenario:
    path = Path(path)
    root = Section(read_yaml(path), str(path))
    root.check_keys({"device", "description", "turns"}, {"device", "turns"})
    raw_turns = root.data["turns"]
    if not isinstance(raw_turns, list) or not raw_turns:
        raise root.error(f"expected a non-empty list of turns, got {describe_value(raw_turns)}", "turns")
    turns = tuple(_load_turn(Section(item, str(path), f"turns[{i}]"), path) for i, item in enumerate(raw_turns))
    description = root.string("description") if root.has("description") else ""
    return Scenario(root.string("device"), description, turns, str(path))


def parse_duration(text: str | float, source: str = "", key: str = "") -> float:
    """Seconds from a number or "1h30m" / "10m" / "45s"."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if text < 0:
            raise ConfigError(source, key, f"the clock cannot go back ({text} s)")
        return float(text)
    match = _DURATION.match(str(text))
    if not isinstance(text, str) or not text.strip() or match is None:
        raise ConfigError(
            source, key, f"expected seconds or a duration like 1h30m, 10m, 45s; got {describe_value(text)}"
        )
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def _load_turn(section: Section, path: Path) -> ScriptTurn:
    section.check_keys(frozenset({*INPUTS, "expect"}))
    given = [kind for kind in INPUTS if section.has(kind)]
    if len(given) != 1:
        raise section.error(f"a turn needs exactly one of {', '.join(INPUTS)} (found {given or 'none'})")
    kind = given[0]
    value: str | float
    if kind == "advance":
        value = parse_duration(section.data[kind], section.source, f"{section.key}.advance")
    elif kind == "audio":
        value = str((path.parent / section.string(kind)).resolve())
    else:
        value = section.string(kind)
    expect = Expectation(_load_expectation(section.section("expect"), kind) if section.has("expect") else {})
    return ScriptTurn(kind, value, expect, f"{section.source}: {section.key}")


def _load_expectation(section: Section, kind: str) -> dict[str, Any]:
    section.check_keys(EXPECT_KEYS)
    if kind == "advance":
        spoken_only = sorted(set(section.data) - {"notices", "state"})
        if spoken_only:
            raise section.error(f"an advance turn checks only notices and state, not {', '.join(spoken_only)}")
    checks: dict[str, Any] = {}
    for key, value in section.data.items():
        if key in ("intent", "expects"):
            checks[key] = None if value is None else section.string(key)
        elif key in ("reply", "notices"):
            checks[key] = section.strings(key)
        elif key in ("slots", "state"):
            checks[key] = dict(section.mapping(key))
        elif key == "outcome":
            checks[key] = section.choice(key, OUTCOMES)
        elif key == "follow_up":
            checks[key] = section.boolean(key)
    return checks


def _check_turn(key: str, wanted: Any, turn: Turn) -> list[str]:
    if key == "intent":
        return [] if turn.intent == wanted else [f"intent {turn.intent!r}, expected {wanted!r}"]
    if key == "expects":
        return [] if turn.expects == wanted else [f"expects {turn.expects!r}, expected {wanted!r}"]
    if key == "reply":
        return [
            f"reply {turn.reply.text!r} lacks {fragment!r}"
            for fragment in wanted
            if not _in(fragment, [turn.reply.text])
        ]
    if key == "slots":
        got = turn.action.values() if turn.action else {}
        return [
            f"slot {name} is {got.get(name)!r}, expected {value!r}"
            for name, value in wanted.items()
            if not _same(got.get(name), value)
        ]
    if key == "outcome":
        did = None if turn.outcome is None else ("done" if turn.outcome.ok else "refused")
        return [] if did == wanted else [f"outcome {did or 'none (nothing was done)'}, expected {wanted}"]
    if key == "follow_up":
        listening = turn.follow_up_until > turn.at
        return [] if listening == wanted else [f"follow-up window {'open' if listening else 'closed'}"]
    raise AssertionError(f"unchecked expectation {key}")  # _load_expectation admits only EXPECT_KEYS


def _in(fragment: str, texts: Sequence[str]) -> bool:
    return any(fragment.lower() in text.lower() for text in texts)


def _same(got: Any, wanted: Any) -> bool:
    if isinstance(got, (int, float)) and isinstance(wanted, (int, float)) and not isinstance(wanted, bool):
        return abs(float(got) - float(wanted)) < 1e-6
    return bool(got == wanted)
