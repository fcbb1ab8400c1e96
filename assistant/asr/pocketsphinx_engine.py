"""PocketSphinx 5: the recognizer that runs anywhere, with the device grammar.

Grammar mode decodes with the device's grammar compiled into one finite-state
grammar (`fsg.py`), and `bestpath=False`: the lattice best-path rescoring that
PocketSphinx runs after the grammar search by default may pick a path the
grammar search ranked lower, and costs accuracy on grammar decoding. Open mode
uses PocketSphinx's default US English language model and dictionary.

The decoder is given `decoder_grammar.prepare_grammar`'s grammar, prepared in
a child process (`prepare_in_child`: compiling leaves memory behind): every
word with a pronunciation (from the dictionary, or composed from dictionary
words, logged at info level; others are dropped, logged as a warning naming
them), same-sounding spellings written one way ("stop watch" is returned as
"stopwatch", logged at info level), the grammar made into the smallest network
found (`fsg.decoder_network`: words always said together joined into one decoder
word, which transcripts split again; with the `shared_slots` network,
`slot_network.py`: each big slot's phrases in it a few times, not at every
place, which lets in a few sentences the templates do not say). With the `ngram`
network the decoder gets the grammar as a language model instead
(`grammar_lm.py`) and searches with it (`NGRAM_SEARCH`); the transcript is the
best path if it is a grammar sentence, else the first of the n-best paths that
is, else no text. Its dictionary holds those words only,
written to a temporary file for the decoder to load: PocketSphinx's whole
dictionary (CMUdict) took 22 MB more resident memory. Neither the template tree
nor the `DecoderGrammar` is kept: only its sentences, packed into arrays
(`PackedGrammar`), to check n-best paths against (the automaton as Python
objects held 1.9 MB of the smartwatch's). `grammar`, the `DecoderGrammar`, is
prepared again here when a benchmark or a test asks for it.

Cepstral mean normalisation adapts to the microphone over the first utterance;
until then PocketSphinx starts from its model's prior, which is far from most
audio and costs the first utterance its words (measured: a fresh decoder
returned nothing or a wrong command for its first espeak-ng command, and the
same audio decoded right the second time). So the first utterance a
recognizer hears is only kept while it streams (no partial text), then decoded
twice once complete (`FIRST_UTTERANCE_PASSES`), with the mean of the whole
utterance. Computing its features while it streamed, as this recognizer first
did, moved the mean only part of the way: with the phone loop of
`rejection.py`, 9 of 32 first commands came back as no text and 22 right; kept
whole and decoded twice, 1 and 29. The commands after it, said by the same
voice, came out as well or better (81 against 80 of 88). Only the benchmark,
whose voice changes at every command, did better with the mean that adapts
less: 91.3% exact against 90.3%. Its cost counts in its rtf.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from assistant.asr import compounds, rejection
from assistant.asr.decoder_grammar import (
    DICTIONARY_FILE,
    EXACT,
    FSG_FILE,
    LM_FILE,
    NGRAM,
    DecoderGrammar,
    PackedGrammar,
    prepare_grammar,
    prepare_in_child,
)
from assistant.asr.fsg import Transition, phrase_loop_transitions
from assistant.asr.grammar import DeviceGrammar
from assistant.asr.phrases import UNKNOWN
from assistant.asr.recognizer import Recognizer
from assistant.asr.transcript import Partial
from assistant.audio import SAMPLE_RATE_HZ
from assistant.errors import RecognizerError

log = logging.getLogger(__name__)

ENGINE = "pocketsphinx"
SEARCH_NAME = "device"
# The n-best list comes from an A* search over the lattice, which measured 0.1-1.5 s
# CPU per 2-3 s command on the smartwatch grammar: more than decoding itself. So
# it is asked for, not given by default.
DEFAULT_MAX_ALTERNATIVES = 1
# Near-silent stretches (digital silence from a synthesizer, a quiet microphone's
# gaps: RMS 1-3) have no usable log energy; the decoder then put words into the
# silence and failed to end the grammar (5 of the 20 coffee-maker recordings
# gave no text). Dither, with a fixed seed so results repeat, fixed 2 of them.
DITHER_SEED = 1
# Wider beams than PocketSphinx's defaults (1e-48, 1e-48, 7e-29): a device grammar
# starts with hundreds of possible first words, and the default beams pruned the
# right path early (measured on 40 espeak-ng smartwatch commands without fillers:
# 80.0% exact at the defaults, 87.5% with these, for 15% more CPU).
GRAMMAR_BEAMS = {"beam": 1e-60, "pbeam": 1e-60, "wbeam": 1e-40}
# Other settings measured on the benchmark's 300 espeak-ng commands. Before same-sounding spellings were
# merged (273 exact with these beams): lw 1, 3, 10, 15: 269, 272, 274, 270; wip 0.2: 276, 0.05: 275;
# pip 0.5: 275; silprob 0.1: 274; topn 8: 274; remove_noise off: 273; cmn live: 273; wider beams without
# an HMM limit: 274 (more CPU); bestpath: 261 (2.5 times the CPU); without fillers (fsgusefiller): 80.
# After (277): wip 0.2: 278; lw 10: 276; fillprob 1e-4: 277; topn 3: 275 (7% less CPU, and 216 against
# 219 of 240 held-out commands); without alternative pronunciations (fsgusealtpron): 272. None is a
# clear gain over the defaults, so none is set.
NBEST_SCAN = 6  # lattice paths looked at for the n-best list: each costs more than the last (A* search)
# The n-gram search (`ngram` network, `grammar_lm.py`). PocketSphinx's default word-exit and flat-pass
# beams pruned the right words (the benchmark's 60 smartwatch commands: 40 exact at the defaults, 47
# with these), and a higher language weight than its 6.5 and 8.5 keeps the search nearer the grammar
# (100 smartwatch commands of another seed: 87 exact at 10 and 13; 84 at 6.5 and 8.5, 84 at 13 and
# 17, 82 at 4 and 5.5).
NGRAM_SEARCH = {"lpbeam": 1e-60, "lponlybeam": 1e-50, "fwdflatbeam": 1e-80, "fwdflatwbeam": 1e-40,
                "lw": 10.0, "fwdflatlw": 13.0}  # fmt: skip
# Paths of its lattice looked at for a grammar sentence when the best path is not one (on those
# 100 commands, 100 or 300 paths found no more than 30)
NGRAM_NBEST_SCAN = 30
# The n-gram search took digital silence (the zeros a synthesizer or a WAV file holds around words)
# for part of a word and cut commands short ("set a timer for five" for "... five minutes"):
# PocketSphinx's dither (one step) is not enough for it. What it hears gets the noise floor of a
# quiet microphone, seeded (measured on ten espeak-ng commands with 0-0.8 s of digital silence after
# them: 2 right without it, 10 with it; the grammar search: 9 and 10). At -70 dBFS it was still too
# quiet (measured 2026-12-08 on 120 smartwatch commands with 0.1-0.8 s of digital silence around
# them: 72 exact, 35 as no text, at -70 dBFS; 86 at -60; 98 at -50; the daemon test's first command,
# decoded five times, right 2, 5 and 5 times). Louder costs audio that has noise of its own: the
# smartwatch's `assistant bench asr` at -70 / -60 / -50 dBFS: 85.0 / 86.7 / 85.0% exact, in kitchen
# noise at 18 dB 88.3 / 88.3 / 83.3%, real one-word recordings 82.5 / 75.0 / 80.0% (of 40), not
# commands taken for one 182 / 179 / 191 of 260. So -60 dBFS.
NGRAM_NOISE_FLOOR_RMS = 30.0  # -60 dBFS
NOISE_TABLE_SAMPLES = SAMPLE_RATE_HZ  # the floor is one second of noise, repeated
# The first utterance is decoded twice: the first pass only moves the cepstral mean
# from the model's prior to this audio (measured: one pass still turned "set a timer
# for five minutes" into "put on bluetooth"; the second pass heard it right).
FIRST_UTTERANCE_PASSES = 2
DECODER_LOG_LEVEL = "FATAL"  # its "final result does not match the grammar" errors are results here ("")


def import_pocketsphinx() -> Any:
    """The pocketsphinx module, or a RecognizerError saying what to install."""
    try:
        import pocketsphinx
    except ImportError as error:
        raise RecognizerError(
            f"{ENGINE}: the pocketsphinx package is not installed: pip install 'pocketsphinx>=5.0' ({error})"
        ) from error
    return pocketsphinx


class PocketSphinxRecognizer(Recognizer):
    """PocketSphinx 5 with a device grammar (`grammar`, or a function that compiles it) or its
    open language model (None). In grammar mode, what is not a command comes back as no text
    (`rejection.py`) unless `reject_non_commands` is off; `network` is how the decoder is given
    the grammar (one of `profiles.RECOGNIZER_NETWORKS`, module docstring)."""

    engine = ENGINE

    def __init__(
        self,
        grammar: DeviceGrammar | Callable[[], DeviceGrammar] | None,
        *,
        max_alternatives: int = DEFAULT_MAX_ALTERNATIVES,
        decoder_options: Mapping[str, Any] | None = None,
        reject_non_commands: bool = True,
        network: str = EXACT,
    ) -> None:
        super().__init__()
        pocketsphinx = import_pocketsphinx()
        self.mode = "open" if grammar is None else "grammar"
        self.network = network if grammar is not None else EXACT
        self.max_alternatives = max_alternatives
        options: dict[str, Any] = {
            "samprate": SAMPLE_RATE_HZ,
            "loglevel": DECODER_LOG_LEVEL,
            "dither": True,
            "seed": DITHER_SEED,
        }
        self._source = grammar
        self._sentences: PackedGrammar | None = None
        self._grammar: DecoderGrammar | None = None
        self._dictionary = Path((decoder_options or {}).get("dict") or pocketsphinx.Config()["dict"])
        if grammar is None:
            self._decoder = _decoder(pocketsphinx, {**options, **(decoder_options or {})})
        else:
            options.update(lm=None, bestpath=False, **GRAMMAR_BEAMS, **(NGRAM_SEARCH if self.network == NGRAM else {}))
            options.update({k: v for k, v in (decoder_options or {}).items() if k != "dict"})
            with tempfile.TemporaryDirectory(prefix="assistant-asr-") as folder:
                language_weight = float(options.get("lw", pocketsphinx.Config()["lw"]))
                self._sentences = prepare_in_child(
                    grammar,
                    self._dictionary,
                    Path(folder),
                    language_weight,
                    phone_loop=reject_non_commands,
                    network=self.network,
                )
                _log_preparation(self._sentences)
                files = {"dict": str(Path(folder) / DICTIONARY_FILE)}
                if self.network == NGRAM:
                    self._decoder = _decoder(pocketsphinx, {**options, **files, "lm": str(Path(folder) / LM_FILE)})
                else:
                    self._decoder = _decoder(pocketsphinx, {**options, **files})
                    self._activate(lambda: self._decoder.read_fsg(str(Path(folder) / FSG_FILE)))
        self._warm = False  # has the cepstral mean adapted to this audio yet?
        self._pcm: list[bytes] = []
        self._noise_floor = _noise_table(NOISE_TABLE_SAMPLES) if self.network == NGRAM else None
        self._noise_at = 0  # samples heard so far, where the floor goes on

    @property
    def grammar(self) -> DecoderGrammar | None:
        """The `DecoderGrammar` the decoder was given (None in open mode), prepared again in this
        process on first use: for benchmarks and tests, which need more of it than `accepts`."""
        if self._grammar is None and self._source is not None:
            source = self._source if isinstance(self._source, DeviceGrammar) else self._source()
            self._grammar = prepare_grammar(source, self._dictionary)[0]
        return self._grammar

    @classmethod
    def phrase_loop(cls, phrases: Sequence[str]) -> PocketSphinxRecognizer:
        """A recognizer for any sequence of `phrases`: the language of a vosk phrase
        list, so the benchmark can measure phrase lists without a vosk model.
        Phrases with a word outside the dictionary are left out."""
        recognizer = cls(None, decoder_options={"lm": None, "bestpath": False})
        recognizer.mode = "grammar"
        lookup = recognizer._decoder.lookup_word
        known = [p for p in phrases if p != UNKNOWN and all(lookup(w) is not None for w in p.split())]
        recognizer._load_fsg(*phrase_loop_transitions(known))
        return recognizer

    def _load_fsg(self, start: int, final: int, transitions: list[Transition]) -> None:
        self._activate(lambda: self._decoder.create_fsg(SEARCH_NAME, start, final, transitions))

    def _activate(self, load_fsg: Callable[[], Any]) -> None:
        try:
            fsg = load_fsg()
            self._decoder.add_fsg(SEARCH_NAME, fsg)
            self._decoder.activate_search(SEARCH_NAME)
        except (RuntimeError, ValueError) as error:
            raise RecognizerError(f"{ENGINE}: cannot load the device grammar: {error}") from error

    def _start(self) -> None:
        self._pcm = []
        if self._warm:
            self._decoder.start_utt()

    def _feed(self, pcm: bytes) -> Partial:
        if self._noise_floor is not None:
            samples = np.frombuffer(pcm, dtype="<i2")
            floor = self._noise_floor[(self._noise_at + np.arange(len(samples))) % len(self._noise_floor)]
            self._noise_at += len(samples)
            pcm = np.clip(np.rint(samples + floor), -32768, 32767).astype("<i2").tobytes()
        if not self._warm:  # kept: the first utterance is decoded whole in _finish
            self._pcm.append(pcm)
            return Partial("", endpoint=False)
        self._decoder.process_raw(pcm, False, False)
        hypothesis = self._decoder.hyp()
        return Partial(_text(hypothesis.hypstr) if hypothesis is not None else "", endpoint=False)

    def _finish(self) -> tuple[str, tuple[str, ...]]:
        if self._warm:
            self._decoder.end_utt()
        else:
            self._warm = True
            audio = b"".join(self._pcm)
            for _ in range(FIRST_UTTERANCE_PASSES):
                self._decoder.start_utt()
                self._decoder.process_raw(audio, False, True)
                self._decoder.end_utt()
            if self.network == NGRAM:
                # The n-gram search returned a first command handed over whole (full_utt) short of its
                # last word ("set a timer for five" for "... five minutes", after any number of passes),
                # and not when it streamed in: so once the mean has moved, it streams in once more (the
                # daemon test's first command: heard only with this pass).
                self._decoder.start_utt()
                self._decoder.process_raw(audio, False, False)
                self._decoder.end_utt()
            self._pcm = []
        hypothesis = self._decoder.hyp()
        text = _text(hypothesis.hypstr) if hypothesis is not None else ""
        if hypothesis is not None and hypothesis.hypstr and not text:
            log.debug("%s: not a command (the phone loop explained it best)", ENGINE)
        if text and self._sentences is not None and not self._sentences.accepts(text):
            log.debug("%s: best path %r is not a grammar sentence", ENGINE, text)
            if self.network == NGRAM:
                text = next(self._grammar_paths(NGRAM_NBEST_SCAN), "")
        return text, self._nbest(text)

    def _grammar_paths(self, scan: int) -> Iterator[str]:
        """The texts of the first `scan` paths of the lattice, best first, that are grammar
        sentences (lattice paths may leave the grammar: a word cut short at the end)."""
        try:
            for scanned, hypothesis in enumerate(self._decoder.nbest()):
                if scanned >= scan:
                    return
                text = _text(hypothesis.hypstr) if hypothesis is not None else ""
                if text and (self._sentences is None or self._sentences.accepts(text)):
                    yield text
        except (RuntimeError, ValueError) as error:  # no lattice for this utterance
            log.debug("%s: no n-best list: %s", ENGINE, error)

    def _nbest(self, best: str) -> tuple[str, ...]:
        alternatives = [best] if best else []
        if self.max_alternatives > 1 and best:
            for text in self._grammar_paths(NBEST_SCAN):
                if text not in alternatives:
                    alternatives.append(text)
                if len(alternatives) >= self.max_alternatives:
                    break
        return tuple(alternatives)


def _noise_table(samples: int) -> NDArray[np.float64]:
    """Uniform noise of NGRAM_NOISE_FLOOR_RMS from the splitmix64 hash of the sample numbers: the
    same on every run, and without numpy.random, whose import alone took 6 MB of the watch's memory."""
    with np.errstate(over="ignore"):  # the hash multiplies modulo 2**64
        x = np.arange(samples, dtype=np.uint64) + np.uint64(DITHER_SEED)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    uniform: NDArray[np.float64] = (x >> np.uint64(11)).astype(np.float64) / float(1 << 53) - 0.5  # variance 1/12
    return uniform * float(NGRAM_NOISE_FLOOR_RMS * np.sqrt(12.0))


def _text(decoded: str) -> str:
    """A decoder transcript in the grammar's words; no text when it is not a command."""
    return "" if rejection.is_rejected(decoded) else compounds.split(decoded)


def _log_preparation(grammar: PackedGrammar) -> None:
    if grammar.spelled:
        log.info("%s: %d grammar words spelled from dictionary words: %s", ENGINE, len(grammar.spelled),
                 ", ".join(f"{w} = {' | '.join(p)}" for w, p in grammar.spelled.items()))  # fmt: skip
    if grammar.dropped_words:
        log.warning(
            "%s: %d grammar words are not in the pronouncing dictionary and were dropped "
            "with the alternatives that need them: %s",
            ENGINE, len(grammar.dropped_words), ", ".join(sorted(grammar.dropped_words)),
        )  # fmt: skip
    if grammar.respellings:
        merged = ", ".join(f"{' '.join(r.written)} -> {' '.join(r.canonical)}" for r in grammar.respellings)
        log.info("%s: %d same-sounding spellings, each returned one way: %s", ENGINE, len(grammar.respellings), merged)


def _decoder(pocketsphinx: Any, options: Mapping[str, Any]) -> Any:
    try:
        return pocketsphinx.Decoder(**options)
    except (RuntimeError, ValueError) as error:
        raise RecognizerError(f"{ENGINE}: cannot create the decoder with {dict(options)}: {error}") from error
