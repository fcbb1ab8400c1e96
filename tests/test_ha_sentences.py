"""Home Assistant's sentence templates: expansion, the template split, the mapping, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import ha_sentences
from assistant.datasets import data_dir, load_mapping, read_commands, training_texts
from assistant.errors import DatasetError
from assistant.intents import IntentSet
from assistant.nlu.runtime import IntentModel

pytest.importorskip("hassil")

Write = Callable[[str, str], Path]
SHARED_SENTENCES = Path(__file__).resolve().parents[2] / "shared" / "data" / ha_sentences.DATA_FOLDER
MAPPINGS = Path(__file__).resolve().parent.parent / "mappings"

COMMON = """
language: en
lists:
  brightness:
    range: {type: percentage, from: 10, to: 20}
  message:
    wildcard: true
expansion_rules:
  light: "(light|lamp)"
  the: "(the|my)"
"""
LIGHT_ON = """
language: en
intents:
  HassTurnOn:
    data:
      - sentences:
          - "turn on [<the>] {name} <light>"
          - "(lights on;{area})"
          - "turn on <light> in <area>"
expansion_rules:
  area: "[<the>] {area}"
"""
LIGHT_SET = """
language: en
intents:
  HassLightSet:
    data:
      - sentences:
          - "set {name} to {brightness}%"
"""
BROADCAST = """
language: en
intents:
  HassBroadcast:
    data:
      - sentences:
          - "broadcast {message}"
          - "tell everyone {message}"
"""
LISTS = {"*": {"area": ["kitchen"], "name": ["porch"]}, "light": {"name": ["desk", "bedside"]}}


@pytest.fixture
def sentences(write: Write) -> Path:
    write("ha/sentences/en/_common.yaml", COMMON)
    write("ha/sentences/en/light_HassTurnOn.yaml", LIGHT_ON)
    write("ha/sentences/en/light_HassLightSet.yaml", LIGHT_SET)
    write("ha/sentences/en/assist_satellite_HassBroadcast.yaml", BROADCAST)
    return write("ha/sentences/en/HassTurnOn/fixture.yaml", "not: read").parents[3]


def test_templates_expand_with_rules_lists_ranges_and_permutations(sentences: Path) -> None:
    expanded = list(ha_sentences.expand(sentences, LISTS, samples_per_template=50))
    texts: dict[str, set[str]] = {}
    for s in expanded:
        texts.setdefault(s.label, set()).add(s.text)
    # the file's domain gives {name} its values; optionals, alternatives and rules are all drawn
    assert texts["light_HassTurnOn"] >= {"turn on desk light", "turn on the bedside lamp", "turn on my desk lamp"}
    assert not any("porch" in t for t in texts["light_HassTurnOn"])
    assert {"lights on kitchen", "kitchen lights on"} <= texts["light_HassTurnOn"]  # both orders of (a;b)
    levels = {t.removeprefix("set desk to ").removeprefix("set bedside to ") for t in texts["light_HassLightSet"]}
    assert levels <= {f"{n}%" for n in range(10, 21)} and len(levels) > 5
    # a wildcard the mapping gives no values for: skipped, not written as "{message}"
    assert "assist_satellite_HassBroadcast" not in texts
    # expansions of one template are distinct and capped
    per_template: dict[str, int] = {}
    for s in expanded:
        per_template[s.template] = per_template.get(s.template, 0) + 1
    assert max(per_template.values()) <= 50
    assert len(expanded) == len({(s.template, s.text) for s in expanded})


def test_a_template_is_trained_or_held_out_whole_and_always_the_same(sentences: Path) -> None:
    train = list(ha_sentences.expand(sentences, LISTS, ha_sentences.TRAIN))
    held_out = list(ha_sentences.expand(sentences, LISTS, ha_sentences.VALIDATION))
    assert not {s.template for s in train} & {s.template for s in held_out}
    assert len(train) + len(held_out) == len(list(ha_sentences.expand(sentences, LISTS)))
    assert train == list(ha_sentences.expand(sentences, LISTS, ha_sentences.TRAIN))
    assert ha_sentences.split_of("light_HassTurnOn", "turn on the light") in (
        ha_sentences.TRAIN,
        ha_sentences.VALIDATION,
    )


def test_annotated_values_are_a_lists_slot_or_a_whole_rule(sentences: Path) -> None:
    texts = {s.text for s in ha_sentences.expand(sentences, LISTS, annotate=frozenset({"area", "<light>"}))}
    # the rule <area> holds "the" and the list {area}: only the list's value is marked
    assert {"turn on [<light> : lamp] in the [area : kitchen]", "[area : kitchen] lights on"} <= texts
    assert "turn on the desk [<light> : light]" in texts
    assert all("[area : the" not in t for t in texts)


def test_labels_and_slots_map_to_ours_and_unmapped_files_are_out_of_scope(
    sentences: Path, write: Write, intents: IntentSet
) -> None:
    mapping = load_mapping(
        write(
            "home_assistant.yaml",
            "dataset: home_assistant\nintents:\n  light_HassTurnOn: lights.on\n"
            "  light_HassLightSet: [lights.brightness, lights.colour]\n"
            "slots:\n  lights.on: {area: room}\n"
            "lists:\n  '*': {area: [living room], message: [dinner is ready]}\n  light: {name: [desk]}\n",
        ),
        intents,
    )
    assert mapping.list_values["light"] == {"name": ("desk",)}
    commands = list(read_commands("home_assistant", sentences, intents, split="all", mapping=mapping))
    by_text = {c.text: c for c in commands}
    assert by_text["turn on the desk light"].intent == "lights.on"
    assert by_text["turn on the desk light"].slots == {} and by_text["turn on the desk light"].slots_known
    in_room = by_text["turn on lamp in the living room"]
    assert in_room.slots == {"room": "living_room"}  # read by our slot type
    assert in_room.spans == {"room": (20, 31)} and in_room.text[20:31] == "living room"
    level = next(c for c in commands if c.text.startswith("set desk to"))
    assert level.intent == "lights.brightness" and level.alternatives == {"lights.colour"}
    assert not level.slots_known  # two intents: no slots to score
    assert "percent" in level.text  # normalised as a transcript: "15%" -> "fifteen percent"
    assert by_text["broadcast dinner is ready"].intent is None  # no mapping: not understood


def test_bad_folders_and_files_are_named(write: Write, sentences: Path, intents: IntentSet) -> None:
    with pytest.raises(DatasetError, match=r"nowhere: not Home Assistant's sentences"):
        list(ha_sentences.expand(write("nowhere/x.txt", "").parent, LISTS))
    broken = write("ha/sentences/en/light_HassTurnOff.yaml", "intents: [unclosed\n")
    with pytest.raises(DatasetError, match=r"light_HassTurnOff\.yaml: cannot read"):
        list(ha_sentences.expand(sentences, LISTS))
    broken.write_text("language: en\nintents:\n  HassTurnOff:\n    data:\n      - sentences: ['turn off <nope>']\n")
    with pytest.raises(DatasetError, match=r"no rule <nope>"):
        list(ha_sentences.expand(sentences, LISTS))
    broken.write_text("language: en\nintents:\n  HassTurnOff:\n    data:\n      - sentences: ['turn off (the']\n")
    with pytest.raises(DatasetError, match=r"light_HassTurnOff\.yaml: template 'turn off \(the'"):
        list(ha_sentences.expand(sentences, LISTS))
    with pytest.raises(DatasetError, match=r"no split 'val'"):
        list(read_commands("home_assistant", sentences, intents, split="val"))


def test_the_shipped_mapping_reads_the_real_sentences(intents: IntentSet) -> None:
    if not SHARED_SENTENCES.is_dir():
        pytest.skip(f"Home Assistant's sentences not available at {SHARED_SENTENCES}")
    mapping = load_mapping(MAPPINGS / "home_assistant.yaml", intents)
    held_out = list(read_commands("home_assistant", SHARED_SENTENCES, intents, mapping=mapping))
    train = list(read_commands("home_assistant", SHARED_SENTENCES, intents, split="train", mapping=mapping))
    # about a fifth of the commands is held out; both splits hold commands of ours and others
    assert 0.1 < len(held_out) / (len(held_out) + len(train)) < 0.35
    for split in (held_out, train):
        assert sum(c.intent is None for c in split) > 100
        assert sum(c.intent is not None for c in split) > 300
    assert {c.intent for c in train} >= {"lights.on", "timer.start", "media.pause", "vacuum.dock", "clock.time"}
    # slots come typed: a timer's duration in seconds, a thermostat's temperature, a room's canonical name
    every = held_out + train
    assert sum(isinstance(c.slots.get("duration"), int) for c in every if c.intent == "timer.start") > 20
    assert {c.slots.get("temperature") for c in every if c.intent == "thermostat.set"} >= {20, 21, 22}
    assert {c.slots.get("room") for c in every if c.intent == "lights.on"} >= {"living_room", "kids_room"}
    # every text reads as a transcript: no digits, symbols or template syntax left
    assert all(c.text.replace("'", "").replace(" ", "").isalpha() for c in held_out + train)


def test_eval_scores_the_shipped_model_on_home_assistant_sentences(
    sentences: Path, intents: IntentSet, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.cli import main

    argv = ["eval", "--format", "home_assistant", "--dataset", str(sentences), "--split", "all"]
    assert main([*argv, "--device", "smart_light", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report) == [
        "n", "intent_accuracy", "slot_f1", "frame_accuracy", "oos_recall", "oos_false_reject",
        "latency_ms_p50", "latency_ms_p95",
    ]  # fmt: skip
    # the shipped mapping's lists expand light_HassTurnOn and light_HassLightSet; broadcasts need a
    # message it gives no values for
    commands = list(read_commands("home_assistant", sentences, intents, split="all"))
    assert {c.intent for c in commands} == {"lights.on", "lights.brightness"}
    # less the sentences the shipped model trained on ("turn on the desk lamp" is a training template's too)
    seen = training_texts(IntentModel.load(intents).metadata, intents, data_dir())
    assert report["n"] == len([c for c in commands if c.text not in seen]) > 20
    assert report["intent_accuracy"] >= 0.8  # "turn on the desk lamp", "set the bedside lamp to 15 percent"
    assert main([*argv, "--split", "val"]) == 2  # a split it does not have: an error naming it, not a crash
    assert "no split 'val'" in capsys.readouterr().err


def test_training_takes_the_training_templates_only_when_the_plan_asks(
    sentences: Path, tmp_path: Path, intents: IntentSet
) -> None:
    pytest.importorskip("tensorflow")
    import dataclasses

    from assistant.train.pipeline import TrainingPlan, run

    root = tmp_path / "data"
    root.mkdir()
    sentences.rename(root / ha_sentences.DATA_FOLDER)  # a data folder that holds only Home Assistant's sentences
    plan = dataclasses.replace(TrainingPlan.tiny(), human_data=True, text_lines=0, home_assistant_data=True)
    trained = run(plan, intents, tmp_path / "with", root)
    used = trained["training"]["human_data"]
    train = list(read_commands("home_assistant", root / ha_sentences.DATA_FOLDER, intents, split=ha_sentences.TRAIN))
    assert sum(used["home_assistant_train"]["rows"].values()) == len(train) > 0
    # scoring reads back, from what model.json records, exactly the sentences it trained on
    assert training_texts(trained, intents, root) == {c.text for c in train}
    off = run(dataclasses.replace(plan, home_assistant_data=False), intents, tmp_path / "without", root)
    assert "home_assistant_train" not in off["training"]["human_data"]
    assert training_texts(off, intents, root) == set()


def test_bench_baselines_train_on_the_corpora_the_model_trained_on(sentences: Path, intents: IntentSet) -> None:
    from assistant.benchmarks.nlu import human_training_data

    root = sentences.parent / "data"
    root.mkdir()
    sentences.rename(root / ha_sentences.DATA_FOLDER)  # a data folder that holds only Home Assistant's sentences
    train = list(read_commands("home_assistant", root / ha_sentences.DATA_FOLDER, intents, split=ha_sentences.TRAIN))
    recorded = {"training": {"human_data": {"home_assistant_train": {"path": str(ha_sentences.DATA_FOLDER)}}}}
    seen, trained = human_training_data(recorded, intents, root)
    assert seen == {c.text for c in train}
    # a sentence several of our intents may answer has no one class for a classifier to learn
    assert [c.text for c in trained] == [c.text for c in train if not c.alternatives]
    assert 0 < len(trained) < len(train)
    # a model that did not train on them: the baselines do not either, and no set is scored on them
    seen, trained = human_training_data({"training": {"human_data": {}}}, intents, root)
    assert seen == {c.text for c in train} and trained == []
