"""Constrained decoding of a parse: the device's schema decides what may be said.

Only intents the device enables (and "none") compete, and "none" holds the
probability of every intent the device lacks. For a candidate intent the
slot tags are decoded by Viterbi over that intent's slots alone, with the rules
of BIO tagging and of the tokenizer: a value starts at the start of a word, a
word's continuation pieces keep its tag, and "inside" follows its own slot.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.nlu.labels import LabelSet


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted: np.ndarray = logits - np.max(logits, axis=-1, keepdims=True)
    result: np.ndarray = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return result


def allowed_intent_log_probs(logits: np.ndarray, allowed: np.ndarray, none_index: int) -> np.ndarray:
    """Log-probabilities of the `allowed` intents, the rest -inf, with the rest's
    probability added to "none": a command for what another device does is not
    understood here. Renormalising over the allowed intents instead made a watch
    set its brightness to 100 on "preheat the oven to 180 degrees", which the model
    read as the oven's with all but 1e-6 of its probability, and acted on 63% of
    held-out commands put on a device that lacks their intent (docs/model.md)."""
    log_probs = log_softmax(logits)
    elsewhere = ~allowed
    elsewhere[none_index] = True
    scores: np.ndarray = np.where(allowed, log_probs, -np.inf)
    scores[none_index] = np.logaddexp.reduce(log_probs[elsewhere])
    return scores


def viterbi_tags(
    tag_log_probs: np.ndarray, word_starts: Sequence[bool], slots: Sequence[str], labels: LabelSet
) -> tuple[list[int], float]:
    """The best tag sequence using only `slots`, and its log-probability.

    tag_log_probs: (N, G) for the N transcript pieces. Returns tag ids and score.
    """
    n = len(word_starts)
    if n == 0:
        return [], 0.0
    tags = [0] + [t for slot in slots for t in (labels.begin_tag(slot), labels.inside_tag(slot))]
    k = len(tags)
    # transition[i, j]: may tag j follow tag i? (plus rules that depend on the piece)
    slot_of = [labels.tag_slot(t) for t in tags]
    is_inside = [t != 0 and (t - 1) % 2 == 1 for t in tags]
    allowed_after = np.zeros((k, k), bool)
    for i in range(k):
        for j in range(k):
            allowed_after[i, j] = not is_inside[j] or (slot_of[i] == slot_of[j] and tags[i] != 0)
    emissions = tag_log_probs[:n][:, tags]  # (N, K)
    score = np.full(k, -np.inf)
    for j in range(k):
        if not is_inside[j]:
            score[j] = emissions[0, j]
    back = np.zeros((n, k), np.int64)
    for position in range(1, n):
        candidates = score[:, None] + np.where(allowed_after, 0.0, -np.inf)  # (K, K)
        if not word_starts[position]:
            # a word's later pieces keep its tag: O stays O, B or I becomes I of the same slot
            keep = np.full((k, k), -np.inf)
            for i in range(k):
                j = i if tags[i] == 0 or is_inside[i] else i + 1
                keep[i, j] = 0.0
            candidates = score[:, None] + keep
        back[position] = np.argmax(candidates, axis=0)
        score = candidates[back[position], np.arange(k)] + emissions[position]
    best = int(np.argmax(score))
    total = float(score[best])
    path = [best]
    for position in range(n - 1, 0, -1):
        path.append(int(back[position, path[-1]]))
    path.reverse()
    return [tags[i] for i in path], total
