"""What a grammar-mode recognizer listens for, in the spellings it writes.

`prepare_grammar` turns a device grammar (`grammar.DeviceGrammar`, the intents'
templates) into what the decoder is given:

1. every word gets its pronunciations from the pronouncing dictionary
   (`dictionary.read_pronunciations`: only the grammar's words are read) or
   composed from dictionary words (`pronunciation.spell`); a word with neither
   is dropped with every alternative that needs it;
2. the grammar is cut at its slots (`slot_network.split_at_slots`), the form
   its decoder network is built from, and each part loses its same-sounding
   duplicate spellings (`spellings.canonical_spellings`): "stop watch" and
   "stopwatch" are one sound, and the recognizer writes "stopwatch";
3. the parts are put together again into the minimal automaton of every
   sentence the decoder can return.

The result, `DecoderGrammar`, keeps only that automaton (the template tree is
not needed once the decoder has the grammar), with the words spelled, the
words dropped and the respellings, so the caller can log them, check a
transcript against the grammar and write any grammar sentence the way the
recognizer returns it.

`prepare_in_child` does the same in a forked child process (`assistant.forked`),
and builds there the network PocketSphinx is given (`fsg.decoder_network`,
`slot_network.slot_network` when the profile shares slots, or the grammar's
n-gram language model, `grammar_lm.py`), written to files the decoder reads in
C (a list of 13,000 transitions handed back to Python took 2.4 MB of its heap).
Compiling a grammar makes and frees millions of small Python objects, and the
few that live on pin the interpreter's memory arenas, so the process that
compiles keeps memory it no longer uses. Measured in a fresh process, the recognizer's resident
memory after building it and decoding one command: dishwasher 33.5 MB compiled
in the process, 31.6 MB compiled in the child; smartwatch 71.7 and 67.0 MB.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from assistant.asr.automaton import PackedAutomaton, WordAutomaton
from assistant.asr.dictionary import read_pronunciations, write_dictionary
from assistant.asr.fsg import DecoderNetwork, decoder_network, write_fsg
from assistant.asr.grammar import DeviceGrammar
from assistant.asr.grammar_lm import ngram_counts, sample_sentences, write_arpa
from assistant.asr.pronunciation import lookup_keys, spell
from assistant.asr.rejection import with_phone_loop
from assistant.asr.slot_network import SlotParts, slot_network, split_at_slots
from assistant.asr.spellings import Respelling, respell
from assistant.forked import in_child
from assistant.profiles import RECOGNIZER_NETWORKS

DICTIONARY_FILE = "grammar.dict"  # what `prepare_in_child` writes for the decoder
FSG_FILE = "grammar.fsg"  # the networks of the grammar search
LM_FILE = "grammar.arpa"  # the n-gram network
EXACT, SHARED_SLOTS, NGRAM = RECOGNIZER_NETWORKS
Pronunciations = dict[str, tuple[str, ...]]  # word -> its pronunciations (space-separated phones)


@dataclass(frozen=True)
class DecoderGrammar:
    """Every grammar sentence the decoder can return, as its minimal automaton. (Its network
    lets in a few others where slots are shared, `slot_network.py`.)"""

    automaton: WordAutomaton
    respellings: tuple[Respelling, ...]  # the same-sounding spellings merged: written -> canonical
    dropped_words: frozenset[str]  # grammar words without a pronunciation, dropped with their sentences
    spelled: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # words composed from dictionary words

    def words(self) -> set[str]:
        """Every word the decoder can return."""
        return {word for arcs in self.automaton.arcs for word in arcs}

    def accepts(self, sentence: str) -> bool:
        """Whether the decoder can return `sentence`."""
        return self.automaton.accepts(sentence.split())

    def respell(self, sentence: str) -> str | None:
        """A sentence of the device grammar as the decoder returns it (its canonical spellings);
        None when the decoder cannot return it at all (it needs a dropped word)."""
        return respell(self.automaton, self.respellings, sentence)

    def can_return(self, sentence: str) -> bool:
        """Whether the decoder can return `sentence` of the device grammar, in some spelling."""
        return self.respell(sentence) is not None

    def has_pronunciation(self, word: str) -> bool:
        """Whether `word` of the device grammar was kept (it has a pronunciation)."""
        return word not in self.dropped_words

    def stats(self) -> dict[str, int]:
        return {
            "states": len(self.automaton.arcs),
            "arcs": self.automaton.n_arcs,
            "spelled": len(self.spelled),
            "respellings": len(self.respellings),
            "dropped_words": len(self.dropped_words),
        }

    def packed(self) -> PackedGrammar:
        return PackedGrammar(self.automaton.packed(), self.respellings, self.dropped_words, self.spelled)


@dataclass(frozen=True)
class PackedGrammar:
    """What a running recognizer keeps of its `DecoderGrammar`: the sentences, packed
    (`automaton.PackedAutomaton`, which only answers `accepts`), and what preparing
    them changed, for its log."""

    sentences: PackedAutomaton
    respellings: tuple[Respelling, ...]
    dropped_words: frozenset[str]
    spelled: Mapping[str, tuple[str, ...]]

    def accepts(self, sentence: str) -> bool:
        """Whether the decoder can return `sentence`."""
        return self.sentences.accepts(sentence.split())


def prepare_grammar(grammar: DeviceGrammar, dictionary: Path) -> tuple[DecoderGrammar, Pronunciations]:
    """The decoder's grammar for `grammar`, and the pronunciations of its words (module docstring)."""
    prepared, _, pronunciations = _prepare(grammar, dictionary)
    return prepared, pronunciations


def prepare_network(
    grammar: DeviceGrammar,
    dictionary: Path,
    *,
    phone_loop: bool = True,
    share_slots: bool = False,
) -> tuple[DecoderGrammar, DecoderNetwork]:
    """`prepare_grammar`, and the PocketSphinx network for it: exactly its sentences
    (`fsg.decoder_network`), or with each big slot's phrases shared if `share_slots`
    (`slot_network.py`); and the phone loop that rejects what is not a command beside it
    (`rejection.py`) unless `phone_loop` is off."""
    prepared, parts, pronunciations = _prepare(grammar, dictionary)
    if share_slots:
        network = slot_network(parts, pronunciations)
    else:  # measured: 1 MB less than the same sentences from the parts, each slot copied for each way on
        network = decoder_network(prepared.automaton, pronunciations)
    return prepared, with_phone_loop(network) if phone_loop else network


def _prepare(grammar: DeviceGrammar, dictionary: Path) -> tuple[DecoderGrammar, SlotParts, Pronunciations]:
    words = grammar.words()
    pronunciations = read_pronunciations(dictionary, words)
    missing = words - pronunciations.keys()
    spelled: Pronunciations = {}
    if missing:
        parts = read_pronunciations(dictionary, set().union(*(lookup_keys(word) for word in missing)))
        for word in sorted(missing):
            phones = spell(word, lambda part: parts.get(part, ()))
            if phones:
                spelled[word] = phones
        pronunciations.update(spelled)
    cut = split_at_slots(grammar, lambda word: word in pronunciations)
    respelled, respellings = cut.respelled(lambda word: pronunciations.get(word, ()), lambda word: word not in missing)
    dropped = grammar.dropped_words | (words - pronunciations.keys())
    prepared = DecoderGrammar(respelled.whole(), respellings, dropped, spelled)
    used = prepared.words()
    return prepared, respelled, {word: phones for word, phones in pronunciations.items() if word in used}


def prepare_in_child(
    grammar: DeviceGrammar | Callable[[], DeviceGrammar],
    dictionary: Path,
    folder: Path,
    language_weight: float,
    *,
    phone_loop: bool = True,
    network: str = EXACT,
) -> PackedGrammar:
    """The decoder's grammar prepared in a forked child process (`assistant.forked`; module
    docstring), which writes the `network` (one of RECOGNIZER_NETWORKS) into `folder` for the
    decoder to read: `DICTIONARY_FILE` and either `FSG_FILE` (`prepare_network`, for a decoder with
    this `language_weight`, with the phone loop unless `phone_loop` is off) or, for NGRAM, `LM_FILE`
    (`grammar_lm.py`). Only the `DecoderGrammar`, packed, comes back. `grammar` may be a function
    that compiles it, so the compiling happens in the child too."""

    def prepare_and_write() -> PackedGrammar:
        compiled = grammar if isinstance(grammar, DeviceGrammar) else grammar()
        if network == NGRAM:
            prepared, pronunciations = prepare_grammar(compiled, dictionary)
            write_dictionary(folder / DICTIONARY_FILE, pronunciations)
            write_arpa(folder / LM_FILE, ngram_counts(sample_sentences(compiled, prepared.respell)), pronunciations)
        else:
            prepared, fsg = prepare_network(
                compiled, dictionary, phone_loop=phone_loop, share_slots=network == SHARED_SLOTS
            )
            write_dictionary(folder / DICTIONARY_FILE, fsg.pronunciations)
            write_fsg(folder / FSG_FILE, fsg, language_weight)
        return prepared.packed()

    return in_child(prepare_and_write)
