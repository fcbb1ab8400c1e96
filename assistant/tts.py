"""Speech out: espeak-ng, for `--tts` test turns, spoken replies and measurements.

espeak-ng is deterministic for a given voice, speed and pitch, so synthesized
commands make repeatable test audio. It is a system package (`apt-get install
espeak-ng`); a missing one is reported with that line, never skipped silently.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from assistant.audio import SAMPLE_RATE_HZ, read_wav
from assistant.errors import AssistantError

DEFAULT_VOICE = "en-us"
DEFAULT_SPEED_WPM = 160  # a calm speaking rate; espeak-ng's own default (175) is brisk
DEFAULT_PITCH = 50  # espeak-ng's scale 0-99
TIMEOUT_S = 60


class SpeechSynthesisError(AssistantError):
    """espeak-ng is missing or failed; the message says which and how to install it."""


def synthesize(
    text: str, voice: str = DEFAULT_VOICE, speed_wpm: int = DEFAULT_SPEED_WPM, pitch: int = DEFAULT_PITCH
) -> NDArray[np.int16]:
    """`text` spoken by espeak-ng as 16 kHz mono int16 samples."""
    _require("espeak-ng")
    with tempfile.TemporaryDirectory(prefix="assistant-tts-") as folder:
        path = Path(folder) / "speech.wav"
        command = ["espeak-ng", "-v", voice, "-s", str(speed_wpm), "-p", str(pitch), "-w", str(path), text]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SpeechSynthesisError(f"espeak-ng failed on {text!r}: {error}") from error
        if done.returncode != 0 or not path.exists():
            raise SpeechSynthesisError(f"espeak-ng failed on {text!r} with voice {voice!r}: {done.stderr.strip()}")
        return read_wav(path, SAMPLE_RATE_HZ)


def say_aloud(text: str, voice: str = DEFAULT_VOICE, speed_wpm: int = DEFAULT_SPEED_WPM) -> None:
    """Play `text` through the default audio output (espeak-ng plays it itself)."""
    _require("espeak-ng")
    try:
        done = subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed_wpm), text],
            capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SpeechSynthesisError(f"espeak-ng could not speak {text!r}: {error}") from error
    if done.returncode != 0:
        raise SpeechSynthesisError(f"espeak-ng could not play audio (no output device?): {done.stderr.strip()}")


def _require(tool: str) -> None:
    if shutil.which(tool) is None:
        raise SpeechSynthesisError(f"{tool} is not installed: sudo apt-get install {tool} (make setup does this)")
