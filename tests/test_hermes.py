"""The Hermes bridge on a real Mosquitto broker (Debian's `mosquitto`, on a free
loopback port), checked by a separate paho client subscribed to `hermes/#`."""

from __future__ import annotations

import json
import queue
import random
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from core_helpers import load_model
from paho.mqtt.enums import CallbackAPIVersion

from assistant.benchmarks.soak_rig import Broker, free_port
from assistant.errors import IntegrationError
from assistant.integrations.hermes import (
    DEFAULT_HOST,
    HermesBridge,
    MqttSettings,
    slot_value,
)
from assistant.intents import IntentSet
from assistant.nlu.result import ParseResult
from assistant.nlu.runtime import IntentModel
from assistant.profiles import DeviceProfile
from assistant.simulator import Session

WAIT_S = 10.0  # the most any message or connection may take; they take milliseconds
QUIET_S = 0.3  # how long "nothing arrives" is watched for


class Listener:
    """A plain paho client that records everything under hermes/#."""

    def __init__(self, port: int) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        acked: set[int] = set()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"listener-{random.randrange(10**9)}")
        self.client.on_message = lambda _client, _userdata, message: self.messages.put((message.topic, message.payload))
        self.client.on_subscribe = lambda _client, _userdata, mid, _codes, _properties: acked.add(mid)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        # The subscription must be acknowledged before anything is published, or the first messages are missed.
        mid = self.client.subscribe("hermes/#")[1]
        deadline = time.monotonic() + WAIT_S
        while mid not in acked and time.monotonic() < deadline:
            time.sleep(0.01)

    def publish(self, topic: str, payload: bytes | str | dict[str, Any]) -> None:
        data = json.dumps(payload) if isinstance(payload, dict) else payload
        self.client.publish(topic, data).wait_for_publish(WAIT_S)

    def next(self, topic: str) -> dict[str, Any]:
        """The next message on `topic`, skipping the listener's own queries."""
        deadline = time.monotonic() + WAIT_S
        while (left := deadline - time.monotonic()) > 0:
            try:
                got, payload = self.messages.get(timeout=left)
            except queue.Empty:
                break
            if got == topic:
                return dict(json.loads(payload))
            if got != "hermes/nlu/query":
                raise AssertionError(f"expected a message on {topic}, got {got}: {payload[:200]!r}")
        raise AssertionError(f"nothing on {topic} within {WAIT_S} s")

    def assert_quiet(self) -> None:
        time.sleep(QUIET_S)
        others = [topic for topic, _ in list(self.messages.queue) if topic != "hermes/nlu/query"]
        assert others == []

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def model(intents: IntentSet) -> IntentModel:
    return load_model(intents)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    assert shutil.which("mosquitto"), "mosquitto is installed by `make setup` (SYSTEM_PACKAGES)"
    running = Broker(tmp_path)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def listener(broker: Broker) -> Iterator[Listener]:
    client = Listener(broker.port)
    yield client
    client.close()


@pytest.fixture
def understand(profiles: dict[str, DeviceProfile], intents: IntentSet, model: IntentModel) -> Any:
    allowed = {intent.name for intent in intents.restricted_to(profiles["smart_speaker"].domains).intents}
    return lambda text: model.parse(text, allowed)


@pytest.fixture
def bridge(broker: Broker, understand: Any, intents: IntentSet) -> Iterator[HermesBridge]:
    running = HermesBridge(understand, MqttSettings(port=broker.port, site_id="kitchen"), intents=intents)
    running.start()
    assert running.wait_connected(WAIT_S)
    yield running
    running.stop()


def query(text: Any, **fields: Any) -> dict[str, Any]:
    return {"input": text, "siteId": "kitchen", "id": "q-1", "sessionId": "s-1", **fields}


# --------------------------------------------------------------------------- events out


def test_wake_transcript_and_session_events_use_the_hermes_layouts(bridge: HermesBridge, listener: Listener) -> None:
    session = bridge.new_session_id()
    assert bridge.hotword_detected("hey_kitchen", session_id=session)
    assert bridge.session_started(session)
    assert bridge.text_captured("turn on the kitchen lights", likelihood=0.8, seconds=0.25, session_id=session)
    assert bridge.say("Kitchen lights on.", session_id=session)
    assert bridge.session_ended(session, "nominal")
    assert bridge.session_ended("s-2", "error", error="recognizer failed")

    hotword = listener.next("hermes/hotword/hey_kitchen/detected")
    assert hotword["modelId"] == "hey_kitchen" and hotword["siteId"] == "kitchen" and hotword["sessionId"] == session
    assert listener.next("hermes/dialogueManager/sessionStarted") == {
        "sessionId": session, "siteId": "kitchen", "customData": None, "lang": "en"
    }  # fmt: skip
    captured = listener.next("hermes/asr/textCaptured")
    assert (captured["text"], captured["likelihood"], captured["seconds"]) == ("turn on the kitchen lights", 0.8, 0.25)
    assert captured["siteId"] == "kitchen" and captured["sessionId"] == session
    say = listener.next("hermes/tts/say")
    assert (say["text"], say["siteId"], say["sessionId"], say["lang"]) == (
        "Kitchen lights on.",
        "kitchen",
        session,
        "en",
    )
    ended = listener.next("hermes/dialogueManager/sessionEnded")
    assert ended == {
        "termination": {"reason": "nominal"},
        "sessionId": session,
        "siteId": "kitchen",
        "customData": None,
    }
    failed = listener.next("hermes/dialogueManager/sessionEnded")
    assert failed["termination"] == {"reason": "error", "error": "recognizer failed"}


def test_intent_event_carries_typed_slots_in_the_hermes_layout(
    bridge: HermesBridge, listener: Listener, understand: Any
) -> None:
    assert bridge.intent(understand("set a timer for an hour and a half"), session_id="s-9")
    assert bridge.intent(understand("set the thermostat to twenty degrees"))
    assert bridge.intent(understand("what's the capital of peru"))  # not understood: said as such

    timer = listener.next("hermes/intent/timer.start")
    assert timer["input"] == "set a timer for an hour and a half"
    assert timer["intent"]["intentName"] == "timer.start" and 0 < timer["intent"]["confidenceScore"] <= 1
    assert timer["sessionId"] == "s-9" and timer["siteId"] == "kitchen"
    (slot,) = timer["slots"]
    assert slot == {
        "entity": "duration",
        "slotName": "duration",
        "rawValue": "an hour and a half",
        "value": {
            "kind": "Duration", "value": 5400, "years": 0, "quarters": 0, "months": 0, "weeks": 0,
            "days": 0, "hours": 1, "minutes": 30, "seconds": 0, "precision": "Exact",
        },
        "range": {"start": 16, "end": 34, "rawStart": 16, "rawEnd": 34},
        "confidence": timer["intent"]["confidenceScore"],
    }  # fmt: skip
    assert timer["input"][16:34] == "an hour and a half"
    thermostat = listener.next("hermes/intent/thermostat.set")
    assert thermostat["slots"][0]["value"] == {"kind": "Temperature", "value": 20, "unit": "celsius"}
    assert listener.next("hermes/nlu/intentNotRecognized")["input"] == "what's the capital of peru"


def test_dialogue_turns_publish_the_acted_intent_and_the_reply_but_not_half_commands(
    bridge: HermesBridge, listener: Listener, profiles: dict[str, DeviceProfile], intents: IntentSet, model: IntentModel
) -> None:
    session = Session(profiles["smart_speaker"], intents, model)
    for text in ["set a timer", "ten minutes", "what's the capital of peru"]:
        assert bridge.turn(session.say(text), session_id="s-3")

    question = listener.next("hermes/tts/say")  # "set a timer": only the question, no intent yet
    assert question["text"].endswith("?") and question["sessionId"] == "s-3"
    timer = listener.next("hermes/intent/timer.start")  # "ten minutes" completes it
    assert timer["input"] == "ten minutes"
    assert [(slot["slotName"], slot["value"]["value"]) for slot in timer["slots"]] == [("duration", 600)]
    assert timer["slots"][0]["range"] == {"start": 0, "end": 11, "rawStart": 0, "rawEnd": 11}
    assert "ten minutes" in listener.next("hermes/tts/say")["text"]
    assert listener.next("hermes/nlu/intentNotRecognized")["input"] == "what's the capital of peru"
    assert listener.next("hermes/tts/say")["text"]


def test_slot_values_without_intent_definitions_fall_back_to_number_or_custom() -> None:
    assert slot_value(42, None) == {"kind": "Number", "value": 42}
    assert slot_value("07:30", "time") == {"kind": "Custom", "value": "07:30"}
    assert slot_value("kitchen", None) == {"kind": "Custom", "value": "kitchen"}
    assert slot_value(40, "percentage") == {"kind": "Percentage", "value": 40}


# --------------------------------------------------------------------------- hermes/nlu/query


def test_nlu_query_is_answered_with_intent_parsed_and_the_intent(bridge: HermesBridge, listener: Listener) -> None:
    listener.publish("hermes/nlu/query", query("turn on the kitchen lights", wakewordId="hey_kitchen"))
    parsed = listener.next("hermes/nlu/intentParsed")
    assert parsed["intent"]["intentName"] == "lights.on"
    assert (parsed["id"], parsed["sessionId"], parsed["siteId"]) == ("q-1", "s-1", "kitchen")
    intent = listener.next("hermes/intent/lights.on")
    assert intent["slots"][0]["slotName"] == "room" and intent["slots"][0]["value"] == {
        "kind": "Custom",
        "value": "kitchen",
    }
    assert intent["slots"][0]["entity"] == "room"
    assert (intent["id"], intent["sessionId"], intent["wakewordId"]) == ("q-1", "s-1", "hey_kitchen")


def test_nlu_query_not_understood_or_filtered_out_is_not_recognized(bridge: HermesBridge, listener: Listener) -> None:
    listener.publish("hermes/nlu/query", query("what's the capital of peru"))
    listener.publish("hermes/nlu/query", query("turn on the kitchen lights", id="q-2", intentFilter=["timer.start"]))
    first = listener.next("hermes/nlu/intentNotRecognized")
    assert (first["input"], first["id"], first["sessionId"], first["siteId"]) == (
        "what's the capital of peru",
        "q-1",
        "s-1",
        "kitchen",
    )
    assert listener.next("hermes/nlu/intentNotRecognized")["id"] == "q-2"


def test_queries_for_another_site_are_left_to_that_site(bridge: HermesBridge, listener: Listener) -> None:
    listener.publish("hermes/nlu/query", query("turn on the kitchen lights", siteId="bedroom"))
    listener.publish("hermes/nlu/query", query("set a timer for ten minutes", id="mine"))
    assert listener.next("hermes/nlu/intentParsed")["id"] == "mine"  # the bedroom's query got no answer before it


BAD_QUERIES = [
    ("not-json", b"{input: lights", "not JSON"),
    ("random-bytes", random.Random(3).randbytes(500), "not UTF-8"),
    ("array", b"[1, 2]", "must be a JSON object"),
    ("no-input", json.dumps({"siteId": "kitchen", "id": "x"}).encode(), "'input' must be a string, got nothing"),
    ("numeric-input", json.dumps(query(7)).encode(), "'input' must be a string, got int"),
    (
        "bad-filter",
        json.dumps(query("lights on", intentFilter="timer.start")).encode(),
        "'intentFilter' must be a list",
    ),
    ("bad-session", json.dumps(query("lights on", sessionId=5)).encode(), "'sessionId' must be a string"),
    ("too-long", json.dumps(query("lights " * 300)).encode(), "'input' longer than 1000 characters"),
    ("oversized", json.dumps(query("x", padding="y" * 70_000)).encode(), "over the limit of 65536"),
]


@pytest.mark.parametrize(("name", "payload", "message"), BAD_QUERIES, ids=[case[0] for case in BAD_QUERIES])
def test_bad_queries_get_an_nlu_error_and_the_bridge_goes_on(
    bridge: HermesBridge, listener: Listener, name: str, payload: bytes, message: str
) -> None:
    listener.publish("hermes/nlu/query", payload)
    error = listener.next("hermes/error/nlu")
    assert message in error["error"]
    assert error["siteId"] == "kitchen" and isinstance(error["context"], str)
    listener.publish("hermes/nlu/query", query("turn on the kitchen lights"))
    assert listener.next("hermes/nlu/intentParsed")["intent"]["intentName"] == "lights.on"


def test_a_failing_model_gives_an_nlu_error_and_the_bridge_goes_on(
    broker: Broker, listener: Listener, understand: Any
) -> None:
    def fragile(text: str) -> ParseResult:
        if text == "crash":
            raise RuntimeError("model exploded")
        result: ParseResult = understand(text)
        return result

    with HermesBridge(fragile, MqttSettings(port=broker.port, site_id="kitchen")) as bridge:
        assert bridge.wait_connected(WAIT_S)
        listener.publish("hermes/nlu/query", query("crash"))
        assert "model exploded" in listener.next("hermes/error/nlu")["error"]
        listener.publish("hermes/nlu/query", query("turn on the kitchen lights"))
        assert listener.next("hermes/nlu/intentParsed")["intent"]["intentName"] == "lights.on"


# --------------------------------------------------------------------------- the broker going away


def test_broker_down_and_back_the_bridge_reconnects_and_serves_again(
    broker: Broker, bridge: HermesBridge, understand: Any
) -> None:
    broker.stop()
    deadline = time.monotonic() + WAIT_S
    while bridge.connected and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not bridge.connected
    assert bridge.hotword_detected("hey_kitchen") is False  # dropped, said so, no exception

    broker.start()
    assert bridge.wait_connected(WAIT_S)
    listener = Listener(broker.port)
    try:
        assert bridge.hotword_detected("hey_kitchen")
        assert listener.next("hermes/hotword/hey_kitchen/detected")["siteId"] == "kitchen"
        listener.publish("hermes/nlu/query", query("turn on the kitchen lights"))  # subscribed again
        assert listener.next("hermes/nlu/intentParsed")["intent"]["intentName"] == "lights.on"
    finally:
        listener.close()


def test_bridge_started_before_the_broker_connects_when_it_comes_up(tmp_path: Path, understand: Any) -> None:
    broker = Broker(tmp_path)
    with HermesBridge(understand, MqttSettings(port=broker.port, site_id="kitchen")) as bridge:
        assert not bridge.wait_connected(QUIET_S)
        broker.start()
        try:
            assert bridge.wait_connected(WAIT_S)
        finally:
            broker.stop()


# --------------------------------------------------------------------------- settings and names


def test_defaults_talk_to_the_local_broker_only() -> None:
    settings = MqttSettings()
    assert (settings.host, settings.port, DEFAULT_HOST) == ("127.0.0.1", 1883, "127.0.0.1")
    assert HermesBridge(settings=settings).address == "mqtt://127.0.0.1:1883"


def test_names_that_cannot_be_topics_and_unknown_end_reasons_are_refused() -> None:
    bridge = HermesBridge(settings=MqttSettings(port=free_port()))
    with pytest.raises(IntegrationError, match="cannot be an MQTT topic level"):
        bridge.hotword_detected("hey/kitchen")
    with pytest.raises(IntegrationError, match="'finished' is not one of nominal"):
        bridge.session_ended("s-1", "finished")
