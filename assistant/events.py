"""What the voice loop reports as it runs: one typed event per thing that happened.

Every event has a `type` and the stream time `at_s` (seconds since the first
frame) and serialises to one JSON line with `to_dict()`; `assistant listen --json`
and the daemon print exactly these.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    at_s: float  # seconds since the stream's first frame

    type = "event"

    def to_dict(self) -> dict[str, Any]:
        data = {"type": self.type, **asdict(self)}
        data["at_s"] = round(self.at_s, 3)
        return data


@dataclass(frozen=True)
class Wake(Event):
    phrase: str
    score: float
    detect_ms: float  # wake word CPU for the frame that fired

    type = "wake"


@dataclass(frozen=True)
class Awaiting(Event):
    """The loop now takes a command without a wake word (after a reply that asked, or a follow-up window)."""

    reason: str  # "follow_up" | "question" | "push_to_talk"

    type = "listening"


@dataclass(frozen=True)
class Heard(Event):
    """A command's transcript; `text` is "" when the recognizer made nothing of it."""

    text: str
    alternatives: tuple[str, ...]
    engine: str
    rtf: float
    audio_s: float  # length of the command audio, speech start to endpoint
    end_reason: str  # silence | max_length | end_of_stream
    recognize_ms: float  # from the endpoint to the transcript

    type = "transcript"


@dataclass(frozen=True)
class NoCommand(Event):
    """Nothing was said after the wake word (or in the follow-up window)."""

    type = "timeout"


@dataclass(frozen=True)
class Understood(Event):
    intent: str | None  # None: not understood
    slots: dict[str, Any]
    confidence: float | None
    parse_ms: float

    type = "intent"


@dataclass(frozen=True)
class Replied(Event):
    text: str
    source: str  # model | template | question | confirmation | device | dialogue
    outcome: dict[str, Any] | None  # what the device did
    state_changes: dict[str, list[Any]]
    expects: str | None
    timings_ms: dict[str, float] = field(default_factory=dict)  # recognize, parse, act, reply, end_to_reply

    type = "reply"


@dataclass(frozen=True)
class Announced(Event):
    """The device said something by itself (a timer rang)."""

    text: str
    event: str

    type = "notice"


@dataclass(frozen=True)
class Failed(Event):
    """A stage failed on this input; the loop goes on."""

    stage: str
    message: str

    type = "error"
