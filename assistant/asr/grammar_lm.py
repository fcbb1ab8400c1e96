"""The device grammar as an n-gram language model: a PocketSphinx network whose size
does not grow with the grammar.

PocketSphinx's grammar search (`fsg.py`) holds the HMMs of every arc of the grammar
network, each word's first and last phone copied for every phone that can come
before and after it: the smartwatch's recognizer measured 37 MB with its big slots
shared (`slot_network.py`), of which its acoustic model and decoder are about 8.
Its n-gram search holds one lexicon tree of the vocabulary, whatever the
sentences: 15 MB for the watch. So a profile short of memory can give
PocketSphinx its grammar as a trigram language model instead
(`recognizer.network: ngram`), estimated from sentences drawn from the grammar
(`DeviceGrammar.sample`: each alternative of the template tree equally likely,
so each intent, each of its templates and each slot phrase), in the recognizer's
spellings.

The model lets in word sequences the grammar does not have, so the recognizer
keeps only grammar sentences: the best path if it is one, else the first of its
n-best paths that is, else no text (not a command). That check replaces the
phone loop (`rejection.py`) that the grammar search needs to turn away what is
not a command.

Probabilities are Witten-Bell estimates (interpolated, every grammar word in the
unigrams), written as a backoff ARPA file. For interpolated Witten-Bell the
backoff weight of a history h is T(h) / (c(h) + T(h)), with c(h) its count as a
history and T(h) the number of different words seen after it.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

from assistant.asr.grammar import DeviceGrammar
from assistant.errors import RecognizerError

ORDER = 3
# Measured on 100 held-out espeak-ng smartwatch commands: 50,000 to 800,000 sentences
# and trigrams to 5-grams were all within three commands of each other (82-87 exact)
SENTENCES = 100_000
SEED = 0
SENTENCE_START, SENTENCE_END = "<s>", "</s>"
NEVER = -99.0  # log10 probability ARPA files give the sentence start, which is never predicted

NGram = tuple[str, ...]


def sample_sentences(
    grammar: DeviceGrammar, respell: Callable[[str], str | None], count: int = SENTENCES, seed: int = SEED
) -> Iterable[list[str]]:
    """`count` draws from `grammar`, in the recognizer's spellings (`respell`; a sentence it cannot
    return, None, is skipped)."""
    rng = random.Random(seed)
    for _ in range(count):
        sentence = respell(grammar.sample(rng))
        if sentence:
            yield sentence.split()


def ngram_counts(sentences: Iterable[list[str]], order: int = ORDER) -> list[Counter[NGram]]:
    """counts[k - 1]: how often each k-gram occurs, each sentence between start and end symbols."""
    counts: list[Counter[NGram]] = [Counter() for _ in range(order)]
    for words in sentences:
        tokens = (SENTENCE_START, *words, SENTENCE_END)
        for k in range(1, order + 1):
            counts[k - 1].update(tokens[i : i + k] for i in range(len(tokens) - k + 1))
    return counts


def write_arpa(path: Path, counts: list[Counter[NGram]], vocabulary: Collection[str]) -> None:
    """The Witten-Bell language model of `counts` (module docstring) as an ARPA file; every word of
    `vocabulary` is in it, said or not."""
    unigrams = Counter(counts[0])
    for word in vocabulary:
        unigrams.setdefault((word,), 0)
    unigrams[(SENTENCE_START,)] = 0  # a history only: never predicted
    grams = [unigrams, *counts[1:]]
    history_count: list[Counter[NGram]] = [Counter() for _ in grams[1:]]  # [k - 1]: histories of k words
    followers: list[Counter[NGram]] = [Counter() for _ in grams[1:]]
    for k in range(1, len(grams)):
        for gram, count in grams[k].items():
            history_count[k - 1][gram[:-1]] += count
            followers[k - 1][gram[:-1]] += 1

    def backoff(k: int, history: NGram) -> float:
        """T(h) / (c(h) + T(h)) for a history of k + 1 words: also the weight of the lower order."""
        seen = history_count[k][history]
        return followers[k][history] / (seen + followers[k][history]) if seen else 1.0

    said = sum(unigrams.values())
    kinds = sum(1 for count in unigrams.values() if count)
    predicted = len(unigrams) - 1  # every word and the sentence end
    probability: list[dict[NGram, float]] = [
        {gram: (count + kinds / predicted) / (said + kinds) for gram, count in unigrams.items()}
    ]
    for k in range(1, len(grams)):
        lower = probability[k - 1]
        probability.append({
            gram: count / (history_count[k - 1][gram[:-1]] + followers[k - 1][gram[:-1]])
            + backoff(k - 1, gram[:-1]) * lower[gram[1:]]
            for gram, count in grams[k].items()
        })  # fmt: skip
    lines = ["\\data\\", *(f"ngram {k + 1}={len(grams[k])}" for k in range(len(grams)))]
    for k, table in enumerate(probability):
        lines += ["", f"\\{k + 1}-grams:"]
        for gram in sorted(table):
            log_p = NEVER if gram == (SENTENCE_START,) else math.log10(table[gram])
            fields = [f"{log_p:.6f}", " ".join(gram)]
            if k + 1 < len(grams):
                fields.append(f"{math.log10(backoff(k, gram)):.6f}")
            lines.append("\t".join(fields))
    lines += ["", "\\end\\", ""]
    try:
        path.write_text("\n".join(lines), encoding="utf-8")
    except OSError as error:
        raise RecognizerError(f"cannot write the grammar's language model {path}: {error}") from error
