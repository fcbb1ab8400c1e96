from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.datasets import load_mapping, read_commands
from assistant.errors import ConfigError, DatasetError
from assistant.intents import IntentSet

Write = Callable[[str, str], Path]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

MAPPING = """
dataset: hwu64
intents:
  alarm_set: alarm.set
  iot_hue_lightoff: lights.off
  audio_volume_mute: [media.mute, general.stop]
slots:
  alarm.set: {time: time, date: date}
  lights.off: {house_place: room}
"""


def test_hwu64_rows_become_typed_commands(write: Write, intents: IntentSet) -> None:
    mapping = load_mapping(write("hwu64.yaml", MAPPING), intents)
    write(
        "hwu/alarm_set.csv",
        "answerid;scenario;intent;answer_annotation;answer_from_anno;answer_from_user\n"
        '1;alarm;set;"wake me up at [time : 7:30 am] [date : tomorrow]";x;x\n',
    )
    write(
        "hwu/weather_query.csv",
        "answerid;scenario;intent;answer_annotation;answer_from_anno;answer_from_user\n"
        '2;weather;query;"is it raining in [place_name : paris]";x;x\n',
    )
    commands = list(read_commands("hwu64", write("hwu/x.txt", "").parent, intents, mapping=mapping))
    alarm, weather = commands
    assert alarm.text == "wake me up at seven thirty a m tomorrow"
    assert alarm.intent == "alarm.set"
    assert alarm.slots == {"time": "07:30", "date": "tomorrow"}
    assert alarm.spans is not None and alarm.text[slice(*alarm.spans["time"])] == "seven thirty a m"
    assert weather.intent is None  # unmapped: out of scope for us


def test_slurp_uses_scenario_action_and_coarse_labels(write: Write, intents: IntentSet) -> None:
    mapping = load_mapping(write("hwu64.yaml", MAPPING), intents)
    lines = [
        {
            "scenario": "iot",
            "action": "hue_lightoff",
            "intent": "ignored",
            "sentence_annotation": "lights off in the [house_place : kitchen]",
        },
        {"scenario": "audio", "action": "volume_mute", "intent": "ignored", "sentence_annotation": "be quiet"},
    ]
    path = write("devel.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n")
    off, mute = read_commands("slurp", path, intents, mapping=mapping)
    assert (off.intent, dict(off.slots)) == ("lights.off", {"room": "kitchen"})
    assert mute.accepts("general.stop") and mute.accepts("media.mute") and not mute.slots_known


def test_clinc_val_includes_out_of_scope(write: Write, intents: IntentSet) -> None:
    path = write(
        "clinc.json",
        json.dumps(
            {"train": [], "val": [["set a timer for 5 minutes", "timer"]], "oos_val": [["capital of peru?", "oos"]]}
        ),
    )
    mapping = load_mapping(write("clinc150.yaml", "dataset: clinc150\nintents:\n  timer: timer.start\n"), intents)
    timer, oos = read_commands("clinc", path, intents, split="val", mapping=mapping)
    assert (timer.text, timer.intent) == ("set a timer for five minutes", "timer.start")
    assert (oos.text, oos.intent) == ("capital of peru", None)


def test_jsonl_and_its_errors_name_the_line(write: Write, intents: IntentSet) -> None:
    good = write(
        "good.jsonl", '{"text": "Lights on", "intent": "lights.on", "slots": {}}\n{"text": "hi", "intent": null}\n'
    )
    assert [c.intent for c in read_commands("jsonl", good, intents)] == ["lights.on", None]
    bad = write("bad.jsonl", '{"text": "ok", "intent": null}\n{"text": 3}\n')
    with pytest.raises(DatasetError, match=r"bad\.jsonl: line 2: expected"):
        list(read_commands("jsonl", bad, intents))
    broken = write("broken.jsonl", "{not json\n")
    with pytest.raises(DatasetError, match=r"broken\.jsonl: line 1: invalid JSON"):
        list(read_commands("jsonl", broken, intents))


def test_bad_mappings_are_refused(write: Write, intents: IntentSet) -> None:
    with pytest.raises(ConfigError, match=r"intents\.alarm_set: unknown intent 'alarm.start'"):
        load_mapping(write("m.yaml", "dataset: x\nintents:\n  alarm_set: alarm.start\n"), intents)
    with pytest.raises(ConfigError, match=r"alarm\.set has no slot 'clock'"):
        load_mapping(write("m.yaml", "dataset: x\nintents: {}\nslots:\n  alarm.set: {time: clock}\n"), intents)


def test_the_shipped_mappings_load(intents: IntentSet) -> None:
    root = Path(__file__).resolve().parent.parent / "mappings"
    for name in ("hwu64", "clinc150"):
        mapping = load_mapping(root / f"{name}.yaml", intents)
        assert len(mapping.intents) >= 10


def test_the_real_corpora_read_cleanly(intents: IntentSet) -> None:
    if not SHARED.is_dir():
        pytest.skip(f"public corpora not available at {SHARED}")
    slurp = list(read_commands("slurp", SHARED / "slurp/devel.jsonl", intents))
    assert len(slurp) == 2033
    assert sum(c.intent is not None for c in slurp) > 100
    clinc = list(read_commands("clinc", SHARED / "clinc150/data_trainval.json", intents, split="val"))
    assert len(clinc) == 3100
