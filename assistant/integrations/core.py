"""What the protocol adapters need from the assistant, and nothing more.

The Wyoming server and the Hermes bridge never import the pipeline, the daemon
or a recognizer: they are handed an `AssistantCore`, three calls that take text
or audio and give back the values the rest of the package already uses.

- `transcribe`: 16 kHz mono int16 audio -> an object with `.text`;
- `understand`: a transcript -> a `ParseResult` (intent None: not understood);
- `handle`: a transcript -> a dialogue `Turn` (the device acted, the reply).

`LockedCore` builds one from three callables and makes the calls one at a time,
so the same recognizer, model and dialogue can serve several protocols at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from assistant.dialogue import Turn
from assistant.nlu.result import ParseResult


@runtime_checkable
class TranscriptLike(Protocol):
    """What a recognizer returns: at least the best transcript."""

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Transcription:
    """A recognizer's result: the best transcript and, best first, the runners-up."""

    text: str
    alternatives: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "alternatives": list(self.alternatives)}


class AssistantCore(Protocol):
    """The assistant as the protocol adapters see it.

    Calls may take a while (a recognizer on a long utterance): the adapters make
    them from a worker thread, never from their event loop or network thread.
    """

    def transcribe(self, samples: NDArray[np.int16]) -> TranscriptLike:
        """`samples`: one whole utterance, 16 kHz mono int16."""
        ...

    def understand(self, text: str) -> ParseResult:
        """The intent model's reading of `text`; `intent` None when not understood."""
        ...

    def handle(self, text: str) -> Turn:
        """`text` through the dialogue: the device's action and the reply."""
        ...


class LockedCore:
    """An `AssistantCore` from three callables, called one at a time.

    The dialogue keeps state between turns and a recognizer holds one decoder, so
    two protocols (or two Wyoming clients) must not call into them at once.
    """

    def __init__(
        self,
        transcribe: Callable[[NDArray[np.int16]], TranscriptLike],
        understand: Callable[[str], ParseResult],
        handle: Callable[[str], Turn],
    ) -> None:
        self._transcribe = transcribe
        self._understand = understand
        self._handle = handle
        self._lock = threading.Lock()

    def transcribe(self, samples: NDArray[np.int16]) -> TranscriptLike:
        with self._lock:
            return self._transcribe(samples)

    def understand(self, text: str) -> ParseResult:
        with self._lock:
            return self._understand(text)

    def handle(self, text: str) -> Turn:
        with self._lock:
            return self._handle(text)
