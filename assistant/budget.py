"""Does the assistant fit the device? Memory and power, measured here and scaled.

Memory: each component is loaded in a fresh interpreter, in the order the voice
loop loads them, and the growth of resident memory after each is its share; the
process peak comes after one command has gone through every stage. Linux only
(/proc/self/status). Over the limit with a grammar recognizer, the peak is measured
again without each domain the profile enables ("general" stays): the grammar is
the part of the recognizer that grows with what a device understands (leaving
out the watch's media commands took its peak from 96.4 to 85.6 MB), so the advice
says which domains a device could do without, and whether that would fit. When
no one domain is enough, the fewest domains whose savings add up to enough (the
largest first, `domains_to_leave_out`) are left out together and measured. With
PocketSphinx's exact grammar network it is also measured with the big slots
shared (`asr/slot_network.py`; the watch shares them: 97.1 -> 87.7 MB).

Power: CPU time per stage, measured here with the process clock, is scaled by the
profile's `cpu_factor` (how much slower its core is) and priced at its
`cpu_active_mw`. Always-on listening costs the VAD on every frame plus the wake
word on the frames it runs on, and keeps the core from sleeping deeper than its
clock-gated idle between frames (push-to-talk costs nothing until the button).
When that exceeds the profile's power budget, the listening mode steps down
(VAD-gated wake word, then push-to-talk) and the report says what was chosen.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import AssistantError
from assistant.intents import IntentSet
from assistant.profiles import LISTENING_MODES, RECOGNIZER_NETWORKS, DeviceProfile

log = logging.getLogger(__name__)

# One representative command per domain, for the end-to-end measurements: the
# first of a profile's domains found here is used.
COMMANDS = {
    "coffee": "make me a large latte with oat milk",
    "oven": "preheat the oven to two hundred degrees",
    "washer": "start a cotton wash at forty degrees",
    "dishwasher": "start the dishwasher on eco",
    "fridge": "set the fridge to four degrees",
    "thermostat": "set the heating to twenty one degrees",
    "vacuum": "clean the kitchen",
    "lights": "turn on the kitchen lights",
    "timer": "set a timer for ten minutes",
    "watch": "start a running workout",
    "alarm": "set an alarm for seven thirty",
}
GATED_SPEECH_SHARE = 0.2  # share of frames a home's VAD passes (talk, TV, clatter): the wake word runs on these
NETWORK_ADVICE = {  # what each of `profiles.RECOGNIZER_NETWORKS` is, in the advice
    "exact": "the recognizer's grammar network of every sentence exactly",
    "shared_slots": "the recognizer's grammar network with shared slots",
    "ngram": "the recognizer's grammar as an n-gram language model",
}
ALWAYS_KEPT_DOMAIN = "general"  # yes, no, cancel, help: the dialogue needs them on every device
MAX_BATTERY_DAYS = 3650.0  # above ten years the battery's own ageing decides, not the assistant
HOURS_PER_DAY = 24.0
SECONDS_PER_HOUR = 3600.0


class BudgetError(AssistantError):
    """A budget measurement could not be made; the message says which component failed."""


@dataclass(frozen=True)
class Component:
    name: str
    mb: float  # resident memory it added when loaded

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "mb": round(self.mb, 1)}


@dataclass(frozen=True)
class StageTime:
    """One stage of a command, measured here; `device_ms` scales the CPU time by the profile."""

    name: str
    wall_ms: float
    cpu_ms: float
    device_ms: float


@dataclass(frozen=True)
class Listening:
    mode: str  # always | vad_gated | push_to_talk
    standby_mw: float
    reason: str  # why this mode: the profile's choice, or what was over budget


@dataclass(frozen=True)
class BudgetReport:
    profile: str
    components: tuple[Component, ...]
    total_mb: float  # process peak after a whole command
    limit_mb: float
    stages: tuple[StageTime, ...]
    energy_mj_per_command: float
    listening: Listening
    battery_days: float | None  # None on mains power
    frame_cpu_ms: dict[str, float] = field(default_factory=dict)  # VAD and wake word per 80 ms frame, here
    # Over the limit with a grammar: the process peak with each domain's commands left out (`check_profile`)
    without_domain_mb: dict[str, float] = field(default_factory=dict)
    # Over the limit with PocketSphinx's grammar: the process peak with each other way of giving it the grammar
    # (recognizer.network). The n-gram model's search does not grow with the grammar, but does not start at nothing:
    # it is the lightest for a watch's grammar, not for a coffee maker's
    network_mb: dict[str, float] = field(default_factory=dict)
    # When no one domain's commands are enough: the fewest domains to leave out together, and the peak measured
    without_domains: tuple[tuple[str, ...], float] | None = None
    # The degraded mode the three figures above were measured in ("push_to_talk": without the wake word, which
    # the runtime drops first when over the limit); None: as the profile listens
    measured_degraded: str | None = None

    @property
    def fits_memory(self) -> bool:
        return self.total_mb <= self.limit_mb

    @property
    def ok(self) -> bool:
        return self.fits_memory

    def advice(self) -> list[str]:
        """When over the memory limit: the heaviest component and what would fit."""
        if self.fits_memory:
            return []
        heaviest = max(self.components, key=lambda c: c.mb)
        over = self.total_mb - self.limit_mb
        lines = [f"{self.total_mb:.1f} MB is over the {self.limit_mb:g} MB limit by {over:.1f} MB; "
                 f"the heaviest component is {heaviest.name} ({heaviest.mb:.1f} MB)"]  # fmt: skip
        for component in sorted(self.components, key=lambda c: -c.mb):
            without = self.total_mb - component.mb
            verdict = "fits" if without <= self.limit_mb else "still over"
            if component.name.startswith("wake word"):
                lines.append(f"push-to-talk (no wake word): about {without:.1f} MB, {verdict}")
            elif component.name.startswith("recognizer") and "open" in component.name:
                lines.append("grammar mode: the device's phrases only, a much smaller search graph")
            elif component.name.startswith("intent model") and "int8" not in component.name:
                lines.append("the int8 intent model variant: a third of the float32 one")
        # what else would fit, measured after the degraded mode the runtime falls back to first
        then = f"on {self.measured_degraded.replace('_', '-')} (the degraded mode), " if self.measured_degraded else ""
        for network, mb in self.network_mb.items():
            verdict = "fits" if mb <= self.limit_mb else "still over"
            lines.append(f"{then}{NETWORK_ADVICE[network]} (recognizer.network: {network}): {mb:.1f} MB, {verdict}")
        for domain, mb in sorted(self.without_domain_mb.items(), key=lambda item: item[1]):
            verdict = "fits" if mb <= self.limit_mb else "still over"
            lines.append(f"{then}without the {domain} domain's commands: {mb:.1f} MB, {verdict}")
        if self.without_domains is not None:
            domains, mb = self.without_domains
            verdict = "fits" if mb <= self.limit_mb else "still over"
            lines.append(f"{then}without the {' and '.join(domains)} domains' commands: {mb:.1f} MB, {verdict}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "ok": self.ok,
            "components": [c.to_dict() for c in self.components],
            "total_mb": round(self.total_mb, 1),
            "limit_mb": self.limit_mb,
            "energy_mj_per_command": round(self.energy_mj_per_command, 2),
            "standby_mw": round(self.listening.standby_mw, 3),
            "battery_days": None if self.battery_days is None else round(self.battery_days, 1),
            "latency_ms": {
                **{s.name: {"here": round(s.wall_ms, 2), "device": round(s.device_ms, 1)} for s in self.stages},
                "total": {
                    "here": round(sum(s.wall_ms for s in self.stages), 2),
                    "device": round(sum(s.device_ms for s in self.stages), 1),
                },
            },
            "listening": {"mode": self.listening.mode, "reason": self.listening.reason},
            "frame_cpu_ms": {name: round(ms, 4) for name, ms in self.frame_cpu_ms.items()},
            "without_domain_mb": {name: round(mb, 1) for name, mb in self.without_domain_mb.items()},
            "network_mb": {name: round(mb, 1) for name, mb in self.network_mb.items()},
            "without_domains": None
            if self.without_domains is None
            else {"domains": list(self.without_domains[0]), "mb": round(self.without_domains[1], 1)},
            "measured_degraded": self.measured_degraded,
            "advice": self.advice(),
        }


def wake_model_exists(phrase: str) -> bool:
    from assistant.wake import DEFAULT_WAKE_DIR, METADATA_FILE, phrase_slug

    return (Path(DEFAULT_WAKE_DIR) / phrase_slug(phrase) / METADATA_FILE).is_file()


def command_for(profile: DeviceProfile) -> str:
    for domain in profile.domains:
        if domain in COMMANDS:
            return COMMANDS[domain]
    raise BudgetError(f"{profile.source}: no representative command for domains {', '.join(profile.domains)}")


# Power ----------------------------------------------------------------------


def standby_mw(profile: DeviceProfile, mode: str, vad_ms: float, wake_ms: float) -> float:
    """Average power of listening, from the CPU time per frame measured here."""
    power = profile.power
    if mode == "push_to_talk":  # nothing runs until the button: the core sleeps as it would without us
        return 0.0
    per_frame_ms = vad_ms + (wake_ms if mode == "always" else GATED_SPEECH_SHARE * wake_ms)
    duty = min(1.0, per_frame_ms * profile.cpu_factor / profile.audio.frame_ms)
    return power.cpu_idle_mw + duty * (power.cpu_active_mw - power.cpu_idle_mw)


def choose_listening(profile: DeviceProfile, vad_ms: float, wake_ms: float) -> Listening:
    """The profile's listening mode, stepped down until it fits the power budget."""
    wanted = "always" if profile.power.listening == "always" else "push_to_talk"
    budget = profile.power.budget_mw
    tried: list[str] = []
    for mode in LISTENING_MODES[LISTENING_MODES.index(wanted) :]:
        power = standby_mw(profile, mode, vad_ms, wake_ms)
        if power <= budget or mode == "push_to_talk":
            if not tried:
                return Listening(mode, power, f"the profile's choice, within the {budget:g} mW budget")
            return Listening(mode, power, f"{'; '.join(tried)} over the {budget:g} mW budget")
        tried.append(f"{mode} needs {power:.2f} mW")
    raise AssertionError("push_to_talk always fits")  # the loop returns at push_to_talk at the latest


def energy_mj(profile: DeviceProfile, stages: tuple[StageTime, ...]) -> float:
    """Energy of one command on the device: its scaled CPU time at the active power (mW x s = mJ)."""
    cpu_s = sum(s.cpu_ms for s in stages) / 1000.0
    return cpu_s * profile.cpu_factor * profile.power.cpu_active_mw


def battery_days(profile: DeviceProfile, standby: float, energy_per_command_mj: float) -> float | None:
    power = profile.power
    if power.source != "battery" or power.battery_mah is None or power.battery_voltage_v is None:
        return None
    capacity_mwh = power.battery_mah * power.battery_voltage_v
    daily_mwh = standby * HOURS_PER_DAY + power.commands_per_day * energy_per_command_mj / SECONDS_PER_HOUR
    return min(MAX_BATTERY_DAYS, capacity_mwh / daily_mwh)


# Timing ---------------------------------------------------------------------


@dataclass
class Stopwatch:
    """Wall and process time of a block, in milliseconds."""

    cpu_factor: float
    stages: list[StageTime] = field(default_factory=list)

    def time(self, name: str, work: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        cpu_ms = (time.process_time() - cpu) * 1000.0
        self.stages.append(StageTime(name, (time.perf_counter() - wall) * 1000.0, cpu_ms, cpu_ms * self.cpu_factor))
        return result


MEASURED_PASSES = 5  # over the frames, after one warm-up pass


def per_frame_cpu_ms(process: Callable[[np.ndarray], Any], frames: list[np.ndarray]) -> float:
    """Process time per frame of a frame-by-frame stage: the fastest of a few passes
    over the frames, after a warm-up pass. Whatever else the machine does only ever
    adds time, and the listening mode is chosen from this figure, so it must not
    change from one start to the next: single cold passes gave the smartwatch's
    VAD-gated listening 5.26-7.17 mW (15 starts), warm fastest passes 5.02-5.06."""
    for frame in frames:
        process(frame)
    fastest = float("inf")
    for _ in range(MEASURED_PASSES):
        started = time.process_time()
        for frame in frames:
            process(frame)
        fastest = min(fastest, time.process_time() - started)
    return fastest * 1000.0 / len(frames)


# Memory ---------------------------------------------------------------------


def rss_mb(pid: int | None = None) -> tuple[float, float]:
    """(resident now, resident peak) in MB of this process, or of process `pid`, from /proc."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid or 'self'}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = float(rest.split()[0]) / 1024.0
    return values["VmRSS"], values["VmHWM"]


def measure_memory(loaders: Iterator[tuple[str, Callable[[], Any]]]) -> tuple[list[Component], float]:
    """Load components one after the other (keeping each alive); (components, process peak MB).

    The first loader is the baseline: everything before it (the interpreter itself)
    counts towards it."""
    kept: list[Any] = []
    components: list[Component] = []
    before = 0.0
    for name, load in loaders:
        kept.append(load())
        now, _ = rss_mb()
        components.append(Component(name, now - before))
        before = now
    _, peak = rss_mb()
    return components, peak


def measure_in_subprocess(argv: list[str], timeout_s: float = 300.0) -> dict[str, Any]:
    """Run `python -m assistant.budget_probe ARGV` in a fresh interpreter and read its JSON."""
    command = [sys.executable, "-m", "assistant.budget_probe", *argv]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    if done.returncode != 0:
        raise BudgetError(f"memory probe failed ({' '.join(argv)}): {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def temporary_wav_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="assistant-budget-")


# The whole check -------------------------------------------------------------


def check_profile(
    profile: DeviceProfile,
    intents: IntentSet,
    *,
    model_dir: Path | None = None,
    engine: str | None = None,
    push_to_talk: bool = False,
    intents_dir: Path | None = None,
    profiles_dir: Path | None = None,
) -> BudgetReport:
    """Measure a profile's components and stages here and scale them to the device."""
    from assistant.asr.factory import build_recognizer
    from assistant.audio import frame_samples_for, iter_frames, write_wav
    from assistant.endpoint import command_span
    from assistant.nlu.runtime import DEFAULT_MODEL_DIR, IntentModel
    from assistant.simulator import Session
    from assistant.tts import synthesize
    from assistant.vad import VoiceActivityDetector
    from assistant.wake import WakeWordDetector

    push_to_talk = push_to_talk or profile.power.listening == "push_to_talk"
    no_wake_model = ""
    if not push_to_talk and not wake_model_exists(profile.wake_phrase):
        push_to_talk, no_wake_model = True, f"no wake word model for {profile.wake_phrase!r} ships yet"
        log.warning("%s: %s: measured as push-to-talk", profile.name, no_wake_model)
    command = command_for(profile)
    audio = command_span(synthesize(command), profile)
    frames = list(iter_frames(audio, frame_samples_for(profile.audio.frame_ms)))
    vad_ms = per_frame_cpu_ms(VoiceActivityDetector().is_speech, frames)
    wake_ms = 0.0
    if not push_to_talk:
        wake = WakeWordDetector.for_phrase(profile.wake_phrase)
        wake_ms = per_frame_cpu_ms(wake.process, frames)
        del wake
    listening = (
        Listening("push_to_talk", 0.0, no_wake_model or "the profile listens on a button press")
        if push_to_talk
        else choose_listening(profile, vad_ms, wake_ms)
    )
    # the device holds the wake word only when it listens for it (`fitting.measured_listening`)
    without_wake = listening.mode == "push_to_talk"
    with temporary_wav_dir() as folder:
        wav = Path(folder) / "command.wav"
        write_wav(wav, audio)
        argv = [profile.name, str(wav)]
        for flag, value in (("--intents", intents_dir), ("--profiles", profiles_dir), ("--model", model_dir),
                            ("--engine", engine)):  # fmt: skip
            if value is not None:
                argv += [flag, str(value)]
        argv += ["--push-to-talk"] if without_wake else []
        probe = measure_in_subprocess(argv)
        without_domain_mb = {}
        network_mb = {}
        without_domains = None
        measured_degraded = None
        if float(probe["peak_mb"]) > profile.memory_limit_mb and profile.recognizer.mode == "grammar":
            # Over the limit, the runtime first gives up what the degraded mode says (`fitting.py`); what else
            # would fit is measured after that, as the runtime would need it
            peak, base = float(probe["peak_mb"]), argv
            if not without_wake and profile.degraded_mode == "push_to_talk":
                measured_degraded, base = "push_to_talk", [*argv, "--push-to-talk"]
                peak = float(measure_in_subprocess(base)["peak_mb"])
            # what the grammar of each domain costs, measured the same way (not "general": yes, no, cancel)
            for domain in (d for d in profile.domains if d != ALWAYS_KEPT_DOMAIN):
                without = measure_in_subprocess([*base, "--without-domain", domain])
                without_domain_mb[domain] = float(without["peak_mb"])
            fewest = domains_to_leave_out(peak, profile.memory_limit_mb, without_domain_mb)
            if len(fewest) > 1:
                argv_without = [arg for domain in fewest for arg in ("--without-domain", domain)]
                without_domains = (fewest, float(measure_in_subprocess([*base, *argv_without])["peak_mb"]))
            pocketsphinx = any(c["name"].startswith("recognizer (pocketsphinx") for c in probe["components"])
            if pocketsphinx:
                for network in (n for n in RECOGNIZER_NETWORKS if n != profile.recognizer.network):
                    network_mb[network] = float(measure_in_subprocess([*base, "--network", network])["peak_mb"])
    components = tuple(Component(c["name"], c["mb"]) for c in probe["components"])
    model = IntentModel.load(intents, model_dir or DEFAULT_MODEL_DIR, profile.model_variant)
    recognizer = build_recognizer(profile, intents, engine=engine)
    session = Session(profile, intents, model)
    recognizer.transcribe(audio)  # warm: first-use allocations are not a command's cost
    session.say(command)
    stopwatch = Stopwatch(profile.cpu_factor)
    transcript = stopwatch.time("recognize", lambda: recognizer.transcribe(audio))
    stopwatch.time("understand_and_reply", lambda: session.say(transcript.text or command))
    stages = tuple(stopwatch.stages)
    energy = energy_mj(profile, stages)
    return BudgetReport(
        profile=profile.name,
        components=components,
        total_mb=float(probe["peak_mb"]),
        limit_mb=profile.memory_limit_mb,
        stages=stages,
        energy_mj_per_command=energy,
        listening=listening,
        battery_days=battery_days(profile, listening.standby_mw, energy),
        frame_cpu_ms={"vad": vad_ms, "wake_word": wake_ms},
        without_domain_mb=without_domain_mb,
        network_mb=network_mb,
        without_domains=without_domains,
        measured_degraded=measured_degraded,
    )


def domains_to_leave_out(peak_mb: float, limit_mb: float, without_domain_mb: dict[str, float]) -> tuple[str, ...]:
    """The fewest domains whose commands, left out together, would bring `peak_mb` under
    `limit_mb`, if the savings each one measured alone add up (the largest first); () when
    one alone is enough, or all of them together are not."""
    savings = sorted(((peak_mb - mb, domain) for domain, mb in without_domain_mb.items()), reverse=True)
    chosen: list[str] = []
    estimate = peak_mb
    for saving, domain in savings:
        if estimate <= limit_mb:
            break
        chosen.append(domain)
        estimate -= max(saving, 0.0)
    return tuple(chosen) if estimate <= limit_mb and len(chosen) > 1 else ()
