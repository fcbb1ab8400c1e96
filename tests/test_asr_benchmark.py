"""The speech benchmark's own measures: labelled commands, the kitchen noise mixed into them,
and commands understood end to end by the shipped intent model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from audio_helpers import coffee_maker_dir

from assistant.asr.factory import GRAMMAR_FILLERS
from assistant.asr.grammar import compile_grammar
from assistant.asr.pocketsphinx_engine import PocketSphinxRecognizer
from assistant.benchmarks.asr import (
    FLITE_SETUP,
    NOISE_SNRS_DB,
    SharedSounds,
    benchmark,
    is_understood,
    markdown,
    plot,
    sample_commands,
    spoken_command,
    understanding,
)
from assistant.evaluation import LabelledCommand
from assistant.intents import IntentSet
from assistant.nlu.runtime import IntentModel
from assistant.profiles import DeviceProfile


@pytest.fixture(scope="module")
def model(intents: IntentSet) -> IntentModel:
    return IntentModel.load(intents, variant="dynamic_int8")


def test_a_sampled_command_is_labelled_with_the_intent_and_values_it_says(
    intents: IntentSet, profiles: dict[str, DeviceProfile]
) -> None:
    view = intents.restricted_to(profiles["kitchen_timer"].domains)
    commands = sample_commands(view, lambda text: True, 40, seed=3)
    assert len({c.text for c in commands}) == 40
    assert all(c.intent in {i.name for i in view.intents} for c in commands)
    with_values = [c for c in commands if c.slots]
    assert len(with_values) >= 10
    for command in with_values:
        slots = view.intent(str(command.intent)).slots
        for name, value in command.slots.items():
            said = slots[name].type.variants(value)
            assert any(f" {form} " in f" {command.text} " for form in said), (command, name, value)


def test_a_command_is_understood_only_with_its_intent_and_every_value(
    model: IntentModel, intents: IntentSet, profiles: dict[str, DeviceProfile]
) -> None:
    understand = understanding(model, intents.restricted_to(profiles["kitchen_timer"].domains))
    command = LabelledCommand("set a timer for ten minutes", "timer.start", {"duration": 600})
    assert is_understood(understand, command, "set a timer for ten minutes")
    assert not is_understood(understand, command, "set a timer for two minutes")  # misheard value
    assert not is_understood(understand, command, "cancel the timer")  # misheard intent
    assert not is_understood(understand, command, "")  # heard as not a command


def test_an_intent_the_device_lacks_is_not_understood(
    model: IntentModel, intents: IntentSet, profiles: dict[str, DeviceProfile]
) -> None:
    understand = understanding(model, intents.restricted_to(profiles["kitchen_timer"].domains))
    command = LabelledCommand("play some jazz", "media.play", {"what": "some jazz"})
    assert not is_understood(understand, command, command.text)  # the kitchen timer plays no music


def test_the_benchmark_scores_transcripts_and_frames_per_device(
    model: IntentModel, intents: IntentSet, profiles: dict[str, DeviceProfile], tmp_path: Path
) -> None:
    results = benchmark(intents, profiles, ["kitchen_timer"], commands=4, data_dir=None, seed=11)
    by_setup = {s.setup: s for s in results.scores}
    assert set(by_setup) == {"grammar", FLITE_SETUP}  # no shared data: no noise, no real voices
    view = intents.restricted_to(profiles["kitchen_timer"].domains)
    grammar = PocketSphinxRecognizer(compile_grammar(view, fillers=GRAMMAR_FILLERS)).grammar
    assert grammar is not None
    labelled = {c.text: c for c in sample_commands(view, grammar.can_return, 4, seed=11)}  # the benchmark's draw
    understand = understanding(model, view)
    for score in by_setup.values():
        assert [u.text for u in score.utterances] == list(labelled)
        for utterance in score.utterances:
            command = labelled[utterance.text]
            assert utterance.understood == is_understood(understand, command, utterance.heard)
            if utterance.exact:  # heard word for word: understood as the text itself is
                assert utterance.understood == is_understood(understand, command, command.text)
    assert by_setup["grammar"].exact >= 0.5
    from_text = results.understood_from_text["kitchen_timer"]
    assert from_text == sum(is_understood(understand, c, c.text) for c in labelled.values()) / 4
    assert from_text >= 0.75  # the model alone, on its own device's commands: 3 of 4 at least
    report = markdown(results, "assistant bench asr --device kitchen_timer", "asr.png")
    assert "## Understood end to end" in report and "| kitchen_timer | 4 |" in report
    assert "![exact transcripts and commands understood, per device](asr.png)" in report
    plot(results, tmp_path / "asr.png")
    assert (tmp_path / "asr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert results.to_dict()["understood_from_text"] == {"kitchen_timer": round(from_text, 4)}


def test_commands_get_the_kitchen_noise_at_the_asked_ratio(tmp_path: Path) -> None:
    kitchen = coffee_maker_dir() / "noise" / "kitchen.wav"
    data = tmp_path / "data"
    (data / "coffee_maker" / "noise").mkdir(parents=True)
    (data / "coffee_maker" / "noise" / "kitchen.wav").symlink_to(kitchen)
    (data / "clinc150").mkdir()
    (data / "clinc150" / "data_trainval.json").write_text(json.dumps({"oos_val": [["what is a fjord", "oos"]]}))
    (data / "speech_commands_sample" / "yes").mkdir(parents=True)
    sounds = SharedSounds.load(data)
    command = spoken_command("set a timer for ten minutes", ("en-us", "m1"), 160, seed=0)
    for snr_db in NOISE_SNRS_DB:
        noisy = sounds.in_kitchen(command, snr_db, seed=1)
        added = noisy.astype(np.float64) - command
        ratio = np.mean(command.astype(np.float64) ** 2) / np.mean(added**2)
        assert 10 * np.log10(ratio) == pytest.approx(snr_db, abs=0.1)
    other_stretch = sounds.in_kitchen(command, NOISE_SNRS_DB[0], seed=2)
    assert not np.array_equal(other_stretch, sounds.in_kitchen(command, NOISE_SNRS_DB[0], seed=1))
