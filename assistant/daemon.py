"""The assistant as a service: `assistant daemon` runs wake -> command -> action -> reply until stopped.

One process, four threads:

- the main thread runs the voice loop: frames from the input go through
  `VoiceLoop.push`, and the main thread also answers signals (SIGTERM/SIGINT
  stop, SIGHUP reloads) and watches the Hermes connection, every `TICK_S`;
- an input thread reads the audio source (a microphone, a WAV file, stdin) onto
  a queue, so a blocked read never keeps the main thread from a signal;
- a network thread runs an asyncio loop with the Wyoming server and the event
  socket (`assistant.event_socket`);
- paho's thread runs the Hermes bridge.

The voice loop, Wyoming's `handle` and `recognize`, Hermes queries and socket
`say` commands all reach one dialogue, one simulated device and one intent
model, so each call takes `Daemon.lock`; Wyoming's speech-to-text has a
recognizer of its own, so a client's audio never disturbs a command the
microphone is in the middle of.

Every event (`assistant.events`, plus the daemon's own below) goes to every
sink: JSON lines on stdout, the event socket's clients, and the Hermes bus
(wake -> hotword detected, transcript -> textCaptured, a turn -> its intent and
`tts/say`). Faults are events too, and the daemon keeps running through them: a
lost microphone is reopened with exponential backoff, a reload that fails keeps
the running configuration, a client that sends garbage is answered and dropped.

Nothing is stored unless `store_audio` names a folder.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any, BinaryIO, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from assistant.asr.factory import build_recognizer
from assistant.asr.recognizer import Recognizer
from assistant.asr.vosk_engine import VoskRecognizer
from assistant.audio import (
    SAMPLE_RATE_HZ,
    AudioSource,
    PcmStreamSource,
    WavSource,
    frame_samples_for,
    open_source,
    write_wav,
)
from assistant.daemon_config import DaemonConfig
from assistant.dialogue import Dialogue, Turn
from assistant.endpoint import Endpointer, Utterance
from assistant.errors import AssistantError, AudioError, IntegrationError
from assistant.events import Announced, Event, Failed, Heard, NoCommand, Replied, Understood, Wake
from assistant.fitting import Fitting, MemoryLedger, describe_fitting, fit_memory, return_freed_memory
from assistant.integrations.core import LockedCore, TranscriptLike
from assistant.intents import DEFAULT_INTENTS_DIR, IntentSet
from assistant.nlu.result import ParseResult
from assistant.nlu.runtime import DEFAULT_MODEL_DIR, IntentModel
from assistant.pipeline import VoiceLoop, assemble, memory_degrader
from assistant.profiles import DEFAULT_PROFILES_DIR, DeviceProfile, load_device, profile_names
from assistant.wake import IncompatibleWakeModel, phrase_slug

if TYPE_CHECKING:  # imported when a socket is asked for: asyncio brings OpenSSL (7 MB resident with it)
    from assistant.event_socket import EventSocketServer

log = logging.getLogger(__name__)

TICK_S = 0.1  # how often the main thread looks at signals, reloads and the Hermes connection
INPUT_QUEUE_FRAMES = 50  # 4 s of 80 ms frames between the input thread and the voice loop
SERVICE_TIMEOUT_S = 10.0  # starting or stopping the network services
HERMES_CONNECT_GRACE_S = 5.0  # a broker not reached by then is reported as an error event

_T = TypeVar("_T")


# --------------------------------------------------------------------------- the daemon's own events


@dataclass(frozen=True)
class Status(Event):
    """The daemon started, reloaded, ran out of input, or is stopping."""

    status: str  # started | reloaded | input_ended | stopping
    details: dict[str, Any] = field(default_factory=dict)

    type = "daemon"


@dataclass(frozen=True)
class TextCommand(Event):
    """A command that came as text (a socket client's `say`, a Wyoming `transcript`), not as speech."""

    text: str
    origin: str  # socket | wyoming

    type = "text"


@dataclass(frozen=True)
class StateChanged(Event):
    """The device's state changed: "domain.key" -> [before, after]."""

    changes: dict[str, list[Any]]

    type = "state_change"


@dataclass(frozen=True)
class InputFailed(Failed):
    """The audio input failed; a microphone is reopened after `retry_in_s` (None: not retried)."""

    attempt: int
    retry_in_s: float | None


@dataclass(frozen=True)
class Connection(Event):
    """An integration connected or lost its peer (the Hermes broker)."""

    name: str
    connected: bool
    address: str

    type = "integration"


@dataclass(frozen=True)
class AudioStored(Event):
    """A command's audio was written, because `store_audio` asked for it."""

    path: str

    type = "audio_stored"


# --------------------------------------------------------------------------- what a reload replaces


class _TurnTap:
    """Stands in for the voice loop's dialogue and keeps the turns it takes.

    The loop's events carry values; the Hermes bridge publishes whole turns (the
    parse frame with each slot's raw words and span), so the daemon takes them
    from here. Everything else is the dialogue's own.
    """

    def __init__(self, dialogue: Dialogue) -> None:
        self.dialogue = dialogue
        self._taken: list[Turn] = []

    def hear(self, text: str) -> Turn:
        turn = self.dialogue.hear(text)
        self._taken.append(turn)
        return turn

    def poll(self) -> list[Turn]:
        turns = self.dialogue.poll()
        self._taken += turns
        return turns

    def drain(self) -> list[Turn]:
        taken, self._taken = self._taken, []
        return taken

    def __getattr__(self, name: str) -> Any:
        return getattr(self.dialogue, name)


class _UtteranceTap:
    """Stands in for the voice loop's endpointer and keeps each command's audio, for `store_audio`."""

    def __init__(self, endpointer: Endpointer) -> None:
        self.endpointer = endpointer
        self._taken: list[Utterance] = []

    def push(self, frame: NDArray[np.int16]) -> Utterance | None:
        return self._keep(self.endpointer.push(frame))

    def finish(self) -> Utterance | None:
        return self._keep(self.endpointer.finish())

    def drain(self) -> list[Utterance]:
        taken, self._taken = self._taken, []
        return taken

    def _keep(self, utterance: Utterance | None) -> Utterance | None:
        if utterance is not None and utterance.reason != "no_speech":
            self._taken.append(utterance)
        return utterance

    def __getattr__(self, name: str) -> Any:
        return getattr(self.endpointer, name)


@dataclass
class Assembly:
    """The profile, intents, model and voice loop in use; a reload builds a new one and swaps it in whole."""

    profile: DeviceProfile
    intents: IntentSet
    model: IntentModel
    loop: VoiceLoop
    turns: _TurnTap
    utterances: _UtteranceTap | None
    transcriber: Recognizer | None  # Wyoming's speech to text; None when Wyoming is off
    allowed: frozenset[str]  # the device's intents
    fitting: Fitting  # how it listens, by the power budget, and its memory against the limit

    @property
    def dialogue(self) -> Dialogue:
        return self.turns.dialogue


def build_assembly(config: DaemonConfig, previous: Assembly | None = None) -> Assembly:
    """Load the profile, intents and model `config` names and wire the voice loop.

    Raises an `AssistantError` naming the file (and key) at fault; nothing is
    changed until everything has loaded. With `previous`, the device's clock
    carries on from it.
    """
    profiles_dir = config.profiles or DEFAULT_PROFILES_DIR
    if config.device not in (known := profile_names(profiles_dir)):
        raise AssistantError(
            f"{config.source}: device: unknown device {config.device!r} (profiles: {', '.join(known)})"
        )
    intents, profile = load_device(config.device, config.intents or DEFAULT_INTENTS_DIR, profiles_dir)
    if previous is not None and profile.audio.frame_ms != previous.profile.audio.frame_ms:
        raise AssistantError(
            f"{profile.source}: audio.frame_ms changed from {previous.profile.audio.frame_ms} to "
            f"{profile.audio.frame_ms}; the input's frame size needs a restart, not a reload"
        )
    ledger = MemoryLedger.starting_with("python, its libraries and the intent definitions")
    model = IntentModel.load(intents, config.model or DEFAULT_MODEL_DIR, profile.model_variant)
    ledger.note(f"intent model ({profile.model_variant})")
    start = previous.loop.clock.now() if previous is not None else None
    try:
        loop = assemble(
            profile, intents, model, engine=config.engine, push_to_talk=config.push_to_talk,
            listening=config.listening, start=start, ledger=ledger,
        )  # fmt: skip
    except IncompatibleWakeModel as error:
        raise IncompatibleWakeModel(
            f"{error}; or take commands without a wake word: push_to_talk: true (--push-to-talk)"
        ) from error
    turns = _TurnTap(loop.dialogue)
    loop.dialogue = cast(Dialogue, turns)
    utterances = None
    if config.store_audio is not None:
        utterances = _UtteranceTap(loop.endpointer)
        loop.endpointer = cast(Endpointer, utterances)
    transcriber = None
    if config.wyoming.enabled:
        shared = loop.recognizer.model if isinstance(loop.recognizer, VoskRecognizer) else None
        transcriber = build_recognizer(profile, intents, engine=config.engine, vosk_model=shared)
        ledger.note("Wyoming's recognizer")
    allowed = frozenset(intent.name for intent in intents.restricted_to(profile.domains).intents)
    # A reload measures the new setup while the old one is still loaded: it reports, only the start enforces.
    fitting = fit_memory(
        profile, ledger, loop.listening, memory_degrader(loop, profile, intents, config.engine),
        enforce=previous is None and not config.ignore_limits,
    )  # fmt: skip
    return Assembly(profile, intents, model, loop, turns, utterances, transcriber, allowed, fitting)


# --------------------------------------------------------------------------- the input thread


class _Input:
    """Reads an audio source on its own thread onto a bounded queue: ("frame", frame), ("end", None)
    or ("error", AudioError)."""

    def __init__(self, source: AudioSource, spec: str) -> None:
        self.source = source
        self.spec = spec
        self.items: queue.Queue[tuple[str, Any]] = queue.Queue(INPUT_QUEUE_FRAMES)
        self._closed = False
        self._thread = threading.Thread(target=self._read, name="daemon-input", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._closed = True
        self.source.close()

    def _read(self) -> None:
        try:
            for frame in self.source.frames():
                if not self._put(("frame", frame)):
                    return
            self._put(("end", None))
        except AudioError as error:
            self._put(("error", error))
        except Exception as error:  # a driver fault nobody foresaw: the input is lost all the same, and said so
            log.exception("audio input %s failed", self.spec)
            self._put(("error", AudioError(f"{self.spec}: {type(error).__name__}: {error}")))

    def _put(self, item: tuple[str, Any]) -> bool:
        while not self._closed:
            try:
                self.items.put(item, timeout=TICK_S)
                return True
            except queue.Full:
                continue
        return False


def open_input(spec: str, frame_samples: int) -> AudioSource:
    """`assistant.audio.open_source`, but stdin is read unbuffered.

    The input thread may be blocked reading stdin when the daemon exits; a
    buffered reader's lock held there makes the interpreter abort at shutdown,
    a raw read does not.
    """
    if spec == "-":
        raw = open(sys.stdin.fileno(), "rb", buffering=0, closefd=False)  # noqa: SIM115 - lives with the daemon
        return PcmStreamSource(cast(BinaryIO, raw), frame_samples)
    return open_source(spec, frame_samples)


# --------------------------------------------------------------------------- the network thread


class _Network:
    """An asyncio loop on a thread of its own, for the Wyoming server and the event socket.

    asyncio is imported only here, when a service needs it: it imports `ssl`, and
    the two took 7.2 MB resident (measured), a tenth of a watch's budget."""

    def __init__(self) -> None:
        import asyncio

        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="daemon-network", daemon=True)
        self._thread.start()

    def call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(SERVICE_TIMEOUT_S)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(SERVICE_TIMEOUT_S)
        if not self._thread.is_alive():
            self.loop.close()


# --------------------------------------------------------------------------- the daemon

SourceFactory = Callable[[str, int], AudioSource]


class Daemon:
    """Runs `config` until `stop()` (or SIGTERM/SIGINT when it installed the signal handlers).

    `out`: where stdout events go (when `config.events.stdout`). `source_factory`
    opens the input from its spec and frame size (`open_input`; tests hand in
    sources that fail).
    """

    def __init__(
        self,
        config: DaemonConfig,
        *,
        out: IO[str] | None = None,
        source_factory: SourceFactory = open_input,
        handle_signals: bool = True,
    ) -> None:
        self.config = config
        self.out = out if config.events.stdout else None
        self.source_factory = source_factory
        self.handle_signals = handle_signals
        self.lock = threading.Lock()  # one dialogue, device and model: one caller at a time
        self._emit_lock = threading.Lock()
        self._assembly: Assembly | None = None
        self._stop_requested = False  # set by signal handlers: a plain flag, no locks in a handler
        self._reload_requested = False
        self._offset_s = 0.0  # stream time of the loops a reload replaced
        self._network: _Network | None = None
        self._socket: EventSocketServer | None = None
        self._wyoming: Any = None  # WyomingServer, imported only when enabled
        self._bridge: Any = None  # HermesBridge, imported only when enabled
        self._hermes_connected = False
        self._hermes_reported = False
        self._hermes_started_at = 0.0  # the broker's grace period counts from the bridge's start, not the daemon's
        self._session: str | None = None  # the Hermes dialogue session of the command in progress
        self._stored = 0

    # ---------------------------------------------------------------- control (any thread)

    def stop(self) -> None:
        """Ask the daemon to stop; `run` returns within `TICK_S` or so."""
        self._stop_requested = True

    def reload(self) -> None:
        """Ask for the profile, intents and model to be loaded again, between two frames."""
        self._reload_requested = True

    @property
    def assembly(self) -> Assembly:
        if self._assembly is None:
            raise AssistantError("the daemon is not running")
        return self._assembly

    # ---------------------------------------------------------------- the main thread

    def run(self) -> int:
        """Serve until stopped, or until the input ends when nothing else is served; the exit status."""
        self._assembly = build_assembly(self.config)
        previous = self._install_signals() if self.handle_signals else {}
        try:
            self._start_services()
            self._emit([Status(0.0, "started", self._describe())])
            ended = self._listen()
            if ended:
                self._emit([Status(self._now_s(), "input_ended", {"input": self.config.input})])
                if self.config.serves:
                    self._wait(lambda: False)
            self._emit([Status(self._now_s(), "stopping")])
        finally:
            self._stop_services()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return 0

    def _install_signals(self) -> dict[int, Any]:
        def on_stop(signum: int, frame: FrameType | None) -> None:
            self._stop_requested = True

        def on_reload(signum: int, frame: FrameType | None) -> None:
            self._reload_requested = True

        previous: dict[int, Any] = {}
        for signum, handler in ((signal.SIGTERM, on_stop), (signal.SIGINT, on_stop), (signal.SIGHUP, on_reload)):
            previous[signum] = signal.signal(signum, handler)
        return previous

    def _listen(self) -> bool:
        """Feed the voice loop from the input: True when it ended, False when asked to stop.

        A microphone that fails is reopened after `retry_min_s`, doubling up to
        `retry_max_s`; the wait starts over once it delivers audio again. A file or
        stdin that fails is over.
        """
        spec = self.config.input
        microphone = spec == "mic" or spec.startswith("mic:")
        failures = 0
        while not self._stop_requested:
            frame_samples = frame_samples_for(self.assembly.profile.audio.frame_ms)
            try:
                source = self.source_factory(spec, frame_samples)
            except AudioError as error:
                if not microphone:  # a file that is not there, or not audio: a configuration error
                    raise
                problem: AudioError | None = error
            else:
                reader = _Input(source, spec)
                reader.start()
                try:
                    outcome, problem, delivered = self._drain(reader)
                finally:
                    reader.close()
                if outcome == "stop":
                    return False
                if delivered:
                    failures = 0
                if outcome == "end":
                    self._step(None)  # a command cut off by the end is decoded as it is
                    return True
            assert problem is not None  # an open that failed, or a read that did
            if not microphone:
                log.error("audio input %s failed: %s", spec, problem)
                self._emit([InputFailed(self._now_s(), "input", str(problem), 1, None)])
                return True
            failures += 1
            delay_s = self.config.microphone.delay_s(failures)
            log.warning("microphone lost (%s); reopening in %g s (attempt %d)", problem, delay_s, failures)
            self._emit([InputFailed(self._now_s(), "input", str(problem), failures, delay_s)])
            self._wait(_after_s(delay_s))
        return False

    def _drain(self, reader: _Input) -> tuple[str, AudioError | None, bool]:
        """Frames into the loop until the input ends, fails, or a stop is asked."""
        delivered = False
        while not self._stop_requested:
            self._tick()
            try:
                kind, item = reader.items.get(timeout=TICK_S)
            except queue.Empty:
                continue
            if kind == "frame":
                delivered = True
                self._step(item)
            elif kind == "end":
                return "end", None, delivered
            else:
                return "error", item, delivered
        return "stop", None, delivered

    def _wait(self, done: Callable[[], bool]) -> None:
        """Keep answering signals, reloads and the Hermes connection until `done()` or a stop."""
        while not self._stop_requested and not done():
            self._tick()
            time.sleep(TICK_S)

    def _tick(self) -> None:
        if self._reload_requested:
            self._reload_requested = False
            self._reload()
        if self._bridge is not None:
            self._watch_hermes()

    def _step(self, frame: NDArray[np.int16] | None) -> None:
        """One frame into the voice loop (None: the input ended), and its events to the sinks."""
        with self.lock:
            loop = self.assembly.loop
            try:
                events = loop.push(frame) if frame is not None else loop.finish()
            except Exception as error:  # a stage's bug or a broken model file: one frame lost, not the service
                log.exception("the voice loop failed")
                events = [Failed(loop.now_s, "voice_loop", f"{type(error).__name__}: {error}")]
            turns, utterances = self._taken()
        if events or turns or utterances:
            self._after(events, turns, utterances)

    def _taken(self) -> tuple[list[Turn], list[Utterance]]:
        assembly = self.assembly
        return assembly.turns.drain(), assembly.utterances.drain() if assembly.utterances else []

    def _after(self, events: Sequence[Event], turns: Sequence[Turn], utterances: Sequence[Utterance]) -> None:
        """The loop's events, with the state changes and stored audio they imply, to every sink."""
        offset = self._offset_s
        stamped = [replace(event, at_s=event.at_s + offset) for event in events]
        stored = [self._store(utterance, offset) for utterance in utterances]
        self._emit([*_with_state_changes(stamped), *stored], turns, voice=True)

    def _store(self, utterance: Utterance, offset_s: float) -> AudioStored:
        assert self.config.store_audio is not None  # only tapped when asked to store
        folder = self.config.store_audio
        folder.mkdir(parents=True, exist_ok=True)
        self._stored += 1
        path = folder / f"command-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{self._stored:04d}.wav"
        write_wav(path, utterance.samples)
        return AudioStored(utterance.end_s + offset_s, str(path))

    def _now_s(self) -> float:
        return self._offset_s + (self._assembly.loop.now_s if self._assembly is not None else 0.0)

    # ---------------------------------------------------------------- reload

    def _reload(self) -> None:
        """SIGHUP: everything loads again, or nothing changes and an error event says why."""
        old = self.assembly
        log.info("reloading profile %s, intents and model", self.config.device)
        try:
            new = build_assembly(self.config, previous=old)
        except AssistantError as error:
            log.error("reload failed; still running the previous configuration: %s", error)
            self._emit([Failed(self._now_s(), "reload", f"reload failed, kept the running configuration: {error}")])
            return
        with self.lock:
            self._offset_s += old.loop.now_s
            self._assembly = new
        if self._bridge is not None:
            self._bridge.intents = new.intents
        # The old setup's recognizer and models were freed into the C heap, which keeps them
        # (measured: 17 to 30 MB more after three reloads); give that back to the system.
        del old
        return_freed_memory()
        self._emit([Status(self._now_s(), "reloaded", self._describe())])

    # ---------------------------------------------------------------- text turns (worker threads)

    def text_turn(self, text: str, origin: str) -> Turn:
        """`text` through the dialogue, as if said; its events go to every sink."""
        with self.lock:
            at_s = self._now_s()
            try:
                turn = self.assembly.dialogue.hear(text)
            except Exception as error:  # as in _step: this turn fails, the service goes on
                log.exception("the dialogue failed on %r", text)
                problem = str(error) if isinstance(error, AssistantError) else f"{type(error).__name__}: {error}"
                self._emit([TextCommand(at_s, text, origin), Failed(at_s, "dialogue", problem)])
                raise IntegrationError(f"the dialogue failed on this text: {problem}") from error
        self._emit([TextCommand(at_s, text, origin), *turn_events(turn, at_s)], [turn])
        return turn

    def understand(self, text: str) -> ParseResult:
        with self.lock:
            assembly = self.assembly
            return assembly.model.parse(text, assembly.allowed)

    def transcribe(self, samples: NDArray[np.int16]) -> TranscriptLike:
        transcriber = self.assembly.transcriber
        if transcriber is None:
            raise IntegrationError("speech to text is served only with Wyoming enabled")
        return transcriber.transcribe(samples)  # LockedCore makes these calls one at a time

    def state(self) -> dict[str, Any]:
        with self.lock:
            assembly = self.assembly
            return {
                "at_s": round(self._now_s(), 3),
                "device": assembly.profile.name,
                "state": assembly.dialogue.device.state(),
                "expects": assembly.dialogue.expects,
            }

    # ---------------------------------------------------------------- sinks

    def _emit(self, events: Sequence[Event], turns: Sequence[Turn] = (), *, voice: bool = False) -> None:
        with self._emit_lock:
            for event in events:
                line = json.dumps(event.to_dict(), ensure_ascii=False, default=str)
                if self.out is not None:
                    try:
                        self.out.write(line + "\n")
                        self.out.flush()
                    except (OSError, ValueError) as error:  # the reader of stdout went away: keep serving the rest
                        log.warning("stdout closed (%s); events go to the other sinks only", error)
                        self.out = None
                if self._socket is not None:
                    self._socket.publish(line)
            if self._bridge is not None:
                self._to_hermes(events, turns, voice)

    def _to_hermes(self, events: Sequence[Event], turns: Sequence[Turn], voice: bool) -> None:
        """Wake -> hotword detected and a session; transcript -> textCaptured; turn -> intent and tts/say."""
        bridge = self._bridge
        pending = iter(turns)
        for event in events:
            if isinstance(event, Wake):
                self._session = bridge.new_session_id()
                bridge.hotword_detected(phrase_slug(event.phrase), session_id=self._session)
                bridge.session_started(self._session)
            elif isinstance(event, Heard) and event.text:
                if self._session is None:
                    self._session = bridge.new_session_id()
                    bridge.session_started(self._session)
                seconds = round(event.recognize_ms / 1000.0, 3)
                bridge.text_captured(event.text, seconds=seconds, session_id=self._session)
            elif isinstance(event, (Heard, NoCommand)) and self._session is not None:  # nothing (usable) was said
                reason = "timeout" if isinstance(event, NoCommand) else "intentNotRecognized"
                bridge.session_ended(self._session, reason)
                self._session = None
            elif isinstance(event, (Replied, Announced)):
                turn = next(pending, None)
                if turn is None:
                    continue
                session = self._session if voice and isinstance(event, Replied) else None
                bridge.turn(turn, session_id=session or "")
                if session is not None and turn.expects is None:
                    bridge.session_ended(session, "nominal" if turn.intent else "intentNotRecognized")
                    self._session = None

    def _watch_hermes(self) -> None:
        connected = bool(self._bridge.connected)
        address = self._bridge.address
        if connected != self._hermes_connected:
            self._hermes_connected = connected
            self._hermes_reported = True
            if not connected:
                log.error("lost the MQTT broker at %s; reconnecting", address)
            self._emit([Connection(self._now_s(), "hermes", connected, address)])
        elif not self._hermes_reported and time.monotonic() - self._hermes_started_at > HERMES_CONNECT_GRACE_S:
            self._hermes_reported = True
            message = f"cannot reach the MQTT broker at {address}; still trying"
            log.error("%s", message)
            self._emit([Failed(self._now_s(), "hermes", message)])

    # ---------------------------------------------------------------- services

    def _start_services(self) -> None:
        config = self.config
        core = LockedCore(
            transcribe=self.transcribe,
            understand=self.understand,
            handle=lambda text: self.text_turn(text, "wyoming"),
        )
        if config.events.socket is not None or config.wyoming.enabled:
            self._network = _Network()
        if config.events.socket is not None:
            from assistant.event_socket import CommandHandler, EventSocketServer

            assert self._network is not None
            handler = CommandHandler(say=lambda text: _discard(self.text_turn(text, "socket")), state=self.state)
            self._socket = EventSocketServer(config.events.socket, handler)
            self._network.call(self._socket.start())
        if config.wyoming.enabled:
            from assistant.integrations.wyoming_server import WyomingDescription, WyomingServer

            assert self._network is not None
            engine = self.assembly.transcriber.engine if self.assembly.transcriber else "speech recognizer"
            self._wyoming = WyomingServer(
                core,
                config.wyoming.uri,
                description=WyomingDescription(asr_model=engine),
                save_audio_dir=config.store_audio,
            )
            self._network.call(self._wyoming.start())
        if config.hermes.enabled:
            from assistant.integrations.hermes import HermesBridge, MqttSettings

            settings = MqttSettings(
                host=config.hermes.host,
                port=config.hermes.port,
                site_id=config.hermes.site_id,
                username=config.hermes.username,
                password=config.hermes.password,
            )
            self._bridge = HermesBridge(core.understand, settings, intents=self.assembly.intents)
            self._hermes_started_at = time.monotonic()  # loading the models (seconds on a slow device) is not waiting
            self._bridge.start()

    def _stop_services(self) -> None:
        if self._bridge is not None:
            self._bridge.stop()
            self._bridge = None
        network, self._network = self._network, None
        if network is not None:
            for service in (self._wyoming, self._socket):
                if service is not None:
                    try:
                        network.call(service.stop())
                    except (OSError, TimeoutError, AssistantError) as error:
                        log.warning("stopping %s: %s", type(service).__name__, error)
            network.close()
        self._wyoming = self._socket = None

    def _describe(self) -> dict[str, Any]:
        assembly = self.assembly
        loop = assembly.loop
        return {
            "device": assembly.profile.name,
            "input": self.config.input,
            "listening": "push_to_talk" if loop.wake is None else f"wake word {loop.wake.phrase!r}",
            "fitting": assembly.fitting.to_dict(),
            "recognizer": loop.recognizer.engine,
            "model": f"{assembly.model.directory} ({assembly.model.variant})",
            "socket": str(self._socket.path) if self._socket is not None else None,
            "wyoming": self._wyoming.uri if self._wyoming is not None else None,
            "hermes": self._bridge.address if self._bridge is not None else None,
            "store_audio": str(self.config.store_audio) if self.config.store_audio is not None else None,
            "pid": os.getpid(),
        }


def turn_events(turn: Turn, at_s: float) -> list[Event]:
    """The events of a text turn: what was understood, the reply, and the device's state change."""
    confidence = round(turn.frame.confidence, 4) if turn.frame else None
    parse_ms = turn.frame.latency_ms if turn.frame else 0.0
    slots = turn.action.values() if turn.action else {}
    understood = Understood(at_s, turn.intent, dict(slots), confidence, parse_ms)
    replied = Replied(
        at_s,
        turn.reply.text,
        turn.reply.source,
        turn.outcome.to_dict() if turn.outcome else None,
        {key: list(change) for key, change in turn.changes.items()},
        turn.expects,
        {stage: round(ms, 3) for stage, ms in turn.timings_ms.items()},
    )
    return _with_state_changes([understood, replied])


def _with_state_changes(events: Iterable[Event]) -> list[Event]:
    out: list[Event] = []
    for event in events:
        out.append(event)
        if isinstance(event, Replied) and event.state_changes:
            out.append(StateChanged(event.at_s, event.state_changes))
    return out


def _after_s(seconds: float) -> Callable[[], bool]:
    """A `done` test for `Daemon._wait`: true once `seconds` have passed."""
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() >= deadline


def _discard(_: object) -> None:
    return None


# --------------------------------------------------------------------------- --check


@dataclass(frozen=True)
class CheckReport:
    """What `assistant daemon --check` found: one (what, finding) a line; it only exists when all is well."""

    findings: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"ok": True, "findings": dict(self.findings)}


def check(config: DaemonConfig) -> CheckReport:
    """Load and build everything `config` needs without listening anywhere; raises the first problem."""
    assembly = build_assembly(config)
    profile, loop = assembly.profile, assembly.loop
    findings: list[tuple[str, str]] = [
        ("config", config.source),
        ("device", f"{profile.name} ({profile.source})"),
        ("intents", f"{config.intents or DEFAULT_INTENTS_DIR}: {len(assembly.allowed)} intents for this device"),
        ("model", f"{assembly.model.directory} ({assembly.model.variant})"),
        ("wake word", "none: push-to-talk" if loop.wake is None else f"{loop.wake.phrase!r} ({loop.wake.threshold:g})"),
        ("recognizer", f"{loop.recognizer.engine} ({loop.recognizer.mode})"),
        ("fit", describe_fitting(assembly.fitting)),
        ("input", _check_input(config)),
        ("events", _check_events(config)),
        ("wyoming", config.wyoming.uri if config.wyoming.enabled else "off"),
        (
            "hermes",
            f"mqtt://{config.hermes.host}:{config.hermes.port} site {config.hermes.site_id!r}"
            if config.hermes.enabled
            else "off",
        ),
        ("store audio", _check_folder(config, "store_audio", config.store_audio) if config.store_audio else "no"),
    ]
    return CheckReport(tuple(findings))


def _check_input(config: DaemonConfig) -> str:
    spec = config.input
    if spec == "mic" or spec.startswith("mic:"):
        return f"{spec} (opened when the daemon starts; retried if lost)"
    if spec == "-":
        return "raw 16 kHz mono int16 on stdin"
    with open_source(spec) as source:  # reads the whole file: a bad one fails here
        seconds = len(source.samples) / SAMPLE_RATE_HZ if isinstance(source, WavSource) else 0.0
    return f"{spec} ({seconds:.1f} s)"


def _check_events(config: DaemonConfig) -> str:
    sinks = ["stdout"] if config.events.stdout else []
    if config.events.socket is not None:
        _check_folder(config, "events.socket", config.events.socket.parent)
        sinks.append(f"socket {config.events.socket}")
    return ", ".join(sinks) or "none (only the integrations)"


def _check_folder(config: DaemonConfig, key: str, folder: Path) -> str:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise AssistantError(f"{config.source}: {key}: {folder} cannot be written (nearest existing: {existing})")
    return str(folder)
