"""Fit the running assistant to its device profile: power decides how it listens, memory whether it runs.

`assistant profiles check` measures a profile in fresh processes, for a report.
This module takes the same decisions live, at start-up, in the process that
serves (`assistant listen`, `assistant daemon`), with the same rules
(`assistant.budget`):

- Listening: the VAD's and the wake word's CPU time per frame are measured on
  this machine, on a second of noise (the wake word in a forked child: it is
  loaded for good only when the mode chosen runs it), scaled by the profile, and the listening mode steps down
  (always -> vad_gated -> push_to_talk) until its standby power fits the
  profile's budget. An explicit choice (`--listening`, `--push-to-talk`) wins,
  and the report says what the budget would have chosen.
- Memory: once everything is loaded, this process's resident memory is compared
  with the profile's limit. Over it, the profile's `degraded_mode` says what to
  give up (`pipeline.memory_degrader`): `push_to_talk` drops the wake word,
  `grammar` turns an open-vocabulary recognizer into one that listens for the
  device's commands only; then memory is measured again. Still over (or with
  nothing of that kind to give up: `smaller_model` has no smaller intent model
  than the dynamic-range int8 one the profiles use), the start is refused with
  `OverMemoryLimit`, naming the heaviest component and the limit.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.budget import (
    Component,
    Listening,
    choose_listening,
    per_frame_cpu_ms,
    rss_mb,
    standby_mw,
)
from assistant.errors import AssistantError
from assistant.forked import in_child
from assistant.profiles import LISTENING_MODES, DeviceProfile

PROBE_FRAMES = 13  # about a second of 80 ms frames: enough for a stable CPU figure, short enough for start-up
PROBE_NOISE_RMS = 300.0  # a quiet room, int16 units: the VAD and wake word cost the same on any content
PROBE_SEED = 0


class OverMemoryLimit(AssistantError):
    """The assistant does not fit the profile's memory limit, even degraded."""


@dataclass
class MemoryLedger:
    """Resident memory growth of each component, in the order they are loaded."""

    components: list[Component] = field(default_factory=list)
    _last_mb: float = field(default_factory=lambda: rss_mb()[0])

    @classmethod
    def starting_with(cls, name: str) -> MemoryLedger:
        """A ledger whose first entry is everything this process holds already."""
        ledger = cls(_last_mb=0.0)
        ledger.note(name)
        return ledger

    def note(self, name: str) -> None:
        now = rss_mb()[0]
        self.components.append(Component(name, now - self._last_mb))
        self._last_mb = now

    def heaviest(self) -> Component | None:
        return max(self.components, key=lambda c: c.mb, default=None)


@dataclass(frozen=True)
class Degradation:
    """What a degraded mode gave up to save memory."""

    given_up: str  # "the wake word", said after "without"
    listening: Listening | None = None  # how it listens now, when that changed


@dataclass(frozen=True)
class Fitting:
    """How the running assistant fits its profile: what it listens with and what memory it holds."""

    listening: Listening
    resident_mb: float
    limit_mb: float
    components: tuple[Component, ...]
    degraded: str | None  # what was given up for memory, and why; None when nothing was

    @property
    def fits(self) -> bool:
        return self.resident_mb <= self.limit_mb

    def to_dict(self) -> dict[str, Any]:
        return {
            "listening": {
                "mode": self.listening.mode,
                "standby_mw": round(self.listening.standby_mw, 3),
                "reason": self.listening.reason,
            },
            "resident_mb": round(self.resident_mb, 1),
            "limit_mb": self.limit_mb,
            "components": [c.to_dict() for c in self.components],
            "fits": self.fits,
            "degraded": self.degraded,
        }


def probe_frames(frame_samples: int) -> list[np.ndarray]:
    rng = np.random.default_rng(PROBE_SEED)
    noise = rng.normal(0.0, PROBE_NOISE_RMS, PROBE_FRAMES * frame_samples)
    samples = np.clip(noise, -32768, 32767).astype(np.int16)
    return list(samples.reshape(PROBE_FRAMES, frame_samples))


def measured_listening(
    profile: DeviceProfile,
    vad_is_speech: Callable[[np.ndarray], Any],
    load_wake: Callable[[], Callable[[np.ndarray], Any]] | None,
    frame_samples: int,
    asked: str | None = None,
) -> Listening:
    """The listening mode for this profile, from CPU time per frame measured now.

    `asked` (a mode from `LISTENING_MODES`) overrides the budget. `load_wake` loads
    the wake word and gives its per-frame function; it is measured in a forked
    child (`assistant.forked`), so a device that ends up listening on a button
    press never holds the wake word's models (measured on the smartwatch: 7 MB).
    None means there is no wake word to run (push-to-talk only)."""
    if asked is not None and asked not in LISTENING_MODES:
        raise AssistantError(f"listening mode {asked!r} is not one of {', '.join(LISTENING_MODES)}")
    if load_wake is None or (profile.power.listening == "push_to_talk" and asked is None):
        if asked == "push_to_talk":
            reason = "asked for"
        else:
            reason = "no wake word" if load_wake is None else "the profile listens on a button press"
        return Listening("push_to_talk", 0.0, reason)
    frames = probe_frames(frame_samples)
    vad_ms = per_frame_cpu_ms(vad_is_speech, frames)
    wake_ms = in_child(lambda: per_frame_cpu_ms(load_wake(), frames))
    chosen = choose_listening(profile, vad_ms, wake_ms)
    if asked is None or asked == chosen.mode:
        return chosen
    power = standby_mw(profile, asked, vad_ms, wake_ms)
    return Listening(asked, power, f"asked for; the {profile.power.budget_mw:g} mW budget would choose {chosen.mode}")


def fit_memory(
    profile: DeviceProfile,
    ledger: MemoryLedger,
    listening: Listening,
    degrade: Callable[[], Degradation | None] | None,
    *,
    enforce: bool = True,
) -> Fitting:
    """Check this process against the profile's memory limit, degrading as the profile allows.

    `degrade` gives up what the profile's `degraded_mode` names (`pipeline.memory_degrader`)
    and says what, or None when there is nothing of that kind to give up; None when nothing
    may be given up. Raises `OverMemoryLimit` when it does not fit, unless `enforce` is off
    (then the Fitting says it does not fit)."""
    limit = profile.memory_limit_mb
    resident = rss_mb()[0]
    if resident <= limit or not enforce:
        return Fitting(listening, resident, limit, tuple(ledger.components), None)
    over = f"{resident:.1f} MB resident is over {profile.name}'s {limit:g} MB limit"
    done = degrade() if degrade is not None else None
    if done is not None:
        return_freed_memory()
        now = rss_mb()[0]
        listening = done.listening or listening
        if now <= limit:
            degraded = f"{profile.degraded_mode}: {over}; {now:.1f} MB without {done.given_up}"
            return Fitting(listening, now, limit, tuple(ledger.components), degraded)
        over += f" ({now:.1f} MB even without {done.given_up})"
    elif profile.degraded_mode != "none":
        over += f" (its degraded_mode, {profile.degraded_mode}, has nothing to give up here)"
    heaviest = ledger.heaviest()
    raise OverMemoryLimit(
        f"{profile.source}: memory_limit_mb: {over}"
        + (f"; the heaviest component is {heaviest.name} ({heaviest.mb:.1f} MB)" if heaviest else "")
        + f"; `assistant profiles check {profile.name}` says what would fit, and --ignore-limits runs anyway"
    )


def return_freed_memory() -> None:
    """Give what was just released back to the system. The C allocator keeps freed heap for
    reuse: PocketSphinx's open-vocabulary decoder, released, left 43 of its 94 MB resident
    until `malloc_trim` (glibc; elsewhere the collection is all that is done)."""
    gc.collect()
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # the symbols already loaded: libc's among them
    if trim is not None:
        trim(0)


def describe_fitting(fitting: Fitting) -> str:
    """One line for a person: how it listens and why, and memory against the limit."""
    listening = fitting.listening
    memory = f"{fitting.resident_mb:.1f} MB of {fitting.limit_mb:g} MB"
    if not fitting.fits:
        memory += " (OVER the limit: --ignore-limits)"
    return f"listening: {listening.mode} ({listening.reason}); memory: {memory}"
