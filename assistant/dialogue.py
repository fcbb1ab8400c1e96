"""The conversation: what to do with each thing the user says, given what came before.

One `Dialogue` per device. It turns a transcript into at most one device action
and always into one reply:

- a required slot is missing: ask for it ("For how long?") and read the answer
  from the next utterance, either as a whole command or as the bare value;
- the action is risky (`confirm: true`): ask first, act on yes, drop it on no;
- "cancel", "never mind", "stop" end whatever is pending and silence alerts;
- a follow-up inside the window continues the last action: "and the bedroom too"
  (a new value for its slot), "make it five more minutes" (more of the same),
  "what about the freezer" (the sibling intent its words name);
- the device's refusals are said with their reason, and its notices (a timer
  rang) become turns of their own.

Stages never call each other: the pipeline hands this module transcripts, and the
dialogue calls the intent model and the device it was given.
"""

from __future__ import annotations

import random
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from assistant.devices.base import Device, Notice, Outcome, state_changes
from assistant.devices.clock import Clock
from assistant.intents import CONFIRM, NOT_UNDERSTOOD, Intent, IntentSet
from assistant.nlu.replies import Reply, compose_reply, mentions_all
from assistant.nlu.result import ParseResult, SlotValue
from assistant.nlu.runtime import IntentModel
from assistant.nlu.sequences import sentence_case
from assistant.slot_types import DurationSlot, EnumSlot, SlotType, TextSlot, Value
from assistant.templates import render_reply
from assistant.textnorm import normalize

FOLLOW_UP_S = 8.0  # after a reply, the next command needs no wake word for this long
MAX_REASKS = 1  # a question is asked again once; then the request is dropped
MORE_WORDS = frozenset({"more", "extra", "longer", "another", "additional"})
LESS_WORDS = frozenset({"less", "fewer", "shorter"})
CHANGE_SLOTS = frozenset({"amount"})  # slots that already hold a change ("two degrees warmer"), not a setting
CONTINUATION_MIN_CONFIDENCE = 0.5  # a fragment ("and the office too") with nothing to continue needs this much
# A fragment that opens or closes like this continues the last request ("and the bedroom too").
CONTINUES_WITH = ("and", "also", "what about", "how about", "same for", "now")
CONTINUES_AFTER = ("too", "as well", "also")
CANCEL, STOP, YES, NO, REPEAT = "general.cancel", "general.stop", "general.yes", "general.no", "general.repeat"
# Reply sources beyond the model's and the templates'.
CONFIRMATION, DEVICE, DIALOGUE = "confirmation", "device", "dialogue"


@dataclass(frozen=True)
class Action:
    """An intent with its typed slot values, ready for the device."""

    intent: str
    slots: tuple[SlotValue, ...]

    def values(self) -> dict[str, Value]:
        return {slot.name: slot.value for slot in self.slots}

    def to_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "slots": {slot.name: slot.value for slot in self.slots}}


@dataclass(frozen=True)
class Turn:
    """One exchange: what was heard (or the notice that fired), what was done, the reply."""

    heard: str | None  # the transcript; None for a device's own notice
    frame: ParseResult | None  # the model's reading of `heard`
    action: Action | None  # what the dialogue decided to do (asked about, when `expects` is set)
    outcome: Outcome | None  # what the device did; None when nothing was done yet
    reply: Reply
    changes: Mapping[str, tuple[Any, Any]]  # device state "domain.key" -> (before, after)
    expects: str | None  # "slot:NAME" | "confirmation" | None
    follow_up_until: datetime  # until then the next command needs no wake word
    at: datetime
    timings_ms: Mapping[str, float] = field(default_factory=dict)

    @property
    def intent(self) -> str | None:
        """What was understood: the action's intent, else the `general` one answered by talking."""
        if self.action is not None:
            return self.action.intent
        return self.frame.intent if self.frame else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(timespec="seconds"),
            "heard": self.heard,
            "intent": self.intent,
            "slots": self.action.values() if self.action else {},
            "confidence": round(self.frame.confidence, 4) if self.frame else None,
            "outcome": self.outcome.to_dict() if self.outcome else None,
            "reply": self.reply.text,
            "reply_source": self.reply.source,
            "state_changes": {key: list(change) for key, change in self.changes.items()},
            "expects": self.expects,
            "follow_up_until": self.follow_up_until.isoformat(timespec="seconds"),
            "timings_ms": {stage: round(ms, 3) for stage, ms in self.timings_ms.items()},
        }


Decision = Action | tuple[Action | None, Reply]  # act now, or say this (about that action)


@dataclass
class _Pending:
    action: Action
    expects: str  # "slot:NAME" | "confirmation"
    asked: int = 0


class Dialogue:
    def __init__(
        self,
        intents: IntentSet,
        model: IntentModel,
        device: Device,
        clock: Clock,
        *,
        follow_up_s: float = FOLLOW_UP_S,
        confirm: Collection[str] = (),
        seed: int | None = None,
    ) -> None:
        self.intents = intents  # the device's view: only its domains
        self.model = model
        self.device = device
        self.clock = clock
        self.follow_up_s = follow_up_s
        self._confirm = {intent.name for intent in intents.intents if intent.confirm} | set(confirm)
        self._allowed = {intent.name for intent in intents.intents}
        self._rng = random.Random(seed)
        self._pending: _Pending | None = None
        self._last_action: Action | None = None
        self._last_reply: str | None = None
        self._follow_up_until = clock.now()

    @property
    def expects(self) -> str | None:
        """What the last reply asked for, if anything."""
        return self._pending.expects if self._pending else None

    def in_follow_up(self) -> bool:
        """True when the next command needs no wake word."""
        return self._pending is not None or self.clock.now() < self._follow_up_until

    def hear(self, text: str) -> Turn:
        """The turn for one transcript."""
        started = time.perf_counter()
        frame = self.model.parse(text, self._allowed)
        timings = {"parse": frame.latency_ms}
        decision = self._decide(frame)
        if isinstance(decision, Action):  # act now
            act_started = time.perf_counter()
            before = self.device.state()
            outcome = self.device.act(decision.intent, decision.values())
            changes = state_changes(before, self.device.state())
            timings["act"] = _ms(act_started)
            reply = self._report(decision, outcome, text)
            self._last_action = decision
            action: Action | None = decision
        else:  # only talk: a question, a refusal to guess, a general reply
            (action, reply), outcome, changes = decision, None, {}
        timings["reply"] = reply.latency_ms
        timings["total"] = _ms(started)
        return self._turn(text, frame, action, outcome, reply, changes, timings)

    def poll(self) -> list[Turn]:
        """Turns for the device's notices that came due (call after the clock moves)."""
        return [self._notice_turn(notice) for notice in self.device.poll()]

    # What to do -------------------------------------------------------------

    def _decide(self, frame: ParseResult) -> Decision:
        """The action to take now, or what to say without acting (and the action asked about)."""
        pending, self._pending = self._pending, None
        if pending is not None and pending.expects.startswith("slot:"):
            answer = self._whole_answer(frame.text, pending)  # "quiet" is a suction level here, not "stop"
            if answer is not None:
                return self._start(_merged(pending.action, [answer]))
        if frame.intent in (CANCEL, STOP):  # ends any question and silences alerts
            self.device.silence()
            return None, self._said(frame.intent)
        if pending is not None:
            if pending.expects == "confirmation":
                return self._confirmation(frame, pending)
            return self._slot_answer(frame, pending)
        if _continues(frame.text):  # "and seven o'clock too" continues; it is not a "no"
            carried = self._carry_over(frame)
            if carried is not None:
                return self._start(carried)
            if frame.confidence < CONTINUATION_MIN_CONFIDENCE:
                return None, self._not_understood()  # a fragment with nothing to continue
        if frame.intent == REPEAT:
            return None, self._repeat()
        if frame.intent is None:
            carried = self._carry_over(frame)
            return (None, self._not_understood()) if carried is None else self._start(carried)
        if frame.intent.startswith("general."):
            return None, self._said(frame.intent)
        return self._start(Action(frame.intent, frame.slots), frame.text)

    def _start(self, action: Action, heard: str = "", retry: _Pending | None = None) -> Decision:
        """Ask for what is missing, or for confirmation, or go ahead. `retry` is the
        question this answers: asking the same one again counts against it."""
        intent = self.intents.intent(action.intent)
        present = {slot.name for slot in action.slots}
        missing = next((slot for slot in intent.required_slots if slot.name not in present), None)
        if missing is not None and not isinstance(missing.type, TextSlot):
            # the words may hold the value where the model tagged none ("five MORE minutes")
            found = _read_slot(intent, missing.name, _without(heard, MORE_WORDS | LESS_WORDS))
            if found is not None:
                return self._start(_merged(action, [found]))
        if missing is not None:
            expects = f"slot:{missing.name}"
            asked = retry.asked + 1 if retry is not None and retry.expects == expects else 0
            if asked > MAX_REASKS:
                return None, self._said(CANCEL)
            self._pending = _Pending(action, expects, asked)
            return action, Reply(self._rng.choice(missing.ask), "question", 0.0)
        if intent.name in self._confirm:
            self._pending = _Pending(action, "confirmation")
            return action, self._confirm_question(intent, action)
        return action

    def _confirmation(self, frame: ParseResult, pending: _Pending) -> Decision:
        if frame.intent == YES:
            return pending.action
        if frame.intent == NO:
            return None, self._said(NO)
        if frame.intent is not None and not frame.intent.startswith("general."):
            return self._start(Action(frame.intent, frame.slots))  # a new request replaces the question
        if pending.asked < MAX_REASKS:
            self._pending = replace(pending, asked=pending.asked + 1)
            question = self._confirm_question(self.intents.intent(pending.action.intent), pending.action)
            return pending.action, Reply(f"Please say yes or no. {question.text}", CONFIRMATION, 0.0)
        return None, self._said(CANCEL)

    def _slot_answer(self, frame: ParseResult, pending: _Pending) -> Decision:
        """Fill the slot that was asked for: from the model's reading of the same
        intent, or from the value in the words ("ten minutes"), unless a new
        complete request came instead. Asked twice without an answer, it gives up."""
        name = pending.expects.split(":", 1)[1]
        intent = self.intents.intent(pending.action.intent)
        if frame.intent == pending.action.intent:
            return self._start(_merged(pending.action, frame.slots), frame.text, retry=pending)
        answer = frame.slot(name) if frame.intent is not None else None  # "ten minutes" read as another intent's
        if answer is None:
            answer = _read_slot(intent, name, frame.text)
        if answer is not None:
            return self._start(_merged(pending.action, [answer]), retry=pending)
        if frame.intent is not None and not frame.intent.startswith("general."):
            return self._start(Action(frame.intent, frame.slots), frame.text)
        return self._start(pending.action, retry=pending)

    def _whole_answer(self, text: str, pending: _Pending) -> SlotValue | None:
        """The asked slot's value when it is all that was said."""
        intent = self.intents.intent(pending.action.intent)
        slot = intent.slots[pending.expects.split(":", 1)[1]]
        if isinstance(slot.type, TextSlot):
            return None
        answer = _read_slot(intent, slot.name, text)
        return answer if answer is not None and answer.raw == normalize(text) else None

    def _carry_over(self, frame: ParseResult) -> Action | None:
        """A fragment that continues the last action, within the follow-up window."""
        last = self._last_action
        if last is None or self.clock.now() >= self._follow_up_until:
            return None
        words = frame.text.split()
        intent = self.intents.intent(last.intent)
        sibling = self._sibling(intent, set(words))
        if sibling is not None:  # keeps the values the sibling can take: the fridge's 3 degrees is no freezer setting
            kept = [s for s in last.slots if s.name in sibling.slots and _fits(sibling.slots[s.name].type, s.value)]
            return Action(sibling.name, tuple(kept))
        values = [
            value
            for name, slot in intent.slots.items()
            if not isinstance(slot.type, TextSlot)
            for value in [_read_slot(intent, name, _without(frame.text, MORE_WORDS | LESS_WORDS))]
            if value is not None
        ]
        if not values:
            return None
        relative = MORE_WORDS & set(words) or LESS_WORDS & set(words)
        if relative:
            return self._relative(last, intent, values[0], negative=bool(LESS_WORDS & set(words)))
        return _merged(last, values)

    def _relative(self, last: Action, intent: Intent, delta: SlotValue, *, negative: bool) -> Action | None:
        """ "five more minutes": the domain's `add` action when it has one for this
        slot, else the last action with the value moved by the amount."""
        adder = f"{intent.domain}.add"
        if not negative and adder in self._allowed and delta.name in self.intents.intent(adder).slots:
            return Action(adder, (delta,))
        if delta.name in CHANGE_SLOTS or last.intent == adder:  # "and one more degree" after "two degrees warmer"
            return _merged(last, [delta])
        previous = next((s for s in last.slots if s.name == delta.name), None)
        if (
            previous is None
            or not isinstance(previous.value, (int, float))
            or not isinstance(delta.value, (int, float))
        ):
            return None
        moved = previous.value - delta.value if negative else previous.value + delta.value
        return _merged(last, [replace(delta, value=moved)])

    def _sibling(self, intent: Intent, words: set[str]) -> Intent | None:
        """The other intent of the same domain that a word of the fragment names
        ("freezer" after setting the fridge)."""
        own = set(intent.name.split(".", 1)[1].split("_"))
        named = [
            other
            for other in self.intents.intents
            if other.domain == intent.domain and other.name != intent.name
            and set(other.name.split(".", 1)[1].split("_")) - own & words
            and {s.name for s in other.slots.values() if s.required} <= set(intent.slots)
        ]  # fmt: skip
        return named[0] if len(named) == 1 else None

    # What to say ------------------------------------------------------------

    def _report(self, action: Action, outcome: Outcome, heard: str) -> Reply:
        intent = self.intents.intent(action.intent)
        frame = ParseResult(heard, action.intent, action.slots, 1.0, 0.0)
        if outcome.ok:
            # a zero time left ("remaining" of an idle oven) is not said: its template part is optional
            results = {
                name: value
                for name, value in outcome.results.items()
                if not (isinstance(intent.result.get(name), DurationSlot) and value == 0)
            }
            reply = compose_reply(self.intents, frame, results, self.model, self._rng)
            if reply is not None:
                return reply
        started = time.perf_counter()
        said = {s.name: intent.slots[s.name].type.say(s.value) for s in action.slots}
        if outcome.reason:
            said["reason"] = outcome.reason
        kind = "success" if outcome.ok else "failure"
        for template in _shuffled(self.intents.replies(intent, kind), self._rng):
            text = render_reply(template.node, said, self._rng)
            if text is not None and outcome.reason and text.lower().count(outcome.reason.lower()) > 1:
                # "No alarm is ringing: no alarm is ringing." - the template already says why
                text = render_reply(template.node, {k: v for k, v in said.items() if k != "reason"}, self._rng)
            if text is not None and (outcome.reason is None or mentions_all(text, [outcome.reason])):
                return Reply(sentence_case(text), "template", _ms(started))
        return Reply("Sorry, that didn't work.", "template", _ms(started))

    def _confirm_question(self, intent: Intent, action: Action) -> Reply:
        said = {s.name: intent.slots[s.name].type.say(s.value) for s in action.slots}
        for template in _shuffled(self.intents.replies(intent, CONFIRM), self._rng):
            text = render_reply(template.node, said, self._rng)
            if text is not None:
                return Reply(sentence_case(text), CONFIRMATION, 0.0)
        return Reply("Are you sure?", CONFIRMATION, 0.0)

    def _said(self, intent_name: str) -> Reply:
        """The plain reply of a `general` intent (nothing for the device to do)."""
        general = ParseResult("", intent_name, (), 1.0, 0.0)
        reply = compose_reply(self.intents, general, rng=self._rng)
        return reply if reply is not None else Reply("Okay.", "template", 0.0)

    def _not_understood(self) -> Reply:
        template = self._rng.choice(self.intents.default_replies[NOT_UNDERSTOOD])
        return Reply(render_reply(template.node, {}, self._rng) or "Sorry?", "template", 0.0)

    def _repeat(self) -> Reply:
        if self._last_reply is None:
            intent = self.intents.intent(REPEAT)
            template = self._rng.choice(self.intents.replies(intent, "failure"))
            return Reply(render_reply(template.node, {}, self._rng) or "I haven't said anything yet.", "template", 0.0)
        return Reply(self._last_reply, DIALOGUE, 0.0)

    def _turn(
        self,
        heard: str,
        frame: ParseResult,
        action: Action | None,
        outcome: Outcome | None,
        reply: Reply,
        changes: Mapping[str, tuple[Any, Any]],
        timings: Mapping[str, float],
    ) -> Turn:
        now = self.clock.now()
        # Only a turn that acted (or asked about acting) is followed up without the wake word. Talk alone ("no",
        # "stop", "thanks", not understood) ends the conversation: otherwise noise heard as such a word answers
        # itself and keeps the microphone open for good (measured by the soak, docs/soak.md).
        self._follow_up_until = now + timedelta(seconds=self.follow_up_s) if action is not None else now
        if frame.intent != REPEAT:
            self._last_reply = reply.text
        return Turn(
            heard=heard,
            frame=frame,
            action=action,
            outcome=outcome,
            reply=reply,
            changes=changes,
            expects=self.expects,
            follow_up_until=self._follow_up_until,
            at=now,
            timings_ms=timings,
        )

    def _notice_turn(self, notice: Notice) -> Turn:
        self._last_reply = notice.text
        return Turn(
            heard=None,
            frame=None,
            action=None,
            outcome=None,
            reply=Reply(notice.text, DEVICE, 0.0),
            changes={},
            expects=self.expects,
            follow_up_until=self._follow_up_until,
            at=notice.at,
        )


def _fits(slot_type: SlotType, value: Value) -> bool:
    """Whether the value is within the slot's range or among its names."""
    if isinstance(slot_type, EnumSlot):
        return value in slot_type.values
    low, high = getattr(slot_type, "min", None), getattr(slot_type, "max", None)
    if isinstance(value, (int, float)) and low is not None and high is not None:
        return bool(low <= value <= high)
    return True


def _continues(text: str) -> bool:
    padded = f" {text} "
    return any(padded.startswith(f" {words} ") for words in CONTINUES_WITH) or any(
        padded.endswith(f" {words} ") for words in CONTINUES_AFTER
    )


def _merged(action: Action, values: Sequence[SlotValue]) -> Action:
    """The action with these slot values added or replaced."""
    replaced = {value.name for value in values}
    return Action(action.intent, (*[s for s in action.slots if s.name not in replaced], *values))


def _read_slot(intent: Intent, name: str, text: str) -> SlotValue | None:
    """The first reading of slot `name` anywhere in the text ("ten minutes",
    "the bedroom"), or None."""
    slot_type = intent.slots[name].type
    words = normalize(text).split()
    if isinstance(slot_type, TextSlot):
        words = _without(" ".join(words), frozenset({"the", "a", "an", "my", "for", "called", "named"})).split()
        return SlotValue(name, " ".join(words), " ".join(words), 0, len(" ".join(words))) if words else None
    for start in range(len(words)):
        read = slot_type.read(words, start)
        if read is not None:
            value, stop = read
            raw = " ".join(words[start:stop])
            return SlotValue(name, value, raw, 0, len(raw))
    return None


def _without(text: str, drop: frozenset[str]) -> str:
    return " ".join(word for word in normalize(text).split() if word not in drop)


def _shuffled(items: Sequence[Any], rng: random.Random) -> list[Any]:
    shuffled = list(items)
    rng.shuffle(shuffled)
    return shuffled


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
