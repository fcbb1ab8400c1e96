"""A real assistant core for the integration tests: the shipped intent model, a
simulated device's dialogue, PocketSphinx on a small command grammar, and speech
from espeak-ng converted by sox to whatever format a client would send.

PocketSphinx stands in for the project's recognizer here; the protocol adapters
take any transcriber, so the test exercises the same path a deployment does.
"""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.integrations import LockedCore, Transcription
from assistant.intents import IntentSet
from assistant.nlu.runtime import DEFAULT_MODEL_DIR, IntentModel
from assistant.profiles import DeviceProfile
from assistant.simulator import Session

# The commands the tests speak, as a grammar: PocketSphinx's open-vocabulary
# English model does poorly on espeak-ng's voice, a grammar does not.
COMMANDS_JSGF = """#JSGF V1.0;
grammar commands;
public <command> = turn (on | off) the <room> lights
                 | set the thermostat to <number> degrees
                 | what time is it
                 | set a timer for <number> minutes;
<number> = one | two | three | five | ten | fifteen | twenty | thirty;
<room> = kitchen | bedroom | living room | office;
"""
ESPEAK_VOICE, ESPEAK_WORDS_PER_MINUTE = "en-us", 160
PAD_S = 0.3  # silence around the speech, as a voice-activity detector would leave it


class PocketSphinxTranscriber:
    """Whole-utterance decoding with PocketSphinx 5's US-English acoustic model."""

    def __init__(self, grammar: Path) -> None:
        from pocketsphinx import Config, Decoder

        self.decoder = Decoder(Config(loglevel="FATAL", jsgf=str(grammar)))

    def __call__(self, samples: np.ndarray) -> Transcription:
        self.decoder.start_utt()
        self.decoder.process_raw(samples.astype("<i2").tobytes(), full_utt=True)
        self.decoder.end_utt()
        hypothesis = self.decoder.hyp()
        return Transcription(hypothesis.hypstr if hypothesis is not None else "")


def load_model(intents: IntentSet) -> IntentModel:
    return IntentModel.load(intents, DEFAULT_MODEL_DIR, "dynamic_int8")


def build_core(
    profile: DeviceProfile, intents: IntentSet, model: IntentModel, transcriber: PocketSphinxTranscriber
) -> tuple[LockedCore, Session]:
    """The assistant for one simulated device, as the protocol adapters see it."""
    session = Session(profile, intents, model)
    allowed = {intent.name for intent in intents.restricted_to(profile.domains).intents}
    core = LockedCore(
        transcribe=transcriber,
        understand=lambda text: model.parse(text, allowed),
        handle=session.dialogue.hear,
    )
    return core, session


@dataclass(frozen=True)
class Pcm:
    """Raw little-endian PCM as a Wyoming client sends it."""

    audio: bytes
    rate: int
    width: int
    channels: int

    @property
    def seconds(self) -> float:
        return len(self.audio) / (self.rate * self.width * self.channels)


def spoken_pcm(text: str, directory: Path, rate: int, width: int, channels: int) -> Pcm:
    """`text` said by espeak-ng, converted by sox to `rate` Hz, `width`-byte samples, `channels` channels."""
    stem = hashlib.sha1(text.encode()).hexdigest()[:12]
    raw = directory / f"{stem}.espeak.wav"
    converted = directory / f"{stem}.{rate}-{width}-{channels}.raw"
    if not raw.exists():
        subprocess.run(
            ["espeak-ng", "-v", ESPEAK_VOICE, "-s", str(ESPEAK_WORDS_PER_MINUTE), "-w", str(raw), text], check=True
        )
    if not converted.exists():
        encoding = ["-e", "unsigned-integer"] if width == 1 else ["-e", "signed-integer"]
        output = ["-r", str(rate), "-b", str(8 * width), *encoding, "-c", str(channels), "-t", "raw", str(converted)]
        subprocess.run(["sox", "-R", str(raw), *output, "pad", str(PAD_S), str(PAD_S)], check=True)
    return Pcm(converted.read_bytes(), rate, width, channels)
