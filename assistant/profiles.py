"""Device profiles: what each device understands and the limits it runs within.

One YAML file per device in `device_profiles/`. A profile names the intent
domains the device enables and sets its memory limit, power figures, audio
settings, wake phrase, recognizer, model variant and speed relative to the
reference machine. Loading is strict, and every enabled domain must exist in the
intent definitions.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from assistant.config import Section, read_yaml
from assistant.errors import ConfigError
from assistant.intents import DEFAULT_INTENTS_DIR, IntentSet, load_intents
from assistant.textnorm import is_normalized

DEFAULT_PROFILES_DIR = Path(__file__).resolve().parent.parent / "device_profiles"
PROFILE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
ENGINES = ("vosk", "pocketsphinx")
RECOGNIZER_MODES = ("grammar", "open")
# How a grammar enters PocketSphinx: a network of every sentence exactly, or with each big slot's
# phrases shared between the places that say it (less memory, a few sentences more: `slot_network.py`),
# or as an n-gram language model of its sentences (memory that does not grow with the grammar:
# `grammar_lm.py`)
RECOGNIZER_NETWORKS = ("exact", "shared_slots", "ngram")
MODEL_VARIANTS = ("int8", "dynamic_int8", "float32")
POWER_SOURCES = ("battery", "mains")
LISTENING = ("always", "push_to_talk")  # what a profile may ask for
LISTENING_MODES = ("always", "vad_gated", "push_to_talk")  # what the runtime may choose, most power first
DEGRADED_MODES = ("none", "push_to_talk", "grammar", "smaller_model")


@dataclass(frozen=True)
class PowerSpec:
    source: str  # battery | mains
    budget_mw: float  # average power the assistant may draw, milliwatts
    cpu_active_mw: float  # the application processor busy on one core, milliwatts
    cpu_idle_mw: float  # the same processor idle between audio frames, milliwatts
    listening: str  # always | push_to_talk
    battery_mah: float | None = None  # capacity, milliamp-hours (battery devices)
    battery_voltage_v: float | None = None  # nominal cell voltage, volts
    commands_per_day: int = 20  # for the battery-life estimate


@dataclass(frozen=True)
class AudioSpec:
    sample_rate_hz: int
    frame_ms: int  # one audio frame handed to wake word and recognizer
    max_command_s: float  # a command longer than this is cut off
    silence_timeout_ms: int  # this much silence ends a command


@dataclass(frozen=True)
class RecognizerSpec:
    engine: str  # vosk | pocketsphinx
    mode: str  # grammar (phrases from the device's intents) | open (any words)
    model: str | None = None  # a model directory or name; None: the engine's default
    network: str = "exact"  # RECOGNIZER_NETWORKS: how PocketSphinx is given the grammar


@dataclass(frozen=True)
class DeviceProfile:
    name: str
    description: str
    domains: tuple[str, ...]
    memory_limit_mb: float  # resident memory the assistant process may use
    power: PowerSpec
    audio: AudioSpec
    wake_phrase: str
    recognizer: RecognizerSpec
    model_variant: str
    cpu_factor: float  # how many times slower than the reference machine
    latency_target_ms: float  # end of speech to reply, on the device
    degraded_mode: str  # what to give up when over a limit
    source: str
    confirm: tuple[str, ...] = ()  # intents this device asks about first, besides those marked `confirm: true`

    def summary(self) -> dict[str, Any]:
        """The short form `assistant profiles --json` lists."""
        return {
            "name": self.name,
            "description": self.description,
            "domains": list(self.domains),
            "memory_limit_mb": self.memory_limit_mb,
            "power_budget_mw": self.power.budget_mw,
            "power_source": self.power.source,
            "listening": self.power.listening,
            "wake_phrase": self.wake_phrase,
            "recognizer": f"{self.recognizer.engine}/{self.recognizer.mode}"
            + ("" if self.recognizer.network == "exact" else f"/{self.recognizer.network}"),
            "model_variant": self.model_variant,
            "cpu_factor": self.cpu_factor,
            "latency_target_ms": self.latency_target_ms,
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["domains"] = list(self.domains)
        return data


PROFILE_KEYS = frozenset({
    "name", "description", "domains", "memory_limit_mb", "power", "audio", "wake_phrase",
    "recognizer", "model_variant", "cpu_factor", "latency_target_ms", "degraded_mode", "confirm",
})  # fmt: skip


def load_profile(path: Path, intents: IntentSet) -> DeviceProfile:
    """Load one profile and check its domains against `intents`."""
    top = Section(read_yaml(path), str(path))
    top.check_keys(PROFILE_KEYS, PROFILE_KEYS - {"degraded_mode", "confirm"})
    name = top.string("name")
    if not PROFILE_NAME.match(name):
        raise top.error(f"{name!r} is not a valid profile name (lowercase letters, digits, _)", "name")
    if name != path.stem:
        raise top.error(f"the name must match the file name {path.stem!r}", "name")
    domains = top.strings("domains")
    known = intents.domain_names()
    for index, domain in enumerate(domains):
        if domain not in known:
            raise top.error(f"unknown domain {domain!r} (known: {', '.join(known)})", f"domains[{index}]")
    if len(set(domains)) != len(domains):
        raise top.error("a domain is listed twice", "domains")
    confirm = top.strings("confirm") if top.has("confirm") else []
    for index, intent_name in enumerate(confirm):
        if intent_name.split(".", 1)[0] not in domains or intent_name not in {i.name for i in intents.intents}:
            raise top.error(f"{intent_name!r} is not an intent of this device's domains", f"confirm[{index}]")
    wake_phrase = top.string("wake_phrase")
    if not is_normalized(wake_phrase):
        raise top.error(f"{wake_phrase!r} must be lowercase words as a recognizer emits them", "wake_phrase")
    return DeviceProfile(
        name=name,
        description=top.string("description"),
        domains=tuple(domains),
        memory_limit_mb=top.number("memory_limit_mb", minimum=1),
        power=_power(top.section("power")),
        audio=_audio(top.section("audio")),
        wake_phrase=wake_phrase,
        recognizer=_recognizer(top.section("recognizer")),
        model_variant=top.choice("model_variant", MODEL_VARIANTS),
        cpu_factor=top.number("cpu_factor", minimum=0.01),
        latency_target_ms=top.number("latency_target_ms", minimum=1),
        degraded_mode=top.choice("degraded_mode", DEGRADED_MODES, "none"),
        confirm=tuple(confirm),
        source=str(path),
    )


def load_device(
    name: str, intents_dir: Path | str = DEFAULT_INTENTS_DIR, profiles_dir: Path | str = DEFAULT_PROFILES_DIR
) -> tuple[IntentSet, DeviceProfile]:
    """One device's profile and the intent definitions of its domains only: what a running device holds."""
    path = Path(profiles_dir) / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(profile_names(profiles_dir)) or "none"
        raise ConfigError(str(profiles_dir), "", f"unknown device {name!r} (profiles: {known})")
    domains = Section(read_yaml(path), str(path)).strings("domains")  # checked in full by load_profile
    intents = load_intents(intents_dir, domains)
    return intents, load_profile(path, intents)


def profile_names(directory: Path | str = DEFAULT_PROFILES_DIR) -> list[str]:
    """The devices `directory` has a profile for (a profile's name is its file's)."""
    return sorted(path.stem for path in Path(directory).glob("*.yaml"))


def load_profiles(intents: IntentSet, directory: Path | str = DEFAULT_PROFILES_DIR) -> dict[str, DeviceProfile]:
    """Every profile in `directory`, by name."""
    directory = Path(directory)
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise ConfigError(str(directory), "", "no device profiles (*.yaml) found")
    return {profile.name: profile for profile in (load_profile(path, intents) for path in paths)}


def _power(section: Section) -> PowerSpec:
    keys = {"source", "budget_mw", "cpu_active_mw", "cpu_idle_mw", "listening",
            "battery_mah", "battery_voltage_v", "commands_per_day"}  # fmt: skip
    section.check_keys(keys, {"source", "budget_mw", "cpu_active_mw", "cpu_idle_mw", "listening"})
    source = section.choice("source", POWER_SOURCES)
    battery_mah = battery_voltage = None
    if source == "battery":
        battery_mah = section.number("battery_mah", minimum=1)
        battery_voltage = section.number("battery_voltage_v", minimum=0.5)
    elif section.has("battery_mah") or section.has("battery_voltage_v"):
        raise section.error("battery figures are only for 'source: battery'", "source")
    active = section.number("cpu_active_mw", minimum=0)
    idle = section.number("cpu_idle_mw", minimum=0)
    if idle > active:
        raise section.error(f"idle power {idle} mW exceeds active power {active} mW", "cpu_idle_mw")
    return PowerSpec(
        source=source,
        budget_mw=section.number("budget_mw", minimum=0),
        cpu_active_mw=active,
        cpu_idle_mw=idle,
        listening=section.choice("listening", LISTENING),
        battery_mah=battery_mah,
        battery_voltage_v=battery_voltage,
        commands_per_day=section.integer("commands_per_day", 20, minimum=0),
    )


def _audio(section: Section) -> AudioSpec:
    keys = {"sample_rate_hz", "frame_ms", "max_command_s", "silence_timeout_ms"}
    section.check_keys(keys, keys)
    rate = section.integer("sample_rate_hz")
    if rate not in (8000, 16000, 22050, 44100, 48000):
        raise section.error(f"unsupported sample rate {rate} Hz", "sample_rate_hz")
    return AudioSpec(
        sample_rate_hz=rate,
        frame_ms=section.integer("frame_ms", minimum=10),
        max_command_s=section.number("max_command_s", minimum=1),
        silence_timeout_ms=section.integer("silence_timeout_ms", minimum=100),
    )


def _recognizer(section: Section) -> RecognizerSpec:
    section.check_keys({"engine", "mode", "model", "network"}, {"engine", "mode"})
    return RecognizerSpec(
        engine=section.choice("engine", ENGINES),
        mode=section.choice("mode", RECOGNIZER_MODES),
        model=section.optional_string("model"),
        network=section.choice("network", RECOGNIZER_NETWORKS, "exact"),
    )
