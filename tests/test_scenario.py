"""Scenario files: strict loading with errors that name the file and turn, and
the shipped scenarios, which every profile must have and which must pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.intents import IntentSet
from assistant.nlu.runtime import DEFAULT_MODEL_DIR, IntentModel
from assistant.profiles import DeviceProfile
from assistant.scenario import load_scenario, parse_duration
from assistant.simulator import Session, run_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "examples" / "scenarios").glob("*.yaml"))


def test_a_scenario_loads_with_its_turns_and_checks(write: Callable[[str, str], Path]) -> None:
    path = write(
        "s.yaml",
        """
        device: smartwatch
        turns:
          - say: set a timer
            expect: {intent: timer.start, expects: "slot:duration", reply: how long}
          - advance: 1h30m
            expect: {notices: [done]}
        """,
    )
    scenario = load_scenario(path)
    assert scenario.device == "smartwatch"
    assert [t.kind for t in scenario.turns] == ["say", "advance"]
    assert scenario.turns[1].value == 5400
    assert scenario.turns[0].expect.checks == {
        "intent": "timer.start",
        "expects": "slot:duration",
        "reply": ["how long"],
    }


@pytest.mark.parametrize(
    ("turn", "message"),
    [
        ("- say: hi\n    expect: {slot: {a: 1}}", "turns[0].expect: unknown key 'slot'"),
        ("- say: hi\n    advance: 5", "turns[0]: a turn needs exactly one of"),
        ("- advance: soon", "turns[0].advance: expected seconds or a duration"),
        ("- advance: 5\n    expect: {intent: timer.start}", "an advance turn checks only notices and state"),
        ("- say: hi\n    expect: {outcome: maybe}", "turns[0].expect.outcome: 'maybe' is not one of done, refused"),
        ("- say: ''", "turns[0].say: expected a non-empty string"),
    ],
)
def test_a_bad_turn_is_refused_naming_the_file_and_turn(
    write: Callable[[str, str], Path], turn: str, message: str
) -> None:
    path = write("bad.yaml", "device: oven\nturns:\n  " + turn + "\n")
    with pytest.raises(ConfigError) as error:
        load_scenario(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_a_scenario_without_turns_is_refused(write: Callable[[str, str], Path]) -> None:
    with pytest.raises(ConfigError, match="turns: expected a non-empty list of turns"):
        load_scenario(write("empty.yaml", "device: oven\nturns: []\n"))


def test_durations_read_as_seconds() -> None:
    assert parse_duration("10m") == 600
    assert parse_duration("1h") == 3600
    assert parse_duration("45s") == 45
    assert parse_duration(90) == 90
    with pytest.raises(ConfigError):
        parse_duration(-1)


def test_every_profile_has_a_scenario_of_at_least_ten_turns(profiles: dict[str, DeviceProfile]) -> None:
    by_device = {load_scenario(path).device: load_scenario(path) for path in SCENARIOS}
    assert sorted(by_device) == sorted(profiles)
    for device, scenario in by_device.items():
        assert len(scenario.turns) >= 10, device
        kinds = {t.kind for t in scenario.turns}
        checks = [t.expect.checks for t in scenario.turns]
        assert "advance" in kinds and any("notices" in c for c in checks), f"{device}: no clock-driven event"
        assert any(str(c.get("expects", "")).startswith("slot:") for c in checks), f"{device}: no slot question"
        assert any(c.get("expects") == "confirmation" for c in checks), f"{device}: no confirmation"
        assert any(
            t.kind == "say" and t.expect.checks.get("intent") in ("general.cancel", "general.stop", "general.no")
            for t in scenario.turns
        ), f"{device}: no cancel"


@pytest.fixture(scope="module")
def models(intents: IntentSet) -> dict[str, IntentModel]:
    return {variant: IntentModel.load(intents, DEFAULT_MODEL_DIR, variant) for variant in ("int8", "dynamic_int8")}


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_the_shipped_scenario_passes(
    path: Path, intents: IntentSet, profiles: dict[str, DeviceProfile], models: dict[str, IntentModel]
) -> None:
    scenario = load_scenario(path)
    profile = profiles[scenario.device]
    session = Session(profile, intents, models[profile.model_variant])
    failures = [
        f"turn {i + 1} ({r.step.kind} {r.step.value!r}): {'; '.join(r.problems)}"
        for i, r in enumerate(run_scenario(session, scenario))
        if not r.passed
    ]
    assert not failures, "\n".join(failures)
