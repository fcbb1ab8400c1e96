"""Wake word detection: one score per 80 ms audio frame, LiteRT and numpy only.

The openWakeWord design: two shared, phrase-independent feature models turn audio
into speech embeddings, and a small head per wake phrase scores the latest 1.28 s
of embeddings.

    1280 samples (80 ms) --melspectrogram--> 8 mel frames (10 ms hop, 32 bands)
    last 76 mel frames (~775 ms)  --speech embedding--> one 96-wide embedding
    last 16 embeddings (1.28 s)   --our head--> score in [0, 1]

The speech embedding runs as two halves cut from it (`embedding_cut.py`): a frame
computes only the rows its 8 new mel frames add, then the rest of the model.

The feature models (`models/wake/features/`) are Google's speech_embedding as
re-packaged by openWakeWord; the heads (`models/wake/<slug>/`) are this project's,
trained by `assistant wakeword train`. Each head directory describes itself in
`wake.json` (format version, phrase, the checksums of the feature models it was
trained on, threshold, refractory period, training data, metrics), and a head
this code cannot run is refused with `IncompatibleWakeModel`.

The detector starts, and restarts after `reset()`, as if the stream had been
preceded by digital silence, so the first frames are scored like any others. Fed
the same audio, it gives the same scores whatever the chunk sizes, and the same as
`score_audio` on the whole recording.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import AssistantError, AudioError
from assistant.litert import load_interpreter

log = logging.getLogger(__name__)

SAMPLE_RATE_HZ = 16_000
FRAME_SAMPLES = 1280  # 80 ms at 16 kHz: one audio frame in, one embedding and one score out
FRAME_MS = 80
MEL_HOP_SAMPLES = 160  # 10 ms between mel frames
MEL_FRAMES_PER_FRAME = FRAME_SAMPLES // MEL_HOP_SAMPLES  # 8 new mel frames per audio frame
MEL_CONTEXT_SAMPLES = 480  # audio before a frame that its 8 mel windows (512 samples each) also cover
MEL_INPUT_SAMPLES = MEL_CONTEXT_SAMPLES + FRAME_SAMPLES  # 1760: what the melspectrogram model reads per frame
MEL_BANDS = 32
EMBEDDING_WINDOW_MEL_FRAMES = 76  # ~775 ms of mel frames per speech embedding
# The embedding model cut after its third max-pooling (`embedding_cut.py`): a window makes
# 14 rows of that layer, 2 new ones per frame, each from 24 mel frames 4 apart
CUT_WINDOW_ROWS = 14
CUT_ROWS_PER_FRAME = 2
CUT_FRONT_MEL_FRAMES = 28  # the mel frames behind the 2 newest rows
EMBEDDING_SIZE = 96  # width of one speech embedding
HEAD_WINDOW_EMBEDDINGS = 16  # 1.28 s of embeddings (one per frame) that a head scores
HEAD_INPUT_SHAPE = (HEAD_WINDOW_EMBEDDINGS, EMBEDDING_SIZE)

MODEL_FORMAT = "assistant-wakeword"
MODEL_FORMAT_VERSION = 1
METADATA_FILE = "wake.json"
MELSPECTROGRAM_FILE = "melspectrogram.tflite"
EMBEDDING_FILE = "embedding_model.tflite"
FEATURE_MODEL_FILES = (MELSPECTROGRAM_FILE, EMBEDDING_FILE)  # what heads are trained on (their checksums)
EMBEDDING_FRONT_FILE = "embedding_front.tflite"  # EMBEDDING_FILE cut in two (`embedding_cut.py`): what runs
EMBEDDING_BACK_FILE = "embedding_back.tflite"
DEFAULT_WAKE_DIR = Path(__file__).resolve().parent.parent / "models" / "wake"
DEFAULT_FEATURES_DIR = DEFAULT_WAKE_DIR / "features"


class IncompatibleWakeModel(AssistantError):
    """A wake word model directory is missing, malformed, or made for other feature models."""


@dataclass(frozen=True)
class WakeScore:
    """The head's verdict on one 80 ms frame."""

    frame_index: int  # frames since the last reset, from 0
    end_s: float  # stream time at the end of this frame, seconds since the last reset
    score: float  # head output in [0, 1]
    detected: bool  # score reached the threshold outside the refractory period of an earlier detection

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def phrase_slug(phrase: str) -> str:
    """The model directory name of a wake phrase: "Hey Fridge" -> "hey_fridge"."""
    slug = re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_")
    if not slug:
        raise IncompatibleWakeModel(f"{phrase!r} is not a usable wake phrase (no letters or digits)")
    return slug


def file_sha256(path: Path) -> str:
    digest: str = _sha256(path.read_bytes()).hexdigest()
    return digest


def _sha256_class() -> Any:
    """CPython's own SHA-256: `hashlib` loads OpenSSL for it, 3.6 MB resident on a device that checks two files."""
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]  # CPython 3.11

        return sha256
    except ImportError:
        from hashlib import sha256  # other interpreters and versions: the same digest

        return sha256


_sha256 = _sha256_class()


def detections(scores: np.ndarray, threshold: float, refractory_frames: int) -> list[int]:
    """Frames where a detector fires: at or over `threshold`, and at least
    `refractory_frames` after the previous firing. The streaming rule, on a whole recording."""
    fired: list[int] = []
    next_allowed = 0
    for index in np.flatnonzero(scores >= threshold):
        if index >= next_allowed:
            fired.append(int(index))
            next_allowed = int(index) + refractory_frames
    return fired


class SpeechFeatures:
    """The two shared feature models: audio -> mel frames -> speech embeddings.

    The embedding model runs as its two halves (`embedding_cut.py`), so that each
    frame computes only the rows its 8 new mel frames add. One interpreter per
    model, one thread each by default.
    """

    def __init__(self, directory: Path | str = DEFAULT_FEATURES_DIR, threads: int = 1) -> None:
        self.directory = Path(directory)
        halves = (EMBEDDING_FRONT_FILE, EMBEDDING_BACK_FILE)
        paths = {name: self.directory / name for name in (*FEATURE_MODEL_FILES, *halves)}
        for name, path in paths.items():
            if not path.is_file():
                made = f"`python -m assistant.embedding_cut {self.directory}` makes it from {EMBEDDING_FILE}"
                remedy = made if name in halves else "it ships in models/wake/features/"
                raise IncompatibleWakeModel(f"{path}: feature model missing ({remedy})")
        self.checksums = {name: file_sha256(paths[name]) for name in FEATURE_MODEL_FILES}
        self._mel = load_interpreter(paths[MELSPECTROGRAM_FILE], threads, {0: (1, MEL_INPUT_SAMPLES)})
        self._mel_in = self._mel.get_input_details()[0]["index"]
        self._mel_out = self._mel.get_output_details()[0]["index"]
        front_shape = (1, CUT_FRONT_MEL_FRAMES, MEL_BANDS, 1)
        self._front = load_interpreter(paths[EMBEDDING_FRONT_FILE], threads, {0: front_shape})
        _, rows, bands, channels = (int(n) for n in self._front.get_output_details()[0]["shape"])
        self._check_cut(paths[EMBEDDING_FRONT_FILE], rows == CUT_ROWS_PER_FRAME, f"{rows} rows a frame")
        self._back = load_interpreter(paths[EMBEDDING_BACK_FILE], threads, {0: (1, CUT_WINDOW_ROWS, bands, channels)})
        width = int(np.prod(self._back.get_output_details()[0]["shape"]))
        self._check_cut(paths[EMBEDDING_BACK_FILE], width == EMBEDDING_SIZE, f"{width} values out")
        self._front_in = self._front.get_input_details()[0]["index"]
        self._front_out = self._front.get_output_details()[0]["index"]
        self._back_in = self._back.get_input_details()[0]["index"]
        self._back_out = self._back.get_output_details()[0]["index"]
        self._front_input = np.zeros((1, CUT_FRONT_MEL_FRAMES, MEL_BANDS, 1), np.float32)
        self.silence_mel = self.melspectrogram(np.zeros(MEL_INPUT_SAMPLES, np.float32))[0]  # (MEL_BANDS,)
        silent_rows = self.cut_rows(np.tile(self.silence_mel, (CUT_FRONT_MEL_FRAMES, 1)))
        self.silence_rows = np.repeat(silent_rows[-1:], CUT_WINDOW_ROWS, axis=0)  # every row of a silent window
        self.silence_embedding = self.embed_rows(self.silence_rows)

    def melspectrogram(self, samples: np.ndarray) -> np.ndarray:
        """(MEL_INPUT_SAMPLES,) samples at int16 scale -> (MEL_FRAMES_PER_FRAME, MEL_BANDS) mel frames,
        scaled as the embedding model expects."""
        self._mel.set_tensor(self._mel_in, samples.astype(np.float32, copy=False).reshape(1, MEL_INPUT_SAMPLES))
        self._mel.invoke()
        mel: np.ndarray = self._mel.get_tensor(self._mel_out)[0, 0]  # (MEL_FRAMES_PER_FRAME, MEL_BANDS)
        return mel / 10.0 + 2.0  # openWakeWord's match of its ONNX melspectrogram to Google's TF one

    def cut_rows(self, mel_frames: np.ndarray) -> np.ndarray:
        """The newest CUT_FRONT_MEL_FRAMES mel frames -> the CUT_ROWS_PER_FRAME newest rows of the cut layer."""
        self._front_input[0, :, :, 0] = mel_frames
        self._front.set_tensor(self._front_in, self._front_input)
        self._front.invoke()
        return np.array(self._front.get_tensor(self._front_out)[0], np.float32)

    def embed_rows(self, rows: np.ndarray) -> np.ndarray:
        """The CUT_WINDOW_ROWS rows of the cut layer a window makes -> its (EMBEDDING_SIZE,) embedding."""
        self._back.set_tensor(self._back_in, rows[None].astype(np.float32, copy=False))
        self._back.invoke()
        return np.array(self._back.get_tensor(self._back_out).reshape(EMBEDDING_SIZE), np.float32)

    def _check_cut(self, path: Path, right: bool, found: str) -> None:
        if not right:
            raise IncompatibleWakeModel(
                f"{path}: not {EMBEDDING_FILE} cut after its third max-pooling ({found}); "
                f"`python -m assistant.embedding_cut {self.directory}` remakes it"
            )

    def embed_audio(self, samples: np.ndarray) -> np.ndarray:
        """(n,) int16 samples -> (n // FRAME_SAMPLES, EMBEDDING_SIZE): the embedding of every whole frame
        as a stream started from silence produces them (a partial last frame is dropped).

        Frame by frame on purpose: the melspectrogram model clips each input to 80 dB
        below its own loudest bin, so one long input would give other mel frames
        than the 1760-sample inputs of streaming."""
        stream = FeatureStream(self)
        frames = samples.shape[0] // FRAME_SAMPLES
        embeddings = np.empty((frames, EMBEDDING_SIZE), np.float32)
        for frame in range(frames):
            embeddings[frame] = stream.push(samples[frame * FRAME_SAMPLES : (frame + 1) * FRAME_SAMPLES])
        return embeddings


class FeatureStream:
    """Streaming state of the feature models: one whole frame in, one embedding out."""

    def __init__(self, features: SpeechFeatures) -> None:
        self.features = features
        self.reset()

    def reset(self) -> None:
        """Forget the audio, as if the stream had been digital silence so far."""
        self._input = np.zeros(MEL_INPUT_SAMPLES, np.float32)  # 480 samples of context + the newest frame
        self._mels = np.tile(self.features.silence_mel, (CUT_FRONT_MEL_FRAMES, 1))
        self._rows = self.features.silence_rows.copy()

    def push(self, frame: np.ndarray) -> np.ndarray:
        """(FRAME_SAMPLES,) int16 -> (EMBEDDING_SIZE,) embedding of the latest ~775 ms."""
        self._input[:MEL_CONTEXT_SAMPLES] = self._input[-MEL_CONTEXT_SAMPLES:]
        self._input[MEL_CONTEXT_SAMPLES:] = frame
        new_mels = self.features.melspectrogram(self._input)  # (MEL_FRAMES_PER_FRAME, MEL_BANDS)
        self._mels = np.concatenate([self._mels[MEL_FRAMES_PER_FRAME:], new_mels])
        self._rows = np.concatenate([self._rows[CUT_ROWS_PER_FRAME:], self.features.cut_rows(self._mels)])
        return self.features.embed_rows(self._rows)


class WakeWordModel:
    """One wake phrase's head and its `wake.json`."""

    def __init__(self, directory: Path, metadata: dict[str, Any], threads: int = 1) -> None:
        self.directory = directory
        self.metadata = metadata
        self.phrase = str(metadata["phrase"])
        detection = metadata["detection"]
        self.threshold = float(detection["threshold"])
        self.refractory_frames = max(1, round(float(detection["refractory_ms"]) / FRAME_MS))
        head_path = directory / metadata["head"]["file"]
        if not head_path.is_file():
            raise IncompatibleWakeModel(f"{head_path}: head model missing")
        if file_sha256(head_path) != metadata["head"]["sha256"]:
            raise IncompatibleWakeModel(f"{head_path}: does not match the sha256 in {METADATA_FILE}")
        self._head = load_interpreter(head_path, threads, {0: (1, *HEAD_INPUT_SHAPE)})
        head_input = self._head.get_input_details()[0]
        if tuple(head_input["shape"][1:]) != HEAD_INPUT_SHAPE:
            raise IncompatibleWakeModel(
                f"{head_path}: head reads {tuple(head_input['shape'][1:])}, this code feeds {HEAD_INPUT_SHAPE}"
            )
        self._head_in = head_input["index"]
        self._head_out = self._head.get_output_details()[0]["index"]
        self._window = np.zeros((1, *HEAD_INPUT_SHAPE), np.float32)

    @classmethod
    def load(cls, directory: Path | str, threads: int = 1) -> WakeWordModel:
        directory = Path(directory)
        return cls(directory, read_metadata(directory), threads)

    def score(self, window: np.ndarray) -> float:
        """(HEAD_WINDOW_EMBEDDINGS, EMBEDDING_SIZE) embeddings -> score in [0, 1]."""
        self._window[0] = window
        self._head.set_tensor(self._head_in, self._window)
        self._head.invoke()
        return float(self._head.get_tensor(self._head_out).reshape(-1)[0])


def read_metadata(directory: Path) -> dict[str, Any]:
    """`wake.json` of a model directory, checked for what this code needs."""
    path = directory / METADATA_FILE
    try:
        metadata: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IncompatibleWakeModel(
            f"{path}: no wake word model here; train one with `assistant wakeword train PHRASE --out {directory}`"
        ) from None
    except (OSError, ValueError) as error:
        raise IncompatibleWakeModel(f"{path}: unreadable wake word metadata ({error})") from error
    if not isinstance(metadata, dict) or metadata.get("format") != MODEL_FORMAT:
        found = metadata.get("format") if isinstance(metadata, dict) else None
        raise IncompatibleWakeModel(f"{path}: not a wake word model (format {found!r}, expected {MODEL_FORMAT!r})")
    if metadata.get("format_version") != MODEL_FORMAT_VERSION:
        raise IncompatibleWakeModel(
            f"{path}: wake word model format version {metadata.get('format_version')!r}, "
            f"this code reads {MODEL_FORMAT_VERSION}; retrain it with `assistant wakeword train`"
        )
    for key, fields in (
        ("phrase", ()),
        ("head", ("file", "sha256")),
        ("features", FEATURE_MODEL_FILES),
        ("detection", ("threshold", "refractory_ms")),
    ):
        if key not in metadata:
            raise IncompatibleWakeModel(f"{path}: missing {key!r}")
        for field in fields:
            if field not in metadata[key]:
                raise IncompatibleWakeModel(f"{path}: missing {key}.{field}")
    threshold = metadata["detection"]["threshold"]
    if not isinstance(threshold, (int, float)) or not 0.0 < threshold < 1.0:
        raise IncompatibleWakeModel(f"{path}: detection.threshold must be a number in (0, 1), got {threshold!r}")
    return metadata


def shipped_phrases(models_dir: Path | str = DEFAULT_WAKE_DIR) -> list[str]:
    """Phrases with a model directory under `models_dir`."""
    phrases = []
    for metadata_path in sorted(Path(models_dir).glob(f"*/{METADATA_FILE}")):
        try:
            phrases.append(str(json.loads(metadata_path.read_text(encoding="utf-8"))["phrase"]))
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("%s: unreadable, skipped", metadata_path)
    return phrases


class WakeWordDetector:
    """Streaming detector for one wake phrase.

    `process(frame)` scores one 80 ms frame; `feed(samples)` takes any number of
    samples and scores every frame they complete. Scores and detections do not
    depend on how the audio is chunked.
    """

    def __init__(self, model: WakeWordModel, features: SpeechFeatures, threshold: float | None = None) -> None:
        expected: Mapping[str, str] = model.metadata["features"]
        for name, checksum in features.checksums.items():
            if expected[name] != checksum:
                raise IncompatibleWakeModel(
                    f"{model.directory}: trained on a different {name} than {features.directory / name} "
                    f"(sha256 {expected[name][:12]}..., found {checksum[:12]}...); retrain the head"
                )
        if threshold is not None and not 0.0 < threshold < 1.0:
            raise AssistantError(f"wake word threshold must be in (0, 1), got {threshold}")
        self.model = model
        self.features = features
        self.threshold = model.threshold if threshold is None else threshold
        self._stream = FeatureStream(features)
        self.reset()

    @classmethod
    def from_dir(
        cls,
        directory: Path | str,
        features_dir: Path | str = DEFAULT_FEATURES_DIR,
        threshold: float | None = None,
        threads: int = 1,
    ) -> WakeWordDetector:
        return cls(WakeWordModel.load(directory, threads), SpeechFeatures(features_dir, threads), threshold)

    @classmethod
    def for_phrase(
        cls,
        phrase: str,
        models_dir: Path | str = DEFAULT_WAKE_DIR,
        threshold: float | None = None,
        threads: int = 1,
    ) -> WakeWordDetector:
        """The model for a profile's `wake_phrase`, from `models_dir/<slug>/`."""
        directory = Path(models_dir) / phrase_slug(phrase)
        if not (directory / METADATA_FILE).is_file():
            available = ", ".join(repr(p) for p in shipped_phrases(models_dir)) or "none"
            raise IncompatibleWakeModel(
                f"no wake word model for {phrase!r} in {models_dir} (available: {available}); "
                f'train one with `assistant wakeword train "{phrase}" --out {directory}`'
            )
        detector = cls.from_dir(directory, Path(models_dir) / "features", threshold, threads)
        if phrase_slug(detector.phrase) != phrase_slug(phrase):
            raise IncompatibleWakeModel(f"{directory}: the model is for {detector.phrase!r}, not {phrase!r}")
        return detector

    @property
    def phrase(self) -> str:
        return self.model.phrase

    def reset(self) -> None:
        """Start over, as if after digital silence: buffers, frame count and refractory period."""
        self._stream.reset()
        self._embeddings = np.tile(self.features.silence_embedding, (HEAD_WINDOW_EMBEDDINGS, 1))
        self._pending = np.zeros(0, np.int16)
        self._frame_index = 0
        self._next_allowed = 0

    def process(self, frame: np.ndarray) -> WakeScore:
        """Score one frame of exactly FRAME_SAMPLES int16 samples."""
        if frame.dtype != np.int16 or frame.shape != (FRAME_SAMPLES,):
            raise AudioError(
                f"a wake word frame is {FRAME_SAMPLES} int16 samples (80 ms at {SAMPLE_RATE_HZ} Hz), "
                f"got shape {frame.shape} {frame.dtype}"
            )
        if self._pending.size:
            raise AudioError("process() called while feed() holds a partial frame; use one or the other")
        return self._score(frame)

    def feed(self, samples: np.ndarray) -> list[WakeScore]:
        """Score every frame completed by these int16 samples (any number, mono)."""
        if samples.dtype != np.int16 or samples.ndim != 1:
            raise AudioError(f"wake word audio is mono int16 samples, got shape {samples.shape} {samples.dtype}")
        audio = np.concatenate([self._pending, samples]) if self._pending.size else samples
        whole = audio.shape[0] // FRAME_SAMPLES * FRAME_SAMPLES
        scores = [self._score(audio[start : start + FRAME_SAMPLES]) for start in range(0, whole, FRAME_SAMPLES)]
        self._pending = audio[whole:].copy()
        return scores

    def score_audio(self, samples: np.ndarray) -> np.ndarray:
        """Scores of every whole frame of a recording from a fresh start, (n // FRAME_SAMPLES,);
        the same numbers `process` gives after `reset()`. Does not touch the streaming state."""
        embeddings = self.features.embed_audio(samples)
        return self.score_embeddings(embeddings)

    def score_embeddings(self, embeddings: np.ndarray) -> np.ndarray:
        """Scores of every frame of a recording given its embeddings from `SpeechFeatures.embed_audio`."""
        padded = np.concatenate([np.tile(self.features.silence_embedding, (HEAD_WINDOW_EMBEDDINGS, 1)), embeddings])
        return np.array(
            [self.model.score(padded[i + 1 : i + 1 + HEAD_WINDOW_EMBEDDINGS]) for i in range(embeddings.shape[0])],
            np.float32,
        )

    def _score(self, frame: np.ndarray) -> WakeScore:
        embedding = self._stream.push(frame)
        self._embeddings = np.concatenate([self._embeddings[1:], embedding[None, :]])
        score = self.model.score(self._embeddings)
        index = self._frame_index
        detected = score >= self.threshold and index >= self._next_allowed
        if detected:
            self._next_allowed = index + self.model.refractory_frames
            log.debug("wake phrase %r at frame %d (score %.3f)", self.phrase, index, score)
        self._frame_index += 1
        return WakeScore(index, (index + 1) * FRAME_MS / 1000.0, score, detected)
