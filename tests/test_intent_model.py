"""The intent model end to end on a tiny model trained here in seconds: the
exported TFLite graph must compute what the Keras model computes, and the
runtime must load what training writes and refuse what it cannot run."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.datagen import TRAIN, CorpusGenerator
from assistant.intents import IntentSet
from assistant.litert import load_interpreter
from assistant.nlu.labels import LabelSet
from assistant.nlu.runtime import IncompatibleModel, IntentModel
from assistant.nlu.sequences import parse_prefix

pytest.importorskip("tensorflow", reason="the [train] extra provides TensorFlow")

from assistant.train.data import IGNORE, RowBuilder, add_corpus
from assistant.train.export import export
from assistant.train.model import ModelConfig
from assistant.train.pipeline import TrainingPlan, run, scored_examples, train_tokenizer
from assistant.train.trainer import TrainConfig, train


def tiny_rows(intents: IntentSet, seed: int, size: int, pieces: int, **model: int) -> tuple[Any, ModelConfig]:
    """Training rows and a model config for a tiny model, from a small corpus."""
    corpus = CorpusGenerator(intents, seed=seed).generate(size)
    labels = LabelSet.from_intents(intents)
    tokenizer = train_tokenizer(corpus.examples, intents, labels, pieces=pieces, seed=seed)
    config = ModelConfig(vocab_size=tokenizer.size, n_intents=len(labels.intents), n_tags=labels.n_tags, **model)
    builder = RowBuilder(tokenizer, labels, config.max_len)
    add_corpus(builder, corpus.examples, intents, reply_share=0.5, seed=seed)
    return builder.build(), config


@pytest.fixture(scope="module")
def tiny_keras(intents: IntentSet, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    rows, config = tiny_rows(intents, seed=1, size=3000, pieces=300, d_model=32, n_layers=2, n_heads=2, d_ff=64)
    model = train(rows, config, TrainConfig(steps=40, checkpoint_every=1000), tmp_path_factory.mktemp("ckpt"))
    return model, rows


@pytest.fixture(scope="module")
def tiny_model_dir(intents: IntentSet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny_model")
    run(TrainingPlan.tiny(), intents, out)
    return out


def _tflite_outputs(flatbuffer: bytes, rows: Any, index: int, tmp_path: Path) -> dict[str, np.ndarray]:
    path = tmp_path / "model.tflite"
    path.write_bytes(flatbuffer)
    interpreter = load_interpreter(path)
    inputs = {d["name"]: d["index"] for d in interpreter.get_input_details()}
    interpreter.set_tensor(inputs["tokens"], rows.tokens[index : index + 1])
    interpreter.set_tensor(inputs["prefix_length"], rows.prefix_length[index : index + 1])
    interpreter.set_tensor(inputs["length"], rows.length[index : index + 1])
    interpreter.invoke()
    outputs = [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]
    by_rank = {o.ndim: o for o in outputs if o.ndim == 2}
    three = sorted((o for o in outputs if o.ndim == 3), key=lambda o: o.shape[-1])
    return {"intent": by_rank[2], "tags": three[0], "next_token": three[1]}


def test_float_tflite_matches_keras(tiny_keras: tuple[Any, Any], tmp_path: Path) -> None:
    model, rows = tiny_keras
    flatbuffer = export(model, "float32")
    for index in (0, 7, 42, 99):
        keras_out = model(
            rows.tokens[index : index + 1], rows.prefix_length[index : index + 1], rows.length[index : index + 1]
        )
        lite = _tflite_outputs(flatbuffer, rows, index, tmp_path)
        for name, expected in zip(("intent", "tags", "next_token"), keras_out, strict=True):
            np.testing.assert_allclose(lite[name], expected.numpy(), atol=1e-4, rtol=1e-4, err_msg=name)


@pytest.mark.parametrize("variant", ["dynamic_int8", "int8"])
def test_int8_tflite_stays_close_to_keras(tiny_keras: tuple[Any, Any], tmp_path: Path, variant: str) -> None:
    model, rows = tiny_keras
    flatbuffer = export(model, variant, rows)
    for index in (0, 7, 42):
        keras_intent = model(
            rows.tokens[index : index + 1], rows.prefix_length[index : index + 1], rows.length[index : index + 1]
        )[0].numpy()
        lite = _tflite_outputs(flatbuffer, rows, index, tmp_path)["intent"]
        spread = float(keras_intent.max() - keras_intent.min())
        assert np.abs(lite - keras_intent).max() < 0.25 * spread + 0.05


def test_training_writes_a_self_describing_model(tiny_model_dir: Path) -> None:
    metadata = json.loads((tiny_model_dir / "model.json").read_text())
    assert metadata["format"] == "assistant-intent-model"
    for key in ("format_version", "config", "labels", "variants", "training", "metrics", "tokenizer"):
        assert key in metadata
    assert metadata["training"]["intents_hash"]
    for variant, info in metadata["variants"].items():
        assert (tiny_model_dir / info["file"]).stat().st_size == info["bytes"]
        assert set(metadata["metrics"][variant]["synthetic_validation"]) >= {"intent_accuracy", "oos_recall"}


def test_a_shipped_build_and_a_hold_out_build_are_scored_on_the_same_commands(intents: IntentSet) -> None:
    """Both score the held-out fifth of the templates: the shipped build learnt them, the other never saw them."""
    plan = TrainingPlan.tiny()
    learns_all = CorpusGenerator(intents, seed=plan.corpus_seed, validation_share=0.0).generate(plan.corpus_size)
    holds_out = CorpusGenerator(intents, seed=plan.corpus_seed).generate(plan.corpus_size)
    scored = scored_examples(plan, intents, learns_all)
    held_out_plan = dataclasses.replace(plan, hold_out_templates=True)
    assert [e.text for e in scored] == [e.text for e in scored_examples(held_out_plan, intents, holds_out)]
    in_scope = {e.template for e in scored if e.intent is not None}
    learnt = in_scope & {e.template for e in learns_all.split(TRAIN)}  # a small corpus may miss a template
    assert in_scope and len(learnt) > 0.95 * len(in_scope)
    assert not in_scope & {e.template for e in holds_out.split(TRAIN)}
    assert (plan.scored_phrasings, held_out_plan.scored_phrasings) == ("written, learnt", "unseen")


def test_the_runtime_parses_with_the_trained_model(intents: IntentSet, tiny_model_dir: Path) -> None:
    model = IntentModel.load(intents, tiny_model_dir, "int8")
    result = model.parse("Set a timer for 25 minutes!")
    assert result.text == "set a timer for twenty five minutes"
    assert 0.0 <= result.confidence <= 1.0
    assert result.latency_ms > 0
    # the device decides what may be said: a frame is only ever an allowed intent
    for text in ["turn on the kitchen lights", "preheat the oven to two hundred degrees", "set a timer"]:
        allowed = {"timer.start", "timer.cancel"}
        assert model.parse(text, allowed).intent in (None, *allowed)


def test_the_runtime_refuses_incompatible_models(intents: IntentSet, tiny_model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "model"
    shutil.copytree(tiny_model_dir, broken, ignore=shutil.ignore_patterns("checkpoints"))
    metadata = json.loads((broken / "model.json").read_text())

    def write(changes: dict[str, Any]) -> None:
        (broken / "model.json").write_text(json.dumps({**metadata, **changes}))

    write({"format_version": 99})
    with pytest.raises(IncompatibleModel, match="model format version 99, this code reads 1"):
        IntentModel.load(intents, broken)
    write({"labels": {**metadata["labels"], "intents": ["none", "timer.start"]}})
    with pytest.raises(IncompatibleModel, match="was not trained on"):
        IntentModel.load(intents, broken)
    write({})
    with pytest.raises(IncompatibleModel, match="no 'fp16' variant"):
        IntentModel.load(intents, broken, "fp16")
    (broken / "model.json").unlink()
    with pytest.raises(IncompatibleModel, match="no model here"):
        IntentModel.load(intents, broken)


def test_padding_and_later_tokens_change_nothing(tiny_keras: tuple[Any, Any]) -> None:
    """Masked keys must not leak through the softmax's normalisation: the same
    prefix gives the same outputs whatever follows it or however long the padding."""
    model, rows = tiny_keras
    index = int(np.argmax(rows.prefix_length < rows.length))  # a row with a causal part
    tokens, prefix, length = (
        rows.tokens[index : index + 1],
        rows.prefix_length[index : index + 1],
        rows.length[index : index + 1],
    )
    full = model(tokens, prefix, length)
    noisy = tokens.copy()
    noisy[0, length[0] :] = 7  # garbage after the sequence
    cut = tokens.copy()
    cut[0, length[0] - 1] = 11  # a different last token: earlier positions must not see it
    for other, positions in ((model(noisy, prefix, length), length[0]), (model(cut, prefix, length), length[0] - 1)):
        np.testing.assert_allclose(other[0].numpy(), full[0].numpy(), atol=1e-5)
        np.testing.assert_allclose(other[1].numpy()[0, :positions], full[1].numpy()[0, :positions], atol=1e-5)
        np.testing.assert_allclose(other[2].numpy()[0, :positions], full[2].numpy()[0, :positions], atol=1e-5)
    trimmed = model(tokens[:, :32], prefix, length)
    np.testing.assert_allclose(trimmed[0].numpy(), full[0].numpy(), atol=1e-5)


def test_replies_ask_refuse_or_confirm_what_was_understood(intents: IntentSet, tiny_model_dir: Path) -> None:
    from assistant.nlu.replies import QUESTION, TEMPLATE, compose_reply
    from assistant.nlu.result import ParseResult, SlotValue

    model = IntentModel.load(intents, tiny_model_dir, "int8")
    rng = __import__("random").Random(0)
    missing = ParseResult("set a timer", "timer.start", (), 0.9, 1.0)
    assert (
        compose_reply(intents, missing, model=model, rng=rng).text
        in intents.intent("timer.start").slots["duration"].ask
    )
    assert compose_reply(intents, missing, model=model, rng=rng).source == QUESTION
    nothing = ParseResult("what is the capital of peru", None, (), 0.1, 1.0)
    replies = {t.text for t in intents.default_replies["not_understood"]}
    refusal = compose_reply(intents, nothing, model=model, rng=rng)
    assert refusal is not None and refusal.text in replies
    # the tiny model writes nonsense; a reply that does not state the value is replaced by a template
    timer = ParseResult("x", "timer.start", (SlotValue("duration", 300, "five minutes", 0, 1),), 0.9, 1.0)
    reply = compose_reply(intents, timer, model=model, rng=rng)
    assert reply is not None and "five minutes" in reply.text.lower()
    assert reply.source in (TEMPLATE, "model")
    # values the action reports are needed before a reply can state them
    clock = ParseResult("what time is it", "clock.time", (), 0.9, 1.0)
    assert compose_reply(intents, clock, model=model, rng=rng) is None
    told = compose_reply(intents, clock, {"time": "07:30"}, model=model, rng=rng)
    assert told is not None and "seven thirty" in told.text.lower()


def test_training_resumes_where_it_stopped(intents: IntentSet, tmp_path: Path) -> None:
    """A run stopped after a checkpoint and resumed ends with the same weights as
    an uninterrupted run: same batches, same optimizer state, same seed."""
    rows, config = tiny_rows(intents, seed=4, size=800, pieces=200, d_model=16, n_layers=1, n_heads=2, d_ff=32)
    plan = TrainConfig(steps=12, checkpoint_every=6, batch_size=16)
    straight = train(rows, config, plan, tmp_path / "a")

    class Interrupted(Exception):
        pass

    def stop_after_checkpoint(step: int, losses: dict[str, float]) -> None:
        if step == 7:
            raise Interrupted  # step 6 was checkpointed; step 7 is lost, as in a crash

    with pytest.raises(Interrupted):
        train(rows, config, plan, tmp_path / "b", stop_after_checkpoint)
    resumed = train(rows, config, plan, tmp_path / "b")
    for a, b in zip(straight.weights, resumed.weights, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_tokenizer_learns_pieces_from_the_human_data_too(intents: IntentSet) -> None:
    """Learnt from generated commands alone, the pieces break other people's words
    into letters; the human data's sentences give those words pieces of their own."""
    corpus = CorpusGenerator(intents, seed=1).generate(300)
    labels = LabelSet.from_intents(intents)
    human = ["play songs by rihanna", "i love rihanna", "rihanna is my favourite singer"] * 30
    alone = train_tokenizer(corpus.examples, intents, labels, pieces=250, seed=1)
    with_human = train_tokenizer(corpus.examples, intents, labels, pieces=250, seed=1, human_texts=human)
    assert len(alone.encode("rihanna").ids) > 3
    assert len(with_human.encode("rihanna").ids) == 1


def test_tags_train_on_in_scope_rows_with_known_spans_only(intents: IntentSet) -> None:
    """An out-of-scope row's tags are never read at run time, so it trains none:
    marking "rebel yell" as no value in "who sings rebel yell" works against
    tagging it in "play rebel yell"."""
    corpus = CorpusGenerator(intents, seed=1).generate(300)
    labels = LabelSet.from_intents(intents)
    tokenizer = train_tokenizer(corpus.examples, intents, labels, pieces=200, seed=1)
    builder = RowBuilder(tokenizer, labels, 64)
    builder.add_parse("play rebel yell", "media.play", {"what": (5, 15)})
    builder.add_parse("who sings rebel yell", None, {})
    builder.add_parse("play rebel yell", "media.play", None)  # a data set without slot labels
    tags = builder.build().tags
    _, encoding = parse_prefix(tokenizer, "play rebel yell")
    in_value = [start >= 5 for start, _ in encoding.offsets]
    played = list(tags[0][1 : 1 + len(in_value)])
    first = in_value.index(True)
    assert played[:first] == [0] * first  # "play": no value
    assert played[first] == labels.begin_tag("what")
    assert set(played[first + 1 :]) == {labels.inside_tag("what")}
    assert (tags[1] == IGNORE).all() and (tags[2] == IGNORE).all()


def test_the_data_fingerprint_changes_with_the_tags_not_only_the_words(intents: IntentSet) -> None:
    corpus = CorpusGenerator(intents, seed=1).generate(300)
    labels = LabelSet.from_intents(intents)
    tokenizer = train_tokenizer(corpus.examples, intents, labels, pieces=200, seed=1)

    def fingerprint(spans: dict[str, tuple[int, int]] | None) -> str:
        builder = RowBuilder(tokenizer, labels, 64)
        builder.add_parse("make me a cappuccino", "coffee.orderDrink", spans)
        return builder.build().fingerprint()

    tagged = fingerprint({"coffeeDrink": (10, 20)})
    assert tagged == fingerprint({"coffeeDrink": (10, 20)})  # the same rows, the same fingerprint
    assert len({tagged, fingerprint({}), fingerprint(None)}) == 3  # same words; a value, no value, intent only


def test_a_coarse_label_trains_the_total_probability_of_its_intents() -> None:
    import tensorflow as tf

    from assistant.train.trainer import set_cross_entropy

    logits = tf.constant([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    accepted = tf.constant([[1, 0, 0], [0, 1, 1], [0, 0, 0]], tf.uint8)  # one, two, no answers
    probabilities = tf.nn.softmax(logits).numpy()
    expected = (-np.log(probabilities[0, 0]) - np.log(probabilities[1, 1] + probabilities[1, 2])) / 2
    assert float(set_cross_entropy(logits, accepted)) == pytest.approx(expected, rel=1e-5)


def test_a_value_may_run_past_its_tagged_span_but_not_into_another_slot(intents: IntentSet) -> None:
    import itertools

    def read(intent: str, slot: str, text: str, tagged: str, taken: set[int]) -> object:
        words = text.split(" ")
        starts = list(itertools.accumulate((len(w) + 1 for w in words[:-1]), initial=0))
        start = text.index(tagged)
        slot_type = intents.intent(intent).slots[slot].type
        return IntentModel._read_value(slot_type, words, starts, start, start + len(tagged), taken)

    # the tagger marked "six forty"; "five" belongs to the time, "tomorrow" to the date
    assert read("alarm.set", "time", "wake me at six forty five tomorrow", "six forty", {3, 4, 6}) == ("06:45", 25)
    assert read("oven.preheat", "temperature", "heat to one twenty degrees", "one", {2}) == (120, 26)
    # words another slot owns stay with it
    assert read("alarm.set", "time", "wake me at six forty five", "six forty", {3, 4, 5}) == ("06:40", 20)
    # free text keeps exactly the tagged words
    assert read("timer.start", "name", "start a pasta bake timer", "pasta", {2}) == ("pasta", 13)


def test_a_value_may_run_over_a_second_mention_of_its_own_slot(intents: IntentSet) -> None:
    """The tagger marked "ten" and "nine" as two start times: one value, "ten to nine"."""
    import itertools

    model = IntentModel.load(intents)  # the shipped model, for its labels
    text = "rapid programme starting at ten to nine"
    words = text.split(" ")
    starts = list(itertools.accumulate((len(w) + 1 for w in words[:-1]), initial=0))
    offsets = [(s, s + len(w)) for s, w in zip(starts, words, strict=True)]  # one piece a word
    labels = model.labels
    tags = [labels.begin_tag("program"), 0, 0, 0, labels.begin_tag("start_time"), 0, labels.begin_tag("start_time")]
    values = model._slot_values("washer.delay_start", text, offsets, tags)
    assert [(v.name, v.value, v.raw) for v in values] == [
        ("program", "quick", "rapid"),
        ("start_time", "08:50", "ten to nine"),
    ]
