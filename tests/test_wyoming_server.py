"""The Wyoming server against the `wyoming` package's own client over real sockets,
with the shipped intent model, a simulated device and PocketSphinx behind it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import socket
import wave
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from core_helpers import COMMANDS_JSGF, Pcm, PocketSphinxTranscriber, build_core, load_model, spoken_pcm
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient, AsyncUnixClient
from wyoming.error import Error
from wyoming.event import Event, async_read_event, async_write_event
from wyoming.handle import Handled, NotHandled
from wyoming.info import Describe, Info
from wyoming.intent import Intent, NotRecognized, Recognize
from wyoming.ping import Ping, Pong

from assistant.errors import IntegrationError
from assistant.integrations import LockedCore
from assistant.integrations.wyoming_server import (
    DEFAULT_URI,
    Endpoint,
    WyomingDescription,
    WyomingLimits,
    WyomingServer,
    pcm_to_samples,
)
from assistant.intents import IntentSet
from assistant.nlu.runtime import IntentModel
from assistant.profiles import DeviceProfile

TEST_TIMEOUT_S = 20.0  # a whole test scenario; every step is far quicker
READ_TIMEOUT_S = 10.0
CHUNK_S = 0.1  # clients send audio in chunks this long
LIGHTS_ON = "turn on the office lights"  # espeak-ng says it so PocketSphinx hears it in every format
_T = TypeVar("_T")


@pytest.fixture(scope="module")
def model(intents: IntentSet) -> IntentModel:
    return load_model(intents)


@pytest.fixture(scope="module")
def transcriber(tmp_path_factory: pytest.TempPathFactory) -> PocketSphinxTranscriber:
    grammar = tmp_path_factory.mktemp("grammar") / "commands.gram"
    grammar.write_text(COMMANDS_JSGF, encoding="utf-8")
    return PocketSphinxTranscriber(grammar)


@pytest.fixture(scope="module")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture
def core(
    profiles: dict[str, DeviceProfile], intents: IntentSet, model: IntentModel, transcriber: PocketSphinxTranscriber
) -> LockedCore:
    return build_core(profiles["smart_speaker"], intents, model, transcriber)[0]


def run(scenario: Awaitable[_T]) -> _T:
    async def bounded() -> _T:
        return await asyncio.wait_for(scenario, TEST_TIMEOUT_S)

    return asyncio.run(bounded())


@contextlib.asynccontextmanager
async def serving(core: LockedCore, uri: str = "tcp://127.0.0.1:0", **options: Any) -> AsyncIterator[WyomingServer]:
    server = WyomingServer(core, uri, **options)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def client_for(server: WyomingServer) -> AsyncTcpClient:
    return AsyncTcpClient("127.0.0.1", server.endpoint.port, connect_timeout=5, read_timeout=READ_TIMEOUT_S)


async def ask(server: WyomingServer, *events: Event) -> Event:
    """Send `events` on a new connection; the first event that comes back."""
    async with client_for(server) as client:
        for event in events:
            await client.write_event(event)
        answer = await client.read_event()
    assert answer is not None, "the server closed the connection without answering"
    return answer


async def assert_still_serving(server: WyomingServer) -> None:
    answer = await ask(server, Describe().event())
    assert Info.is_type(answer.type)


def utterance_events(pcm: Pcm) -> list[Event]:
    chunk_bytes = round(CHUNK_S * pcm.rate) * pcm.width * pcm.channels
    fmt = {"rate": pcm.rate, "width": pcm.width, "channels": pcm.channels}
    events = [Transcribe(language="en").event(), AudioStart(**fmt).event()]
    for start in range(0, len(pcm.audio), chunk_bytes):
        events.append(AudioChunk(audio=pcm.audio[start : start + chunk_bytes], **fmt).event())
    return [*events, AudioStop().event()]


async def send_raw(server: WyomingServer, data: bytes) -> list[Event]:
    """Write `data` on a bare socket; every event the server sends back before it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.endpoint.port)
    writer.write(data)
    await writer.drain()
    answers = []
    while (event := await asyncio.wait_for(async_read_event(reader), READ_TIMEOUT_S)) is not None:
        answers.append(event)
    writer.close()
    return answers


def header(event_type: str, **fields: Any) -> bytes:
    return json.dumps({"type": event_type, **fields}).encode() + b"\n"


# --------------------------------------------------------------------------- describe


def test_describe_lists_asr_intent_and_handle_programs_in_english(core: LockedCore) -> None:
    async def scenario() -> Info:
        async with serving(core) as server:
            return Info.from_event(await ask(server, Describe().event()))

    info = run(scenario())
    assert [program.name for program in info.asr] == ["assistant-asr"]
    assert [program.name for program in info.intent] == ["assistant-intent"]
    assert [program.name for program in info.handle] == ["assistant-handle"]
    for program in (*info.asr, *info.intent, *info.handle):
        assert program.installed
        assert [model.languages for model in program.models] == [["en"]]


def test_describe_lists_only_the_programs_asked_for(core: LockedCore) -> None:
    async def scenario() -> Info:
        description = WyomingDescription(asr_model="pocketsphinx en-us", programs=("asr", "handle"))
        async with serving(core, description=description) as server:
            return Info.from_event(await ask(server, Describe().event()))

    info = run(scenario())
    assert info.intent == []
    assert [model.name for model in info.asr[0].models] == ["pocketsphinx en-us"]
    assert len(info.handle) == 1


def test_ping_is_answered_with_pong_carrying_the_same_text(core: LockedCore) -> None:
    async def scenario() -> Event:
        async with serving(core) as server:
            return await ask(server, Ping(text="hello").event())

    answer = run(scenario())
    assert Pong.is_type(answer.type) and Pong.from_event(answer).text == "hello"


# --------------------------------------------------------------------------- asr


@pytest.mark.parametrize(
    ("rate", "width", "channels"),
    [(16000, 2, 1), (22050, 2, 2), (48000, 4, 1), (8000, 1, 1), (44100, 3, 2)],
    ids=["16k-int16-mono", "22k-int16-stereo", "48k-int32-mono", "8k-uint8-mono", "44k-int24-stereo"],
)
def test_speech_in_any_client_format_is_transcribed(
    core: LockedCore, speech_dir: Path, rate: int, width: int, channels: int
) -> None:
    pcm = spoken_pcm(LIGHTS_ON, speech_dir, rate, width, channels)

    async def scenario() -> Event:
        async with serving(core) as server:
            return await ask(server, *utterance_events(pcm))

    answer = run(scenario())
    assert Transcript.is_type(answer.type), answer
    transcript = Transcript.from_event(answer)
    assert transcript.text == LIGHTS_ON
    assert transcript.language == "en"


def test_a_spoken_command_is_transcribed_then_handled_by_the_device(core: LockedCore, speech_dir: Path) -> None:
    pcm = spoken_pcm("set the thermostat to fifteen degrees", speech_dir, 16000, 2, 1)

    async def scenario() -> tuple[Event, Event]:
        async with serving(core) as server:
            heard = await ask(server, *utterance_events(pcm))
            text = Transcript.from_event(heard).text
            return heard, await ask(server, Transcript(text=text).event())

    heard, answer = run(scenario())
    assert Transcript.from_event(heard).text == "set the thermostat to fifteen degrees"
    assert Handled.is_type(answer.type)
    handled = Handled.from_event(answer)
    assert handled.text is not None and "fifteen" in handled.text
    assert handled.context == {"intent": "thermostat.set", "expects": None}


def test_audio_is_kept_only_when_asked(core: LockedCore, speech_dir: Path, tmp_path: Path) -> None:
    pcm = spoken_pcm(LIGHTS_ON, speech_dir, 22050, 2, 1)
    kept_dir = tmp_path / "kept"

    async def scenario() -> None:
        async with serving(core) as server:
            assert server.save_audio_dir is None
            await ask(server, *utterance_events(pcm))
        async with serving(core, save_audio_dir=kept_dir) as server:
            await ask(server, *utterance_events(pcm))

    run(scenario())
    kept = list(kept_dir.iterdir())
    assert len(kept) == 1
    with wave.open(str(kept[0]), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        assert wav.getnframes() / 16000 == pytest.approx(pcm.seconds, abs=0.01)


def test_pcm_conversion_gives_the_same_signal_from_every_width() -> None:
    ramp = [-32768, -1000, 0, 1000, 32767]
    int16 = b"".join(v.to_bytes(2, "little", signed=True) for v in ramp)
    int24 = b"".join((v * 256).to_bytes(3, "little", signed=True) for v in ramp)
    int32 = b"".join((v * 65536).to_bytes(4, "little", signed=True) for v in ramp)
    uint8 = bytes((v >> 8) + 128 for v in ramp)
    stereo = b"".join(v.to_bytes(2, "little", signed=True) * 2 for v in ramp)
    assert pcm_to_samples(int16, 16000, 2, 1).tolist() == ramp
    assert pcm_to_samples(int24, 16000, 3, 1).tolist() == ramp
    assert pcm_to_samples(int32, 16000, 4, 1).tolist() == ramp
    assert pcm_to_samples(stereo, 16000, 2, 2).tolist() == ramp
    assert pcm_to_samples(uint8, 16000, 1, 1).tolist() == [(v >> 8) * 256 for v in ramp]


# --------------------------------------------------------------------------- intent and handle


def test_recognize_returns_the_intent_with_typed_entities(core: LockedCore) -> None:
    async def scenario() -> Event:
        async with serving(core) as server:
            return await ask(server, Recognize(text="set a timer for ten minutes").event())

    answer = run(scenario())
    assert Intent.is_type(answer.type)
    intent = Intent.from_event(answer)
    assert intent.name == "timer.start"
    assert [(entity.name, entity.value) for entity in intent.entities] == [("duration", 600)]
    assert intent.text is None  # recognizing is not acting: nothing to say
    assert intent.context is not None
    assert intent.context["input"] == "set a timer for ten minutes"
    assert intent.context["slots"]["duration"] == {"value": 600, "raw": "ten minutes", "start": 16, "end": 27}


def test_recognize_out_of_scope_text_is_not_recognized(core: LockedCore) -> None:
    async def scenario() -> Event:
        async with serving(core) as server:
            return await ask(server, Recognize(text="what's the capital of peru").event())

    answer = run(scenario())
    assert NotRecognized.is_type(answer.type)


def test_handle_acts_on_the_device_and_says_the_reply(core: LockedCore) -> None:
    async def scenario() -> list[Event]:
        async with serving(core) as server:
            return [
                await ask(server, Transcript(text=LIGHTS_ON).event()),
                await ask(server, Transcript(text="set a timer").event()),
                await ask(server, Transcript(text="ten minutes").event()),
                await ask(server, Transcript(text="what's the capital of peru").event()),
            ]

    lights, question, answer, unknown = run(scenario())
    # the model words the reply ("Office lights on.", "Turning on the office lights."); it must confirm the room
    assert "office lights" in (Handled.from_event(lights).text or "").lower()
    asked = Handled.from_event(question)
    assert asked.context == {"intent": "timer.start", "expects": "slot:duration"}
    assert Handled.is_type(answer.type) and "ten minutes" in (Handled.from_event(answer).text or "")
    assert NotHandled.is_type(unknown.type)
    assert NotHandled.from_event(unknown).text  # the device says it cannot do that


def test_unix_socket_serves_the_same_events(core: LockedCore, tmp_path: Path) -> None:
    path = tmp_path / "assistant.socket"

    async def scenario() -> tuple[Event, bool]:
        async with serving(core, f"unix://{path}") as server:
            assert server.uri == f"unix://{path}"
            async with AsyncUnixClient(path, read_timeout=READ_TIMEOUT_S) as client:
                await client.write_event(Recognize(text=LIGHTS_ON).event())
                answer = await client.read_event()
        return answer, path.exists()

    answer, left_behind = run(scenario())
    assert answer is not None and Intent.from_event(answer).name == "lights.on"
    assert not left_behind


# --------------------------------------------------------------------------- addresses


def test_default_address_is_loopback_only() -> None:
    assert DEFAULT_URI.startswith("tcp://127.0.0.1:")
    assert Endpoint.parse(DEFAULT_URI).loopback
    assert Endpoint.parse("tcp://localhost:10800").loopback
    assert Endpoint.parse("tcp://[::1]:10800").loopback
    assert not Endpoint.parse("tcp://0.0.0.0:10800").loopback


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://127.0.0.1:10800", "only tcp://HOST:PORT and unix://PATH"),
        ("tcp://127.0.0.1", "needs a host and a port"),
        ("tcp://127.0.0.1:70000", "not a number from 0 to 65535"),
        ("unix://", "needs a socket path"),
    ],
)
def test_bad_addresses_are_refused_with_the_address_named(core: LockedCore, uri: str, message: str) -> None:
    with pytest.raises(IntegrationError, match=message) as caught:
        WyomingServer(core, uri)
    assert uri in str(caught.value)


def test_a_port_in_use_is_a_clear_error(core: LockedCore) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        uri = f"tcp://127.0.0.1:{taken.getsockname()[1]}"

        async def scenario() -> None:
            await WyomingServer(core, uri).start()

        with pytest.raises(IntegrationError, match="cannot listen") as caught:
            run(scenario())
    assert uri in str(caught.value)


# --------------------------------------------------------------------------- faults

SMALL_LIMITS = WyomingLimits(
    max_header_bytes=1024, max_data_bytes=512, max_payload_bytes=8000, max_audio_s=1.0, max_text_chars=100
)
START_16K = header("audio-start", data={"rate": 16000, "width": 2, "channels": 1})


def chunk_16k(samples: int) -> bytes:
    data = json.dumps({"rate": 16000, "width": 2, "channels": 1}).encode()
    return header("audio-chunk", data_length=len(data), payload_length=2 * samples) + data + bytes(2 * samples)


FAULTS = [
    ("random-bytes", random.Random(7).randbytes(3000), "malformed-event|too-large", ""),
    ("not-json", b"hello there\n", "malformed-event", "not JSON"),
    ("not-utf8", b"\xff\xfe\xfa\n", "malformed-event", "not UTF-8"),
    ("json-array", b"[1, 2, 3]\n", "malformed-event", "must be a JSON object"),
    ("no-type", b'{"data": {}}\n', "malformed-event", "no 'type'"),
    ("unknown-type", header("make-coffee"), "unknown-event", "unknown event type 'make-coffee'"),
    ("data-not-object", header("recognize", data=[1]), "malformed-event", "'data' must be a JSON object"),
    ("bad-data-block", header("recognize", data_length=5) + b"{oops", "malformed-event", "recognize data is not JSON"),
    ("negative-length", header("audio-chunk", payload_length=-4), "malformed-event", "payload_length must be"),
    ("header-too-long", b"{" + b" " * 2000 + b"}\n", "too-large", "event header longer than 1024 bytes"),
    ("data-too-large", header("recognize", data_length=100_000), "too-large", "data_length 100000 is over the limit"),
    ("payload-too-large", header("audio-chunk", payload_length=10**9), "too-large", "payload_length 1000000000"),
    ("recognize-no-text", header("recognize"), "malformed-event", "recognize: missing field 'text'"),
    ("recognize-number", header("recognize", data={"text": 42}), "malformed-event", "'text' must be a string"),
    ("text-too-long", header("transcript", data={"text": "lights " * 20}), "too-large", "longer than 100 characters"),
    (
        "start-no-rate",
        header("audio-start", data={"width": 2, "channels": 1}),
        "malformed-event",
        "missing field 'rate'",
    ),
    (
        "start-bad-width",
        header("audio-start", data={"rate": 16000, "width": "two", "channels": 1}),
        "malformed-event",
        "width must be a whole number",
    ),
    (
        "start-odd-width",
        header("audio-start", data={"rate": 16000, "width": 5, "channels": 1}),
        "bad-audio",
        "sample width 5",
    ),
    ("start-zero-rate", header("audio-start", data={"rate": 0, "width": 2, "channels": 1}), "bad-audio", "rate 0 Hz"),
    ("chunk-before-start", chunk_16k(160), "unexpected", "audio-chunk before audio-start"),
    ("stop-before-start", header("audio-stop"), "unexpected", "audio-stop before audio-start"),
    ("start-twice", START_16K + START_16K, "unexpected", "audio-start while an audio stream is open"),
    (
        "half-frame",
        START_16K + header("audio-chunk", data={"rate": 16000, "width": 2, "channels": 1}, payload_length=3) + b"abc",
        "bad-audio",
        "not whole frames",
    ),
    (
        "format-change",
        START_16K + header("audio-chunk", data={"rate": 8000, "width": 2, "channels": 1}, payload_length=2) + b"ab",
        "bad-audio",
        "differs from audio-start",
    ),
    ("utterance-too-long", START_16K + chunk_16k(3200) * 6, "too-large", "utterance longer than 1 s"),
]


@pytest.mark.parametrize(("name", "data", "code", "message"), FAULTS, ids=[fault[0] for fault in FAULTS])
def test_bad_input_gets_an_error_event_then_the_connection_closes_and_service_goes_on(
    core: LockedCore, name: str, data: bytes, code: str, message: str
) -> None:
    async def scenario() -> list[Event]:
        async with serving(core, limits=SMALL_LIMITS) as server:
            answers = await send_raw(server, data)
            await assert_still_serving(server)
            return answers

    answers = run(scenario())
    assert len(answers) == 1 and Error.is_type(answers[0].type), answers
    error = Error.from_event(answers[0])
    assert error.code is not None
    assert error.code in code.split("|")
    assert message in error.text


def test_a_silent_client_is_closed_after_the_idle_timeout(core: LockedCore) -> None:
    async def scenario() -> list[Event]:
        async with serving(core, limits=WyomingLimits(idle_timeout_s=0.2)) as server:
            answers = await send_raw(server, b"")
            await assert_still_serving(server)
            return answers

    (answer,) = run(scenario())
    assert Error.from_event(answer).code == "idle-timeout"


def test_serve_forever_stops_cleanly_when_cancelled(core: LockedCore, tmp_path: Path) -> None:
    path = tmp_path / "forever.socket"

    async def scenario() -> bool:
        server = WyomingServer(core, f"unix://{path}")
        serving_task = asyncio.create_task(server.serve_forever())
        while not path.exists():
            await asyncio.sleep(0.01)
        async with AsyncUnixClient(path, read_timeout=READ_TIMEOUT_S) as client:
            await client.write_event(Describe().event())
            assert await client.read_event() is not None
        serving_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving_task
        return path.exists()

    assert run(scenario()) is False


def test_client_dropping_mid_stream_costs_only_its_own_audio(
    core: LockedCore, speech_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pcm = spoken_pcm(LIGHTS_ON, speech_dir, 16000, 2, 1)
    events = utterance_events(pcm)

    async def scenario() -> tuple[Event, int]:
        async with serving(core) as server:
            # One client streams half an utterance, then a chunk header whose payload never comes, and leaves.
            _, leaving = await asyncio.open_connection("127.0.0.1", server.endpoint.port)
            for event in events[: len(events) // 2]:
                await async_write_event(event, leaving)
            leaving.write(header("audio-chunk", payload_length=3200) + bytes(100))
            await leaving.drain()
            leaving.close()
            # Another is served meanwhile and afterwards, start to finish.
            answer = await ask(server, *events)
            for _ in range(100):
                if server.connections == 0:
                    break
                await asyncio.sleep(0.01)
            return answer, server.connections

    with caplog.at_level(logging.INFO, logger="assistant.integrations.wyoming_server"):
        answer, open_connections = run(scenario())
    assert Transcript.from_event(answer).text == LIGHTS_ON
    assert open_connections == 0
    assert any("dropped" in record.getMessage() for record in caplog.records)


def test_a_client_leaving_between_two_chunks_is_logged_as_dropped_with_the_audio_it_loses(
    core: LockedCore, speech_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the soak (docs/soak.md): a clean disconnect mid-utterance used to leave no trace in the log."""
    events = utterance_events(spoken_pcm(LIGHTS_ON, speech_dir, 16000, 2, 1))
    sent = events[: len(events) // 2]  # audio-start and some chunks, no audio-stop

    async def scenario() -> Event:
        async with serving(core) as server:
            _, leaving = await asyncio.open_connection("127.0.0.1", server.endpoint.port)
            for event in sent:
                await async_write_event(event, leaving)
            leaving.close()
            await leaving.wait_closed()
            for _ in range(100):  # the server notices the client has gone
                if server.connections == 0:
                    break
                await asyncio.sleep(0.01)
            return await ask(server, Describe().event())

    with caplog.at_level(logging.INFO, logger="assistant.integrations.wyoming_server"):
        info = run(scenario())
    assert Info.is_type(info.type)  # the server goes on
    seconds = sum(len(e.payload or b"") for e in sent) / (16000 * 2)
    dropped = [r.getMessage() for r in caplog.records if "in the middle of an utterance" in r.getMessage()]
    assert dropped and f"its {seconds:.1f} s of audio are dropped" in dropped[0], caplog.text


def test_other_clients_are_served_while_one_is_mid_utterance(core: LockedCore, speech_dir: Path) -> None:
    pcm = spoken_pcm(LIGHTS_ON, speech_dir, 16000, 2, 1)
    events = utterance_events(pcm)

    async def scenario() -> tuple[Event, Event]:
        async with serving(core) as server, client_for(server) as slow:
            for event in events[:5]:
                await slow.write_event(event)
            meanwhile = await ask(server, Recognize(text=LIGHTS_ON).event())
            for event in events[5:]:
                await slow.write_event(event)
            finished = await slow.read_event()
            assert finished is not None
            return meanwhile, finished

    meanwhile, finished = run(scenario())
    assert Intent.from_event(meanwhile).name == "lights.on"
    assert Transcript.from_event(finished).text == LIGHTS_ON


def test_too_many_clients_are_told_the_server_is_busy(core: LockedCore) -> None:
    async def scenario() -> Event:
        async with serving(core, limits=WyomingLimits(max_clients=1)) as server, client_for(server) as first:
            await first.write_event(Describe().event())
            assert await first.read_event() is not None  # the first is connected and being served
            answers = await send_raw(server, header("describe"))
            assert len(answers) == 1
            return answers[0]

    answer = run(scenario())
    assert Error.from_event(answer).code == "busy"


def test_a_failing_recognizer_is_reported_to_the_client_and_the_service_goes_on(core: LockedCore) -> None:
    def broken(_: Any) -> Any:
        raise RuntimeError("decoder crashed")

    failing = LockedCore(transcribe=broken, understand=core.understand, handle=core.handle)
    start = AudioStart(rate=16000, width=2, channels=1)

    async def scenario() -> tuple[Event, Event]:
        async with serving(failing) as server:
            chunk = AudioChunk(rate=16000, width=2, channels=1, audio=bytes(3200))
            error = await ask(server, start.event(), chunk.event(), AudioStop().event())
            return error, await ask(server, Recognize(text=LIGHTS_ON).event())

    error, after = run(scenario())
    assert Error.from_event(error).code == "internal-error"
    assert Intent.from_event(after).name == "lights.on"
