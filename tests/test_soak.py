"""`assistant bench soak`, short: the real daemon (coffee maker, wake word on) with the event socket, Wyoming and
a real Mosquitto, 36 s of espeak-ng commands in kitchen noise on its stdin at real time, three faults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.benchmarks.soak import SoakResult, SoakSettings, markdown, plot, run_soak
from assistant.benchmarks.soak_rig import MODEL_CORRUPT, SOCKET_GARBAGE, WYOMING_GARBAGE
from assistant.cli import main
from assistant.intents import load_intents
from assistant.profiles import load_profiles

FAULTS = (SOCKET_GARBAGE, MODEL_CORRUPT, WYOMING_GARBAGE)


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory) -> SoakResult:
    intents = load_intents()
    profile = load_profiles(intents)["coffee_maker"]
    settings = SoakSettings(device="coffee_maker", minutes=0.6, faults=FAULTS, pool=3, sample_every_s=1.0)
    return run_soak(settings, intents, profile)


def test_the_daemon_answers_every_command_of_a_short_soak_and_exits_cleanly(soak: SoakResult) -> None:
    assert soak.listening == "wake word 'hey coffee'"
    assert len(soak.commands) >= 2
    for outcome in soak.commands:
        assert outcome.woke and outcome.answered, outcome
    assert soak.correct >= 1  # what it makes of the words is the recognizer's business, measured elsewhere
    assert soak.alive_at_end and soak.exit_code == 0
    assert len(soak.samples) >= 10 and all(30 < s.rss_mb < 1000 for s in soak.samples)
    assert soak.samples[-1].cpu_s > soak.samples[0].cpu_s
    assert not soak.other_errors


def test_each_fault_gets_a_clear_answer_and_the_next_command_is_answered(soak: SoakResult) -> None:
    by_name = {fault.name: fault for fault in soak.faults}
    assert list(by_name) == list(FAULTS)
    for fault in soak.faults:
        assert fault.clear, fault
        assert fault.recovered is not False, fault  # None: no command came after it
    assert sum(fault.recovered is True for fault in soak.faults) >= 2
    socket = by_name[SOCKET_GARBAGE].answers
    assert '"code": "malformed"' in socket[0] and '"code": "too-large"' in socket[1]
    assert '"stage": "reload"' in by_name[MODEL_CORRUPT].answers[0]
    assert re.search(r"/model\w*\.tflite: ", by_name[MODEL_CORRUPT].answers[0])  # the file the profile runs
    assert '"code": "malformed-event"' in by_name[WYOMING_GARBAGE].answers[0]


def test_the_report_and_the_plot_are_written(soak: SoakResult, tmp_path: Path) -> None:
    report = markdown(soak, "assistant bench soak --minutes 0.6", "soak.png")
    plot(soak, tmp_path / "soak.png")
    assert report.startswith("# Daemon soak test")
    assert "## Faults" in report and all(f"| {name} |" in report for name in FAULTS)
    assert f"| commands spoken | {len(soak.commands)} |" in report
    assert (tmp_path / "soak.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert soak.to_dict()["commands"]["answered"] == len(soak.commands)


def test_the_cli_refuses_a_soak_of_no_length(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "soak", "--minutes", "0"]) == 2
    assert "--minutes must be more than 0" in capsys.readouterr().err
