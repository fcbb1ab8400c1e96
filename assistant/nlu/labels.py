"""The model's label sets: which intent each class is and which slot each tag is.

Intent class 0 is "none" (out of scope). Tag 0 is "O" (no slot); slot k has
tags B (1 + 2k, the first token of its value) and I (2 + 2k, the rest).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.intents import IntentSet

NONE = "none"  # the intent class of out-of-scope input


@dataclass(frozen=True)
class LabelSet:
    intents: tuple[str, ...]  # NONE first
    slots: tuple[str, ...]

    @classmethod
    def from_intents(cls, intents: IntentSet) -> LabelSet:
        slots = sorted({name for intent in intents.intents for name in intent.slots})
        return cls((NONE, *sorted(i.name for i in intents.intents)), tuple(slots))

    @property
    def n_tags(self) -> int:
        return 1 + 2 * len(self.slots)

    def intent_index(self, name: str | None) -> int:
        return self.intents.index(name or NONE)

    def begin_tag(self, slot: str) -> int:
        return 1 + 2 * self.slots.index(slot)

    def inside_tag(self, slot: str) -> int:
        return 2 + 2 * self.slots.index(slot)

    def tag_slot(self, tag: int) -> str | None:
        return None if tag == 0 else self.slots[(tag - 1) // 2]

    def to_dict(self) -> dict[str, Any]:
        return {"intents": list(self.intents), "slots": list(self.slots)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelSet:
        return cls(tuple(data["intents"]), tuple(data["slots"]))
