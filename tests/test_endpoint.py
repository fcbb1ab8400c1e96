"""Endpointing on real synthesized speech: command boundaries, the maximum length, timeouts, chunk sizes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from audio_helpers import add_noise, coffee_maker_dir, noise_named, silence, sox_noise, speak

from assistant.audio import Framer, iter_chunks, iter_frames, read_wav
from assistant.endpoint import Endpointer, Utterance, split_utterances
from assistant.errors import AudioError
from assistant.profiles import DeviceProfile

RATE = 16000
FRAME = 1280  # 80 ms
LEAD_IN_S = 3.0  # the room before the first command: an always-on detector has heard it
GAP_S = 1.5


@pytest.fixture(scope="module")
def tts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tts")


def speech_bounds_s(clip: np.ndarray) -> tuple[float, float]:
    """First and last 10 ms of `clip` within 40 dB of its loudest 10 ms, seconds."""
    window = RATE // 100
    power = np.mean(clip[: len(clip) // window * window].astype(np.float64).reshape(-1, window) ** 2, axis=1)
    loud = np.flatnonzero(10 * np.log10(power + 1e-9) > 10 * np.log10(power.max()) - 40)
    return loud[0] * window / RATE, (loud[-1] + 1) * window / RATE


def two_commands(tts_dir: Path) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Two commands 1.5 s apart after a lead-in, and where each one's speech starts and ends (s)."""
    # The boundaries below were measured with espeak-ng's default (British) voice. With the
    # en-us voice the kitchen-noise case splits a command in two at 10 dB: a known limit of
    # the energy VAD in clattering noise.
    voice = "en"
    first, second = speak("set a timer for five minutes", tts_dir, voice), speak("what time is it", tts_dir, voice)
    stream = np.concatenate([silence(LEAD_IN_S), first, silence(GAP_S), second, silence(1.5)])
    second_at = LEAD_IN_S + len(first) / RATE + GAP_S
    (a0, a1), (b0, b1) = speech_bounds_s(first), speech_bounds_s(second)
    return stream, [(LEAD_IN_S + a0, LEAD_IN_S + a1), (second_at + b0, second_at + b1)]


def endpointer(max_command_s: float = 6.0) -> Endpointer:
    return Endpointer(frame_ms=80, silence_timeout_ms=700, max_command_s=max_command_s)


def noisy_two_commands(tts_dir: Path, noise: str, snr_db: float) -> tuple[np.ndarray, list[tuple[float, float]]]:
    clean, truth = two_commands(tts_dir)
    if noise == "silence":
        return clean, truth
    noise_samples = noise_named(noise, tts_dir)
    commands = np.concatenate([clean[round(a * RATE) : round(b * RATE)] for a, b in truth])
    return add_noise(clean, commands, noise_samples, snr_db), truth


@pytest.mark.parametrize(("noise", "snr_db"), [("silence", 0.0), ("pinknoise", 30.0), ("brownnoise", 20.0)])
def test_two_commands_give_two_utterances_with_their_boundaries(tts_dir: Path, noise: str, snr_db: float) -> None:
    stream, truth = noisy_two_commands(tts_dir, noise, snr_db)
    utterances = split_utterances(iter_frames(stream, FRAME), endpointer())
    assert [u.reason for u in utterances] == ["silence", "silence"]
    for utterance, (start_s, end_s) in zip(utterances, truth, strict=True):
        assert utterance.start_s == pytest.approx(start_s, abs=0.15)
        assert utterance.end_s == pytest.approx(end_s, abs=0.15)


def test_two_commands_in_kitchen_noise_at_10_db(tts_dir: Path) -> None:
    """Loud, uneven noise: both commands are found and each utterance holds its whole command, but the quiet
    end of "minutes" sinks under the noise (the utterance's audio still runs 700 ms past end_s)."""
    stream, truth = noisy_two_commands(tts_dir, "kitchen", 10.0)
    utterances = split_utterances(iter_frames(stream, FRAME), endpointer())
    assert [u.reason for u in utterances] == ["silence", "silence"]
    for utterance, (start_s, end_s) in zip(utterances, truth, strict=True):
        assert utterance.start_s == pytest.approx(start_s, abs=0.15)
        assert end_s - 0.35 <= utterance.end_s <= end_s + 0.15
        assert utterance.audio_start_s + utterance.duration_s >= end_s


def test_an_utterance_holds_the_pre_roll_and_the_stream_up_to_its_end(tts_dir: Path) -> None:
    stream, _ = two_commands(tts_dir)
    first = split_utterances(iter_frames(stream, FRAME), endpointer())[0]
    assert first.audio_start_s == pytest.approx(first.start_s - 0.24)
    start = round(first.audio_start_s * RATE)
    assert np.array_equal(first.samples, stream[start : start + len(first.samples)])
    # It ends when 700 ms of silence followed the last speech frame.
    assert first.audio_start_s + first.duration_s == pytest.approx(first.end_s + 0.72)


def test_a_long_command_is_cut_at_the_maximum_length(tts_dir: Path) -> None:
    long_command = speak("start an outdoor run workout and play my running playlist at full volume please", tts_dir)
    assert len(long_command) / RATE > 4.0
    stream = np.concatenate([silence(LEAD_IN_S), long_command, silence(1.0)])
    utterances = split_utterances(iter_frames(stream, FRAME), endpointer(max_command_s=3.0))
    first = utterances[0]
    assert first.reason == "max_length"
    assert first.end_s - first.start_s == pytest.approx(3.0, abs=0.08)
    assert first.duration_s == pytest.approx(0.24 + 38 * 0.08)  # pre-roll + the first whole number of frames >= 3 s
    assert first.start_s == pytest.approx(LEAD_IN_S + speech_bounds_s(long_command)[0], abs=0.15)
    assert utterances[1].start_s == pytest.approx(first.start_s + 3.0, abs=0.1)  # the rest is heard next


def test_a_stream_that_stops_mid_command_ends_with_end_of_stream(tts_dir: Path) -> None:
    command = speak("set a timer for five minutes", tts_dir)
    stream = np.concatenate([silence(LEAD_IN_S), command[: len(command) // 2]])
    endpoints = endpointer()
    assert all(endpoints.push(frame) is None for frame in iter_frames(stream, FRAME))
    last = endpoints.finish()
    assert last is not None and last.reason == "end_of_stream"
    assert endpoints.finish() is None  # nothing came after it


def test_no_speech_times_out(tts_dir: Path) -> None:
    noise = add_noise(silence(6.0), speak("stop", tts_dir), sox_noise("pinknoise", 30, tts_dir), 10.0)
    endpoints = Endpointer(frame_ms=80, silence_timeout_ms=700, max_command_s=6.0, no_speech_timeout_s=4.0)
    results = [(index, u) for index, frame in enumerate(iter_frames(noise, FRAME)) if (u := endpoints.push(frame))]
    assert [(index, u.reason, u.start_s) for index, u in results] == [(49, "no_speech", 4.0)]
    assert len(results[0][1].samples) == 0
    last = endpoints.finish()  # two more seconds without speech
    assert last is not None and last.reason == "no_speech"


def test_a_click_is_not_a_command() -> None:
    click = np.zeros(FRAME * 60, dtype=np.int16)
    click[FRAME * 30 : FRAME * 31] = (8000 * np.sin(np.arange(FRAME) / 3)).astype(np.int16)  # one loud 80 ms frame
    assert split_utterances(iter_frames(click, FRAME), endpointer()) == []


@pytest.mark.parametrize("chunk_bytes", [1, 37, 1280, 4096])
def test_utterances_do_not_depend_on_chunk_size(tts_dir: Path, chunk_bytes: int) -> None:
    stream, _ = two_commands(tts_dir)
    expected = split_utterances(iter_frames(stream, FRAME), endpointer())
    framer = Framer(FRAME)
    frames = [frame for chunk in iter_chunks(stream, chunk_bytes) for frame in framer.push(chunk)]
    last = framer.flush()
    got = split_utterances([*frames, *([last] if last is not None else [])], endpointer())
    assert [u.to_dict() for u in got] == [u.to_dict() for u in expected]
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(got, expected, strict=True))


def test_real_recordings_each_give_one_command() -> None:
    for path in sorted((coffee_maker_dir() / "wav").glob("*.wav")):
        utterances = split_utterances(iter_frames(read_wav(path), FRAME), endpointer(max_command_s=12.0))
        assert len(utterances) == 1, path
        assert utterances[0].end_s - utterances[0].start_s > 1.0


def test_built_from_a_device_profile(profiles: dict[str, DeviceProfile]) -> None:
    watch = profiles["smartwatch"]
    endpoints = Endpointer.from_profile(watch)
    assert (endpoints.frame_ms, endpoints.silence_timeout_ms, endpoints.max_command_s) == (80, 700, 6.0)
    assert endpoints.frame_samples == 1280
    with pytest.raises(AudioError, match="frames of 1280 samples, got 1000"):
        endpoints.push(np.zeros(1000, dtype=np.int16))


def test_utterance_to_dict_leaves_out_the_samples() -> None:
    utterance = Utterance(np.zeros(16000, dtype=np.int16), start_s=1.24, end_s=1.9, reason="silence", audio_start_s=1.0)
    assert utterance.to_dict() == {
        "start_s": 1.24,
        "end_s": 1.9,
        "reason": "silence",
        "audio_start_s": 1.0,
        "duration_s": 1.0,
    }
