"""Real human recordings end to end (recognizer -> intent model), and clear errors
for a broken data set."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from audio_helpers import coffee_maker_dir

from assistant.audio_eval import read_audio_commands
from assistant.cli import main
from assistant.errors import DatasetError
from assistant.intents import IntentSet


def test_the_coffee_recordings_are_mostly_accepted_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["eval", "--format", "coffee", "--dataset", str(coffee_maker_dir()), "--device", "coffee_maker",
         "--engine", "pocketsphinx", "--json"]
    )  # fmt: skip
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 20
    assert report["intent_accuracy"] >= 0.95
    assert report["command_acceptance"] >= 0.85  # measured 0.95 clean
    assert 0 < report["rtf_p50"] < 0.5


def test_labels_are_typed_by_the_device_slots(intents: IntentSet) -> None:
    commands = read_audio_commands(coffee_maker_dir(), intents.restricted_to(["coffee"]))
    first = next(c for c in commands if c.path.name.startswith("0d4a3829"))
    assert first.label.intent == "coffee.orderDrink"
    assert first.label.slots == {"coffeeDrink": "iced mocha", "milkAmount": "milk", "size": "sixteen ounce"}


def test_a_label_naming_an_unknown_slot_is_refused_with_the_file(intents: IntentSet, tmp_path: Path) -> None:
    folder = tmp_path / "set"
    shutil.copytree(coffee_maker_dir() / "wav", folder / "wav")
    name = sorted(p.name for p in (folder / "wav").iterdir())[0]
    (folder / "labels.json").write_text(json.dumps({name: {"intent": "orderDrink", "slots": {"flavour": "x"}}}))
    with pytest.raises(DatasetError, match=rf"labels.json: {name}: coffee.orderDrink has no slot 'flavour'"):
        read_audio_commands(folder, intents.restricted_to(["coffee"]))
