"""Audio in: WAV decoding and resampling, mixing, framing, and every source, the microphone included."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import textwrap
import wave
from pathlib import Path

import numpy as np
import pytest
from audio_helpers import coffee_maker_dir, speak

from assistant.audio import (
    SAMPLE_RATE_HZ,
    AudioSource,
    Framer,
    MicrophoneSource,
    PcmStreamSource,
    WavSource,
    frame_samples_for,
    iter_chunks,
    iter_frames,
    mix_at_snr,
    open_source,
    read_wav,
    write_wav,
)
from assistant.errors import AudioError
from assistant.resample import resample

FRAME = 1280  # 80 ms at 16 kHz


def sox(*args: str) -> None:
    subprocess.run(["sox", "-R", *args], check=True)


def tone(frequency_hz: float, amplitude: float, seconds: float, rate_hz: int) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * frequency_hz * np.arange(round(seconds * rate_hz)) / rate_hz)


def write_pcm16(path: Path, channels: np.ndarray, rate_hz: int) -> Path:
    """Write float samples (shape (n,) or (n, channels)) as a 16-bit WAV with the stdlib."""
    data = np.clip(np.rint(channels), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1 if data.ndim == 1 else data.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate_hz)
        out.writeframes(data.tobytes())
    return path


def amplitude_at(samples: np.ndarray, frequency_hz: float, rate_hz: int = SAMPLE_RATE_HZ) -> float:
    """Peak amplitude of the sine at `frequency_hz` in the middle second of `samples` (Hann-windowed DFT)."""
    middle = samples[len(samples) // 2 - rate_hz // 2 : len(samples) // 2 + rate_hz // 2].astype(np.float64)
    window = np.hanning(len(middle))
    phases = np.exp(-2j * np.pi * frequency_hz * np.arange(len(middle)) / rate_hz)
    return float(2 * abs(np.sum(middle * window * phases)) / np.sum(window))


def peak_frequency(samples: np.ndarray, rate_hz: int = SAMPLE_RATE_HZ) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate_hz / len(samples))


# --------------------------------------------------------------------------- reading WAV files


def test_a_44k1_stereo_sine_comes_out_as_the_same_sine_at_16k_mono(tmp_path: Path) -> None:
    left = tone(1000, 12000, 3, 44100)
    path = write_pcm16(tmp_path / "stereo.wav", np.stack([left, left], axis=1), 44100)
    samples = read_wav(path)
    assert samples.dtype == np.int16 and samples.ndim == 1
    assert len(samples) == 3 * SAMPLE_RATE_HZ
    assert peak_frequency(samples) == pytest.approx(1000, abs=1)
    assert amplitude_at(samples, 1000) == pytest.approx(12000, rel=0.005)
    expected = tone(1000, 12000, 3, SAMPLE_RATE_HZ)  # no delay: output sample n is input time n / 16000
    assert np.max(np.abs(samples[1000:-1000] - expected[1000:-1000])) <= 2


def test_stereo_channels_are_averaged(tmp_path: Path) -> None:
    left, right = tone(500, 8000, 1, 16000), tone(2000, 4000, 1, 16000)
    samples = read_wav(write_pcm16(tmp_path / "two.wav", np.stack([left, right], axis=1), 16000))
    assert amplitude_at(samples, 500) == pytest.approx(4000, rel=0.01)
    assert amplitude_at(samples, 2000) == pytest.approx(2000, rel=0.01)


def test_downsampling_keeps_7k5_and_removes_what_would_alias(tmp_path: Path) -> None:
    kept = read_wav(write_pcm16(tmp_path / "7k5.wav", tone(7500, 10000, 3, 48000), 48000))
    assert amplitude_at(kept, 7500) == pytest.approx(10000, rel=0.01)
    # 9 kHz is above the 8 kHz Nyquist frequency: a naive decimation would fold it to 7 kHz.
    folded = read_wav(write_pcm16(tmp_path / "9k.wav", tone(9000, 10000, 3, 48000), 48000))
    middle = folded[4000:-4000].astype(np.float64)  # the abrupt start and end of the tone are broadband
    assert np.sqrt(np.mean(middle**2)) < 10000 * 1e-3  # at least 60 dB down
    assert amplitude_at(folded, 7000) < 3


def test_upsampling_8k_adds_no_images(tmp_path: Path) -> None:
    samples = read_wav(write_pcm16(tmp_path / "8k.wav", tone(1000, 10000, 3, 8000), 8000))
    assert len(samples) == 3 * SAMPLE_RATE_HZ
    assert amplitude_at(samples, 1000) == pytest.approx(10000, rel=0.005)
    assert amplitude_at(samples, 7000) < 3  # the image of 1 kHz around the old 4 kHz Nyquist


@pytest.mark.parametrize("rate_hz", [8000, 11025, 22050, 32000, 44100, 48000])
def test_every_common_rate_resamples_to_the_right_length_and_level(rate_hz: int) -> None:
    out = resample(tone(440, 1.0, 2, rate_hz), rate_hz, SAMPLE_RATE_HZ)
    assert len(out) == 2 * SAMPLE_RATE_HZ
    assert np.max(np.abs(out[2000:-2000] - tone(440, 1.0, 2, SAMPLE_RATE_HZ)[2000:-2000])) < 1e-3


def test_resampled_speech_matches_sox(tmp_path: Path) -> None:
    """espeak-ng writes 22.05 kHz; our resampler and sox's agree on real speech."""
    speak("please make me a large cappuccino", tmp_path)  # writes the 22.05 kHz original and sox's 16 kHz copy
    (original,) = tmp_path.glob("*.espeak.wav")
    ours = read_wav(original).astype(np.float64)
    theirs = read_wav(original.with_name(original.name.replace(".espeak.", ".16k."))).astype(np.float64)
    assert abs(len(ours) - len(theirs)) <= 1  # sox rounds the length, we round it up
    ours, theirs = ours[: len(theirs)], theirs[: len(ours)]
    snr_db = 10 * np.log10(np.sum(theirs**2) / np.sum((ours - theirs) ** 2))
    assert snr_db > 30


@pytest.mark.parametrize(
    "sox_options",
    [
        ["-b", "8", "-e", "unsigned-integer"],
        ["-b", "16"],
        ["-b", "24"],
        ["-b", "32"],
        ["-b", "32", "-e", "floating-point"],
        ["-b", "64", "-e", "floating-point"],
    ],
)
def test_every_pcm_and_float_encoding_decodes_to_the_same_audio(tmp_path: Path, sox_options: list[str]) -> None:
    reference = write_pcm16(tmp_path / "ref.wav", tone(1000, 16000, 1, 22050), 22050)
    converted = tmp_path / "converted.wav"
    sox(str(reference), *sox_options, "-c", "3", str(converted))  # 3 channels: sox writes WAVE_FORMAT_EXTENSIBLE
    tolerance = 300 if sox_options[1] == "8" else 2  # 8-bit keeps 256 levels
    assert np.max(np.abs(read_wav(converted).astype(int) - read_wav(reference).astype(int))) <= tolerance


def test_write_then_read_is_exact(tmp_path: Path) -> None:
    samples = np.random.default_rng(0).integers(-32768, 32768, 5000).astype(np.int16)
    write_wav(tmp_path / "x.wav", samples)
    assert np.array_equal(read_wav(tmp_path / "x.wav"), samples)


def test_every_real_recording_loads_at_16k() -> None:
    paths = sorted((coffee_maker_dir() / "wav").glob("*.wav"))
    assert len(paths) == 20
    for path in paths:
        with wave.open(str(path)) as wav:
            frames = wav.getnframes()
        samples = read_wav(path)
        assert samples.dtype == np.int16 and len(samples) == frames
        assert np.std(samples.astype(np.float64)) > 100  # someone is speaking


# --------------------------------------------------------------------------- bad files


def truncated_copy(tmp_path: Path, keep_bytes: int) -> Path:
    source = sorted((coffee_maker_dir() / "wav").glob("*.wav"))[0]
    path = tmp_path / f"cut{keep_bytes}.wav"
    path.write_bytes(source.read_bytes()[:keep_bytes])
    return path


def test_bad_files_fail_with_the_file_and_the_problem(tmp_path: Path) -> None:
    text = tmp_path / "notes.wav"
    text.write_text("just some text, not audio\n")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    mulaw = tmp_path / "mulaw.wav"
    sox(str(write_pcm16(tmp_path / "ref.wav", tone(1000, 8000, 0.2, 8000), 8000)), "-e", "mu-law", str(mulaw))
    cases = [
        (text, "not a WAV file"),
        (empty, "not a WAV file"),
        (truncated_copy(tmp_path, 30), "truncated"),  # inside the fmt chunk
        (truncated_copy(tmp_path, 10000), "truncated"),  # inside the audio
        (mulaw, "unsupported WAV encoding 0x0007 (mu-law)"),
        (tmp_path / "missing.wav", "no such file"),
        (tmp_path, "cannot read"),
    ]
    for path, problem in cases:
        with pytest.raises(AudioError) as raised:
            read_wav(path)
        assert str(path) in str(raised.value), raised.value
        assert problem in str(raised.value), raised.value


def test_an_odd_sample_size_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "odd.wav"
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 16000 * 12 // 8, 12 // 8, 12)
    path.write_bytes(b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data\0\0\0\0")
    with pytest.raises(AudioError, match=r"odd\.wav: unsupported 12-bit integer PCM WAV"):
        read_wav(path)


# --------------------------------------------------------------------------- mixing


@pytest.mark.parametrize("snr_db", [0.0, 5.0, 10.0, 20.0])
def test_mix_at_snr_reaches_the_asked_snr(snr_db: float) -> None:
    folder = coffee_maker_dir()
    speech = read_wav(sorted((folder / "wav").glob("*.wav"))[0])
    noise = read_wav(folder / "noise" / "kitchen.wav")
    for noise_part in (noise, noise[: len(speech) // 3]):  # longer: cropped; shorter: looped
        mixed = mix_at_snr(speech, noise_part, snr_db)
        added = mixed.astype(np.float64) - speech
        measured = 10 * np.log10(np.mean(speech.astype(np.float64) ** 2) / np.mean(added**2))
        assert measured == pytest.approx(snr_db, abs=0.1)


def test_mix_at_snr_refuses_silent_noise() -> None:
    with pytest.raises(AudioError, match="silent"):
        mix_at_snr(np.ones(100, dtype=np.int16), np.zeros(10, dtype=np.int16), 10)


# --------------------------------------------------------------------------- framing


def real_recording() -> np.ndarray:
    return read_wav(sorted((coffee_maker_dir() / "wav").glob("*.wav"))[1])


@pytest.mark.parametrize("chunk_bytes", [1, 37, 1280, 4096])
def test_frames_do_not_depend_on_chunk_size(chunk_bytes: int) -> None:
    samples = real_recording()
    expected = list(iter_frames(samples, FRAME))
    framer = Framer(FRAME)
    frames = [frame for chunk in iter_chunks(samples, chunk_bytes) for frame in framer.push(chunk)]
    last = framer.flush()
    frames += [last] if last is not None else []
    assert len(frames) == len(expected) == -(-len(samples) // FRAME)
    assert all(np.array_equal(a, b) for a, b in zip(frames, expected, strict=True))
    assert all(frame.dtype == np.int16 and frame.shape == (FRAME,) for frame in frames)
    joined = np.concatenate(frames)
    assert np.array_equal(joined[: len(samples)], samples) and not joined[len(samples) :].any()


def test_int16_chunks_of_any_size_give_the_same_frames() -> None:
    samples = real_recording()
    framer = Framer(FRAME)
    frames = [f for start in range(0, len(samples), 333) for f in framer.push(samples[start : start + 333])]
    assert all(np.array_equal(a, b) for a, b in zip(frames, iter_frames(samples, FRAME), strict=False))
    assert len(frames) == len(samples) // FRAME


def test_frame_size_from_milliseconds() -> None:
    assert frame_samples_for(80) == 1280
    assert frame_samples_for(30) == 480


# --------------------------------------------------------------------------- sources


def test_pcm_stream_source_pads_the_last_frame() -> None:
    samples = np.arange(3000, dtype=np.int16)
    with PcmStreamSource(io.BytesIO(samples.astype("<i2").tobytes()), FRAME) as source:
        assert isinstance(source, AudioSource)
        frames = list(source.frames())
    assert [len(frame) for frame in frames] == [FRAME] * 3
    assert np.array_equal(np.concatenate(frames)[:3000], samples) and not frames[-1][3000 - 2 * FRAME :].any()


def test_wav_source_gives_the_files_frames() -> None:
    path = sorted((coffee_maker_dir() / "wav").glob("*.wav"))[1]
    with WavSource(path, FRAME) as source:
        frames = list(source.frames())
    assert all(np.array_equal(a, b) for a, b in zip(frames, iter_frames(real_recording(), FRAME), strict=True))


def test_open_source_by_spec(tmp_path: Path) -> None:
    path = write_pcm16(tmp_path / "a.wav", tone(300, 1000, 0.5, 16000), 16000)
    assert isinstance(open_source(str(path), FRAME), WavSource)
    assert isinstance(open_source("-", FRAME), PcmStreamSource)
    mic = open_source("mic:2", FRAME)
    assert isinstance(mic, MicrophoneSource) and mic.device == 2 and mic.frame_samples == FRAME
    with pytest.raises(AudioError, match=r"nope\.wav: no such audio file .*'mic'"):
        open_source(str(tmp_path / "nope.wav"), FRAME)


# The microphone without hardware: ALSA's `file` plugin serves a raw file as the
# capture device. PortAudio reads the ALSA configuration when it starts, so the
# capture runs in a fresh interpreter with ALSA_CONFIG_PATH set.
ASOUND_CONF = """
pcm.!default {{ type asym; capture.pcm "wavmic"; playback.pcm "nullout" }}
pcm.wavmic {{ type file; slave.pcm {{ type null }}; file "/dev/null"; infile "{raw}"; format "raw" }}
pcm.nullout {{ type null }}
"""
CAPTURE = """
import itertools, sys
import numpy as np
from assistant.audio import MicrophoneSource
with MicrophoneSource({frame}, blocking={blocking}) as mic:
    frames = list(itertools.islice(mic.frames(), {count}))
np.save(sys.argv[1], np.stack(frames))
"""


@pytest.mark.parametrize("blocking", [True, False], ids=["blocking", "callback"])
def test_microphone_frames_are_the_captured_samples(tmp_path: Path, blocking: bool) -> None:
    speech = real_recording()
    raw = tmp_path / "mic.raw"
    raw.write_bytes(speech.astype("<i2").tobytes())
    conf = tmp_path / "asound.conf"
    conf.write_text(ASOUND_CONF.format(raw=raw))
    count = len(speech) // FRAME  # whole frames only: past the end of its file the plugin repeats stale data
    script = textwrap.dedent(CAPTURE).format(frame=FRAME, blocking=blocking, count=count)
    env = {**os.environ, "ALSA_CONFIG_PATH": str(conf)}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "frames.npy")], env=env, check=True, timeout=60)
    frames = np.load(tmp_path / "frames.npy")
    assert frames.shape == (count, FRAME) and frames.dtype == np.int16
    # The file plugin feeds the capture from the file's first byte: no leading offset.
    assert np.array_equal(frames.reshape(-1), speech[: count * FRAME])


def test_a_missing_microphone_fails_with_its_name(tmp_path: Path) -> None:
    conf = tmp_path / "asound.conf"
    conf.write_text(ASOUND_CONF.format(raw=tmp_path / "unused.raw"))
    script = "from assistant.audio import MicrophoneSource; next(MicrophoneSource(1280, device='no such mic').frames())"
    env = {**os.environ, "ALSA_CONFIG_PATH": str(conf)}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "AudioError: microphone 'no such mic': cannot open" in result.stderr


def test_stdin_source_reads_raw_pcm_from_a_pipe(tmp_path: Path) -> None:
    """`open_source("-")` on a real pipe: the frames are the bytes written to it."""
    speech = real_recording()
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        from assistant.audio import open_source
        with open_source("-", 1280) as source:
            np.save(sys.argv[1], np.stack(list(source.frames())))
        """
    )
    raw = speech.astype("<i2").tobytes()
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "f.npy")], input=raw, check=True, timeout=60)
    frames = np.load(tmp_path / "f.npy")
    assert np.array_equal(frames, np.stack(list(iter_frames(speech, FRAME))))
