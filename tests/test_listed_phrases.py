"""A listed enumeration phrase said whole takes its words from a shorter tagging, on the real intents."""

from __future__ import annotations

import pytest

from assistant.intents import IntentSet
from assistant.nlu.listed_phrases import ListedPhrases, WordSpan, template_words


def phrases_win(intents: IntentSet, intent: str, text: str, *spans: tuple[str, int, int]) -> list[tuple[str, str]]:
    words = text.split()
    result = ListedPhrases(intents.intent(intent)).place([WordSpan(*span) for span in spans], words)
    return [(span.slot, " ".join(words[span.first : span.stop])) for span in result]


def test_a_recurrence_takes_the_day_read_as_a_date(intents: IntentSet) -> None:
    got = phrases_win(intents, "alarm.set", "wake me at seven monday to friday", ("time", 3, 4), ("date", 4, 5))
    assert got == [("time", "seven"), ("recurrence", "monday to friday")]


def test_an_untagged_phrase_fills_its_slot(intents: IntentSet) -> None:
    got = phrases_win(intents, "alarm.set", "set an alarm on the weekend at six", ("time", 7, 8))
    assert got == [("recurrence", "on the weekend"), ("time", "six")]


def test_a_phrase_tagged_in_pieces_of_two_slots_becomes_one_value(intents: IntentSet) -> None:
    got = phrases_win(
        intents, "alarm.set", "an alarm at six every night", ("time", 3, 4), ("recurrence", 4, 5), ("label", 5, 6)
    )
    assert got == [("time", "six"), ("recurrence", "every night")]


def test_a_listed_word_beats_a_free_text_reading_of_it(intents: IntentSet) -> None:
    got = phrases_win(intents, "alarm.set", "add alarm weekends at seven", ("label", 2, 3), ("time", 4, 5))
    assert got == [("recurrence", "weekends"), ("time", "seven")]


def test_tags_that_ran_past_a_value_keep_the_listed_phrase_inside(intents: IntentSet) -> None:
    got = phrases_win(intents, "watch.workout_start", "i am going for a cross trainer", ("workout_type", 3, 7))
    assert got == [("workout_type", "cross trainer")]
    got = phrases_win(intents, "oven.set_mode", "put the oven on grill setting", ("mode", 4, 6))
    assert got == [("mode", "grill")]


def test_a_value_grows_into_the_listed_phrase_it_is_part_of(intents: IntentSet) -> None:
    got = phrases_win(
        intents, "coffee.orderDrink", "a latte with a lot of sweetener", ("coffeeDrink", 1, 2), ("sugarAmount", 6, 7)
    )
    assert got == [("coffeeDrink", "latte"), ("sugarAmount", "a lot of sweetener")]


@pytest.mark.parametrize(
    ("intent", "text", "spans"),
    [
        # "every day" would cut the label "gym every" in two
        ("alarm.set", "set an alarm called gym every day", [("label", 4, 6)]),
        # the recurrence is said already; "monday" stays the date
        (
            "alarm.set",
            "alarm at seven weekends monday to friday",
            [("time", 2, 3), ("recurrence", 3, 4), ("date", 4, 5)],
        ),
        # "medium" alone is a size, but the tags read it as part of the roast
        ("coffee.orderDrink", "medium roast latte", [("roast", 0, 2), ("coffeeDrink", 2, 3)]),
        # a slot the intent lacks is never filled: alarm.cancel has no recurrence
        ("alarm.cancel", "cancel my alarm at seven on weekdays", [("time", 4, 5)]),
        # a single word may be the command's own ("run" a workout is no running workout)
        ("watch.workout_start", "run a workout", []),
        # a word read as another enumeration's value stays: "medium" is a roast's here
        ("coffee.orderDrink", "medium latte", [("roast", 0, 1), ("coffeeDrink", 1, 2)]),
        # "the radio" is words of media.play's own templates ("switch the radio to ...")
        ("media.play", "switch the radio to dolly parton", [("what", 4, 6)]),
    ],
)
def test_the_tags_stand_where_no_phrase_may_take_their_words(
    intents: IntentSet, intent: str, text: str, spans: list[tuple[str, int, int]]
) -> None:
    words = text.split()
    assert phrases_win(intents, intent, text, *spans) == [(s, " ".join(words[a:b])) for s, a, b in spans]


def test_the_templates_words_include_their_rules(intents: IntentSet) -> None:
    words = set(template_words(intents.intent("alarm.set")))
    assert {"wake", "alarm", "schedule"} <= words  # "schedule" is said through the rule <new_alarm>
    assert "monday" not in words
