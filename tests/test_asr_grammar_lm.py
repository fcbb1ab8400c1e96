"""The device grammar as an n-gram language model (`grammar_lm.py`): a proper Witten-Bell
model of the grammar's sentences, which PocketSphinx searches with."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pocketsphinx
import pytest

from assistant.asr.decoder_grammar import LM_FILE, NGRAM, prepare_grammar, prepare_in_child
from assistant.asr.grammar import DeviceGrammar, compile_grammar
from assistant.asr.grammar_lm import ORDER, SENTENCE_END, SENTENCE_START, ngram_counts, sample_sentences, write_arpa
from assistant.intents import IntentSet
from assistant.profiles import DeviceProfile

CMUDICT = Path(pocketsphinx.Config()["dict"])


class Arpa:
    """An ARPA file read back, with the backoff rule that decoders apply."""

    def __init__(self, path: Path) -> None:
        self.log_p: dict[tuple[str, ...], float] = {}
        self.log_backoff: dict[tuple[str, ...], float] = {}
        self.declared: dict[int, int] = {}
        order = 0
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("ngram "):
                k, n = line.split()[1].split("=")
                self.declared[int(k)] = int(n)
            elif line.endswith("-grams:"):
                order = int(line[1])
            elif order and "\t" in line:
                fields = line.split("\t")
                gram = tuple(fields[1].split())
                assert len(gram) == order, line
                self.log_p[gram] = float(fields[0])
                if len(fields) == 3:
                    self.log_backoff[gram] = float(fields[2])

    def probability(self, history: tuple[str, ...], word: str) -> float:
        if (*history, word) in self.log_p:
            return 10 ** self.log_p[(*history, word)]
        if not history:
            return 0.0
        return 10 ** self.log_backoff.get(history, 0.0) * self.probability(history[1:], word)

    def predicted(self) -> list[str]:
        return [gram[0] for gram in self.log_p if len(gram) == 1 and gram[0] != SENTENCE_START]


@pytest.fixture(scope="module")
def kitchen_grammar(intents: IntentSet, profiles: dict[str, DeviceProfile]) -> DeviceGrammar:
    return compile_grammar(intents.restricted_to(profiles["kitchen_timer"].domains))


@pytest.fixture(scope="module")
def arpa(kitchen_grammar: DeviceGrammar, tmp_path_factory: pytest.TempPathFactory) -> Arpa:
    prepared, pronunciations = prepare_grammar(kitchen_grammar, CMUDICT)
    path = tmp_path_factory.mktemp("lm") / "grammar.arpa"
    write_arpa(path, ngram_counts(sample_sentences(kitchen_grammar, prepared.respell, count=5000)), pronunciations)
    return Arpa(path)


def test_sampled_sentences_are_the_recognizer_s_grammar_sentences(kitchen_grammar: DeviceGrammar) -> None:
    prepared, _ = prepare_grammar(kitchen_grammar, CMUDICT)
    sentences = [" ".join(words) for words in sample_sentences(kitchen_grammar, prepared.respell, count=300)]
    assert len(sentences) == 300 and len(set(sentences)) > 200
    assert all(prepared.accepts(sentence) for sentence in sentences)
    assert sentences == [" ".join(w) for w in sample_sentences(kitchen_grammar, prepared.respell, count=300)]


def test_counts_hold_every_ngram_up_to_the_order_between_sentence_marks() -> None:
    counts = ngram_counts([["stop"], ["stop", "the", "timer"]], order=3)
    assert counts[0] == Counter({("<s>",): 2, ("</s>",): 2, ("stop",): 2, ("the",): 1, ("timer",): 1})
    assert counts[1][("<s>", "stop")] == 2 and counts[1][("stop", "</s>")] == 1
    assert counts[2] == Counter({("<s>", "stop", "</s>"): 1, ("<s>", "stop", "the"): 1, ("stop", "the", "timer"): 1,
                                 ("the", "timer", "</s>"): 1})  # fmt: skip


def test_every_history_s_probabilities_sum_to_one(arpa: Arpa) -> None:
    words = arpa.predicted()
    histories = [(SENTENCE_START,), ("timer",), (SENTENCE_START, "set"), ("for", "ten"), ("zzz",), ("stop", "zzz")]
    for history in histories:
        assert sum(arpa.probability(history, word) for word in words) == pytest.approx(1.0, abs=1e-4), history


def test_every_grammar_word_can_be_said_and_seen_sequences_are_likelier(
    arpa: Arpa, kitchen_grammar: DeviceGrammar
) -> None:
    prepared, _ = prepare_grammar(kitchen_grammar, CMUDICT)
    assert set(arpa.predicted()) == prepared.words() | {SENTENCE_END}
    assert all(arpa.probability((), word) > 0 for word in prepared.words())
    assert arpa.declared == {k: sum(1 for gram in arpa.log_p if len(gram) == k) for k in range(1, ORDER + 1)}

    def log_p(sentence: str) -> float:
        tokens = [SENTENCE_START, *sentence.split(), SENTENCE_END]
        return sum(
            math.log10(arpa.probability(tuple(tokens[max(0, i - ORDER + 1) : i]), tokens[i]))
            for i in range(1, len(tokens))
        )

    assert log_p("set a timer for ten minutes") > log_p("minutes ten for timer a set") + 5


def test_the_child_writes_a_language_model_pocketsphinx_searches_with(
    kitchen_grammar: DeviceGrammar, tmp_path: Path
) -> None:
    sentences = prepare_in_child(kitchen_grammar, CMUDICT, tmp_path, 10.0, network=NGRAM)
    assert sentences.accepts("set a timer for ten minutes")
    decoder = pocketsphinx.Decoder(lm=str(tmp_path / LM_FILE), dict=str(tmp_path / "grammar.dict"), loglevel="FATAL")
    assert decoder.lookup_word("timer") is not None and decoder.lookup_word("peru") is None
