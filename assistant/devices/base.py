"""The one small interface between the dialogue and a device.

The dialogue hands a device an action (an intent name and typed slot values) and
gets an `Outcome` back: done, with the values the reply reports, or refused, with
the reason in words the reply can say. A device also reports its state (for the
simulator's display and scripted checks) and the notices that became due as time
passed (a timer rang, a wash finished). A real appliance driver implements
`Device`; the simulators here implement it with one `Capability` per intent domain.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from assistant.devices.clock import Clock, seconds_between
from assistant.slot_types import Value


@dataclass(frozen=True)
class Outcome:
    """What an action did. `results` are typed values in the units of the intent's
    `result` fields (seconds, "HH:MM", degrees, percent); `reason` is a spoken
    clause ("the door is open") that the failure reply states."""

    ok: bool
    results: Mapping[str, Value] = field(default_factory=dict)
    reason: str | None = None

    @classmethod
    def done(cls, **results: Value) -> Outcome:
        return cls(True, results)

    @classmethod
    def refused(cls, reason: str) -> Outcome:
        return cls(False, {}, reason)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "results": dict(self.results), "reason": self.reason}


@dataclass(frozen=True)
class Notice:
    """Something the device announces by itself when its time comes."""

    at: datetime
    event: str  # "timer.finished", "washer.finished", ...
    text: str  # what the device says
    ringing: bool = False  # keeps alerting until stopped ("stop")

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(timespec="seconds"), "event": self.event, "text": self.text}


class Device(Protocol):
    name: str

    def supports(self, intent: str) -> bool: ...

    def act(self, intent: str, slots: Mapping[str, Value]) -> Outcome: ...

    def state(self) -> dict[str, Any]: ...

    def poll(self) -> list[Notice]: ...

    def silence(self) -> bool: ...


class Capability(ABC):
    """One intent domain of a simulated appliance. An action `domain.verb` calls
    the method `verb` with the slot values as keyword arguments; a slot the user
    did not give is left out, so each method's defaults are the device's."""

    domain: ClassVar[str]

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._pending: list[Notice] = []
        self._ringing: list[Notice] = []

    def act(self, verb: str, slots: Mapping[str, Value]) -> Outcome:
        handler = getattr(self, verb, None)
        if handler is None or verb.startswith("_") or verb in _NOT_ACTIONS:
            return Outcome.refused(f"this device cannot {verb.replace('_', ' ')}")
        outcome: Outcome = handler(**slots)
        return outcome

    def state(self) -> dict[str, Any]:
        return {}

    def poll(self) -> list[Notice]:
        """Notices due by now, oldest first; called after the clock moves."""
        return []

    def silence(self) -> bool:
        """Stop whatever is ringing; True if something was."""
        return False

    def seconds_since(self, moment: datetime) -> float:
        return seconds_between(moment, self.clock.now())


_NOT_ACTIONS = frozenset({"act", "state", "poll", "silence", "seconds_since", "domain", "clock"})


class SimulatedDevice:
    """An appliance built from the capabilities of its profile's domains."""

    def __init__(self, name: str, capabilities: list[Capability]) -> None:
        self.name = name
        self._by_domain = {capability.domain: capability for capability in capabilities}

    @property
    def domains(self) -> list[str]:
        return list(self._by_domain)

    def supports(self, intent: str) -> bool:
        return intent.split(".", 1)[0] in self._by_domain

    def act(self, intent: str, slots: Mapping[str, Value]) -> Outcome:
        domain, verb = intent.split(".", 1)
        capability = self._by_domain.get(domain)
        if capability is None:
            return Outcome.refused(f"the {self.name.replace('_', ' ')} has no {domain}")
        return capability.act(verb, slots)

    def state(self) -> dict[str, Any]:
        return {domain: capability.state() for domain, capability in self._by_domain.items()}

    def poll(self) -> list[Notice]:
        notices = [notice for capability in self._by_domain.values() for notice in capability.poll()]
        return sorted(notices, key=lambda notice: notice.at)

    def silence(self) -> bool:
        return any([capability.silence() for capability in self._by_domain.values()])


def state_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Flattened "domain.key" -> (old, new) for every value that changed."""
    old, new = flatten_state(before), flatten_state(after)
    return {
        key: (old.get(key), new.get(key)) for key in sorted(old.keys() | new.keys()) if old.get(key) != new.get(key)
    }


def flatten_state(state: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in state.items():
        if isinstance(value, Mapping):
            flat.update(flatten_state(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
