"""The dialogue on the shipped intent model and the simulated devices: questions,
confirmations, cancel, follow-ups, refusals and clock-driven notices."""

from __future__ import annotations

import pytest

from assistant.intents import IntentSet
from assistant.nlu.runtime import DEFAULT_MODEL_DIR, IntentModel
from assistant.profiles import DeviceProfile
from assistant.simulator import Session


@pytest.fixture(scope="module")
def model(intents: IntentSet) -> IntentModel:
    return IntentModel.load(intents, DEFAULT_MODEL_DIR, "dynamic_int8")


@pytest.fixture
def speaker(profiles: dict[str, DeviceProfile], intents: IntentSet, model: IntentModel) -> Session:
    return Session(profiles["smart_speaker"], intents, model, seed=0)


def test_a_missing_slot_is_asked_for_and_filled_from_a_bare_answer(speaker: Session) -> None:
    question = speaker.say("set a timer")
    assert question.expects == "slot:duration" and question.outcome is None
    assert question.reply.source == "question"
    answer = speaker.say("ten minutes")
    assert answer.intent == "timer.start" and answer.action is not None
    assert answer.action.values() == {"duration": 600}
    assert answer.outcome is not None and answer.outcome.ok
    assert "ten minutes" in answer.reply.text.lower()
    assert speaker.flat_state()["timer.timer.remaining_s"] == 600


def test_cancel_drops_the_question_and_nothing_is_done(speaker: Session) -> None:
    speaker.say("set a timer")
    turn = speaker.say("never mind")
    assert turn.intent == "general.cancel" and turn.expects is None
    assert speaker.device.state()["timer"] == {"ringing": 0}


def test_a_risky_action_waits_for_yes(speaker: Session) -> None:
    asked = speaker.say("preheat the oven to 200 degrees")
    assert asked.expects == "confirmation" and asked.outcome is None
    assert "two hundred degrees" in asked.reply.text.lower()
    assert speaker.flat_state()["oven.target"] in (0, None)
    done = speaker.say("yes")
    assert done.intent == "oven.preheat" and done.outcome is not None and done.outcome.ok
    assert speaker.flat_state()["oven.target"] == 200


def test_no_declines_the_confirmation(speaker: Session) -> None:
    speaker.say("start the dishwasher on eco")
    declined = speaker.say("no")
    assert declined.intent == "general.no" and declined.outcome is None
    assert speaker.flat_state()["dishwasher.state"] == "idle"


def test_a_follow_up_fragment_repeats_the_last_action_for_a_new_value(speaker: Session) -> None:
    speaker.say("turn on the kitchen lights")
    turn = speaker.say("and the bedroom too")
    assert turn.intent == "lights.on" and turn.action is not None
    assert turn.action.values() == {"room": "bedroom"}
    assert speaker.flat_state()["lights.bedroom.on"] is True


def test_more_of_the_same_adds_to_the_running_timer(speaker: Session) -> None:
    speaker.say("set a timer for ten minutes")
    turn = speaker.say("make it five more minutes")
    assert turn.intent == "timer.add" and turn.outcome is not None and turn.outcome.ok
    assert speaker.flat_state()["timer.timer.remaining_s"] == 900


def test_the_follow_up_window_closes_after_a_quiet_spell(speaker: Session) -> None:
    speaker.say("turn on the kitchen lights")
    assert speaker.dialogue.in_follow_up()
    speaker.advance(60)
    assert not speaker.dialogue.in_follow_up()


@pytest.mark.parametrize("talk", ["thank you", "no", "stop", "hush"])
def test_talk_alone_ends_the_follow_up_window(speaker: Session, talk: str) -> None:
    """Noise in a kitchen is heard as "hush" or "no" now and then: it must not keep the microphone open."""
    speaker.say("turn on the kitchen lights")
    assert speaker.dialogue.in_follow_up()
    turn = speaker.say(talk)
    assert turn.action is None
    assert not speaker.dialogue.in_follow_up()
    assert speaker.say("and the bedroom too").intent != "lights.on"  # nothing to follow up any more


def test_a_refusal_says_why(speaker: Session) -> None:
    turn = speaker.say("turn on the lights in the garage")
    assert turn.outcome is not None and not turn.outcome.ok
    assert "no smart lights in the garage" in turn.reply.text


def test_a_timer_rings_when_the_clock_reaches_it_and_stop_silences_it(speaker: Session) -> None:
    speaker.say("set a pasta timer for two minutes")
    assert speaker.advance(60) == []
    notices = speaker.advance(90)
    assert [n.reply.text for n in notices] == ["Time's up: your pasta timer is done."]
    assert notices[0].at.strftime("%H:%M") == "08:02"
    assert speaker.flat_state()["timer.ringing"] == 1
    speaker.say("stop")
    assert speaker.flat_state()["timer.ringing"] == 0


def test_out_of_scope_is_not_understood_and_changes_nothing(speaker: Session) -> None:
    before = speaker.device.state()
    turn = speaker.say("what is the capital of peru")
    assert turn.intent is None and turn.outcome is None and not turn.changes
    assert speaker.device.state() == before


def test_repeat_says_the_last_reply_again(speaker: Session) -> None:
    first = speaker.say("set a timer for five minutes")
    again = speaker.say("say that again")
    assert again.reply.text == first.reply.text


def test_a_profile_can_ask_before_an_intent_that_is_not_marked_risky(
    profiles: dict[str, DeviceProfile], intents: IntentSet, model: IntentModel
) -> None:
    lights = Session(profiles["smart_light"], intents, model, seed=0)
    lights.say("turn on the bedroom lights")
    asked = lights.say("turn off the bedroom lights")
    assert asked.expects == "confirmation" and lights.flat_state()["lights.bedroom.on"] is True
    lights.say("yes")
    assert lights.flat_state()["lights.bedroom.on"] is False
