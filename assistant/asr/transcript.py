"""What a speech recognizer heard: the result of one utterance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Transcript:
    """The words of one utterance, in recognizer form (lowercase, numbers as words).

    `text` is "" when nothing was recognized: silence or noise is a value, not an
    error.
    """

    text: str
    alternatives: tuple[str, ...]  # the n-best list, best first, when the engine gives one (may repeat `text`)
    engine: str  # the engine that decoded it: "vosk" or "pocketsphinx" (after any fallback)
    rtf: float  # real-time factor: processing seconds / audio seconds (wall clock)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "alternatives": list(self.alternatives), "engine": self.engine, "rtf": self.rtf}


@dataclass(frozen=True)
class Partial:
    """The recognizer's running guess after a frame."""

    text: str  # the words so far (earlier segments and the current partial)
    endpoint: bool  # the engine itself heard the end of an utterance in this frame (vosk); False when it cannot tell
