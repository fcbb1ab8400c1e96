"""Synthesized speech and noise for training and measuring: espeak-ng and sox.

`Voice` is one espeak-ng speaker (language + variant, speed, pitch); `synthesize`
renders text with it as 16 kHz mono int16, optionally through sox effects (room
reverb). `sox_noise` makes stationary noise. Both tools are deterministic (sox
runs with `-R`), so the same request always gives the same samples.

The voice pools are split once: `TRAIN_*` for training (widened by
`EXTRA_TRAIN_VARIANTS` and the `WIDE_*` speed and pitch ranges for a head's
positives and hard negatives), `VALIDATION_VARIANTS` (speakers not trained on) for
choosing thresholds, `HELD_OUT_*` (other accents and speakers) only for the
benchmark. `phonemes` gives espeak-ng's transcription of a text, which it says
back exactly when given in `[[...]]` (pronunciations no spelling gives).
"""

from __future__ import annotations

import random
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.audio import SAMPLE_RATE_HZ
from assistant.errors import AssistantError

# espeak-ng language voices (accents) and variants (speaker timbres), split once.
TRAIN_LANGUAGES = ("en-us", "en-gb", "en-gb-x-rp", "en-029")
HELD_OUT_LANGUAGES = ("en-gb-scotland", "en-us-nyc", "en-gb-x-gbcwmd", "en-gb-x-gbclan")
TRAIN_VARIANTS = (
    "m1", "m2", "m3", "m4", "m5", "f1", "f2", "adam", "Alex", "Andy", "Annie", "aunty", "belinda", "benjamin",
    "caleb", "ed", "edward", "Gene", "iven", "john", "Michael", "max", "paul", "quincy", "rob", "robert", "steph",
    "zac", "klatt", "klatt2", "croak", "grandpa", "grandma", "shelby", "travis",
)  # fmt: skip
# More speakers for the positives and hard negatives of a head (and one negative stream): the
# variants above no pool used, less siblings of held-out ones (iven3/iven4 of iven2, and the
# klatt4/klatt6 voices behind klatt4, edward2 and announcer).
EXTRA_TRAIN_VARIANTS = (
    "AnxiousAndy", "Diogo", "Henrique", "Mario", "Nguyen", "RicishayMax", "RicishayMax2", "RicishayMax3", "Storm",
    "anika", "antonio", "gustave", "kaukovalta", "klatt5", "marcelo", "miguel", "pedro", "steph3", "whisper",
    "whisperf",
)  # fmt: skip
WIDE_TRAIN_VARIANTS = TRAIN_VARIANTS + EXTRA_TRAIN_VARIANTS
VALIDATION_VARIANTS = ("m6", "f3", "david", "linda", "norbert", "victor", "klatt3", "Mike")  # speakers for thresholds
HELD_OUT_VARIANTS = (
    "m7", "m8", "f4", "f5", "Alicia", "Andrea", "boris", "Denis", "Hugo", "Jacky", "Lee", "Marco", "michel", "pablo",
    "sandro", "steph2", "klatt4", "edward2", "Gene2", "iven2",
)  # fmt: skip
SPEED_WPM = (120, 200)  # espeak-ng words per minute: slow to brisk
PITCH = (30, 70)  # espeak-ng pitch, 0-99 (50 is the voice's default)
WIDE_SPEED_WPM = (105, 235)  # the ranges of the widened training voices
WIDE_PITCH = (10, 90)
ESPEAK_TIMEOUT_S = 60


class SynthesisError(AssistantError):
    """espeak-ng or sox is missing or failed."""


@dataclass(frozen=True)
class Voice:
    language: str  # espeak-ng voice, e.g. "en-gb"
    variant: str  # espeak-ng variant, e.g. "m3", "f2", "klatt"
    speed_wpm: int
    pitch: int

    @property
    def espeak_name(self) -> str:
        return f"{self.language}+{self.variant}"

    def describe(self) -> str:
        return f"{self.espeak_name} {self.speed_wpm} wpm pitch {self.pitch}"


def random_voice(
    rng: random.Random,
    languages: Sequence[str] = TRAIN_LANGUAGES,
    variants: Sequence[str] = TRAIN_VARIANTS,
    speed_wpm: tuple[int, int] = SPEED_WPM,
    pitch: tuple[int, int] = PITCH,
) -> Voice:
    return Voice(rng.choice(languages), rng.choice(variants), rng.randint(*speed_wpm), rng.randint(*pitch))


def require_tools() -> None:
    """Fail before any work when espeak-ng or sox is not installed."""
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        raise SynthesisError(
            f"{' and '.join(missing)} not found: install the system packages (sudo apt-get install espeak-ng sox)"
        )


def synthesize(text: str, voice: Voice, effects: Sequence[str] = ()) -> np.ndarray:
    """`text` spoken by `voice` as (n,) int16 at 16 kHz, through sox `effects` (e.g. ["reverb", "50"])."""
    espeak = [
        "espeak-ng", "-v", voice.espeak_name, "-s", str(voice.speed_wpm), "-p", str(voice.pitch), "--stdout", text,
    ]  # fmt: skip
    sox = ["sox", "-R", "-t", "wav", "-", *_RAW_16K, "-", *effects]
    try:
        with subprocess.Popen(espeak, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as speaker:
            converted = subprocess.run(
                sox, stdin=speaker.stdout, capture_output=True, timeout=ESPEAK_TIMEOUT_S, check=False
            )
            if speaker.stdout is not None:
                speaker.stdout.close()
            speaker_error = speaker.stderr.read() if speaker.stderr is not None else b""
            speaker.wait(ESPEAK_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SynthesisError(f"cannot synthesize {text!r} with {voice.describe()}: {error}") from error
    if speaker.returncode != 0 or converted.returncode != 0:
        detail = (speaker_error or converted.stderr).decode(errors="replace").strip()
        raise SynthesisError(f"cannot synthesize {text!r} with {voice.describe()}: {detail}")
    return np.frombuffer(converted.stdout, dtype="<i2").astype(np.int16)


def phonemes(text: str, language: str = "en-us") -> str:
    """espeak-ng's phoneme mnemonics for `text`, e.g. "hey fridge" -> "h'eI fr'IdZ"; `[[...]]` around
    them in a text makes espeak-ng say exactly those phonemes."""
    command = ["espeak-ng", "-q", "-x", "-v", language, text]
    try:
        result = subprocess.run(command, capture_output=True, timeout=ESPEAK_TIMEOUT_S, check=True, text=True)
    except (OSError, subprocess.SubprocessError) as error:
        raise SynthesisError(f"espeak-ng cannot transcribe {text!r}: {error}") from error
    return " ".join(result.stdout.split())


def sox_noise(kind: str, seconds: float) -> np.ndarray:
    """`seconds` of sox `kind` noise (whitenoise, pinknoise, brownnoise) at 16 kHz, at a quarter of full scale."""
    command = ["sox", "-R", "-n", *_RAW_16K, "-", "synth", str(seconds), kind, "vol", "0.25"]
    try:
        result = subprocess.run(command, capture_output=True, timeout=ESPEAK_TIMEOUT_S, check=True)
    except (OSError, subprocess.SubprocessError) as error:
        raise SynthesisError(f"sox cannot make {kind}: {error}") from error
    return np.frombuffer(result.stdout, dtype="<i2").astype(np.int16)


_RAW_16K = ["-t", "raw", "-r", str(SAMPLE_RATE_HZ), "-e", "signed", "-b", "16", "-c", "1"]
