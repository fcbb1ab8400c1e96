"""The assistant as a Wyoming service (Home Assistant, Rhasspy 3).

One server answers three Wyoming domains over one socket:

- asr: `transcribe` (optional), `audio-start`, `audio-chunk`..., `audio-stop`
  -> `transcript`. Audio comes in whatever rate, sample width and channel count
  the client sends and is converted to 16 kHz mono int16 before recognition.
- intent: `recognize` -> `intent` (name, one entity per slot with its typed value)
  or `not-recognized`.
- handle: `transcript` -> `handled` or `not-handled`, with the reply text. This is
  how Home Assistant's Wyoming conversation agent and Rhasspy 3 handle programs
  send text to be acted on.

And `describe` -> `info`, `ping` -> `pong`.

Events are read with our own reader rather than `wyoming.event.async_read_event`,
which takes malformed input for the end of the stream and reads payloads of any
announced length. Here every bad event (not JSON, no type, an unknown type,
missing or mistyped fields, a header, data block, payload or utterance over its
limit in `WyomingLimits`, audio events out of order) is answered with a Wyoming
`error` event naming the problem, and that connection is closed; other clients
are not affected. A client that drops mid-stream loses its audio, nothing more.

By default the server listens on 127.0.0.1 only and keeps no audio: utterances
live in memory until they are transcribed. `save_audio_dir` opts in to keeping
each one as a WAV file.

The assistant's calls run on one worker thread, in arrival order, so a slow
recognition never stalls the event loop or the other connections' I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import numpy as np
from numpy.typing import NDArray
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart
from wyoming.error import Error
from wyoming.event import Event, Eventable, async_write_event
from wyoming.handle import Handled, NotHandled
from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    IntentModel,
    IntentProgram,
)
from wyoming.intent import Entity, Intent, NotRecognized, Recognize
from wyoming.ping import Pong

from assistant import __version__
from assistant.audio import SAMPLE_RATE_HZ, Samples, to_int16, write_wav
from assistant.dialogue import Turn
from assistant.errors import AssistantError, IntegrationError
from assistant.integrations.core import AssistantCore
from assistant.nlu.result import ParseResult
from assistant.resample import resample

log = logging.getLogger(__name__)

DEFAULT_PORT = 10800  # clear of the ports Wyoming services usually take (wyoming-satellite has 10700)
DEFAULT_URI = f"tcp://127.0.0.1:{DEFAULT_PORT}"  # loopback only: other machines must be let in on purpose
PROGRAM_NAME = "assistant"
PROGRAMS = ("asr", "intent", "handle")
ATTRIBUTION = Attribution(name="assistant (offline voice commands)", url="")

SUPPORTED_WIDTHS_BYTES = (1, 2, 3, 4)  # 8-bit unsigned, 16/24/32-bit signed little-endian PCM
MAX_RATE_HZ = 384_000
MAX_CHANNELS = 8
MAX_TYPE_CHARS = 64  # longer than any Wyoming event type
LINGER_S = 1.0  # after an error event, how long the client's remaining input is read and dropped
DISCARD_BLOCK_BYTES = 64 * 1024

# Error codes sent in the `code` field of the error event.
MALFORMED, TOO_LARGE, UNKNOWN_EVENT, UNEXPECTED_EVENT = "malformed-event", "too-large", "unknown-event", "unexpected"
BAD_AUDIO, BUSY, IDLE, INTERNAL = "bad-audio", "busy", "idle-timeout", "internal-error"

_T = TypeVar("_T")


@dataclass(frozen=True)
class WyomingLimits:
    """What one client may send before it is answered with an error and dropped."""

    max_header_bytes: int = 64 * 1024  # the JSON line that starts every event
    max_data_bytes: int = 64 * 1024  # an event's additional JSON data block
    max_payload_bytes: int = 1024 * 1024  # one event's binary payload (an audio chunk): 32 s of 16 kHz int16
    max_audio_s: float = 30.0  # one utterance, from audio-start to audio-stop
    max_text_chars: int = 1000  # text to recognize or handle
    max_clients: int = 16  # open connections; one more is told "busy"
    idle_timeout_s: float = 300.0  # a connection that sends nothing for this long is closed


@dataclass(frozen=True)
class WyomingDescription:
    """What `describe` answers: the programs served and the models behind them."""

    asr_model: str = "speech recognizer"
    intent_model: str = "tiny intent model"
    handle_model: str = "device dialogue"
    languages: tuple[str, ...] = ("en",)
    # Programs listed in `info`. Home Assistant's conversation agent uses `intent`
    # when it is listed and `handle` otherwise: list ("asr", "handle") to let this
    # assistant act on what it hears. Every event is answered whatever is listed.
    programs: tuple[str, ...] = ("asr", "intent", "handle")

    def __post_init__(self) -> None:
        if not self.languages:
            raise IntegrationError("WyomingDescription: languages must name at least one language")
        unknown = sorted(set(self.programs) - set(PROGRAMS))
        if unknown:
            raise IntegrationError(f"WyomingDescription: unknown programs {unknown}; choose from {list(PROGRAMS)}")

    def info(self) -> Info:
        languages = list(self.languages)
        version = __version__
        asr, intent, handle = [], [], []
        if "asr" in self.programs:
            model = AsrModel(
                name=self.asr_model,
                attribution=ATTRIBUTION,
                installed=True,
                description="offline recognizer for the device's commands",
                version=version,
                languages=languages,
            )
            asr.append(
                AsrProgram(
                    name=f"{PROGRAM_NAME}-asr",
                    attribution=ATTRIBUTION,
                    installed=True,
                    description="speech to text for voice commands",
                    version=version,
                    models=[model],
                )
            )
        if "intent" in self.programs:
            intent_model = IntentModel(
                name=self.intent_model,
                attribution=ATTRIBUTION,
                installed=True,
                description="intents with typed slots from a transcript",
                version=version,
                languages=languages,
            )
            intent.append(
                IntentProgram(
                    name=f"{PROGRAM_NAME}-intent",
                    attribution=ATTRIBUTION,
                    installed=True,
                    description="intent recognition",
                    version=version,
                    models=[intent_model],
                )
            )
        if "handle" in self.programs:
            handle_model = HandleModel(
                name=self.handle_model,
                attribution=ATTRIBUTION,
                installed=True,
                description="acts on the command and says what it did",
                version=version,
                languages=languages,
            )
            handle.append(
                HandleProgram(
                    name=f"{PROGRAM_NAME}-handle",
                    attribution=ATTRIBUTION,
                    installed=True,
                    description="intent handling by the device",
                    version=version,
                    models=[handle_model],
                    supports_home_control=True,
                )
            )
        return Info(asr=asr, intent=intent, handle=handle)


class WyomingFault(IntegrationError):
    """A client sent something this server does not accept; `code` goes into the error event."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class _Dropped(Exception):
    """The client went away in the middle of an event."""


@dataclass(frozen=True)
class Endpoint:
    """Where the server listens: `tcp://HOST:PORT` or `unix://PATH`."""

    scheme: str  # "tcp" | "unix"
    host: str = ""
    port: int = 0
    path: str = ""

    @classmethod
    def parse(cls, uri: str) -> Endpoint:
        parsed = urlparse(uri)
        if parsed.scheme == "tcp":
            try:
                port = parsed.port
            except ValueError:
                raise IntegrationError(f"{uri}: the port is not a number from 0 to 65535") from None
            if not parsed.hostname or port is None:
                raise IntegrationError(f"{uri}: a tcp:// address needs a host and a port (tcp://127.0.0.1:10800)")
            return cls("tcp", host=parsed.hostname, port=port)
        if parsed.scheme == "unix":
            path = parsed.netloc + parsed.path
            if not path:
                raise IntegrationError(f"{uri}: a unix:// address needs a socket path (unix:///run/assistant.socket)")
            return cls("unix", path=path)
        raise IntegrationError(f"{uri}: only tcp://HOST:PORT and unix://PATH are supported")

    @property
    def loopback(self) -> bool:
        if self.scheme == "unix":
            return True
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def uri(self) -> str:
        if self.scheme == "unix":
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"


class WyomingServer:
    """Serves `core` over Wyoming at `uri` until stopped.

    ```python
    server = WyomingServer(core, "tcp://127.0.0.1:10800")
    await server.start()           # listening; `server.uri` has the real port when 0 was asked
    await server.serve_forever()   # or keep running other tasks and `await server.stop()`
    ```
    """

    def __init__(
        self,
        core: AssistantCore,
        uri: str = DEFAULT_URI,
        *,
        description: WyomingDescription | None = None,
        limits: WyomingLimits | None = None,
        save_audio_dir: Path | None = None,
    ) -> None:
        self.core = core
        self.endpoint = Endpoint.parse(uri)
        self.description = description or WyomingDescription()
        self.limits = limits or WyomingLimits()
        self.save_audio_dir = save_audio_dir
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._executor: ThreadPoolExecutor | None = None
        self._saved = 0

    @property
    def uri(self) -> str:
        """The address clients connect to; after `start`, with the port actually bound."""
        return self.endpoint.uri()

    @property
    def connections(self) -> int:
        return len(self._connections)

    async def start(self) -> None:
        """Listen; raises `IntegrationError` naming the address when it cannot."""
        if self._server is not None:
            return
        if not self.endpoint.loopback:
            log.warning("Wyoming server on %s is reachable from other machines", self.uri)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wyoming-core")
        limit = self.limits.max_header_bytes
        try:
            if self.endpoint.scheme == "unix":
                Path(self.endpoint.path).unlink(missing_ok=True)
                self._server = await asyncio.start_unix_server(self._accept, path=self.endpoint.path, limit=limit)
            else:
                self._server = await asyncio.start_server(
                    self._accept, host=self.endpoint.host, port=self.endpoint.port, limit=limit
                )
                port = self._server.sockets[0].getsockname()[1]
                self.endpoint = Endpoint("tcp", host=self.endpoint.host, port=port)
        except OSError as error:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise IntegrationError(f"{self.uri}: cannot listen ({error.strerror or error})") from error
        log.info("Wyoming server listening on %s", self.uri)

    async def serve_forever(self) -> None:
        """Serve until cancelled, then stop."""
        await self.start()
        assert self._server is not None  # set by start()
        try:
            await self._server.serve_forever()
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Stop listening, close every connection and drop their audio."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if server is not None:
            await server.wait_closed()
        if self.endpoint.scheme == "unix":
            Path(self.endpoint.path).unlink(missing_ok=True)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def __aenter__(self) -> WyomingServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # asyncio runs each connection callback in a task
        peer = _peer_name(writer)
        if len(self._connections) >= self.limits.max_clients:
            log.warning("Wyoming client %s refused: %d clients already connected", peer, len(self._connections))
            await _refuse(reader, writer, BUSY, f"too many clients (at most {self.limits.max_clients})")
            writer.close()
            return
        self._connections.add(task)
        try:
            await _Connection(self, reader, writer, peer).run()
        except asyncio.CancelledError:
            pass  # the server is stopping: this connection ends here, closed by run()
        finally:
            self._connections.discard(task)

    async def call(self, function: Callable[[_T], Any], argument: _T) -> Any:
        """`function(argument)` on the assistant's worker thread."""
        if self._executor is None:
            raise IntegrationError(f"{self.uri}: the server is not running")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function, argument)

    def keep_audio(self, samples: Samples) -> Path | None:
        """Write the utterance to `save_audio_dir` when asked to keep audio; the path written."""
        if self.save_audio_dir is None:
            return None
        self.save_audio_dir.mkdir(parents=True, exist_ok=True)
        self._saved += 1
        path = self.save_audio_dir / f"wyoming-{time.strftime('%Y%m%d-%H%M%S')}-{self._saved:04d}.wav"
        write_wav(path, samples)
        return path


@dataclass
class _AudioStream:
    rate: int
    width: int
    channels: int
    max_bytes: int
    data: bytearray

    @property
    def frame_bytes(self) -> int:
        return self.width * self.channels


class _Connection:
    """One client: events in, answers out, until it leaves or sends something bad."""

    def __init__(
        self, server: WyomingServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        self.server = server
        self.limits = server.limits
        self.reader = reader
        self.writer = writer
        self.peer = peer
        self.audio: _AudioStream | None = None

    async def run(self) -> None:
        log.debug("Wyoming client %s connected", self.peer)
        try:
            while True:
                try:
                    event = await asyncio.wait_for(self._read_event(), self.limits.idle_timeout_s)
                except asyncio.TimeoutError:
                    raise WyomingFault(IDLE, f"nothing received for {self.limits.idle_timeout_s:g} s") from None
                if event is None:
                    if self.audio is not None:  # left between two chunks: as much a drop as one cut mid-chunk
                        seconds = len(self.audio.data) / (self.audio.rate * self.audio.frame_bytes)
                        raise _Dropped(f"left in the middle of an utterance; its {seconds:.1f} s of audio are dropped")
                    break
                await self._dispatch(event)
        except WyomingFault as fault:
            log.warning("Wyoming client %s: %s (%s); closing the connection", self.peer, fault, fault.code)
            await _refuse(self.reader, self.writer, fault.code, str(fault))
        except AssistantError as error:  # the recognizer or the model refused; the message says why
            log.error("Wyoming client %s: %s", self.peer, error)
            await _refuse(self.reader, self.writer, INTERNAL, str(error))
        except (_Dropped, ConnectionError) as error:
            log.info("Wyoming client %s dropped: %s", self.peer, error or type(error).__name__)
        except Exception:  # a bug must cost one connection, not the service
            log.exception("Wyoming client %s: internal error", self.peer)
            await _refuse(self.reader, self.writer, INTERNAL, "internal error; see the assistant's log")
        finally:
            self.audio = None  # never kept past the connection
            self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()

    # ----------------------------------------------------------------- reading

    async def _read_event(self) -> Event | None:
        """The next event, None at a clean end of stream; raises WyomingFault on bad input."""
        try:
            line = await self.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as error:
            if error.partial.strip():
                raise _Dropped("connection closed in the middle of an event header") from None
            return None
        except asyncio.LimitOverrunError:
            raise WyomingFault(
                TOO_LARGE, f"event header longer than {self.limits.max_header_bytes} bytes (or not a JSON line)"
            ) from None
        header = _json_object(line, "event header")
        event_type = header.get("type")
        if not isinstance(event_type, str) or not event_type or len(event_type) > MAX_TYPE_CHARS:
            raise WyomingFault(MALFORMED, "event header has no 'type' string")
        data = header.get("data")
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise WyomingFault(MALFORMED, f"{event_type}: 'data' must be a JSON object, got {type(data).__name__}")
        data_length = _length(header, "data_length", self.limits.max_data_bytes, event_type)
        payload_length = _length(header, "payload_length", self.limits.max_payload_bytes, event_type)
        if data_length:
            data.update(_json_object(await self._exactly(data_length), f"{event_type} data"))
        payload = await self._exactly(payload_length) if payload_length else None
        return Event(type=event_type, data=data, payload=payload)

    async def _exactly(self, size: int) -> bytes:
        try:
            return await self.reader.readexactly(size)
        except asyncio.IncompleteReadError as error:
            raise _Dropped(f"connection closed {len(error.partial)} bytes into a {size}-byte block") from None

    # ----------------------------------------------------------------- answering

    async def _dispatch(self, event: Event) -> None:
        kind = event.type
        if kind == "describe":
            await self._write(self.server.description.info())
        elif kind == "ping":
            text = event.data.get("text")
            await self._write(Pong(text=text if isinstance(text, str) else None))
        elif kind == "select-program":
            pass  # one program per domain: whichever is selected is the one there is
        elif kind == "transcribe":
            _parse(Transcribe.from_event, event)
        elif kind == "audio-start":
            self._audio_start(event)
        elif kind == "audio-chunk":
            self._audio_chunk(event)
        elif kind == "audio-stop":
            await self._audio_stop()
        elif kind == "recognize":
            text = self._text(_parse(Recognize.from_event, event).text, kind)
            result: ParseResult = await self.server.call(self.server.core.understand, text)
            await self._write(intent_message(result))
        elif kind == "transcript":
            text = self._text(_parse(Transcript.from_event, event).text, kind)
            turn: Turn = await self.server.call(self.server.core.handle, text)
            await self._write(handled_message(turn))
        else:
            raise WyomingFault(
                UNKNOWN_EVENT,
                f"unknown event type {kind!r}; this server answers describe, ping, transcribe, audio-start, "
                "audio-chunk, audio-stop, recognize and transcript",
            )

    def _audio_start(self, event: Event) -> None:
        if self.audio is not None:
            raise WyomingFault(UNEXPECTED_EVENT, "audio-start while an audio stream is open (no audio-stop)")
        start = _parse(AudioStart.from_event, event)
        rate, width, channels = _audio_format(start.rate, start.width, start.channels, "audio-start")
        max_bytes = int(self.limits.max_audio_s * rate) * width * channels
        self.audio = _AudioStream(rate, width, channels, max_bytes, bytearray())

    def _audio_chunk(self, event: Event) -> None:
        if self.audio is None:
            raise WyomingFault(UNEXPECTED_EVENT, "audio-chunk before audio-start")
        chunk = _parse(AudioChunk.from_event, event)
        fmt = _audio_format(chunk.rate, chunk.width, chunk.channels, "audio-chunk")
        stream = self.audio
        if fmt != (stream.rate, stream.width, stream.channels):
            raise WyomingFault(
                BAD_AUDIO,
                f"audio-chunk format {fmt[0]} Hz, {fmt[1]} bytes, {fmt[2]} channels differs from audio-start's "
                f"{stream.rate} Hz, {stream.width} bytes, {stream.channels} channels",
            )
        if len(chunk.audio) % stream.frame_bytes:
            raise WyomingFault(
                BAD_AUDIO, f"audio-chunk of {len(chunk.audio)} bytes is not whole frames of {stream.frame_bytes} bytes"
            )
        if len(stream.data) + len(chunk.audio) > stream.max_bytes:
            raise WyomingFault(TOO_LARGE, f"utterance longer than {self.limits.max_audio_s:g} s")
        stream.data += chunk.audio

    async def _audio_stop(self) -> None:
        stream, self.audio = self.audio, None
        if stream is None:
            raise WyomingFault(UNEXPECTED_EVENT, "audio-stop before audio-start")
        samples = pcm_to_samples(bytes(stream.data), stream.rate, stream.width, stream.channels)
        kept = self.server.keep_audio(samples)
        if kept is not None:
            log.info("kept the utterance from %s as %s", self.peer, kept)
        result = await self.server.call(self.server.core.transcribe, samples)
        text = str(result.text)
        log.debug("Wyoming client %s: %.2f s of audio -> %r", self.peer, len(samples) / SAMPLE_RATE_HZ, text)
        await self._write(Transcript(text=text, language=self.server.description.languages[0]))

    def _text(self, text: object, kind: str) -> str:
        if not isinstance(text, str):
            raise WyomingFault(MALFORMED, f"{kind}: 'text' must be a string, got {type(text).__name__}")
        if len(text) > self.limits.max_text_chars:
            raise WyomingFault(TOO_LARGE, f"{kind}: text longer than {self.limits.max_text_chars} characters")
        return text

    async def _write(self, message: Eventable) -> None:
        await async_write_event(message.event(), self.writer)


# --------------------------------------------------------------------------- messages


def intent_message(result: ParseResult) -> Intent | NotRecognized:
    """The Wyoming answer to `recognize`: one entity per slot, valued as the model typed it.

    `text` of a Wyoming intent is a reply to speak, and recognizing is not acting, so
    it stays empty; the normalised input, the confidence and each slot's words and
    character span go into `context`.
    """
    context: dict[str, Any] = {"input": result.text, "confidence": round(result.confidence, 4)}
    if result.intent is None:
        return NotRecognized(context=context)
    context["slots"] = {
        slot.name: {"value": slot.value, "raw": slot.raw, "start": slot.start, "end": slot.end} for slot in result.slots
    }
    entities = [Entity(name=slot.name, value=slot.value) for slot in result.slots]
    return Intent(name=result.intent, entities=entities, context=context)


def handled_message(turn: Turn) -> Handled | NotHandled:
    """The Wyoming answer to a transcript to handle: the reply, and whether the device acted on it.

    Not handled: nothing was understood, or the device refused (the reply says why).
    A question back ("For how long?") is handled: the next transcript answers it.
    """
    context = {"intent": turn.intent, "expects": turn.expects}
    refused = turn.outcome is not None and not turn.outcome.ok
    if turn.intent is None or refused:
        return NotHandled(text=turn.reply.text, context=context)
    return Handled(text=turn.reply.text, context=context)


def pcm_to_samples(audio: bytes, rate: int, width: int, channels: int) -> Samples:
    """Little-endian PCM (8-bit unsigned, 16/24/32-bit signed) of any rate and channel
    count, as 16 kHz mono int16: channels averaged, then resampled band-limited."""
    if width not in SUPPORTED_WIDTHS_BYTES:
        raise ValueError(f"unsupported sample width {width} bytes")
    frames = len(audio) // (width * channels)
    usable = audio[: frames * width * channels]
    signal: NDArray[np.float64]
    if width == 1:
        signal = (np.frombuffer(usable, dtype=np.uint8).astype(np.float64) - 128.0) * 256.0
    elif width == 2:
        signal = np.frombuffer(usable, dtype="<i2").astype(np.float64)
    elif width == 3:
        octets = np.frombuffer(usable, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        packed = octets[:, 0] | (octets[:, 1] << 8) | (octets[:, 2] << 16)
        signal = (np.where(packed >= 1 << 23, packed - (1 << 24), packed) / 256.0).astype(np.float64)
    else:
        signal = np.frombuffer(usable, dtype="<i4").astype(np.float64) / 65536.0
    mono = signal.reshape(frames, channels).mean(axis=1) if channels > 1 else signal
    if rate != SAMPLE_RATE_HZ and frames:
        mono = resample(mono, rate, SAMPLE_RATE_HZ)
    return to_int16(mono)


# --------------------------------------------------------------------------- helpers


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"))  # decoded here: json.loads would guess UTF-16 from a BOM
    except UnicodeDecodeError:
        raise WyomingFault(MALFORMED, f"{what} is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise WyomingFault(MALFORMED, f"{what} is not JSON ({error.msg} at byte {error.pos})") from None
    if not isinstance(value, dict):
        raise WyomingFault(MALFORMED, f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def _length(header: dict[str, Any], key: str, limit: int, event_type: str) -> int:
    value = header.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise WyomingFault(MALFORMED, f"{event_type}: {key} must be a whole number of bytes, got {value!r}")
    if value > limit:
        raise WyomingFault(TOO_LARGE, f"{event_type}: {key} {value} is over the limit of {limit} bytes")
    return value


def _parse(reader: Callable[[Event], _T], event: Event) -> _T:
    """A Wyoming message from its event; missing or mistyped fields are a fault, not a crash."""
    try:
        return reader(event)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        detail = f"missing field {error}" if isinstance(error, KeyError) else str(error)
        raise WyomingFault(MALFORMED, f"{event.type}: {detail}") from None


def _audio_format(rate: object, width: object, channels: object, kind: str) -> tuple[int, int, int]:
    for name, value in (("rate", rate), ("width", width), ("channels", channels)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise WyomingFault(MALFORMED, f"{kind}: {name} must be a whole number, got {value!r}")
    assert isinstance(rate, int) and isinstance(width, int) and isinstance(channels, int)  # checked just above
    if not 1 <= rate <= MAX_RATE_HZ:
        raise WyomingFault(BAD_AUDIO, f"{kind}: rate {rate} Hz is outside 1..{MAX_RATE_HZ}")
    if width not in SUPPORTED_WIDTHS_BYTES:
        raise WyomingFault(BAD_AUDIO, f"{kind}: sample width {width} bytes is not one of {SUPPORTED_WIDTHS_BYTES}")
    if not 1 <= channels <= MAX_CHANNELS:
        raise WyomingFault(BAD_AUDIO, f"{kind}: {channels} channels is outside 1..{MAX_CHANNELS}")
    return rate, width, channels


def _peer_name(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return "unix socket client"


async def _refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, code: str, text: str) -> None:
    """Send the error event, then stop sending and discard what the client still sends for a moment.

    Closing a socket with unread input makes the kernel reset the connection, and a
    reset can overtake the error event on its way; this way the client reads it.
    """
    with contextlib.suppress(ConnectionError, OSError):
        await async_write_event(Error(text=text, code=code).event(), writer)
        if writer.can_write_eof():
            writer.write_eof()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(_discard_until_eof(reader), LINGER_S)


async def _discard_until_eof(reader: asyncio.StreamReader) -> None:
    while await reader.read(DISCARD_BLOCK_BYTES):
        pass


__all__ = [
    "DEFAULT_URI",
    "Endpoint",
    "WyomingDescription",
    "WyomingFault",
    "WyomingLimits",
    "WyomingServer",
    "handled_message",
    "intent_message",
    "pcm_to_samples",
]
