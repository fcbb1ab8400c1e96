"""A device grammar as a vosk phrase list.

vosk takes a JSON list of phrases and recognizes any sequence of them (its
grammar is a loop over the list), plus "[unk]" for everything else. Two ways to
turn a device grammar into such a list:

- "words": every word of the grammar once. The loop then accepts any word
  sequence over the device's vocabulary: full coverage of the grammar, and
  a small list (about a thousand words for the smartwatch).
- "sentences": whole sentences sampled from the grammar. Tighter, but a sample
  of a few thousand sentences covers only a fraction of what the grammar says,
  because slots multiply: every clock time times every alarm template.

Measured with `assistant bench asr` (docs/asr_benchmark.md): PocketSphinx
decoding 30 espeak-ng smartwatch commands with each list as the same phrase loop
vosk builds got 0.0% exact with the word list (any word may follow any word)
and 40.0% with 2,000 sentences, which cover 40% of held-out commands; the full
grammar got 91.7%. So the default is sentences. vosk's acoustic model is
stronger than PocketSphinx's, so the word list may do better there; an English
vosk model is needed to settle it.
"""

from __future__ import annotations

import random

from assistant.asr.grammar import DeviceGrammar

STRATEGIES = ("words", "sentences")
DEFAULT_STRATEGY = "sentences"
DEFAULT_SENTENCES = 2_000  # sentences sampled by the "sentences" strategy
SAMPLE_ATTEMPTS_PER_SENTENCE = 5  # sampling stops when it keeps finding sentences it has
UNKNOWN = "[unk]"


def vosk_phrases(
    grammar: DeviceGrammar, strategy: str = DEFAULT_STRATEGY, *, sentences: int = DEFAULT_SENTENCES, seed: int = 0
) -> list[str]:
    """The phrase list for vosk, ending with "[unk]"."""
    if strategy == "words":
        phrases = sorted(grammar.words())
    elif strategy == "sentences":
        rng = random.Random(seed)
        found: dict[str, None] = {}
        for _ in range(sentences * SAMPLE_ATTEMPTS_PER_SENTENCE):
            found[grammar.sample(rng)] = None
            if len(found) >= sentences:
                break
        phrases = sorted(found)
    else:
        raise ValueError(f"unknown phrase strategy {strategy!r} (known: {', '.join(STRATEGIES)})")
    return [*phrases, UNKNOWN]


def covers(phrases: list[str], sentence: str) -> bool:
    """Whether `sentence` is a sequence of `phrases` (what vosk's loop accepts)."""
    words = sentence.split()
    listed = {tuple(p.split()) for p in phrases if p != UNKNOWN}
    longest = max((len(p) for p in listed), default=0)
    reachable = [False] * (len(words) + 1)
    reachable[0] = True
    for start in range(len(words)):
        if not reachable[start]:
            continue
        for length in range(1, min(longest, len(words) - start) + 1):
            if tuple(words[start : start + length]) in listed:
                reachable[start + length] = True
    return reachable[len(words)]
