"""Spoken commands scored end to end: recording -> recognizer -> intent model.

The data set is a folder with `labels.json` (file name -> {"intent", "slots"})
and a `wav/` folder, the layout of the Picovoice speech-to-intent benchmark
(`../shared/data/coffee_maker/`). The score has the same keys as the text
evaluation; `frame_accuracy` is that benchmark's command acceptance (intent and
every slot exactly right). With `snr_db`, a noise recording is mixed into each
command at that signal-to-noise ratio, scaled against the speech's power.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from assistant.asr.recognizer import Recognizer
from assistant.audio import mix_at_snr, read_wav
from assistant.endpoint import command_span
from assistant.errors import DatasetError, ValueParseError
from assistant.evaluation import EvalReport, LabelledCommand, evaluate
from assistant.intents import IntentSet
from assistant.nlu.result import ParseResult
from assistant.profiles import DeviceProfile
from assistant.textnorm import normalize

LABELS_FILE = "labels.json"
WAV_FOLDER = "wav"
NOISE_FILE = Path("noise") / "kitchen.wav"


@dataclass(frozen=True)
class AudioCommand:
    path: Path
    label: LabelledCommand  # its `text` is the file name; the transcript comes from the recognizer


@dataclass(frozen=True)
class AudioEvalReport:
    scores: EvalReport
    transcripts: dict[str, str]  # file name -> what the recognizer heard
    rtf_p50: float
    snr_db: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.scores.to_dict(),
            "command_acceptance": round(self.scores.frame_accuracy, 4),
            "rtf_p50": round(self.rtf_p50, 4),
            "snr_db": self.snr_db,
        }


def read_audio_commands(directory: Path, intents: IntentSet) -> list[AudioCommand]:
    """The labelled recordings of a folder; `intents` is the device's view, whose
    intent names the labels' short names ("orderDrink") map to."""
    labels_path = directory / LABELS_FILE
    try:
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise DatasetError(f"{labels_path}: cannot read the labels: {error}") from error
    if not isinstance(labels, dict):
        raise DatasetError(f"{labels_path}: expected an object of file name -> label")
    by_action = {intent.name.split(".", 1)[1]: intent for intent in intents.intents}
    by_action.update({intent.name: intent for intent in intents.intents})
    commands = []
    for name, label in labels.items():
        where = f"{labels_path}: {name}"
        if not isinstance(label, dict) or not isinstance(label.get("slots", {}), dict):
            raise DatasetError(f'{where}: expected {{"intent": ..., "slots": {{...}}}}')
        path = directory / WAV_FOLDER / name
        if not path.is_file():
            raise DatasetError(f"{where}: no such recording {path}")
        intent = by_action.get(str(label.get("intent")))
        if intent is None:
            commands.append(AudioCommand(path, LabelledCommand(name, None)))  # a label the device lacks: out of scope
            continue
        slots = {}
        for slot_name, raw in label.get("slots", {}).items():
            if slot_name not in intent.slots:
                raise DatasetError(f"{where}: {intent.name} has no slot {slot_name!r}")
            try:
                slots[slot_name] = intent.slots[slot_name].type.parse(normalize(str(raw)))
            except ValueParseError as error:
                raise DatasetError(f"{where}: slot {slot_name}: {error}") from error
        commands.append(AudioCommand(path, LabelledCommand(name, intent.name, slots)))
    return commands


def evaluate_audio(
    commands: list[AudioCommand],
    recognizer: Recognizer,
    understand: Callable[[str], ParseResult],
    *,
    noise: NDArray[np.int16] | None = None,
    snr_db: float | None = None,
    profile: DeviceProfile | None = None,
    on_error: Callable[[LabelledCommand, ParseResult, str], None] | None = None,
) -> AudioEvalReport:
    """Score every recording; latency is recognition plus understanding. With a
    `profile`, each recording is first cut to the command as the device would
    hear it (the silence around it is never decoded on a device)."""
    if (noise is None) != (snr_db is None):
        raise ValueError("noise and snr_db go together")
    by_name = {command.label.text: command for command in commands}
    transcripts: dict[str, str] = {}
    rtfs: list[float] = []

    def parse(name: str) -> ParseResult:
        samples = read_wav(by_name[name].path)
        if noise is not None and snr_db is not None:
            samples = mix_at_snr(samples, noise, snr_db)
        started = time.perf_counter()
        if profile is not None:  # the command as the device would cut it from the recording
            samples = command_span(samples, profile)
        transcript = recognizer.transcribe(samples)
        recognize_ms = (time.perf_counter() - started) * 1000.0
        transcripts[name] = transcript.text
        rtfs.append(transcript.rtf)
        result = understand(transcript.text)
        return replace(result, latency_ms=result.latency_ms + recognize_ms)

    def note(command: LabelledCommand, result: ParseResult) -> None:
        if on_error is not None:
            on_error(command, result, transcripts.get(command.text, ""))

    scores = evaluate(parse, [command.label for command in commands], note)
    return AudioEvalReport(scores, transcripts, float(np.median(rtfs)) if rtfs else 0.0, snr_db)


def read_noise(directory: Path) -> NDArray[np.int16]:
    path = directory / NOISE_FILE
    if not path.is_file():
        raise DatasetError(f"{directory}: --snr needs the noise recording {path}")
    return read_wav(path)
