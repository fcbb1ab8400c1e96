"""The running assistant fits its profile: listening chosen by the power budget from CPU time
measured at start-up, memory checked against the limit with the profile's degraded mode, and
the daemon refusing to start over the limit. Real components and real resident memory."""

from __future__ import annotations

import mmap
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from audio_helpers import silence, speak, wake_then_command

from assistant.audio import DEFAULT_FRAME_SAMPLES, iter_frames
from assistant.budget import Listening, rss_mb
from assistant.fitting import Degradation, MemoryLedger, OverMemoryLimit, fit_memory
from assistant.intents import IntentSet
from assistant.nlu.runtime import DEFAULT_MODEL_DIR, IntentModel
from assistant.pipeline import assemble, memory_degrader
from assistant.profiles import DeviceProfile

ROOT = Path(__file__).resolve().parent.parent
BALLAST_MB = 60


@pytest.fixture(scope="module")
def model(intents: IntentSet) -> IntentModel:
    return IntentModel.load(intents, DEFAULT_MODEL_DIR, "int8")


def _with_budget(profile: DeviceProfile, budget_mw: float) -> DeviceProfile:
    return replace(profile, power=replace(profile.power, budget_mw=budget_mw))


def test_a_power_budget_too_tight_for_any_wake_word_gives_push_to_talk_and_says_why(
    profiles: dict[str, DeviceProfile], intents: IntentSet, model: IntentModel
) -> None:
    oven = _with_budget(profiles["oven"], 0.5)  # below even the core's clock-gated idle
    loop = assemble(oven, intents, model, engine="pocketsphinx")
    assert loop.wake is None and loop.settings.push_to_talk
    assert loop.listening.mode == "push_to_talk"
    assert "always needs" in loop.listening.reason and "over the 0.5 mW budget" in loop.listening.reason
    # its cost was measured in a child process: this one never held the wake word's models
    assert not any(c.name.startswith("wake word") for c in loop.memory.components)


def test_a_roomy_budget_keeps_the_always_on_wake_word(
    profiles: dict[str, DeviceProfile], intents: IntentSet, model: IntentModel
) -> None:
    loop = assemble(_with_budget(profiles["oven"], 10_000), intents, model, engine="pocketsphinx")
    assert loop.wake is not None and loop.listening.mode == "always"
    assert loop.listening.standby_mw > 0 and "the profile's choice" in loop.listening.reason
    assert [c.name for c in loop.memory.components if c.name.startswith("wake word")] == ["wake word (hey oven)"]


def test_asking_for_a_mode_overrides_the_budget_and_says_what_the_budget_wanted(
    profiles: dict[str, DeviceProfile], intents: IntentSet, model: IntentModel
) -> None:
    loop = assemble(_with_budget(profiles["oven"], 0.5), intents, model, engine="pocketsphinx", listening="always")
    assert loop.wake is not None and loop.listening.mode == "always"
    assert loop.listening.reason == "asked for; the 0.5 mW budget would choose push_to_talk"


def test_the_vad_gated_wake_word_still_wakes_on_fewer_frames(
    profiles: dict[str, DeviceProfile], intents: IntentSet, model: IntentModel, tmp_path: Path
) -> None:
    audio = wake_then_command("hey oven", "set the oven to two hundred degrees", tmp_path, lead_s=4.0, tail_s=4.0)
    frames = list(iter_frames(audio, DEFAULT_FRAME_SAMPLES))
    results = {}
    for mode in ("always", "vad_gated"):
        loop = assemble(profiles["oven"], intents, model, engine="pocketsphinx", listening=mode)
        events = [event.to_dict() for event in loop.run(frames)]
        assert [e["type"] for e in events][:2] == ["wake", "transcript"], mode
        assert events[1]["text"] == "set the oven to two hundred degrees"
        results[mode] = loop.wake_frames
    assert results["vad_gated"] < results["always"] / 2, results


def _ballast() -> mmap.mmap:
    """Anonymous memory, every page written so it is resident; closing it unmaps it whatever the allocator."""
    ballast = mmap.mmap(-1, BALLAST_MB * 1024 * 1024)
    ballast.write(b"\x01" * len(ballast))
    return ballast


def test_over_the_limit_push_to_talk_degraded_mode_drops_the_wake_word_and_fits(
    profiles: dict[str, DeviceProfile],
) -> None:
    ballast = [_ballast()]  # stands in for the wake word: memory the degraded mode can give back

    def drop() -> Degradation:
        ballast.pop().close()
        return Degradation("the wake word", Listening("push_to_talk", 0.0, "the wake word was given up"))

    resident = rss_mb()[0]
    profile = replace(
        profiles["smartwatch"], memory_limit_mb=round(resident - BALLAST_MB / 2), degraded_mode="push_to_talk"
    )
    ledger = MemoryLedger.starting_with("everything")
    fitting = fit_memory(profile, ledger, Listening("always", 20.0, "the profile's choice"), drop)
    assert not ballast
    assert fitting.fits and fitting.listening.mode == "push_to_talk"
    assert fitting.degraded is not None and fitting.degraded.startswith("push_to_talk: ")
    assert f"over smartwatch's {profile.memory_limit_mb:g} MB limit" in fitting.degraded


def test_over_the_limit_with_nothing_to_give_up_is_refused_naming_the_heaviest_component(
    profiles: dict[str, DeviceProfile],
) -> None:
    ledger = MemoryLedger.starting_with("what came before")
    kept = _ballast()
    ledger.note("ballast")
    profile = replace(profiles["oven"], memory_limit_mb=10, degraded_mode="smaller_model")
    with pytest.raises(OverMemoryLimit, match=r"oven\.yaml: memory_limit_mb: .* over oven's 10 MB limit") as caught:
        fit_memory(profile, ledger, Listening("always", 1.0, ""), None)
    assert "the heaviest component is" in str(caught.value) and "--ignore-limits" in str(caught.value)
    fitting = fit_memory(profile, ledger, Listening("always", 1.0, ""), None, enforce=False)
    assert not fitting.fits and fitting.to_dict()["fits"] is False
    assert any(c.name == "ballast" and c.mb >= BALLAST_MB - 1 for c in fitting.components)
    kept.close()


def test_over_the_limit_grammar_degraded_mode_trades_the_open_vocabulary_for_the_device_grammar(
    profiles: dict[str, DeviceProfile], intents: IntentSet, model: IntentModel, tmp_path: Path
) -> None:
    speaker = profiles["smart_speaker"]
    assert speaker.recognizer.mode == "open" and speaker.degraded_mode == "grammar"
    ledger = MemoryLedger.starting_with("what came before")
    loop = assemble(speaker, intents, model, engine="pocketsphinx", push_to_talk=True, ledger=ledger)
    assert loop.recognizer.mode == "open"
    resident = rss_mb()[0]
    opened = next(c for c in ledger.components if c.name.startswith("recognizer"))
    assert opened.mb > 40  # measured: 94 MB for the open decoder, 63 MB for the speaker's grammar one
    profile = replace(speaker, memory_limit_mb=round(resident - 15))
    fitting = fit_memory(profile, ledger, loop.listening, memory_degrader(loop, profile, intents, "pocketsphinx"))
    assert fitting.fits and loop.recognizer.mode == "grammar"
    assert fitting.degraded is not None and fitting.degraded.startswith("grammar: ")
    assert "without the open vocabulary" in fitting.degraded
    audio = np.concatenate([silence(0.5), speak("pause the music", tmp_path), silence(1.5)])
    events = [e.to_dict() for e in loop.run(iter_frames(audio, DEFAULT_FRAME_SAMPLES))]
    assert [e["text"] for e in events if e["type"] == "transcript"] == ["pause the music"]
    # nothing of the kind to give up: a grammar recognizer stays, and the start is refused saying so
    with pytest.raises(OverMemoryLimit, match=r"its degraded_mode, grammar, has nothing to give up here"):
        fit_memory(
            replace(profile, memory_limit_mb=10), ledger, loop.listening, memory_degrader(loop, profile, intents)
        )


@pytest.fixture
def tiny_profiles(tmp_path: Path) -> Path:
    folder = tmp_path / "profiles"
    shutil.copytree(ROOT / "device_profiles", folder)
    oven = folder / "oven.yaml"
    oven.write_text(re.sub(r"memory_limit_mb: \d+", "memory_limit_mb: 20", oven.read_text()))
    return folder


def test_the_daemon_refuses_to_start_over_the_limit_and_runs_when_told_to_ignore_it(
    tiny_profiles: Path, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "assistant", "--profiles", str(tiny_profiles), "daemon", "--device", "oven",
               "--engine", "pocketsphinx", "--input", "-"]  # fmt: skip
    refused = subprocess.run(command, input=b"", capture_output=True, timeout=120, check=False, cwd=ROOT)
    assert refused.returncode != 0
    message = refused.stderr.decode()
    assert "oven.yaml: memory_limit_mb:" in message and "over oven's 20 MB limit" in message
    assert "the heaviest component is" in message
    ran = subprocess.run(
        [*command, "--ignore-limits"], input=b"", capture_output=True, timeout=120, check=False, cwd=ROOT
    )
    assert ran.returncode == 0, ran.stderr.decode()[-2000:]
    started = next(line for line in ran.stdout.decode().splitlines() if '"started"' in line)
    assert '"fits": false' in started and '"limit_mb": 20' in started
