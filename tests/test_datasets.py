from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.datasets import annotated_command, load_mapping, read_commands
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


def test_an_intent_only_label_trains_and_scores_no_slots(write: Write, intents: IntentSet) -> None:
    mapping = load_mapping(write("hwu64.yaml", MAPPING + "intent_only: [alarm_set]\n"), intents)
    command = annotated_command("wake me up at [time : 7:30 am]", "alarm_set", mapping, intents)
    assert command.intent == "alarm.set" and command.text == "wake me up at seven thirty a m"
    # spans unknown, not empty: the values are not taught as "outside" any slot
    assert command.slots == {} and command.spans is None and not command.slots_known
    with pytest.raises(ConfigError, match=r"intent_only: 'timer' is not a mapped label"):
        load_mapping(write("m.yaml", "dataset: x\nintents: {}\nintent_only: [timer]\n"), intents)


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


def test_ignored_labels_are_left_out_and_slot_types_can_put_examples_out_of_scope(
    write: Write, intents: IntentSet
) -> None:
    clinc = write(
        "clinc.json",
        json.dumps(
            {
                "val": [["turn on the porch lights", "smart_home"], ["set a timer for 5 minutes", "timer"]],
                "oos_val": [["capital of peru?", "oos"]],
            }
        ),
    )
    mapping = load_mapping(
        write("c.yaml", "dataset: clinc150\nintents: {timer: timer.start}\nignore: [smart_home]\n"), intents
    )
    assert [c.text for c in read_commands("clinc", clinc, intents, split="val", mapping=mapping)] == [
        "set a timer for five minutes",
        "capital of peru",
    ]
    hwu = load_mapping(
        write(
            "h.yaml",
            "dataset: hwu64\nintents:\n  datetime_query: [clock.time, clock.date]\n"
            "out_of_scope_with:\n  datetime_query: [place_name, time_zone]\n",
        ),
        intents,
    )
    lines = [
        {"scenario": "datetime", "action": "query", "sentence_annotation": "what time is it in [place_name : tokyo]"},
        {"scenario": "datetime", "action": "query", "sentence_annotation": "what's the time"},
    ]
    path = write("devel.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n")
    world, local = read_commands("slurp", path, intents, mapping=hwu)
    assert world.intent is None  # another place's time: our clock does not know it
    assert local.intent == "clock.time" and local.accepts("clock.date")


def test_free_text_values_are_read_as_our_slots_hold_them(write: Write, intents: IntentSet) -> None:
    mapping = load_mapping(
        write(
            "m.yaml",
            """
            dataset: hwu64
            intents: {play_music: media.play, alarm_set: alarm.set}
            slots:
              media.play: {artist_name: what, song_name: what, playlist_name: what, music_genre: what}
              alarm.set: {event_name: label, time: time}
            """,
        ),
        intents,
    )

    def read(annotation: str, label: str = "play_music") -> dict[str, object]:
        return dict(annotated_command(annotation, label, mapping, intents).slots)

    # media.play's examples say "some jazz", "my workout playlist": the determiner is part of the value
    assert read("play my [playlist_name : workout playlist]") == {"what": "my workout playlist"}
    assert read("i want to hear some [music_genre : jazz]") == {"what": "some jazz"}
    # a song by an artist is one thing to play; two things joined by "and" are not
    assert read("play [song_name : dynamite] by [artist_name : acdc]") == {"what": "dynamite by acdc"}
    assert read("i'd like to hear [artist_name : queen's] [song_name : barcelona]") == {"what": "queen's barcelona"}
    assert read("let's hear some [music_genre : country] and [music_genre : western]") == {"what": "some country"}
    # an alarm's label never starts with a determiner in our examples
    assert read("set an alarm for the [event_name : meeting] at [time : nine am]", "alarm_set") == {
        "label": "meeting",
        "time": "09:00",
    }


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


def test_a_label_cannot_be_both_mapped_and_ignored(write: Write, intents: IntentSet) -> None:
    with pytest.raises(ConfigError, match=r"'timer' is both mapped and ignored"):
        load_mapping(write("m.yaml", "dataset: x\nintents: {timer: timer.start}\nignore: [timer]\n"), intents)
    with pytest.raises(ConfigError, match=r"out_of_scope_with\.weather: not a mapped label"):
        load_mapping(write("m.yaml", "dataset: x\nintents: {}\nout_of_scope_with: {weather: [place_name]}\n"), intents)


def test_the_shipped_mappings_load(intents: IntentSet) -> None:
    root = Path(__file__).resolve().parent.parent / "mappings"
    for name in ("hwu64", "clinc150", "home_assistant"):
        mapping = load_mapping(root / f"{name}.yaml", intents)
        assert len(mapping.intents) >= 10


def test_the_real_corpora_read_cleanly(intents: IntentSet) -> None:
    if not SHARED.is_dir():
        pytest.skip(f"public corpora not available at {SHARED}")
    slurp = list(read_commands("slurp", SHARED / "slurp/devel.jsonl", intents))
    assert len(slurp) == 2033
    assert sum(c.intent is not None for c in slurp) > 100
    clinc = list(read_commands("clinc", SHARED / "clinc150/data_trainval.json", intents, split="val"))
    assert len(clinc) == 3100 - 2 * 20  # smart_home and time (20 each in val) are ignored: mixed labels
