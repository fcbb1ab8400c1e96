"""The assistant on a Hermes MQTT bus (Rhasspy 2.5, Snips-era skills, Node-RED flows).

`HermesBridge` connects to an MQTT broker and

- publishes what the assistant does, in the Hermes layouts: a wake word heard
  (`hermes/hotword/<wakewordId>/detected`), a transcript
  (`hermes/asr/textCaptured`), an intent (`hermes/intent/<intentName>`, slots as
  `{entity, slotName, rawValue, value: {kind, value}, range, confidence}`), a
  command not understood (`hermes/nlu/intentNotRecognized`), dialogue sessions
  (`hermes/dialogueManager/sessionStarted|sessionEnded`) and replies to speak
  (`hermes/tts/say`);
- answers `hermes/nlu/query` for its site with `hermes/nlu/intentParsed` plus
  `hermes/intent/<intentName>`, or `hermes/nlu/intentNotRecognized`.

A query that cannot be read (not JSON, not UTF-8, no `input`, over the size
limit) or that the model fails on is logged and answered on `hermes/error/nlu`;
the bridge goes on. When the broker goes away, paho's network thread reconnects
with a backoff from `reconnect_min_s` to `reconnect_max_s` and the subscription
is renewed; events published meanwhile are dropped with a warning (a wake word
delivered a minute late would be worse than none) and the publishing call
returns False.

The bridge talks to 127.0.0.1:1883 unless told otherwise and sends no audio.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from assistant.dialogue import Turn
from assistant.errors import IntegrationError
from assistant.intents import IntentSet
from assistant.nlu.result import ParseResult, SlotValue
from assistant.slot_types import SlotType, Value

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"  # the broker on this machine: the bus is not exposed by default
DEFAULT_PORT = 1883
DEFAULT_SITE_ID = "default"

TOPIC_NLU_QUERY = "hermes/nlu/query"
TOPIC_INTENT_PARSED = "hermes/nlu/intentParsed"
TOPIC_NOT_RECOGNIZED = "hermes/nlu/intentNotRecognized"
TOPIC_NLU_ERROR = "hermes/error/nlu"
TOPIC_TEXT_CAPTURED = "hermes/asr/textCaptured"
TOPIC_SESSION_STARTED = "hermes/dialogueManager/sessionStarted"
TOPIC_SESSION_ENDED = "hermes/dialogueManager/sessionEnded"
TOPIC_TTS_SAY = "hermes/tts/say"

# Why a dialogue session ended, as Hermes names it.
TERMINATION_REASONS = ("nominal", "abortedByUser", "intentNotRecognized", "timeout", "error", "siteUnavailable")
ERROR_CONTEXT_CHARS = 200  # how much of a bad query is quoted back in the error message
PARSED_KEYS = ("input", "intent", "slots", "id", "siteId", "sessionId")  # hermes/nlu/intentParsed: the intent, less
QOS = 0  # Hermes events are fire-and-forget: a stale "wake word detected" is worse than a lost one

# Slot types whose values are Hermes numbers of a kind; the rest are "Custom" values.
NUMBER_KINDS = {"integer": "Number", "decimal": "Number", "percentage": "Percentage", "temperature": "Temperature"}
ENTITY_IS_SLOT_NAME = frozenset({"enum", "text"})  # their entity is the slot's own name, not the type's


@dataclass(frozen=True)
class MqttSettings:
    """Where the broker is and who this assistant is on it."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    username: str | None = None
    password: str | None = None
    site_id: str = DEFAULT_SITE_ID  # the Hermes site this assistant answers for
    lang: str = "en"
    client_id: str = ""  # "" -> "assistant-<site_id>-<random>"
    keepalive_s: int = 30
    reconnect_min_s: int = 1  # first retry after a lost connection; doubles up to reconnect_max_s
    reconnect_max_s: int = 30
    max_query_bytes: int = 64 * 1024  # a larger hermes/nlu/query is refused
    max_input_chars: int = 1000  # a longer query `input` is refused


@dataclass(frozen=True)
class NluQuery:
    """A `hermes/nlu/query` message, read and checked."""

    input: str
    id: str = ""
    site_id: str = DEFAULT_SITE_ID
    session_id: str = ""
    intent_filter: tuple[str, ...] | None = None  # None: every intent
    wakeword_id: str | None = None
    custom_data: str | None = None


class HermesBridge:
    """The assistant on a Hermes MQTT bus. Thread-safe; `understand` runs on paho's network thread.

    ```python
    bridge = HermesBridge(core.understand, MqttSettings(site_id="kitchen"), intents=intents)
    bridge.start()                         # returns at once; connects (and reconnects) in the background
    bridge.hotword_detected("hey_kitchen")
    bridge.stop()
    ```
    """

    def __init__(
        self,
        understand: Callable[[str], ParseResult] | None = None,
        settings: MqttSettings | None = None,
        *,
        intents: IntentSet | None = None,
    ) -> None:
        self.understand = understand  # None: publish only, leave hermes/nlu/query to others
        self.settings = settings or MqttSettings()
        self.intents = intents  # slot types for each slot's Hermes entity and value kind
        client_id = self.settings.client_id or f"assistant-{self.settings.site_id}-{uuid.uuid4().hex[:8]}"
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        self._client.suppress_exceptions = True  # a callback bug is logged (see _on_log), never kills its thread
        self._client.on_log = self._on_log
        self._client.reconnect_delay_set(self.settings.reconnect_min_s, self.settings.reconnect_max_s)
        if self.settings.username is not None:
            self._client.username_pw_set(self.settings.username, self.settings.password)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._subscription: int | None = None
        self._connected = threading.Event()
        self._started = False
        self._stopping = False

    @property
    def address(self) -> str:
        return f"mqtt://{self.settings.host}:{self.settings.port}"

    @property
    def connected(self) -> bool:
        """Connected to the broker and, when answering queries, subscribed to them."""
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        """True once `connected`, False if `timeout_s` passed first."""
        return self._connected.wait(timeout_s)

    def start(self) -> None:
        """Connect in the background; a broker that is down now is retried until it is up."""
        if self._started:
            return
        try:
            self._client.connect_async(self.settings.host, self.settings.port, keepalive=self.settings.keepalive_s)
        except (ValueError, OSError) as error:
            raise IntegrationError(f"{self.address}: cannot connect ({error})") from error
        self._stopping = False
        self._client.loop_start()
        self._started = True
        log.info("Hermes bridge for site %r connecting to %s", self.settings.site_id, self.address)

    def stop(self) -> None:
        if not self._started:
            return
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()
        self._started = False

    def __enter__(self) -> HermesBridge:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ events out

    def hotword_detected(
        self,
        wakeword_id: str,
        *,
        model_id: str | None = None,
        sensitivity: float = 1.0,
        session_id: str | None = None,
        site_id: str | None = None,
    ) -> bool:
        """`hermes/hotword/<wakewordId>/detected`."""
        payload = {
            "modelId": model_id or wakeword_id,
            "modelVersion": "",
            "modelType": "personal",
            "currentSensitivity": sensitivity,
            "siteId": site_id or self.settings.site_id,
            "sessionId": session_id,
            "lang": self.settings.lang,
        }
        return self._publish(f"hermes/hotword/{_topic_level(wakeword_id, 'wakeword id')}/detected", payload)

    def text_captured(
        self,
        text: str,
        *,
        likelihood: float = 1.0,
        seconds: float = 0.0,
        session_id: str = "",
        wakeword_id: str | None = None,
        site_id: str | None = None,
    ) -> bool:
        """`hermes/asr/textCaptured`: `seconds` is how long the recognizer took."""
        payload = {
            "text": text,
            "likelihood": likelihood,
            "seconds": seconds,
            "siteId": site_id or self.settings.site_id,
            "sessionId": session_id,
            "wakewordId": wakeword_id,
            "lang": self.settings.lang,
        }
        return self._publish(TOPIC_TEXT_CAPTURED, payload)

    def intent(
        self,
        result: ParseResult,
        *,
        session_id: str = "",
        request_id: str = "",
        custom_data: str | None = None,
        wakeword_id: str | None = None,
        site_id: str | None = None,
    ) -> bool:
        """`hermes/intent/<intentName>` for an understood command; `not_recognized` for the rest."""
        if result.intent is None:
            return self.not_recognized(
                result.text, session_id=session_id, request_id=request_id, custom_data=custom_data, site_id=site_id
            )
        payload = intent_payload(
            result,
            self.intents,
            site_id=site_id or self.settings.site_id,
            session_id=session_id,
            request_id=request_id,
            custom_data=custom_data,
            wakeword_id=wakeword_id,
            lang=self.settings.lang,
        )
        return self._publish(f"hermes/intent/{_topic_level(result.intent, 'intent name')}", payload)

    def not_recognized(
        self,
        text: str,
        *,
        session_id: str = "",
        request_id: str = "",
        custom_data: str | None = None,
        site_id: str | None = None,
    ) -> bool:
        """`hermes/nlu/intentNotRecognized`."""
        payload = {
            "input": text,
            "id": request_id,
            "siteId": site_id or self.settings.site_id,
            "sessionId": session_id,
            "customData": custom_data,
            "lang": self.settings.lang,
        }
        return self._publish(TOPIC_NOT_RECOGNIZED, payload)

    def session_started(self, session_id: str, *, custom_data: str | None = None, site_id: str | None = None) -> bool:
        """`hermes/dialogueManager/sessionStarted`."""
        payload = {
            "sessionId": session_id,
            "siteId": site_id or self.settings.site_id,
            "customData": custom_data,
            "lang": self.settings.lang,
        }
        return self._publish(TOPIC_SESSION_STARTED, payload)

    def session_ended(
        self,
        session_id: str,
        reason: str = "nominal",
        *,
        error: str | None = None,
        custom_data: str | None = None,
        site_id: str | None = None,
    ) -> bool:
        """`hermes/dialogueManager/sessionEnded`; `reason` is one of TERMINATION_REASONS."""
        if reason not in TERMINATION_REASONS:
            raise IntegrationError(f"session end reason {reason!r} is not one of {', '.join(TERMINATION_REASONS)}")
        termination: dict[str, Any] = {"reason": reason}
        if error is not None:
            termination["error"] = error
        payload = {
            "termination": termination,
            "sessionId": session_id,
            "siteId": site_id or self.settings.site_id,
            "customData": custom_data,
        }
        return self._publish(TOPIC_SESSION_ENDED, payload)

    def say(self, text: str, *, session_id: str = "", request_id: str = "", site_id: str | None = None) -> bool:
        """`hermes/tts/say`: a reply for the site's text-to-speech to speak."""
        payload = {
            "text": text,
            "lang": self.settings.lang,
            "id": request_id or uuid.uuid4().hex,
            "siteId": site_id or self.settings.site_id,
            "sessionId": session_id,
        }
        return self._publish(TOPIC_TTS_SAY, payload)

    def turn(
        self, turn: Turn, *, session_id: str = "", wakeword_id: str | None = None, site_id: str | None = None
    ) -> bool:
        """One dialogue turn on the bus: what it did, then its reply on `hermes/tts/say`.

        A command acted on (or answered, like "what time is it") goes out as
        `hermes/intent/<name>` with the slots it was carried out with; one not
        understood as `intentNotRecognized`. While the dialogue waits for an answer
        ("How long?") nothing is published but the question, so no skill acts on
        half a command. A device's notice (a timer rang) is only said.
        """
        sent = True
        if turn.heard is not None and turn.expects is None:
            if turn.intent is None:
                sent = self.not_recognized(turn.heard, session_id=session_id, site_id=site_id)
            else:
                frame = turn.frame
                text = frame.text if frame is not None else turn.heard
                slots = turn.action.slots if turn.action is not None else frame.slots if frame is not None else ()
                confidence = frame.confidence if frame is not None else 1.0
                latency_ms = frame.latency_ms if frame is not None else 0.0
                result = ParseResult(text, turn.intent, slots, confidence, latency_ms)
                sent = self.intent(result, session_id=session_id, wakeword_id=wakeword_id, site_id=site_id)
        said = self.say(turn.reply.text, session_id=session_id, site_id=site_id)
        return sent and said

    @staticmethod
    def new_session_id() -> str:
        return str(uuid.uuid4())

    def _publish(self, topic: str, payload: Mapping[str, Any]) -> bool:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        info = self._client.publish(topic, data, qos=QOS)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            log.warning("not connected to %s: %s dropped (%s)", self.address, topic, mqtt.error_string(info.rc))
            return False
        return True

    # ------------------------------------------------------------------ paho callbacks (network thread)

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            log.error("broker %s refused the connection: %s", self.address, reason)
            return
        log.info("connected to %s as site %r", self.address, self.settings.site_id)
        if self.understand is None:
            self._connected.set()
            return
        self._subscription = client.subscribe(TOPIC_NLU_QUERY, qos=QOS)[1]  # connected once acknowledged

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: list[Any], properties: Any) -> None:
        if mid != self._subscription:
            return
        if any(reason.is_failure for reason in reasons):
            log.error("broker %s refused the subscription to %s: %s", self.address, TOPIC_NLU_QUERY, reasons)
        self._connected.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: mqtt.DisconnectFlags, reason: Any, properties: Any
    ) -> None:
        self._connected.clear()
        if not self._stopping:
            log.warning(
                "lost the connection to %s (%s); reconnecting every %d-%d s",
                self.address,
                reason,
                self.settings.reconnect_min_s,
                self.settings.reconnect_max_s,
            )

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        log.warning("cannot reach the broker at %s; retrying", self.address)

    def _on_log(self, client: mqtt.Client, userdata: Any, level: int, message: str) -> None:
        # paho reports each failed reconnection attempt as an error; _on_disconnect already said
        # the broker is gone, so only exceptions caught in callbacks are worth more than debug.
        log.log(logging.ERROR if message.startswith("Caught exception") else logging.DEBUG, "paho: %s", message)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic == TOPIC_NLU_QUERY:
            self._answer_query(bytes(message.payload))

    def _answer_query(self, raw: bytes) -> None:
        site_id, session_id = self.settings.site_id, ""
        try:
            query = parse_query(raw, self.settings.max_query_bytes, self.settings.max_input_chars)
            if query.site_id != self.settings.site_id:
                return  # another site's assistant answers it
            site_id, session_id = query.site_id, query.session_id
            assert self.understand is not None  # only subscribed with a model
            result = self.understand(query.input)
        except IntegrationError as error:
            log.error("bad %s message: %s", TOPIC_NLU_QUERY, error)
            self._nlu_error(str(error), raw, site_id, session_id)
            return
        except Exception as error:  # the model failing on one query must not end the bridge
            log.exception("%s: the intent model failed", TOPIC_NLU_QUERY)
            self._nlu_error(f"intent recognition failed: {error}", raw, site_id, session_id)
            return
        if result.intent is not None and query.intent_filter is not None and result.intent not in query.intent_filter:
            log.info("%s: %s is outside the query's intent filter", TOPIC_NLU_QUERY, result.intent)
            result = ParseResult(result.text, None, (), result.confidence, result.latency_ms)
        if result.intent is None:
            self.not_recognized(
                query.input,
                session_id=query.session_id,
                request_id=query.id,
                custom_data=query.custom_data,
                site_id=query.site_id,
            )
            return
        payload = intent_payload(
            result,
            self.intents,
            site_id=query.site_id,
            session_id=query.session_id,
            request_id=query.id,
            custom_data=query.custom_data,
            wakeword_id=query.wakeword_id,
            lang=self.settings.lang,
        )
        self._publish(TOPIC_INTENT_PARSED, {key: payload[key] for key in PARSED_KEYS})
        self._publish(f"hermes/intent/{_topic_level(result.intent, 'intent name')}", payload)

    def _nlu_error(self, error: str, raw: bytes, site_id: str, session_id: str) -> None:
        context = raw[: ERROR_CONTEXT_CHARS * 4].decode("utf-8", errors="replace")[:ERROR_CONTEXT_CHARS]
        self._publish(TOPIC_NLU_ERROR, {"error": error, "context": context, "siteId": site_id, "sessionId": session_id})


# --------------------------------------------------------------------------- payloads


def parse_query(raw: bytes, max_bytes: int, max_input_chars: int) -> NluQuery:
    """A `hermes/nlu/query` payload, checked; raises IntegrationError naming what is wrong."""
    if len(raw) > max_bytes:
        raise IntegrationError(f"{TOPIC_NLU_QUERY}: payload of {len(raw)} bytes is over the limit of {max_bytes}")
    try:
        message = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise IntegrationError(f"{TOPIC_NLU_QUERY}: payload is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise IntegrationError(f"{TOPIC_NLU_QUERY}: payload is not JSON ({error.msg} at {error.pos})") from None
    if not isinstance(message, dict):
        raise IntegrationError(f"{TOPIC_NLU_QUERY}: payload must be a JSON object, got {type(message).__name__}")
    text = message.get("input")
    if not isinstance(text, str):
        raise IntegrationError(f"{TOPIC_NLU_QUERY}: 'input' must be a string, got {_json_type(text)}")
    if len(text) > max_input_chars:
        raise IntegrationError(f"{TOPIC_NLU_QUERY}: 'input' longer than {max_input_chars} characters")
    intent_filter = message.get("intentFilter")
    if intent_filter is not None and not (
        isinstance(intent_filter, list) and all(isinstance(name, str) for name in intent_filter)
    ):
        raise IntegrationError(f"{TOPIC_NLU_QUERY}: 'intentFilter' must be a list of intent names or null")
    return NluQuery(
        input=text,
        id=_optional_string(message, "id") or "",
        site_id=_optional_string(message, "siteId") or DEFAULT_SITE_ID,
        session_id=_optional_string(message, "sessionId") or "",
        intent_filter=tuple(intent_filter) if intent_filter is not None else None,
        wakeword_id=_optional_string(message, "wakewordId"),
        custom_data=_optional_string(message, "customData"),
    )


def intent_payload(
    result: ParseResult,
    intents: IntentSet | None,
    *,
    site_id: str,
    session_id: str = "",
    request_id: str = "",
    custom_data: str | None = None,
    wakeword_id: str | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """The Hermes `hermes/intent/<intentName>` message for an understood command."""
    if result.intent is None:
        raise ValueError("intent_payload needs an understood command")
    confidence = round(result.confidence, 4)
    return {
        "input": result.text,
        "intent": {"intentName": result.intent, "confidenceScore": confidence},
        "slots": [slot_payload(slot, result.intent, confidence, intents, result.text) for slot in result.slots],
        "id": request_id,
        "siteId": site_id,
        "sessionId": session_id,
        "customData": custom_data,
        "asrTokens": [],
        "asrConfidence": None,
        "rawInput": result.text,
        "wakewordId": wakeword_id,
        "lang": lang,
    }


def slot_payload(
    slot: SlotValue, intent_name: str, confidence: float, intents: IntentSet | None, text: str
) -> dict[str, Any]:
    """One slot as Hermes lays it out. `range` indexes `text` (the message's `input`, the
    normalised transcript); it is null for a value heard in an earlier utterance
    ("and the bedroom too" keeps the last command's other slots)."""
    slot_type = _slot_type(intents, intent_name, slot.name)
    type_name = slot_type.name if slot_type is not None else None
    unit = getattr(slot_type, "unit", None)
    entity = slot.name if type_name is None or type_name in ENTITY_IS_SLOT_NAME else type_name
    return {
        "entity": entity,
        "slotName": slot.name,
        "rawValue": slot.raw,
        "value": slot_value(slot.value, type_name, unit if isinstance(unit, str) else None),
        "range": {"start": slot.start, "end": slot.end, "rawStart": slot.start, "rawEnd": slot.end}
        if text[slot.start : slot.end] == slot.raw
        else None,
        "confidence": confidence,
    }


def slot_value(value: Value, type_name: str | None, unit: str | None = None) -> dict[str, Any]:
    """A typed slot value as a Hermes `{kind, value}` object.

    Durations carry Snips' breakdown (days, hours, minutes, seconds) and the total in
    seconds as `value`; numbers, percentages and temperatures (with their `unit`)
    keep their number; clock times ("HH:MM"), dates, enumerations and free text are
    `Custom` strings.
    """
    if type_name == "duration" and isinstance(value, int | float):
        days, rest = divmod(value, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, seconds = divmod(rest, 60)
        return {
            "kind": "Duration",
            "value": value,
            "years": 0,
            "quarters": 0,
            "months": 0,
            "weeks": 0,
            "days": int(days),
            "hours": int(hours),
            "minutes": int(minutes),
            "seconds": seconds,
            "precision": "Exact",
        }
    kind = NUMBER_KINDS.get(type_name or "")
    if kind is None and type_name is None and isinstance(value, int | float):
        kind = "Number"
    if kind is not None and isinstance(value, int | float):
        payload: dict[str, Any] = {"kind": kind, "value": value}
        if kind == "Temperature":
            payload["unit"] = unit
        return payload
    return {"kind": "Custom", "value": value}


def _slot_type(intents: IntentSet | None, intent_name: str, slot_name: str) -> SlotType | None:
    if intents is None:
        return None
    try:
        slot = intents.intent(intent_name).slots.get(slot_name)
    except KeyError:
        return None
    return slot.type if slot is not None else None


def _topic_level(name: str, what: str) -> str:
    if not name or any(character in name for character in "/+#\0"):
        raise IntegrationError(f"{what} {name!r} cannot be an MQTT topic level (empty, or has / + # or NUL)")
    return name


def _optional_string(message: Mapping[str, Any], key: str) -> str | None:
    value = message.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise IntegrationError(f"{TOPIC_NLU_QUERY}: {key!r} must be a string, got {_json_type(value)}")
    return value


def _json_type(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "TERMINATION_REASONS",
    "HermesBridge",
    "MqttSettings",
    "NluQuery",
    "intent_payload",
    "parse_query",
    "slot_payload",
    "slot_value",
]
