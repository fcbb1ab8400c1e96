"""The command-line contract other work builds on: names, flags and JSON keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import __version__
from assistant.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"assistant {__version__}"


def test_console_script_runs_as_a_module() -> None:
    done = subprocess.run([sys.executable, "-m", "assistant", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0
    assert done.stdout.strip() == f"assistant {__version__}"


def test_intents_json_lists_domains_intents_and_slots(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "intents", "--json")
    assert code == 0
    listing = json.loads(out)
    assert set(listing) == {"domains"}
    assert len(listing["domains"]) >= 15
    intents = [intent for domain in listing["domains"] for intent in domain["intents"]]
    assert len(intents) >= 80
    for domain in listing["domains"]:
        assert set(domain) == {"name", "intents"}
    for intent in intents:
        assert set(intent) == {"name", "slots", "confirm"}
        for slot in intent["slots"]:
            assert set(slot) == {"name", "type", "required"}
    timer = next(i for i in intents if i["name"] == "timer.start")
    assert {"name": "duration", "type": "duration", "required": True} in timer["slots"]


def test_intents_for_a_device_only_lists_its_domains(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "intents", "--device", "oven", "--json")
    assert code == 0
    domains = {domain["name"] for domain in json.loads(out)["domains"]}
    assert "oven" in domains
    assert "washer" not in domains


def test_intents_text_output_counts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "intents")
    assert code == 0
    assert "timer.start" in out
    assert "domains," in out.splitlines()[-1]


def test_profiles_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "profiles", "--json")
    assert code == 0
    profiles = json.loads(out)["profiles"]
    assert len(profiles) >= 10
    for profile in profiles:
        assert {"name", "domains", "memory_limit_mb", "power_budget_mw"} <= set(profile)
    assert "smartwatch" in {p["name"] for p in profiles}


def test_profiles_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "profiles", "show", "smartwatch", "--json")
    assert code == 0
    profile = json.loads(out)
    assert profile["name"] == "smartwatch"
    assert profile["power"]["source"] == "battery"
    code, out, _ = run(capsys, "profiles", "show", "smartwatch")
    assert code == 0
    assert "memory_limit_mb: 80" in out


def test_unknown_device_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "profiles", "show", "toaster")
    assert code == 2
    assert "unknown device 'toaster'" in err
    assert "smartwatch" in err


def test_a_broken_intent_file_is_reported_with_its_name(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for path in (ROOT / "intents").glob("*.yaml"):
        (tmp_path / path.name).write_text(path.read_text())
    broken = tmp_path / "timer.yaml"
    broken.write_text(
        broken.read_text().replace("    description: Start a countdown", "    descriptin: Start a countdown")
    )
    code, _, err = run(capsys, "--intents", str(tmp_path), "intents")
    assert code == 2
    assert f"error: {broken}: intents.timer.start: unknown key 'descriptin'" in err


def test_data_generate_writes_splits_and_a_summary(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "data", "generate", "--out", str(tmp_path), "--size", "3000", "--seed", "5", "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["examples"] == 3000
    lines = [json.loads(line) for split in ("train", "validation") for line in (tmp_path / f"{split}.jsonl").open()]
    assert len(lines) == 3000
    assert set(lines[0]) == {"text", "intent", "slots", "reply", "result", "template", "split", "variant"}
    assert json.loads((tmp_path / "summary.json").read_text())["splits"] == summary["splits"]


def test_data_generate_for_a_device(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "data", "generate", "--out", str(tmp_path), "--size", "2000", "--device", "oven")
    assert code == 0
    assert "2,000 unique examples" in out
    intents = {json.loads(line)["intent"] for line in (tmp_path / "train.jsonl").open()}
    assert {i.split(".")[0] for i in intents if i} <= {"general", "clock", "timer", "oven"}


def test_the_default_corpus_has_200000_unique_examples(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The shipped definitions must support the full default corpus."""
    code, out, _ = run(capsys, "data", "generate", "--out", str(tmp_path), "--json")
    assert code == 0
    assert json.loads(out)["examples"] == 200_000
    texts = [
        json.loads(line)["text"] for split in ("train", "validation") for line in (tmp_path / f"{split}.jsonl").open()
    ]
    assert len(set(texts)) == 200_000


def test_bad_size_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "data", "generate", "--out", str(tmp_path), "--size", "0")
    assert code == 2
    assert "--size must be at least 1" in err
