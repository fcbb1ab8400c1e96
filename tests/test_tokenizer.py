from __future__ import annotations

import io
from pathlib import Path

import pytest

from assistant.datagen import CorpusGenerator
from assistant.intents import IntentSet
from assistant.nlu.tokenizer import PAD, UNK, WORD_START, Tokenizer, TokenizerError

spm = pytest.importorskip("sentencepiece", reason="the [train] extra provides sentencepiece")


@pytest.fixture(scope="module")
def trained(intents: IntentSet) -> tuple[object, Tokenizer, list[str]]:
    corpus = CorpusGenerator(intents, seed=2).generate(6000)
    texts = [e.text for e in corpus.examples] + [e.reply.lower() for e in corpus.examples]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=model, vocab_size=400, model_type="unigram",
        character_coverage=1.0, normalization_rule_name="identity", unk_id=0, bos_id=-1, eos_id=-1,
        pad_id=-1, num_threads=1, minloglevel=2,
    )  # fmt: skip
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    keep = [i for i in range(processor.get_piece_size()) if not (processor.is_unknown(i) or processor.is_control(i))]
    tokenizer = Tokenizer([processor.id_to_piece(i) for i in keep], [processor.get_score(i) for i in keep], ["[x.y]"])
    return processor, tokenizer, texts


def test_pure_python_segmentation_matches_sentencepiece(trained: tuple[object, Tokenizer, list[str]]) -> None:
    processor, tokenizer, texts = trained
    for text in texts[::7]:
        ours = [tokenizer.symbol(i) for i in tokenizer.encode(text).ids]
        assert ours == processor.encode(text, out_type=str), text  # type: ignore[attr-defined]


def test_offsets_and_word_starts_locate_every_piece(trained: tuple[object, Tokenizer, list[str]]) -> None:
    _, tokenizer, texts = trained
    for text in texts[:500]:
        encoding = tokenizer.encode(text)
        for (start, end), first, token in zip(encoding.offsets, encoding.word_starts, encoding.ids, strict=True):
            piece = tokenizer.symbol(token).lstrip(WORD_START)
            assert text[start:end] == piece
            assert first == tokenizer.symbol(token).startswith(WORD_START)
        assert sum(encoding.word_starts) == len(text.split())
        assert tokenizer.decode(encoding.ids) == text


def test_unknown_characters_become_unk(trained: tuple[object, Tokenizer, list[str]]) -> None:
    _, tokenizer, _ = trained
    ids = tokenizer.encode("set a timer ☃").ids
    assert tokenizer.id(UNK) in ids


def test_vocabulary_layout_and_save_load(trained: tuple[object, Tokenizer, list[str]], tmp_path: Path) -> None:
    _, tokenizer, _ = trained
    assert tokenizer.id(PAD) == 0
    assert tokenizer.is_label(tokenizer.id("[x.y]"))
    path = tmp_path / "tokenizer.json"
    tokenizer.save(path)
    loaded = Tokenizer.load(path)
    assert loaded.vocabulary == tokenizer.vocabulary
    assert loaded.encode("set a timer for five minutes") == tokenizer.encode("set a timer for five minutes")


def test_a_broken_tokenizer_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.json"
    path.write_text('{"pieces": 3}')
    with pytest.raises(TokenizerError, match=r"tokenizer\.json: not a tokenizer file"):
        Tokenizer.load(path)
