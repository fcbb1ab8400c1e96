"""Real audio for the audio-layer tests: espeak-ng speech, sox noise, the shared recordings.

Everything here is made by real tools (espeak-ng, sox) and is deterministic:
espeak-ng has no randomness and sox runs in repeatable mode (`-R`).
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import numpy as np
import pytest

from assistant.audio import SAMPLE_RATE_HZ, read_wav
from assistant.datasets import data_dir

VOICE = "en-us"  # the recognizer's acoustic model is US English; espeak-ng's default voice is British


def speak(text: str, directory: Path, voice: str = VOICE) -> np.ndarray:
    """`text` spoken by espeak-ng, converted by sox to 16 kHz mono int16."""
    stem = hashlib.sha1(f"{voice}:{text}".encode()).hexdigest()[:12]
    raw, converted = directory / f"{stem}.espeak.wav", directory / f"{stem}.16k.wav"
    if not converted.exists():
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), text], check=True)
        subprocess.run(["sox", "-R", str(raw), "-r", str(SAMPLE_RATE_HZ), "-b", "16", str(converted)], check=True)
    return read_wav(converted)


def wake_then_command(
    phrase: str, command: str, directory: Path, lead_s: float = 1.0, pause_s: float = 0.6, tail_s: float = 2.0
) -> np.ndarray:
    """The wake phrase, a pause, then a command, as someone would say them to a device, between silences."""
    return np.concatenate([
        silence(lead_s), speak(phrase, directory), silence(pause_s), speak(command, directory), silence(tail_s),
    ])  # fmt: skip


def sox_noise(kind: str, seconds: float, directory: Path, volume: float = 0.05) -> np.ndarray:
    """`seconds` of sox's `kind` noise (whitenoise, pinknoise, brownnoise) at 16 kHz."""
    path = directory / f"{kind}-{seconds}-{volume}.wav"
    if not path.exists():
        output = ["-r", str(SAMPLE_RATE_HZ), "-b", "16", "-c", "1", str(path)]
        subprocess.run(["sox", "-R", "-n", *output, "synth", str(seconds), kind, "vol", str(volume)], check=True)
    return read_wav(path)


def noise_named(kind: str, directory: Path) -> np.ndarray:
    """The shared kitchen recording ("kitchen") or 30 s of a sox noise ("pinknoise", "brownnoise", ...)."""
    if kind == "kitchen":
        return read_wav(coffee_maker_dir() / "noise" / "kitchen.wav")
    return sox_noise(kind, 30, directory)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SAMPLE_RATE_HZ), dtype=np.int16)


def coffee_maker_dir() -> Path:
    """The Picovoice coffee-maker recordings; skips the test where they are not available."""
    folder = data_dir() / "coffee_maker"
    if not (folder / "wav").is_dir():
        pytest.skip(f"coffee-maker recordings not available at {folder}")
    return folder


def speech_frames(clean: np.ndarray, frame_samples: int, threshold_db: float = -35.0) -> np.ndarray:
    """Ground truth per frame: True where the clean signal is within `threshold_db` of its loudest frame."""
    usable = len(clean) - len(clean) % frame_samples
    frames = clean[:usable].astype(np.float64).reshape(-1, frame_samples)
    power_db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-9)
    return np.asarray(power_db > power_db.max() + threshold_db)


def add_noise(stream: np.ndarray, speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`stream` plus `noise` (looped) at `snr_db` below the power of `speech`, the commands alone.

    Scaling against the commands rather than the whole stream keeps the SNR what
    the listener hears while someone speaks, however long the pauses are.
    """
    looped = np.resize(noise.astype(np.float64), len(stream))
    gain = np.sqrt(np.mean(speech.astype(np.float64) ** 2) / (np.mean(looped**2) * 10 ** (snr_db / 10)))
    return np.clip(np.rint(stream + gain * looped), -32768, 32767).astype(np.int16)
