"""Synthesized speech and noise for training and measuring: espeak-ng, flite and sox.

`Voice` is one speaker: an espeak-ng language + variant, or a flite voice, at a
speed and pitch; `synthesize` renders text with it as 16 kHz mono int16, optionally
through sox effects (room reverb). `sox_noise` makes stationary noise. The tools are
deterministic (sox runs with `-R`), so the same request always gives the same samples.

espeak-ng is a formant synthesizer: its voices share one sound, whatever the
variant. flite's voices are built from CMU's recordings of real speakers, a second
kind of voice, so that a head does not learn espeak-ng's sound as part of the phrase.

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

FLITE = "flite"  # a Voice's language for flite voices; its variant is then the flite voice
# flite's own voices, split like espeak-ng's: kal16 (US male, diphones), awb (Scottish male), slt (US
# female) train; rms (US male) only measures. awb_time only says times; kal is kal16 at 8 kHz.
TRAIN_FLITE_VOICES = ("kal16", "awb", "slt")
HELD_OUT_FLITE_VOICES = ("rms",)
FLITE_REFERENCE_WPM = 160  # the espeak-ng speed that flite's natural rate (duration_stretch 1) stands for
ESPEAK_RATE_HZ = 22050  # what each synthesizer writes, before sox converts to 16 kHz
FLITE_RATE_HZ = 16000  # kal16, awb, rms and slt (kal, not used, writes 8 kHz)


class SynthesisError(AssistantError):
    """espeak-ng, flite or sox is missing or failed."""


@dataclass(frozen=True)
class Voice:
    language: str  # espeak-ng voice, e.g. "en-gb"; FLITE for a flite voice
    variant: str  # espeak-ng variant, e.g. "m3", "f2", "klatt"; the flite voice, e.g. "slt"
    speed_wpm: int
    pitch: int  # espeak-ng only: flite's recorded voices keep their speaker's pitch

    @property
    def name(self) -> str:
        """The voice's name, "en-gb+m3" for espeak-ng and "flite-slt" for flite; before a "+", its accent."""
        return f"{FLITE}-{self.variant}" if self.language == FLITE else f"{self.language}+{self.variant}"

    @property
    def sample_rate_hz(self) -> int:
        """The rate the synthesizer writes: 16 kHz for flite's voices, 22.05 kHz for espeak-ng."""
        return FLITE_RATE_HZ if self.language == FLITE else ESPEAK_RATE_HZ

    def describe(self) -> str:
        return f"{self.name} {self.speed_wpm} wpm pitch {self.pitch}"

    def command(self, text: str) -> list[str]:
        """The synthesizer command that writes `text` as a WAV file to stdout."""
        if self.language == FLITE:
            stretch = f"duration_stretch={FLITE_REFERENCE_WPM / self.speed_wpm:.3f}"
            return ["flite", "-voice", self.variant, "--setf", stretch, "-t", text, "-o", "/dev/stdout"]
        speed, pitch = str(self.speed_wpm), str(self.pitch)
        return ["espeak-ng", "-v", self.name, "-s", speed, "-p", pitch, "--stdout", text]


def random_voice(
    rng: random.Random,
    languages: Sequence[str] = TRAIN_LANGUAGES,
    variants: Sequence[str] = TRAIN_VARIANTS,
    speed_wpm: tuple[int, int] = SPEED_WPM,
    pitch: tuple[int, int] = PITCH,
) -> Voice:
    return Voice(rng.choice(languages), rng.choice(variants), rng.randint(*speed_wpm), rng.randint(*pitch))


def require_tools(flite: bool = False) -> None:
    """Fail before any work when espeak-ng or sox (or flite, when asked) is not installed."""
    tools = ("espeak-ng", "sox", *((FLITE,) if flite else ()))
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        raise SynthesisError(
            f"{' and '.join(missing)} not found: install the system packages (sudo apt-get install {' '.join(tools)})"
        )


def synthesize(text: str, voice: Voice, effects: Sequence[str] = ()) -> np.ndarray:
    """`text` spoken by `voice` as (n,) int16 at 16 kHz, through sox `effects` (e.g. ["reverb", "50"])."""
    if voice.language == FLITE and text.startswith("[["):
        raise SynthesisError(f"flite cannot say espeak-ng phonemes {text!r}")
    sox = ["sox", "-R", "-t", "wav", "-", *_RAW_16K, "-", *effects]
    try:
        with subprocess.Popen(voice.command(text), stdout=subprocess.PIPE, stderr=subprocess.PIPE) as speaker:
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
