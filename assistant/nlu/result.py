"""What the intent model returns: typed, frozen values. "Not understood" is a
ParseResult whose intent is None, never an exception."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.slot_types import Value


@dataclass(frozen=True)
class SlotValue:
    name: str
    value: Value  # typed: seconds, "HH:MM", a number, a canonical name, text
    raw: str  # the words it was read from
    start: int  # character span of `raw` in the transcript
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "raw": self.raw}


@dataclass(frozen=True)
class ParseResult:
    text: str  # the normalised transcript
    intent: str | None  # None: not understood
    slots: tuple[SlotValue, ...]
    confidence: float  # probability of the whole frame under the model
    latency_ms: float

    @property
    def understood(self) -> bool:
        return self.intent is not None

    def slot(self, name: str) -> SlotValue | None:
        return next((s for s in self.slots if s.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "slots": {s.name: s.to_dict() for s in self.slots},
            "confidence": round(self.confidence, 4),
            "latency_ms": round(self.latency_ms, 3),
        }
