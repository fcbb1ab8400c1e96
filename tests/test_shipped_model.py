"""The shipped model, end to end: what a user gets right after install."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from assistant import ha_sentences
from assistant.benchmarks.nlu import on_other_devices
from assistant.cli import main
from assistant.datagen import VALIDATION, CorpusGenerator
from assistant.datasets import data_dir, read_commands, training_texts
from assistant.evaluation import LabelledCommand, evaluate
from assistant.intents import IntentSet
from assistant.nlu.runtime import DEFAULT_MODEL_DIR, IntentModel
from assistant.profiles import DeviceProfile

COMMANDS: list[tuple[str, str, str | None, dict[str, Any]]] = [
    ("smartwatch", "set a timer for 25 minutes", "timer.start", {"duration": 1500}),
    ("smartwatch", "start a pasta timer for nine minutes", "timer.start", {"name": "pasta", "duration": 540}),
    ("smartwatch", "wake me up at 6:45 tomorrow", "alarm.set", {"time": "06:45", "date": "tomorrow"}),
    ("smartwatch", "what's my heart rate", "watch.heart_rate", {}),
    ("smartwatch", "set screen brightness to 40%", "watch.brightness", {"level": 40}),
    ("smartwatch", "turn on the flashlight", "watch.flashlight_on", {}),
    ("smartwatch", "what's the capital of peru", None, {}),
    ("smartwatch", "send an email to john", None, {}),
    ("smartwatch", "preheat the oven to 180 degrees", None, {}),  # a watch has no oven
    ("oven", "preheat the oven to 180 degrees on fan", "oven.preheat", {"temperature": 180, "mode": "fan"}),
    ("fridge", "set the freezer to minus eighteen", "fridge.set_freezer_temperature", {"temperature": -18}),
    ("coffee_maker", "can i get a large latte with some milk", "coffee.orderDrink",
     {"size": "large", "coffeeDrink": "latte", "milkAmount": "some milk"}),
    ("washing_machine", "start a cotton wash at forty degrees", "washer.start", {"program": "cotton", "temperature": 40}),
    ("smart_light", "turn off the kitchen lights", "lights.off", {"room": "kitchen"}),
    ("robot_vacuum", "vacuum the living room", "vacuum.clean_room", {"room": "living_room"}),
    ("thermostat", "set the heating to 21.5 degrees", "thermostat.set", {"temperature": 21.5}),
    ("smart_speaker", "what time is it", "clock.time", {}),
    ("smart_speaker", "order a pizza", None, {}),
    # what to play keeps the determiner said before it, as the slot's examples do; a timer's name does not
    ("smart_speaker", "play some jazz", "media.play", {"what": "some jazz"}),
    ("smart_speaker", "start a timer called the pasta for five minutes", "timer.start", {"name": "pasta", "duration": 300}),
    # Home Assistant's phrasings (home-assistant/intents), which once broke the model: the timer
    # was read as the lights, the fan and the shutters as the lights' colour and brightness
    ("smart_speaker", "cancel the timer in the living room", "timer.cancel", {}),
    ("smart_speaker", "turn the living room fan on", None, {}),
    ("smart_speaker", "raise the shutters in the garage", None, {}),
    ("smart_speaker", "how long is left on my five minute twenty four second timer", "timer.remaining", {}),
    ("thermostat", "tell me the current temperature in the bathroom", "thermostat.current", {}),
    # listed phrases the model reads too short or not at all (`nlu/listed_phrases.py`): "monday" was a date
    ("smartwatch", "wake me at seven monday to friday", "alarm.set", {"time": "07:00", "recurrence": "weekdays"}),
    ("washing_machine", "put a load of washing on spin only", "washer.start", {"program": "spin_only"}),
    ("fitness_band", "i am going for a cross trainer", "watch.workout_start", {"workout_type": "elliptical"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def models(intents: IntentSet) -> dict[str, IntentModel]:
    return {variant: IntentModel.load(intents, variant=variant) for variant in ("int8", "dynamic_int8")}


@pytest.mark.parametrize("variant", ["int8", "dynamic_int8"])
@pytest.mark.parametrize(("device", "text", "intent", "slots"), COMMANDS, ids=[c[1] for c in COMMANDS])
def test_the_shipped_model_understands_everyday_commands(
    models: dict[str, IntentModel],
    profiles: dict[str, DeviceProfile],
    intents: IntentSet,
    variant: str,
    device: str,
    text: str,
    intent: str | None,
    slots: dict[str, Any],
) -> None:
    allowed = {i.name for i in intents.restricted_to(profiles[device].domains).intents}
    result = models[variant].parse(text, allowed)
    assert result.intent == intent
    assert {s.name: s.value for s in result.slots} == slots


def test_the_shipped_model_leaves_another_devices_commands_alone(
    models: dict[str, IntentModel], intents: IntentSet, profiles: dict[str, DeviceProfile]
) -> None:
    """An oven command said to the watch is not understood, not read as the watch's nearest intent."""
    held_out = CorpusGenerator(intents, seed=11).generate(6000).split(VALIDATION)
    commands = [LabelledCommand(e.text, e.intent) for e in random.Random(0).sample(held_out, 400) if e.intent]
    moved = on_other_devices(commands, intents, profiles, seed=0)
    gold = {c.text: c.intent for c in commands}
    assert len(moved.commands) > 100
    assert all(c.intent is None and gold[c.text] not in moved.allowed[c.text] for c in moved.commands)
    model = models["dynamic_int8"]
    acted = [(c.text, r.intent) for c in moved.commands if (r := model.parse(c.text, moved.allowed[c.text])).intent]
    assert len(acted) <= 0.02 * len(moved.commands), acted[:5]


def test_the_shipped_model_is_small_and_describes_itself(models: dict[str, IntentModel]) -> None:
    metadata = models["int8"].metadata
    for info in metadata["variants"].values():
        assert info["bytes"] <= 1.5 * 1024 * 1024 or info["file"].endswith("float32.tflite")
    assert metadata["parameters"] < 2_000_000
    # the shipped model learnt every template; these floors are on the commands of the fifth
    # that a hold-out build never sees (docs/model.md), out-of-scope ones unseen by both
    assert metadata["training"]["plan"]["hold_out_templates"] is False
    written = metadata["metrics"]["int8"]["synthetic_validation"]
    assert written["intent_accuracy"] > 0.97
    assert written["frame_accuracy"] > 0.95
    assert written["oos_recall"] > 0.9
    assert written["oos_false_reject"] < 0.02


def test_the_shipped_model_reads_home_assistants_held_out_sentences(
    models: dict[str, IntentModel], intents: IntentSet
) -> None:
    """Templates other people wrote, a fifth of them kept out of training (docs/model.md)."""
    folder = data_dir() / ha_sentences.DATA_FOLDER
    if not folder.is_dir():
        pytest.skip(f"Home Assistant's sentences not available at {folder}")
    model = models["dynamic_int8"]
    seen = training_texts(model.metadata, intents, data_dir())
    held_out = read_commands("home_assistant", folder, intents, split=ha_sentences.VALIDATION)
    commands = [c for c in held_out if c.text not in seen]
    assert len(commands) > 500
    report = evaluate(model.parse, commands)
    assert report.intent_accuracy > 0.93
    assert report.frame_accuracy > 0.9
    assert report.oos_recall is not None and report.oos_recall > 0.95


def test_parse_json_is_the_documented_contract(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "set a timer for 25 minutes", "--device", "smartwatch", "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert list(output) == ["intent", "slots", "confidence", "reply", "latency_ms"]
    assert output["intent"] == "timer.start"
    assert output["slots"] == {"duration": {"value": 1500, "raw": "twenty five minutes"}}
    assert 0.5 < output["confidence"] <= 1.0
    assert "twenty five minutes" in output["reply"].lower()
    assert output["latency_ms"] > 0


def test_an_empty_transcript_is_not_understood(intents: IntentSet) -> None:
    model = IntentModel.load(intents, DEFAULT_MODEL_DIR, "dynamic_int8")
    assert model.parse("").intent is None
    assert model.parse("   ").intent is None
