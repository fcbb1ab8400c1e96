from __future__ import annotations

import itertools

import numpy as np

from assistant.nlu.decoding import allowed_intent_log_probs, viterbi_tags
from assistant.nlu.labels import LabelSet

LABELS = LabelSet(("none", "timer.start", "lights.on"), ("duration", "name", "room"))
OUT = 0
B_DURATION, I_DURATION = LABELS.begin_tag("duration"), LABELS.inside_tag("duration")
B_ROOM = LABELS.begin_tag("room")


def log_probs(preferred: list[int]) -> np.ndarray:
    """Emissions that strongly prefer the given tag at each position."""
    scores = np.full((len(preferred), LABELS.n_tags), np.log(0.01))
    for position, tag in enumerate(preferred):
        scores[position, tag] = np.log(0.9)
    return scores


def test_viterbi_follows_confident_emissions() -> None:
    tags, score = viterbi_tags(log_probs([OUT, OUT, B_DURATION, I_DURATION]), [True] * 4, ["duration", "name"], LABELS)
    assert tags == [OUT, OUT, B_DURATION, I_DURATION]
    assert np.isclose(score, 4 * np.log(0.9))


def test_viterbi_never_uses_a_slot_the_intent_lacks() -> None:
    tags, _ = viterbi_tags(log_probs([OUT, B_ROOM, OUT]), [True] * 3, ["duration", "name"], LABELS)
    assert B_ROOM not in tags
    assert tags == [OUT, OUT, OUT]


def test_inside_never_follows_outside() -> None:
    tags, _ = viterbi_tags(log_probs([OUT, I_DURATION, I_DURATION]), [True] * 3, ["duration"], LABELS)
    for previous, current in itertools.pairwise(tags):
        if current == I_DURATION:
            assert previous in (B_DURATION, I_DURATION)


def test_a_words_later_pieces_keep_its_tag() -> None:
    # pieces 2 and 3 form one word: a value cannot start in the middle of it
    tags, _ = viterbi_tags(
        log_probs([OUT, OUT, B_DURATION, I_DURATION]), [True, True, False, True], ["duration"], LABELS
    )
    assert tags[2] == (OUT if tags[1] == OUT else I_DURATION)


def test_what_the_device_lacks_counts_for_none() -> None:
    logits = np.array([0.0, 5.0, 1.0, 2.0])  # none, another device's intent, two of this device's
    scores = allowed_intent_log_probs(logits, np.array([True, False, True, True]), none_index=0)
    assert scores[1] == -np.inf
    assert np.isclose(np.exp(scores).sum(), 1.0)
    assert scores[0] > max(scores[2], scores[3])  # the other device's intent was the likeliest
    probabilities = np.exp(logits) / np.exp(logits).sum()
    assert np.allclose(np.exp(scores[[2, 3]]), probabilities[[2, 3]])
