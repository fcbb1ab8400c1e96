"""`assistant train`: from intent definitions to a model directory, in stages.

    1. corpus     generate the synthetic commands (assistant.datagen)
    2. tokenizer  learn subword pieces with SentencePiece
    3. rows       encode parse, reply and unlabelled-text rows
    4. train      the transformer (resumable: checkpoints in OUT/checkpoints)
    5. export     float32, dynamic-range int8 and full int8 TFLite
    6. evaluate   every variant on the held-out templates, through the runtime
    7. describe   model.json: format, config, labels, data hashes, metrics

This module is training-only: the runtime never imports it.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import logging
import platform
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sentencepiece as spm

from assistant import __version__
from assistant.datagen import VALIDATION, VALIDATION_SHARE, Corpus, CorpusGenerator, Example, corpus_fingerprint
from assistant.datasets import data_dir
from assistant.evaluation import evaluate
from assistant.intents import IntentSet
from assistant.nlu.labels import LabelSet
from assistant.nlu.runtime import MODEL_FORMAT, MODEL_FORMAT_VERSION, IntentModel
from assistant.nlu.tokenizer import Tokenizer, intent_label, value_label
from assistant.train.data import RowBuilder, add_corpus
from assistant.train.export import FILE_NAMES, VARIANTS, export
from assistant.train.human import HumanData, add_human_data, read_human_data
from assistant.train.model import ModelConfig, count_parameters
from assistant.train.names import carrier_words, name_pool, value_contexts, with_new_values, with_stray_words
from assistant.train.trainer import TrainConfig, train

log = logging.getLogger(__name__)

TOKENIZER_FILE = "tokenizer.json"


@dataclass(frozen=True)
class TrainingPlan:
    corpus_size: int = 120_000
    corpus_seed: int = 0
    # SentencePiece vocabulary, before control symbols and labels. 1,500 pieces over the
    # commands and the human data: CLINC150's false rejects 8.9% -> 6.7% against 1,000
    # over the commands alone (three seeds each; docs/model.md)
    pieces: int = 1500
    reply_share: float = 0.35  # in-scope examples that also train the reply task
    max_eval: int = 4000  # validation commands scored per variant
    # Keep a fifth of each intent's templates (datagen.VALIDATION_SHARE) out of training.
    # The shipped model does not: a phrasing the definitions write is one the device
    # must understand, and held out, those went unlearnt (0.894 of their commands right
    # against 0.998). A build that holds them out (`assistant train --hold-out`)
    # measures how the model reads phrasings nobody wrote. Either way the metrics score
    # the commands of that same fifth. A fifth of the out-of-scope templates always
    # stays out: they sample what else people say, and learning all of them too cut
    # SLURP's in-scope intent accuracy 0.823 -> 0.793 (docs/model.md).
    hold_out_templates: bool = False
    human_data: bool = True  # datasets.TRAINING_CORPORA and SLURP text, where present
    # Home Assistant's training templates among them (home-assistant/intents, CC BY 4.0): with
    # them the model reads 0.95 of their held-out templates' sentences, 0.75 without (docs/model.md).
    home_assistant_data: bool = True
    text_lines: int = 10_000  # unlabelled SLURP lines for the language-model head
    human_repeat: int = 3  # times each in-scope human command is seen per epoch
    # Share of the commands with a free-text value whose parse row gets new words for it
    # (assistant.train.names), so names are read from where they stand, not from a list;
    # and share of in-scope commands whose parse row gets one such word where the intent's
    # values never stand, tagged as no value (a word never heard is not thereby a name).
    # Off: with 0.5 and 0.15 (build/nlu_v8, 2026-11-26) unseen timer names were read and
    # none hallucinated, but held-out slot F1 fell 0.939 -> 0.920 and 13 of 211 scenario
    # turns failed; see docs/model.md.
    new_value_share: float = 0.0
    stray_word_share: float = 0.0
    # Frames below this confidence are "not understood". Off: the "none" class does
    # the rejecting. Measured on the second model, a threshold set to reject 2% of
    # right synthetic parses (0.05) raised SLURP's in-scope false rejects from 0.11
    # to 0.44 and CLINC150's from 0.08 to 0.13 for at most half a point of OOS recall.
    confidence_threshold: float = 0.0
    model: dict[str, Any] = field(default_factory=dict)  # ModelConfig overrides
    train: TrainConfig = field(default_factory=TrainConfig)

    @property
    def scored_phrasings(self) -> str:
        """What the scored commands' phrasings are to this model."""
        return "unseen" if self.hold_out_templates else "written, learnt"

    @classmethod
    def tiny(cls) -> TrainingPlan:
        """Seconds, not minutes: for tests and smoke runs, not for use."""
        return cls(
            corpus_size=4000,
            pieces=300,
            human_data=False,
            max_eval=300,
            model={"d_model": 32, "n_layers": 1, "n_heads": 2, "d_ff": 64},
            train=TrainConfig(steps=100, checkpoint_every=10_000),
        )


def run(
    plan: TrainingPlan,
    intents: IntentSet,
    out_dir: Path,
    data_root: Path | None = None,
    progress: Callable[[int, dict[str, float]], None] | None = None,
    stage: Callable[[str], None] = lambda message: log.info(message),
) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stage(f"corpus: {plan.corpus_size:,} commands from {len(intents.intents)} intents")
    held_out = VALIDATION_SHARE if plan.hold_out_templates else 0.0
    corpus = CorpusGenerator(intents, seed=plan.corpus_seed, validation_share=held_out).generate(plan.corpus_size)
    train_examples = [e for e in corpus.examples if e.split != VALIDATION]
    validation = scored_examples(plan, intents, corpus)

    root = data_root or data_dir()
    human = HumanData({}, [], {})
    if plan.human_data:
        stage(f"human data: from {root}")
        human = read_human_data(intents, root, plan.text_lines, plan.home_assistant_data, say=stage)

    stage(f"tokenizer: {plan.pieces} pieces")
    labels = LabelSet.from_intents(intents)
    tokenizer = train_tokenizer(train_examples, intents, labels, plan.pieces, plan.corpus_seed, human.texts())
    tokenizer.save(out_dir / TOKENIZER_FILE)

    model_config = ModelConfig(
        vocab_size=tokenizer.size, n_intents=len(labels.intents), n_tags=labels.n_tags, **plan.model
    )
    builder = RowBuilder(tokenizer, labels, model_config.max_len)
    pool = name_pool(intents, carrier_words(corpus.examples, intents), human.text_lines)
    renamed = with_new_values(train_examples, intents, pool, plan.new_value_share, plan.corpus_seed)
    changed = sum(a is not b for a, b in zip(train_examples, renamed, strict=True))
    contexts = value_contexts(train_examples, intents)
    renamed = with_stray_words(renamed, intents, pool, contexts, plan.stray_word_share, plan.corpus_seed)
    strays = sum(e.variant.endswith("+stray") for e in renamed)
    stage(f"new values: {changed:,} commands get a free-text value, {strays:,} a stray word, from {len(pool):,} words")
    add_corpus(builder, train_examples, intents, plan.reply_share, plan.corpus_seed, parse_as=renamed)
    human_used = add_human_data(builder, human, intents, plan.human_repeat)
    rows = builder.build()
    stage(f"rows: {len(rows):,} ({builder.too_long} too long for {model_config.max_len} tokens)")

    stage(f"train: {plan.train.steps} steps of {plan.train.batch_size}")
    model = train(rows, model_config, plan.train, out_dir / "checkpoints", progress)

    variants: dict[str, dict[str, Any]] = {}
    for variant in VARIANTS:
        stage(f"export: {variant}")
        flatbuffer = export(model, variant, rows)
        path = out_dir / FILE_NAMES[variant]
        path.write_bytes(flatbuffer)
        variants[variant] = {
            "file": path.name,
            "bytes": len(flatbuffer),
            "sha256": hashlib.sha256(flatbuffer).hexdigest(),
        }

    metadata: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "library_version": __version__,
        "created": datetime.date.today().isoformat(),
        "license": "Apache-2.0 (trained by this project's code from its own intent definitions and public data)",
        "config": model_config.to_dict(),
        "parameters": count_parameters(model),
        "tokenizer": TOKENIZER_FILE,
        "labels": labels.to_dict(),
        "variants": variants,
        "default_variant": "int8",
        "confidence_threshold": 0.0,
        "training": {
            "plan": {**asdict(plan), "train": asdict(plan.train)},
            "intents_hash": corpus_fingerprint(intents),
            "corpus_examples": len(corpus.examples),
            "human_data": human_used,
            "rows": len(rows),
            "data_hash": rows.fingerprint(),
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        },
        "metrics": {},
    }
    _write_metadata(out_dir, metadata)

    return evaluate_model(plan, intents, out_dir, validation, metadata, stage)


def scored_examples(plan: TrainingPlan, intents: IntentSet, corpus: Corpus) -> list[Example]:
    """The commands of the held-out fifth of the templates: new phrasings to a model
    that held them out, written ones to a model that learnt every template."""
    if not plan.hold_out_templates:
        corpus = CorpusGenerator(intents, seed=plan.corpus_seed).generate(plan.corpus_size)
    return [e for e in corpus.examples if e.split == VALIDATION]


def evaluate_model(
    plan: TrainingPlan,
    intents: IntentSet,
    out_dir: Path,
    validation: list[Example],
    metadata: dict[str, Any],
    stage: Callable[[str], None] = lambda message: log.info(message),
) -> dict[str, Any]:
    """Score every variant on a random sample of `validation` (the corpus lists
    it intent by intent, so its first rows would cover only a few intents), then
    rewrite model.json."""
    sample = random.Random(plan.corpus_seed).sample(validation, min(plan.max_eval, len(validation)))
    commands = [e.labelled() for e in sample]
    metadata["confidence_threshold"] = plan.confidence_threshold
    for variant in VARIANTS:
        stage(f"evaluate: {variant} on {len(commands):,} commands of held-out templates ({plan.scored_phrasings})")
        runtime = IntentModel.load(intents, out_dir, variant)
        metadata["metrics"][variant] = {"synthetic_validation": evaluate(runtime.parse, commands).to_dict()}
    _write_metadata(out_dir, metadata)
    return metadata


def train_tokenizer(
    examples: list[Example],
    intents: IntentSet,
    labels: LabelSet,
    pieces: int,
    seed: int,
    human_texts: Sequence[str] = (),
) -> Tokenizer:
    """SentencePiece unigram pieces over commands, replies and the human data's
    sentences, plus one label per intent and per slot or result name.

    Learnt from the generated text alone, the pieces held its words whole and broke
    other people's into letters ("from" -> "fro m", "rihanna" -> eight pieces):
    1.87 pieces a word on SLURP devel against 1.27 on the commands (docs/model.md)."""
    texts = [e.text for e in examples] + [e.reply.lower() for e in examples] + list(human_texts)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=model,
        vocab_size=pieces,
        model_type="unigram",
        character_coverage=1.0,
        normalization_rule_name="identity",
        unk_id=0,
        bos_id=-1,
        eos_id=-1,
        pad_id=-1,
        num_threads=1,  # more threads make the pieces depend on scheduling
        seed_sentencepiece_size=200_000,
        input_sentence_size=400_000,
        shuffle_input_sentence=False,
        minloglevel=2,
    )
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    keep = [i for i in range(processor.get_piece_size()) if not (processor.is_unknown(i) or processor.is_control(i))]
    value_names = sorted({name for i in intents.intents for name in (*i.slots, *i.result)})
    return Tokenizer(
        pieces=[processor.id_to_piece(i) for i in keep],
        scores=[processor.get_score(i) for i in keep],
        labels=[intent_label(name) for name in labels.intents] + [value_label(name) for name in value_names],
    )


def _write_metadata(out_dir: Path, metadata: dict[str, Any]) -> None:
    (out_dir / "model.json").write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
