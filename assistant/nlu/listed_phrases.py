"""A listed way of saying an enumeration value, said whole, beats a shorter reading.

The tagger learns an enumeration's phrases from the commands the generator
writes, and a phrase said in few of them is read by what its words usually
mean: "wake me at seven monday to friday" came out as a one-off alarm on
Monday (`date: monday`), because "monday" is a date in hundreds of training
commands and "monday to friday" a recurrence in four. Left untagged, "on the
weekend" or "spin only" set nothing at all.

So after tagging, the phrases an intent's enumeration slots list are looked
for in the command, longest first, and one said whole takes its words: it
replaces the spans it contains (of any slot, its own included: "sweetener"
grows into "a lot of sweetener"; "every" + "night" becomes "every night") and
fills its slot. It never cuts into a span it does not contain whole, and never
fills a slot already filled elsewhere in the command. Where the tags ran past a
value, giving its slot words no listed phrase says whole ("for a cross trainer",
"grill setting"), the longest listed phrase of that slot inside them is the value.

Only phrases unlikely to be the command's own words take part. A single word
may be one ("run a workout", "eleven at night", "quick question"), so it takes
part only inside words the tags gave to a slot: as the value of the slot whose
span ran past it ("grill setting"), or where the tags made exactly it a
free-text value ("add alarm weekends at seven" labelled the alarm "weekends";
an enumeration's listed value beats the catch-all). A phrase made of words the
intent's templates say around its slots may be too ("switch the radio to ..."
names no source), and stays out. SLURP and the held-out templates measured those
as wrong values (docs/model.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assistant.intents import Intent
from assistant.slot_types import EnumSlot, TextSlot
from assistant.templates import Node, literal_texts, references


@dataclass(frozen=True)
class WordSpan:
    slot: str
    first: int  # index of the span's first word
    stop: int  # index just past its last word

    def within(self, other: WordSpan) -> bool:
        return other.first <= self.first and self.stop <= other.stop

    def overlaps(self, other: WordSpan) -> bool:
        return self.first < other.stop and other.first < self.stop


class ListedPhrases:
    """The phrases of one intent's enumeration slots that may take words from the tags."""

    def __init__(self, intent: Intent) -> None:
        own_words = set(template_words(intent))
        self.phrases = sorted(
            (
                (name, words)
                for name, slot in intent.slots.items()
                if isinstance(slot.type, EnumSlot)
                for phrases in slot.type.phrases.values()
                for words in (tuple(phrase.split()) for phrase in phrases)
                if len(words) == 1 or not own_words.issuperset(words)
            ),
            key=lambda phrase: -len(phrase[1]),
        )
        self._free_text = frozenset(name for name, slot in intent.slots.items() if isinstance(slot.type, TextSlot))
        self._enums = {name: slot.type for name, slot in intent.slots.items() if isinstance(slot.type, EnumSlot)}

    def place(self, spans: Sequence[WordSpan], words: Sequence[str]) -> list[WordSpan]:
        """`spans` (the tagger's, in word order) after the phrases said in `words` have
        taken their words."""
        result = list(spans)
        for phrase in self._said(words):
            covered = [span for span in result if span.overlaps(phrase)]
            if len(covered) == 1 and self._ran_past(covered[0], phrase, words):
                result = [phrase if span is covered[0] else span for span in result]
                continue
            if any(not span.within(phrase) for span in covered):
                continue  # it would cut a value in two
            if phrase.stop - phrase.first == 1 and not (covered and covered[0].slot in self._free_text):
                continue  # a word takes part only as a free-text value the tags gave it
            if any(span.slot == phrase.slot for span in result if span not in covered):
                continue  # the slot has its value elsewhere
            result = sorted([span for span in result if span not in covered] + [phrase], key=lambda s: s.first)
        return result

    def _ran_past(self, span: WordSpan, phrase: WordSpan, words: Sequence[str]) -> bool:
        """Whether the tags ran past this phrase of their slot: "for a cross trainer" marked
        as the workout, which no listed phrase says whole, holds "cross trainer"."""
        if span.slot != phrase.slot or not phrase.within(span) or span == phrase:
            return False
        said = words[span.first : span.stop]
        read = self._enums[span.slot].read(said, 0)
        return read is None or read[1] < len(said)

    def _said(self, words: Sequence[str]) -> Iterator[WordSpan]:
        """Where each phrase is said, longest phrases first."""
        for name, phrase in self.phrases:
            for first in range(len(words) - len(phrase) + 1):
                if tuple(words[first : first + len(phrase)]) == phrase:
                    yield WordSpan(name, first, first + len(phrase))


def template_words(intent: Intent) -> Iterator[str]:
    """Every word the intent's templates say around their slots, its rules' included."""
    stack: list[Node] = [template.node for template in intent.templates]
    followed: set[str] = set()
    while stack:
        node = stack.pop()
        for text in literal_texts(node):
            yield from text.split()
        _, rules = references(node)
        stack.extend(intent.rules[name] for name in rules - followed)
        followed |= rules
