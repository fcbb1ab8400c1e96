"""The pronouncing dictionary: read for the grammar's words only, composed pronunciations for
the words it lacks, and the small dictionary the PocketSphinx decoder loads."""

from __future__ import annotations

from pathlib import Path

import pocketsphinx
import pytest

from assistant.asr import compounds
from assistant.asr.decoder_grammar import DICTIONARY_FILE, FSG_FILE, prepare_grammar, prepare_in_child, prepare_network
from assistant.asr.dictionary import read_pronunciations, write_dictionary
from assistant.asr.fsg import write_fsg
from assistant.asr.grammar import DeviceGrammar, compile_grammar
from assistant.asr.pocketsphinx_engine import PocketSphinxRecognizer
from assistant.asr.pronunciation import lookup_keys, spell
from assistant.errors import RecognizerError
from assistant.intents import IntentSet
from assistant.profiles import DeviceProfile

CMUDICT = Path(pocketsphinx.Config()["dict"])
COMPOSED = ("delime", "descale", "delicates", "audiobook", "hitchhiker's", "favourites", "bpm", "unmute", "roomba")


def _spelled(word: str) -> tuple[str, ...]:
    table = read_pronunciations(CMUDICT, lookup_keys(word))
    return spell(word, lambda part: table.get(part, ()))


def test_only_the_words_asked_for_are_read_with_every_pronunciation_in_file_order() -> None:
    found = read_pronunciations(CMUDICT, {"read", "the", "stopwatch", "notawordatall"})
    assert found == {"read": ("R EH D", "R IY D"), "the": ("DH AH", "DH IY"), "stopwatch": ("S T AA P W AA CH",)}


def test_a_written_dictionary_reads_back_the_same(tmp_path: Path) -> None:
    entries = {"read": ("R EH D", "R IY D"), "delime": ("D IY L AY M", "D IH L AY M"), "a": ("AH",)}
    path = tmp_path / "grammar.dict"
    write_dictionary(path, entries)
    assert "read(2) R IY D" in path.read_text(encoding="utf-8").splitlines()
    assert read_pronunciations(path, entries) == entries


def test_a_missing_dictionary_is_a_recognizer_error(tmp_path: Path) -> None:
    with pytest.raises(RecognizerError, match=r"cannot read the pronouncing dictionary .*missing\.dict"):
        read_pronunciations(tmp_path / "missing.dict", {"the"})


def test_missing_words_are_composed_from_prefixes_inflections_and_compounds() -> None:
    assert _spelled("delime")[:2] == ("D IY L AY M", "D IH L AY M")  # de + lime, not deli + me
    assert _spelled("descale")[0] == "D IY S K EY L"  # de + scale, not des + cale
    assert _spelled("delicates") == ("D EH L AH K AH T S",)  # delicate + S, not deli + cates
    assert _spelled("audiobook") == ("AA D IY OW B UH K",)
    assert _spelled("hitchhiker's")[0].endswith("ER Z")
    assert _spelled("favourites") == ("F EY V ER IH T S",)
    assert _spelled("bpm") == ("B IY P IY EH M",)
    assert _spelled("unmute") == ("AH N M Y UW T",)
    assert _spelled("roomba") == ("R UW M B AH",)  # listed: not room + ba
    assert _spelled("despacito") == ()


@pytest.mark.parametrize("word", COMPOSED)
def test_spelling_a_word_only_looks_up_the_keys_it_names(word: str) -> None:
    keys = lookup_keys(word)
    table = read_pronunciations(CMUDICT, keys)
    asked: list[str] = []

    def lookup(part: str) -> tuple[str, ...]:
        asked.append(part)
        return table.get(part, ())

    assert spell(word, lookup)
    assert set(asked) <= keys  # so reading just these entries gives what the whole dictionary would


def test_the_decoder_dictionary_holds_the_grammar_words_and_no_others(
    intents: IntentSet, profiles: dict[str, DeviceProfile]
) -> None:
    grammar = compile_grammar(intents.restricted_to(profiles["coffee_maker"].domains))
    prepared, pronunciations = prepare_grammar(grammar, CMUDICT)
    assert set(pronunciations) == prepared.words()
    assert pronunciations["the"] == ("DH AH", "DH IY")  # alternatives kept
    _, network = prepare_network(grammar, CMUDICT, phone_loop=False)
    recognizer = PocketSphinxRecognizer(grammar)
    decoder = recognizer._decoder
    for word, phones in network.pronunciations.items():  # the grammar's words, some joined (compounds.py)
        assert decoder.lookup_word(word) == phones[0], word
    assert {w for word in network.pronunciations for w in compounds.split(word).split()} == prepared.words()
    assert decoder.lookup_word("the(2)") == "DH IY"
    assert decoder.lookup_word("descale") is not None  # composed: de + scale
    for outside in ("aardvark", "zebra", "thermostat", "stopwatch"):
        assert decoder.lookup_word(outside) is None  # in CMUdict, not in the coffee maker's grammar


def test_preparing_in_a_child_process_gives_what_preparing_here_gives(
    intents: IntentSet, profiles: dict[str, DeviceProfile], tmp_path: Path
) -> None:
    view = intents.restricted_to(profiles["thermostat"].domains)
    here, _ = prepare_grammar(compile_grammar(view), CMUDICT)
    there = prepare_in_child(lambda: compile_grammar(view), CMUDICT, tmp_path, 6.5)
    assert there == here.packed()  # the sentences, packed, and what preparing them changed
    _, here_network = prepare_network(compile_grammar(view), CMUDICT)
    write_dictionary(tmp_path / "here.dict", here_network.pronunciations)
    write_fsg(tmp_path / "here.fsg", here_network, 6.5)
    assert (tmp_path / DICTIONARY_FILE).read_text() == (tmp_path / "here.dict").read_text()
    assert (tmp_path / FSG_FILE).read_text() == (tmp_path / "here.fsg").read_text()


def test_an_error_in_the_child_process_is_raised_here(intents: IntentSet, tmp_path: Path) -> None:
    def no_grammar() -> DeviceGrammar:
        raise RecognizerError("no grammar today")

    with pytest.raises(RecognizerError, match="no grammar today"):
        prepare_in_child(no_grammar, CMUDICT, tmp_path, 6.5)
    with pytest.raises(RecognizerError, match=r"cannot read the pronouncing dictionary"):
        prepare_in_child(
            compile_grammar(intents.restricted_to(["stopwatch"])), CMUDICT.with_name("missing.dict"), tmp_path, 6.5
        )
