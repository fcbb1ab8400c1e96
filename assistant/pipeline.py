"""The voice loop: frames -> wake word -> endpointing -> recognizer -> dialogue -> reply.

This is the one module that wires the stages; they never call each other. It is
a state machine fed one frame at a time, so a microphone, a file, a socket and a
test drive it the same way, and it yields typed events (`assistant.events`).

Waiting for the wake word, every frame goes through the VAD (so the room's noise
is known when a command starts) and, unless gated off, the wake word. After the
wake word the endpointer collects the command; at its end the command (a short
pre-roll, no surrounding silence) is decoded whole. Streaming every frame since the
wake word into PocketSphinx was measured to turn espeak-ng commands into other
commands (the silence around them derails its grammar search), so decoding waits
for the endpoint: at RTF 0.05-0.1, a few hundred ms here.
After a reply that asks something, or inside the dialogue's follow-up window,
the next command needs no wake word.

Time is the stream's: the device's clock moves one frame per frame, so timers
set by voice ring at the right point of a recording as well as live.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from assistant.asr.factory import build_recognizer
from assistant.asr.recognizer import Recognizer
from assistant.asr.vosk_engine import VoskRecognizer
from assistant.audio import frame_samples_for
from assistant.budget import Listening
from assistant.devices import simulate
from assistant.devices.clock import SimClock
from assistant.dialogue import Dialogue, Turn
from assistant.endpoint import Endpointer, Utterance
from assistant.errors import AssistantError
from assistant.events import Announced, Awaiting, Event, Failed, Heard, NoCommand, Replied, Understood, Wake
from assistant.fitting import Degradation, MemoryLedger, measured_listening, return_freed_memory
from assistant.intents import IntentSet
from assistant.nlu.runtime import IntentModel
from assistant.profiles import DeviceProfile
from assistant.vad import VoiceActivityDetector
from assistant.wake import WakeWordDetector

log = logging.getLogger(__name__)

NOTICE_POLL_S = 1.0  # how often the device is asked for notices, in stream time
# Gated by the VAD, the wake word starts afresh at each burst of speech on the frames
# just before it: the VAD calls speech a frame or two late, and the phrase's onset matters.
WAKE_PRE_ROLL_FRAMES = 6  # 480 ms


@dataclass(frozen=True)
class LoopSettings:
    frame_ms: int
    wake_gated_by_vad: bool = False  # run the wake word only on frames the VAD calls speech (saves power)
    push_to_talk: bool = False  # no wake word: every command is taken (a button held, or a file of commands)


class VoiceLoop:
    def __init__(
        self,
        recognizer: Recognizer,
        dialogue: Dialogue,
        clock: SimClock,
        endpointer: Endpointer,
        wake: WakeWordDetector | None,
        settings: LoopSettings,
    ) -> None:
        if wake is None and not settings.push_to_talk:
            raise AssistantError("a voice loop without a wake word model must be push-to-talk")
        self.recognizer = recognizer
        self.dialogue = dialogue
        self.clock = clock
        self.endpointer = endpointer
        self.vad: VoiceActivityDetector = endpointer.vad  # one detector: the noise it learns carries over
        self.wake = wake
        self.settings = settings
        self.listening = Listening(
            "push_to_talk" if settings.push_to_talk else "vad_gated" if settings.wake_gated_by_vad else "always",
            0.0,
            "as set",
        )  # `assemble` replaces it with the mode chosen by the power budget, and why
        self.memory = MemoryLedger()
        self._frames = 0
        self.wake_frames = 0  # frames the wake word has scored: all of them, or the VAD's share when gated
        self._gated: deque[NDArray[np.int16]] = deque(maxlen=WAKE_PRE_ROLL_FRAMES)
        self._next_poll_s = NOTICE_POLL_S
        self._in_command = False
        self._follow_up = False  # listening without the wake word or a button: after a reply, or for an answer
        if settings.push_to_talk:
            self._listen()

    @property
    def now_s(self) -> float:
        return self._frames * self.settings.frame_ms / 1000.0

    def run(self, frames: Iterable[NDArray[np.int16]]) -> Iterator[Event]:
        """Events for a whole stream; the last command is finished when it ends."""
        for frame in frames:
            yield from self.push(frame)
        yield from self.finish()

    def push(self, frame: NDArray[np.int16]) -> list[Event]:
        self._frames += 1
        self.clock.advance(self.settings.frame_ms / 1000.0)
        events: list[Event] = []
        if self._in_command:
            utterance = self.endpointer.push(frame)
            if utterance is not None:
                events += self._command(utterance)
        else:
            events += self._watch_for_wake(frame)
        if self.now_s >= self._next_poll_s:
            self._next_poll_s += NOTICE_POLL_S
            events += [self._notice(turn) for turn in self.dialogue.poll()]
        return events

    def finish(self) -> list[Event]:
        """The stream ended: a command in progress is decoded as it is."""
        if not self._in_command:
            return []
        utterance = self.endpointer.finish()
        if utterance is None:
            return []
        return self._command(utterance, resume=False)

    def _watch_for_wake(self, frame: NDArray[np.int16]) -> list[Event]:
        assert self.wake is not None  # not push-to-talk: checked in __init__
        speech = self.vad.is_speech(frame)
        if self.settings.wake_gated_by_vad and not speech:
            self._gated.append(frame)
            return []
        frames = [frame]
        if self._gated:  # speech after a gap: what the wake word saw before the gap is stale
            self.wake.reset()
            frames = [*self._gated, frame]
            self._gated.clear()
        for scored in frames:
            started = time.process_time()
            self.wake_frames += 1
            score = self.wake.process(scored)
            if score.detected:
                break
        if not score.detected:
            return []
        event = Wake(self.now_s, self.wake.phrase, round(score.score, 4), (time.process_time() - started) * 1000.0)
        self._listen()
        self._follow_up = False
        return [event]

    def drop_wake_word(self) -> None:
        """Release the wake word and take every command (push-to-talk): the memory-saving degraded mode."""
        self.wake = None
        self.settings = replace(self.settings, wake_gated_by_vad=False, push_to_talk=True)
        self.listening = Listening("push_to_talk", 0.0, "the wake word was given up to fit the memory limit")
        self._gated.clear()
        if not self._in_command:
            self._listen()

    def replace_recognizer(self, build: Callable[[], Recognizer]) -> None:
        """Decode with the recognizer `build` makes from now on. The old one is released first:
        both at once could be over the very memory limit that asked for the change."""
        del self.recognizer
        return_freed_memory()
        self.recognizer = build()

    def _listen(self) -> None:
        self.endpointer.reset()
        self._in_command = True

    def _command(self, utterance: Utterance, *, resume: bool = True) -> list[Event]:
        """The endpointer closed a command: decode it, take the dialogue's turn, decide how to listen next."""
        self._in_command = False
        if utterance.reason == "no_speech":
            events: list[Event] = [NoCommand(self.now_s)]
        else:
            events = self._respond(utterance)
        if resume:
            events += self._next_listening()
        return events

    def _respond(self, utterance: Utterance) -> list[Event]:
        started = time.perf_counter()
        transcript = self.recognizer.transcribe(utterance.samples)
        recognize_ms = (time.perf_counter() - started) * 1000.0
        heard = Heard(
            self.now_s, transcript.text, transcript.alternatives, transcript.engine, transcript.rtf,
            round(utterance.end_s - utterance.start_s, 3), utterance.reason, recognize_ms,
        )  # fmt: skip
        if not transcript.text and self._follow_up:  # noise while waiting for more: no reply
            return [heard, Understood(self.now_s, None, {}, None, 0.0)]
        # Nothing recognized after the wake word (or a button) is still a command: it is answered as not
        # understood, not with silence (the soak found one command in ten unanswered in kitchen noise).
        try:
            turn = self.dialogue.hear(transcript.text)
        except AssistantError as error:  # a device or model failure on this command; the loop goes on
            log.error("dialogue failed on %r: %s", transcript.text, error)
            return [heard, Failed(self.now_s, "dialogue", str(error))]
        timings = {"recognize": round(recognize_ms, 3), **{k: round(v, 3) for k, v in turn.timings_ms.items()}}
        timings["end_to_reply"] = round(recognize_ms + turn.timings_ms.get("total", 0.0), 3)
        return [heard, self._understood(turn), self._replied(turn, timings)]

    def _next_listening(self) -> list[Event]:
        if self.settings.push_to_talk:
            self._listen()
            self._follow_up = False
            return []
        if self.dialogue.expects is not None or self.dialogue.in_follow_up():
            self._listen()
            self._follow_up = True
            return [Awaiting(self.now_s, "question" if self.dialogue.expects else "follow_up")]
        if self.wake is not None:
            self.wake.reset()  # the command's audio must not carry into the next wake window
        return []

    def _understood(self, turn: Turn) -> Understood:
        confidence = round(turn.frame.confidence, 4) if turn.frame else None
        parse_ms = turn.frame.latency_ms if turn.frame else 0.0
        slots = turn.action.values() if turn.action else {}
        return Understood(self.now_s, turn.intent, dict(slots), confidence, parse_ms)

    def _replied(self, turn: Turn, timings: dict[str, float]) -> Replied:
        return Replied(
            self.now_s,
            turn.reply.text,
            turn.reply.source,
            turn.outcome.to_dict() if turn.outcome else None,
            {key: list(change) for key, change in turn.changes.items()},
            turn.expects,
            timings,
        )

    def _notice(self, turn: Turn) -> Announced:
        return Announced(self.now_s, turn.reply.text, "notice")


def assemble(
    profile: DeviceProfile,
    intents: IntentSet,
    model: IntentModel,
    *,
    engine: str | None = None,
    push_to_talk: bool = False,
    listening: str | None = None,
    start: datetime | None = None,
    ledger: MemoryLedger | None = None,
) -> VoiceLoop:
    """The voice loop of a profile: its recognizer, its wake phrase, its simulated device.

    How it listens is chosen by the profile's power budget (`assistant.fitting`),
    unless `listening` (or `push_to_talk`) asks for a mode. `ledger` records what
    each component adds to resident memory; the loop keeps it as `loop.memory`."""
    asked = "push_to_talk" if push_to_talk else listening
    ledger = ledger or MemoryLedger.starting_with("python, the intent model and what came before")
    clock = SimClock(start or datetime.now().replace(microsecond=0))
    device = simulate(profile, clock)
    device_intents = intents.restricted_to(profile.domains)
    dialogue = Dialogue(device_intents, model, device, clock, confirm=profile.confirm)
    recognizer = build_recognizer(profile, intents, engine=engine)
    ledger.note(f"recognizer ({recognizer.engine}, {profile.recognizer.mode})")
    wants_wake = asked != "push_to_talk" and (asked is not None or profile.power.listening != "push_to_talk")

    def load_wake_process() -> Callable[[np.ndarray], object]:
        return WakeWordDetector.for_phrase(profile.wake_phrase).process

    frame_samples = frame_samples_for(profile.audio.frame_ms)
    chosen = measured_listening(
        profile, VoiceActivityDetector().is_speech, load_wake_process if wants_wake else None, frame_samples, asked
    )
    wake = WakeWordDetector.for_phrase(profile.wake_phrase) if chosen.mode != "push_to_talk" else None
    if wake is not None:
        ledger.note(f"wake word ({profile.wake_phrase})")
    settings = LoopSettings(
        profile.audio.frame_ms,
        wake_gated_by_vad=chosen.mode == "vad_gated",
        push_to_talk=chosen.mode == "push_to_talk",
    )
    loop = VoiceLoop(
        recognizer, dialogue, clock, Endpointer.from_profile(profile), None if settings.push_to_talk else wake, settings
    )
    loop.listening, loop.memory = chosen, ledger
    return loop


def memory_degrader(
    loop: VoiceLoop, profile: DeviceProfile, intents: IntentSet, engine: str | None = None
) -> Callable[[], Degradation | None]:
    """What `fitting.fit_memory` calls when the loop is over the profile's memory limit: it gives
    up what the profile's `degraded_mode` names, if the loop has that to give up. (Only the
    loop's recognizer changes mode: the daemon's Wyoming server keeps its own.)"""

    def degrade() -> Degradation | None:
        mode = profile.degraded_mode
        if mode == "push_to_talk" and loop.wake is not None:
            loop.drop_wake_word()
            return Degradation("the wake word", loop.listening)
        if mode == "grammar" and loop.recognizer.mode == "open":
            model = loop.recognizer.model if isinstance(loop.recognizer, VoskRecognizer) else None  # shared: kept
            loop.replace_recognizer(
                lambda: build_recognizer(profile, intents, engine=engine, mode="grammar", vosk_model=model)
            )
            return Degradation("the open vocabulary (grammar mode: the device's commands only)")
        return None

    return degrade
