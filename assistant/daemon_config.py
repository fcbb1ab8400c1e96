"""The daemon's settings: a strict YAML file, with command-line flags on top.

```yaml
device: smart_speaker        # a device profile
input: mic                   # mic | mic:DEVICE | FILE.wav | - (raw 16 kHz mono int16 on stdin)
push_to_talk: false          # no wake word: every command is taken
listening: null              # always | vad_gated | push_to_talk; null: chosen by the profile's power budget
ignore_limits: false         # true: run even over the profile's memory limit (development only)
engine: null                 # vosk | pocketsphinx; null: the profile's
model: null                  # intent model folder; null: the shipped model
intents: null                # intent definitions folder; null: the shipped ones
profiles: null               # device profiles folder; null: the shipped ones
events:
  stdout: true               # one JSON event a line on standard output
  socket: null               # a Unix socket path: clients read events and send commands
wyoming:
  enabled: false
  uri: tcp://127.0.0.1:10800
hermes:
  enabled: false
  host: 127.0.0.1
  port: 1883
  site_id: default
store_audio: null            # a folder: keep every command's audio there as WAV; null: keep nothing
microphone:
  retry_min_s: 1             # a lost microphone is reopened after this long, doubling up to retry_max_s
  retry_max_s: 30
allow_remote: false          # true: let wyoming.uri and hermes.host be non-loopback addresses
```

Every key is optional except `device` (from the file or `--device`). An unknown
key, a mistyped value or a listening address off this machine without
`allow_remote: true` is a `ConfigError` naming the file and the key. Relative
paths in the file are relative to the file's folder.
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from assistant.config import Section, describe_value, read_yaml
from assistant.errors import ConfigError, IntegrationError
from assistant.profiles import ENGINES, LISTENING_MODES

DEFAULT_WYOMING_URI = "tcp://127.0.0.1:10800"  # the Wyoming server's default (integrations/wyoming_server.py)
DEFAULT_MQTT_HOST = "127.0.0.1"
DEFAULT_MQTT_PORT = 1883
DEFAULT_SITE_ID = "default"
DEFAULT_RETRY_MIN_S = 1.0  # a microphone unplugged for a moment is back within a second or two
DEFAULT_RETRY_MAX_S = 30.0  # one that stays away is tried twice a minute, not hammered
MAX_PORT = 65535
COMMAND_LINE = "command line"  # the `source` of settings that came from flags

TOP_KEYS = frozenset({
    "device", "input", "push_to_talk", "listening", "ignore_limits", "engine", "model", "intents", "profiles",
    "events", "wyoming", "hermes",
    "store_audio", "microphone", "allow_remote",
})  # fmt: skip
EVENTS_KEYS = frozenset({"stdout", "socket"})
WYOMING_KEYS = frozenset({"enabled", "uri"})
HERMES_KEYS = frozenset({"enabled", "host", "port", "site_id", "username", "password"})
MICROPHONE_KEYS = frozenset({"retry_min_s", "retry_max_s"})


@dataclass(frozen=True)
class EventSinks:
    stdout: bool = True  # one JSON event a line on standard output
    socket: Path | None = None  # Unix socket for event clients; None: no socket


@dataclass(frozen=True)
class WyomingSettings:
    enabled: bool = False
    uri: str = DEFAULT_WYOMING_URI  # tcp://HOST:PORT (port 0: any free port) or unix://PATH


@dataclass(frozen=True)
class HermesSettings:
    enabled: bool = False
    host: str = DEFAULT_MQTT_HOST  # the MQTT broker
    port: int = DEFAULT_MQTT_PORT
    site_id: str = DEFAULT_SITE_ID
    username: str | None = None
    password: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["password"] = None if self.password is None else "***"
        return data


@dataclass(frozen=True)
class MicrophoneRetry:
    retry_min_s: float = DEFAULT_RETRY_MIN_S  # wait before the first reopen, seconds
    retry_max_s: float = DEFAULT_RETRY_MAX_S  # the wait doubles up to this, seconds

    def delay_s(self, attempt: int) -> float:
        """The wait before reopen number `attempt` (1, 2, ...): exponential, capped."""
        return float(min(self.retry_max_s, self.retry_min_s * 2 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class DaemonConfig:
    device: str
    input: str = "mic"
    push_to_talk: bool = False
    listening: str | None = None  # None: chosen by the profile's power budget
    ignore_limits: bool = False  # run even over the profile's memory limit
    engine: str | None = None
    model: Path | None = None  # None: the shipped model
    intents: Path | None = None  # None: the shipped intent definitions
    profiles: Path | None = None  # None: the shipped device profiles
    events: EventSinks = field(default_factory=EventSinks)
    wyoming: WyomingSettings = field(default_factory=WyomingSettings)
    hermes: HermesSettings = field(default_factory=HermesSettings)
    store_audio: Path | None = None  # None: no audio is written anywhere
    microphone: MicrophoneRetry = field(default_factory=MicrophoneRetry)
    allow_remote: bool = False
    source: str = COMMAND_LINE  # the file the settings came from

    @property
    def serves(self) -> bool:
        """True when something besides the audio input keeps the daemon useful: a socket or a protocol."""
        return self.events.socket is not None or self.wyoming.enabled or self.hermes.enabled

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("model", "intents", "profiles", "store_audio"):
            data[key] = None if data[key] is None else str(data[key])
        data["events"]["socket"] = None if self.events.socket is None else str(self.events.socket)
        data["hermes"] = self.hermes.to_dict()
        return data


@dataclass(frozen=True)
class Overrides:
    """Settings given as command-line flags; None: not given, the file's (or the default) stands."""

    device: str | None = None
    input: str | None = None
    push_to_talk: bool | None = None
    listening: str | None = None
    ignore_limits: bool | None = None
    engine: str | None = None
    model: Path | None = None
    intents: Path | None = None
    profiles: Path | None = None
    socket: Path | None = None
    wyoming_uri: str | None = None  # also enables the Wyoming server
    no_stdout: bool | None = None


def load_daemon_config(path: Path | None, overrides: Overrides | None = None) -> DaemonConfig:
    """The settings from `path` (None: defaults only) with `overrides` on top, checked."""
    overrides = overrides or Overrides()
    config = _read(path) if path is not None else None
    if config is None:
        if not overrides.device:
            raise ConfigError(COMMAND_LINE, "--device", "the daemon needs a device: --device NAME or --config FILE")
        config = DaemonConfig(device=overrides.device)
    config = _apply(config, overrides)
    check_addresses(config, wyoming_from_flag=overrides.wyoming_uri is not None)
    return config


def _read(path: Path) -> DaemonConfig:
    data = read_yaml(path)
    source = str(path)
    top = Section({} if data is None else data, source)
    top.check_keys(TOP_KEYS)
    base = path.resolve().parent
    events = _section(top, "events", EVENTS_KEYS)
    wyoming = _section(top, "wyoming", WYOMING_KEYS)
    hermes = _section(top, "hermes", HERMES_KEYS)
    microphone = _section(top, "microphone", MICROPHONE_KEYS)
    engine = _optional(top, "engine")
    if engine is not None and engine not in ENGINES:
        raise top.error(f"{engine!r} is not one of {', '.join(ENGINES)}", "engine")
    listening = _optional(top, "listening")
    if listening is not None and listening not in LISTENING_MODES:
        raise top.error(f"{listening!r} is not one of {', '.join(LISTENING_MODES)}", "listening")
    retry = MicrophoneRetry(
        microphone.number("retry_min_s", DEFAULT_RETRY_MIN_S, minimum=0.0),
        microphone.number("retry_max_s", DEFAULT_RETRY_MAX_S, minimum=0.0),
    )
    if retry.retry_max_s < retry.retry_min_s:
        raise microphone.error(f"must be at least retry_min_s ({retry.retry_min_s:g})", "retry_max_s")
    port = hermes.integer("port", DEFAULT_MQTT_PORT, minimum=1)
    if port > MAX_PORT:
        raise hermes.error(f"must be at most {MAX_PORT}, got {port}", "port")
    device = top.string("device") if top.has("device") else ""
    return DaemonConfig(
        device=device,
        input=top.string("input", "mic"),
        push_to_talk=top.boolean("push_to_talk", False),
        listening=listening,
        ignore_limits=top.boolean("ignore_limits", False),
        engine=engine,
        model=_path(top, "model", base),
        intents=_path(top, "intents", base),
        profiles=_path(top, "profiles", base),
        events=EventSinks(events.boolean("stdout", True), _path(events, "socket", base)),
        wyoming=WyomingSettings(wyoming.boolean("enabled", False), wyoming.string("uri", DEFAULT_WYOMING_URI)),
        hermes=HermesSettings(
            enabled=hermes.boolean("enabled", False),
            host=hermes.string("host", DEFAULT_MQTT_HOST),
            port=port,
            site_id=hermes.string("site_id", DEFAULT_SITE_ID),
            username=_optional(hermes, "username"),
            password=_optional(hermes, "password"),
        ),
        store_audio=_path(top, "store_audio", base),
        microphone=retry,
        allow_remote=top.boolean("allow_remote", False),
        source=source,
    )


def _apply(config: DaemonConfig, flags: Overrides) -> DaemonConfig:
    changes: dict[str, Any] = {
        key: value
        for key, value in (
            ("device", flags.device),
            ("input", flags.input),
            ("push_to_talk", flags.push_to_talk),
            ("listening", flags.listening),
            ("ignore_limits", flags.ignore_limits),
            ("engine", flags.engine),
            ("model", flags.model),
            ("intents", flags.intents),
            ("profiles", flags.profiles),
        )
        if value is not None
    }
    if flags.socket is not None or flags.no_stdout:
        socket = flags.socket if flags.socket is not None else config.events.socket
        changes["events"] = EventSinks(stdout=config.events.stdout and not flags.no_stdout, socket=socket)
    if flags.wyoming_uri is not None:
        changes["wyoming"] = WyomingSettings(enabled=True, uri=flags.wyoming_uri)
    config = replace(config, **changes)
    if not config.device:
        raise ConfigError(config.source, "device", "missing: name the device profile here or with --device")
    return config


def check_addresses(config: DaemonConfig, *, wyoming_from_flag: bool = False) -> None:
    """Refuse an address off this machine unless `allow_remote` is set; the error names the key."""
    if config.wyoming.enabled:
        # the one parser of Wyoming URIs; imported only here: it brings asyncio and OpenSSL (7 MB)
        from assistant.integrations.wyoming_server import Endpoint

        source, key = (COMMAND_LINE, "--wyoming") if wyoming_from_flag else (config.source, "wyoming.uri")
        try:
            endpoint = Endpoint.parse(config.wyoming.uri)
        except IntegrationError as error:
            raise ConfigError(source, key, str(error)) from None
        if not endpoint.loopback and not config.allow_remote:
            raise ConfigError(
                source,
                key,
                f"{config.wyoming.uri} listens beyond this machine; set allow_remote: true to allow it "
                "(Wyoming has no authentication: put a firewall in front)",
            )
    if config.hermes.enabled and not is_loopback(config.hermes.host) and not config.allow_remote:
        raise ConfigError(
            config.source,
            "hermes.host",
            f"{config.hermes.host!r} is not this machine: events would leave it; set allow_remote: true to allow it",
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _section(top: Section, key: str, allowed: frozenset[str]) -> Section:
    if not top.has(key):
        return Section({}, top.source, key)
    section = top.section(key)
    section.check_keys(allowed)
    return section


def _optional(section: Section, key: str) -> str | None:
    """A string that may be left out or set to null."""
    if section.data.get(key) is None:
        return None
    return section.string(key)


def _path(section: Section, key: str, base: Path) -> Path | None:
    value = section.data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise section.error(f"expected a path or null, got {describe_value(value)}", key)
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path
