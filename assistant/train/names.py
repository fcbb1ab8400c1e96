"""Free-text slot values the definitions never list: training commands with a
name, a song or a label replaced by other words.

The templates fill a free-text slot (a timer's name, what to play) from a short
list of examples, so a tagger trained on them alone learns the list, not the
place: "start a tea timer" is read, "start a lasagna timer" is not. A share of
the commands with a free-text value get new words for it from a pool: the words of
every free-text example in the definitions and, where given, of human text (SLURP's
unlabelled lines), less every word the commands use around their values ("timer",
"play", numbers, program names), so a new value never reads as a command word, or
another slot's whole example.

New words in values alone would teach the opposite mistake: that any word the
templates never say is a name ("how long until the timer goes off" read with the
name "goes"). So a share of the commands also get one pool word, tagged as no
value, where the intent's templates never put a free-text value: not after the
words a value follows ("called", "the") nor before the words one precedes
("timer"), and never inside a value.

Only parse rows use the new words: a reply states the value, and the reply task
learns to copy values from the commands as generated.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import replace

from assistant.datagen import Example, SlotSpan
from assistant.intents import IntentSet
from assistant.slot_types import SPOKEN_DETERMINERS, TextSlot

WHOLE_EXAMPLE_SHARE = 0.4  # a copy's value is another slot's whole example this often, else pool words
MIN_WORD_LENGTH = 3  # shorter pool words are mostly function words and recognizer debris


def carrier_words(examples: Iterable[Example], intents: IntentSet) -> set[str]:
    """Every word the commands say outside a free-text value: template words,
    fillers, and the words of typed values (numbers, times, program names). The
    words of out-of-scope requests are not commands' words ("lasagna" may name a timer)."""
    free = _free_text_slots(intents)
    words: set[str] = set()
    for example in examples:
        if example.intent is None:
            continue
        inside = [(s.start, s.end) for s in example.slots if example.intent and s.name in free.get(example.intent, {})]
        position = 0
        for word in example.text.split(" "):
            if not any(start <= position < end for start, end in inside):
                words.add(word)
            position += len(word) + 1
    return words


def name_pool(intents: IntentSet, carriers: set[str], texts: Iterable[str] = ()) -> list[str]:
    """Words a new value may be made of, sorted (the pool is part of a seeded recipe)."""
    words = {w for slot in _all_free_text(intents) for example in slot.examples for w in example.split()}
    words |= {w for text in texts for w in text.split() if w.isalpha()}
    return sorted(w for w in words if len(w) >= MIN_WORD_LENGTH and w not in carriers)


def with_new_values(
    examples: Sequence[Example], intents: IntentSet, pool: Sequence[str], share: float, seed: int
) -> list[Example]:
    """The examples, with one free-text value of about `share` of those that have
    one replaced by new words (spans moved to match); the rest as they were. The
    commands with a value stay as many as the templates make, so a word before
    "timer" is not made any likelier to be a name than the templates say."""
    if not pool or share <= 0:
        return list(examples)
    rng = random.Random(f"{seed}:names")
    free = _free_text_slots(intents)
    examples_of_any = [e for slot in _all_free_text(intents) for e in slot.examples]
    made: list[Example] = []
    for example in examples:
        own = free.get(example.intent or "", {})
        candidates = [s for s in example.slots if s.name in own]
        if not candidates or rng.random() >= share:
            made.append(example)
            continue
        span = rng.choice(candidates)
        value = _new_value(own[span.name], pool, examples_of_any, rng)
        made.append(_replaced(example, span, value))
    return made


def value_contexts(examples: Iterable[Example], intents: IntentSet) -> dict[str, tuple[set[str], set[str]]]:
    """For each intent with a free-text slot: the words said just before one of its
    values and the words said just after ("" for the start or end of the command)."""
    free = _free_text_slots(intents)
    contexts: dict[str, tuple[set[str], set[str]]] = {}
    for example in examples:
        own = free.get(example.intent or "", {})
        for span in example.slots:
            if span.name in own:
                before, after = contexts.setdefault(str(example.intent), (set(), set()))
                words_before = example.text[: span.start].split()
                words_after = example.text[span.end :].split()
                before.add(words_before[-1] if words_before else "")
                after.add(words_after[0] if words_after else "")
    return contexts


def with_stray_words(
    examples: Sequence[Example],
    intents: IntentSet,
    pool: Sequence[str],
    contexts: dict[str, tuple[set[str], set[str]]],
    share: float,
    seed: int,
) -> list[Example]:
    """The examples, about `share` of the in-scope ones with one pool word put
    between two words (or at an end) where no value of the intent ever stands
    and never inside a value; the rest as they were."""
    if not pool or share <= 0:
        return list(examples)
    rng = random.Random(f"{seed}:stray")
    made: list[Example] = []
    for example in examples:
        if example.intent is None or rng.random() >= share:
            made.append(example)
            continue
        words = example.text.split(" ")
        starts = [sum(len(w) + 1 for w in words[:i]) for i in range(len(words) + 1)]  # a gap before word i
        inside = {i for i in range(len(words)) for s in example.slots if s.start < starts[i] < s.end}
        before, after = contexts.get(example.intent, (set(), set()))
        gaps = [
            i
            for i in range(len(words) + 1)
            if i not in inside
            and (words[i - 1] if i > 0 else "") not in before
            and (words[i] if i < len(words) else "") not in after
        ]
        if not gaps:
            made.append(example)
            continue
        made.append(_inserted(example, rng.choice(gaps), starts, rng.choice(pool)))
    return made


def _inserted(example: Example, gap: int, starts: list[int], word: str) -> Example:
    words = example.text.split(" ")
    text = " ".join([*words[:gap], word, *words[gap:]])
    at = starts[gap] if gap < len(words) else len(example.text) + 1
    shift = len(word) + 1
    slots = tuple(replace(s, start=s.start + shift, end=s.end + shift) if s.start >= at else s for s in example.slots)
    return replace(example, text=text, slots=slots, variant=f"{example.variant}+stray")


def _new_value(slot_type: TextSlot, pool: Sequence[str], examples: Sequence[str], rng: random.Random) -> str:
    if rng.random() < WHOLE_EXAMPLE_SHARE:
        fitting = [e for e in examples if len(e.split()) <= slot_type.max_words]
        if fitting:
            return rng.choice(fitting)
    size = min(rng.choices((1, 2, 3), weights=(0.5, 0.35, 0.15))[0], slot_type.max_words)
    words = [rng.choice(pool) for _ in range(size)]
    # the slot's own habits: "my ... playlist", "some ... music" where its examples say so
    starts = [e.split()[0] for e in slot_type.examples if e.split()[0] in SPOKEN_DETERMINERS]
    ends = [e.split()[-1] for e in slot_type.examples if len(e.split()) > 1]
    if starts and rng.random() < 0.35 and len(words) < slot_type.max_words:
        words.insert(0, rng.choice(starts))
    if ends and rng.random() < 0.25 and len(words) < slot_type.max_words:
        words.append(rng.choice(ends))
    return " ".join(words)


def _replaced(example: Example, span: SlotSpan, value: str) -> Example:
    text = example.text[: span.start] + value + example.text[span.end :]
    shift = len(value) - (span.end - span.start)
    slots = []
    for s in example.slots:
        if s is span:
            slots.append(SlotSpan(s.name, value, value, s.start, s.start + len(value)))
        elif s.start >= span.end:
            slots.append(replace(s, start=s.start + shift, end=s.end + shift))
        else:
            slots.append(s)
    return replace(example, text=text, slots=tuple(slots), variant=f"{example.variant}+name")


def _free_text_slots(intents: IntentSet) -> dict[str, dict[str, TextSlot]]:
    return {
        intent.name: {name: slot.type for name, slot in intent.slots.items() if isinstance(slot.type, TextSlot)}
        for intent in intents.intents
    }


def _all_free_text(intents: IntentSet) -> list[TextSlot]:
    return [slot for slots in _free_text_slots(intents).values() for slot in slots.values()]
