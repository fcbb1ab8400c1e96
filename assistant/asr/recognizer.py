"""One streaming interface for every speech recognizer engine.

    recognizer.start()                  # a new utterance
    partial = recognizer.feed(frame)    # int16 mono frames at 16 kHz, any length
    transcript = recognizer.finish()    # the Transcript of the utterance

The base class checks frames, times the engine and computes the real-time
factor; engines (`pocketsphinx_engine.py`, `vosk_engine.py`) implement `_start`,
`_feed` and `_finish`. A recognizer is reused for utterance after utterance and
is not thread-safe: feed it from one thread (the microphone callback only
queues audio).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from assistant.asr.transcript import Partial, Transcript
from assistant.audio import DEFAULT_FRAME_SAMPLES, SAMPLE_RATE_HZ
from assistant.errors import RecognizerError

RTF_DECIMALS = 4


class Recognizer(ABC):
    """A speech recognizer for one device: engine, model and grammar fixed at build."""

    engine: str  # "vosk" | "pocketsphinx"
    mode: str  # "grammar" | "open"

    def __init__(self) -> None:
        self._busy_s = 0.0
        self._samples = 0
        self._started = False

    def start(self) -> None:
        """Begin a new utterance (an unfinished one is discarded)."""
        began = time.perf_counter()
        self._start()
        self._busy_s = time.perf_counter() - began
        self._samples = 0
        self._started = True

    def feed(self, frame: NDArray[np.int16]) -> Partial:
        """Decode one frame of int16 mono 16 kHz audio; the running guess."""
        if not self._started:
            raise RecognizerError(f"{self.engine}: feed() before start()")
        if frame.dtype != np.int16 or frame.ndim != 1:
            raise RecognizerError(
                f"{self.engine}: frames are 1-D int16 samples at {SAMPLE_RATE_HZ} Hz, "
                f"got {frame.dtype} of shape {frame.shape}"
            )
        began = time.perf_counter()
        partial = self._feed(frame.astype("<i2", copy=False).tobytes())
        self._busy_s += time.perf_counter() - began
        self._samples += len(frame)
        return partial

    def finish(self) -> Transcript:
        """End the utterance and return what was said."""
        if not self._started:
            raise RecognizerError(f"{self.engine}: finish() before start()")
        began = time.perf_counter()
        text, alternatives = self._finish()
        self._busy_s += time.perf_counter() - began
        self._started = False
        audio_s = self._samples / SAMPLE_RATE_HZ
        rtf = round(self._busy_s / audio_s, RTF_DECIMALS) if audio_s else 0.0
        return Transcript(text=text, alternatives=alternatives, engine=self.engine, rtf=rtf)

    def transcribe(self, samples: NDArray[np.int16], frame_samples: int = DEFAULT_FRAME_SAMPLES) -> Transcript:
        """A whole utterance, fed frame by frame as a microphone would."""
        self.start()
        for frame in _frames(samples, frame_samples):
            self.feed(frame)
        return self.finish()

    @abstractmethod
    def _start(self) -> None: ...

    @abstractmethod
    def _feed(self, pcm: bytes) -> Partial: ...

    @abstractmethod
    def _finish(self) -> tuple[str, tuple[str, ...]]:
        """(best text, n-best texts best first)."""


def _frames(samples: NDArray[np.int16], frame_samples: int) -> Iterator[NDArray[np.int16]]:
    if frame_samples < 1:
        raise RecognizerError(f"frame size must be at least 1 sample, got {frame_samples}")
    for begin in range(0, len(samples), frame_samples):
        yield samples[begin : begin + frame_samples]
