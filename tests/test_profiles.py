from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.intents import IntentSet
from assistant.profiles import DeviceProfile, load_device, load_profile, load_profiles

Write = Callable[[str, str], Path]

WATCH = """
name: watch
description: A test watch.
domains: [general, timer]
memory_limit_mb: 80
power:
  source: battery
  budget_mw: 5
  cpu_active_mw: 200
  cpu_idle_mw: 3
  listening: always
  battery_mah: 300
  battery_voltage_v: 3.85
audio:
  sample_rate_hz: 16000
  frame_ms: 80
  max_command_s: 6
  silence_timeout_ms: 700
wake_phrase: hey watch
recognizer:
  engine: vosk
  mode: grammar
model_variant: int8
cpu_factor: 7
latency_target_ms: 500
degraded_mode: push_to_talk
"""

REQUIRED_PROFILES = {"smartwatch", "smart_speaker", "washing_machine", "dishwasher", "oven", "fridge",
                     "thermostat", "coffee_maker", "robot_vacuum", "smart_light"}  # fmt: skip


def test_shipped_profiles_include_every_required_device(profiles: dict[str, DeviceProfile]) -> None:
    assert set(profiles) >= REQUIRED_PROFILES
    assert len(profiles) >= 10


def test_the_kitchen_hub_enables_every_domain(profiles: dict[str, DeviceProfile], intents: IntentSet) -> None:
    assert set(profiles["smart_speaker"].domains) == set(intents.domain_names())


def test_every_profile_enables_general_and_is_plausible(profiles: dict[str, DeviceProfile]) -> None:
    for profile in profiles.values():
        assert "general" in profile.domains, profile.name
        assert 16 <= profile.memory_limit_mb <= 1024, profile.name
        assert profile.audio.sample_rate_hz == 16000, profile.name
        if profile.power.source == "battery":
            assert profile.power.battery_mah and profile.power.battery_voltage_v, profile.name


def test_a_valid_profile_loads(write: Write, intents: IntentSet) -> None:
    profile = load_profile(write("watch.yaml", WATCH), intents)
    assert profile.domains == ("general", "timer")
    assert profile.recognizer.network == "exact"  # unless the profile says shared_slots
    assert profile.summary()["recognizer"] == "vosk/grammar"
    shared = load_profile(
        write("watch.yaml", WATCH.replace("mode: grammar", "mode: grammar\n  network: shared_slots")), intents
    )
    assert shared.summary()["recognizer"] == "vosk/grammar/shared_slots"
    assert profile.power.battery_mah == 300
    assert profile.summary()["power_budget_mw"] == 5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("memory_limit_mb: 80", "memory_limt_mb: 80"), "watch.yaml: unknown key 'memory_limt_mb'"),
        (("memory_limit_mb: 80", "memory_limit_mb: lots"), "watch.yaml: memory_limit_mb: expected a number, got string 'lots'"),
        (("memory_limit_mb: 80", "memory_limit_mb: 0"), "memory_limit_mb: must be at least 1, got 0"),
        (("[general, timer]", "[general, timers]"), "watch.yaml: domains[1]: unknown domain 'timers'"),
        (("[general, timer]", "[general, general]"), "domains: a domain is listed twice"),
        (("engine: vosk", "engine: whisper"), "recognizer.engine: 'whisper' is not one of vosk, pocketsphinx"),
        (("listening: always", "listening: sometimes"), "power.listening: 'sometimes' is not one of"),
        (("  battery_mah: 300\n", ""), "power.battery_mah: expected a number, got nothing"),
        (("source: battery", "source: mains"), "power.source: battery figures are only for 'source: battery'"),
        (("cpu_idle_mw: 3", "cpu_idle_mw: 300"), "power.cpu_idle_mw: idle power 300 mW exceeds active power 200 mW"),
        (("sample_rate_hz: 16000", "sample_rate_hz: 12345"), "audio.sample_rate_hz: unsupported sample rate 12345 Hz"),
        (("wake_phrase: hey watch", "wake_phrase: Hey Watch!"), "wake_phrase: 'Hey Watch!' must be lowercase words"),
        (("name: watch", "name: clock"), "name: the name must match the file name 'watch'"),
        (("model_variant: int8", "model_variant: int4"), "model_variant: 'int4' is not one of"),
        (("mode: grammar", "mode: grammar\n  network: tiny"), "recognizer.network: 'tiny' is not one of exact, shared_slots, ngram"),
    ],
)  # fmt: skip
def test_bad_profiles_name_the_file_and_key(
    write: Write, intents: IntentSet, change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in WATCH
    with pytest.raises(ConfigError) as error:
        load_profile(write("watch.yaml", WATCH.replace(old, new)), intents)
    assert message in str(error.value)


def test_an_empty_folder_is_an_error(tmp_path: Path, intents: IntentSet) -> None:
    with pytest.raises(ConfigError, match="no device profiles"):
        load_profiles(intents, tmp_path)


def test_a_device_loads_only_its_own_domains_and_the_same_profile(profiles: dict[str, DeviceProfile]) -> None:
    intents, oven = load_device("oven")
    assert oven == profiles["oven"]
    assert sorted(d.name for d in intents.domains) == sorted(oven.domains)
    assert intents.out_of_scope == ()  # the generator's, not a device's


def test_an_unknown_device_is_named_with_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown device 'toaster' \(profiles: coffee_maker, dishwasher, .*\)"):
        load_device("toaster")
