"""`assistant wakeword train PHRASE --out DIR`: a wake word head from synthesized speech, in stages.

    1. texts      spellings of the phrase (and its h-dropped form); confusable phrases and
                  near misses ("hey <word>", "<word> fridge", "hey <command>"); commands and
                  out-of-scope sentences from the intent definitions (assistant.datagen)
    2. audio      espeak-ng renders in many voices, speeds and pitches, some coloured by sox
                  (equalizer, band limit, pitch, tempo), placed in scenes (with speech before
                  and after) and long negative streams, mixed with noise
                  (assistant.train.wakeword_data); never a benchmark voice or noise
    3. features   speech embeddings of every frame, once (cached across phrases and runs)
    4. train      a small Keras head over the latest 16 embeddings (a few thousand weights)
    5. export     float32 TFLite, checked against Keras
    6. threshold  the lowest that keeps false accepts per hour on the validation stream at the target
    7. describe   wake.json: phrase, feature model checksums, threshold, data summary, metrics

This module is training-only: the runtime never imports it.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from assistant import __version__
from assistant.intents import IntentSet
from assistant.litert import load_interpreter
from assistant.train.speech import (
    EXTRA_TRAIN_VARIANTS,
    TRAIN_FLITE_VOICES,
    TRAIN_LANGUAGES,
    TRAIN_VARIANTS,
    VALIDATION_VARIANTS,
    WIDE_PITCH,
    WIDE_SPEED_WPM,
    WIDE_TRAIN_VARIANTS,
    require_tools,
)
from assistant.train.wakeword_data import (
    EVALUATION_FRAMES_AFTER_END,
    Backgrounds,
    Cache,
    Progress,
    SceneRecipe,
    StreamRecipe,
    command_sentences,
    confusable_texts,
    dropped_h_spellings,
    gather_windows,
    load_backgrounds,
    merge,
    normalize_phrase,
    phrase_spellings,
    scene_windows,
    score_windows,
    stream_windows,
)
from assistant.wake import (
    EMBEDDING_SIZE,
    FRAME_MS,
    HEAD_INPUT_SHAPE,
    HEAD_WINDOW_EMBEDDINGS,
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    SpeechFeatures,
    WakeWordDetector,
    detections,
    file_sha256,
    phrase_slug,
)

log = logging.getLogger(__name__)

HEAD_FILE = "head.tflite"
FRAMES_PER_HOUR = 3600 * 1000 // FRAME_MS
PARITY_WINDOWS = 512  # windows on which the TFLite head must match Keras
PARITY_TOLERANCE = 1e-4
THRESHOLD_GRID = np.unique(
    np.concatenate([np.arange(0.05, 0.95, 0.01), np.arange(0.95, 0.9995, 0.001), [0.9993, 0.9995, 0.9997, 0.9998]])
)  # up to 0.9998: wake.json keeps four decimals
LICENCE = "Apache-2.0"

Stage = Callable[[str], None]


@dataclass(frozen=True)
class WakeTrainingPlan:
    """Everything that decides a trained head, recorded in wake.json."""

    positive_renders: int = 1200  # distinct espeak-ng renders of the phrase
    scenes_per_render: int = 3  # each render in this many scenes (other background, noise, level, timing)
    confusable_renders: int = 1200  # renders of confusable phrases: hard negatives
    validation_renders: int = 300  # renders of the phrase by validation speakers, for the threshold
    validation_confusable_renders: int = 300
    sentences: int = 8000  # command and out-of-scope sentences per stream pool
    train_stream_s: float = 10800.0  # negative stream for training
    validation_stream_s: float = 3600.0  # negative stream for the threshold
    epochs: int = 40
    batch_size: int = 512
    learning_rate: float = 2e-3
    projection: int = 16  # per-embedding projection width
    hidden: int = 16
    hidden_layers: int = 1
    dropout: float = 0.2
    input_noise: float = 0.0  # std of Gaussian noise added to normalized embeddings while training
    positive_share: float = 0.5  # positives' share of the total training weight
    target_false_accepts_per_hour: float = 0.5
    refractory_ms: int = 1500
    wide_voices: bool = True  # positives, confusables and `wide_stream_s` also by EXTRA_TRAIN_VARIANTS, wider ranges
    colour_share: float = 0.5  # share of those renders through a random sox equalizer, band limit, pitch or tempo
    trailing_speech_share: float = 0.3  # positive and confusable scenes where a command follows, as in use
    dropped_h: bool = True  # also the phrase without its initial h ("'ey fridge"), as many accents say it
    near_misses: int = 24  # confusables: "hey <word>", "<word> fridge", "hey <command opening>", that many each
    wide_stream_s: float = 3600.0  # negative stream by the widened voices (when wide_voices)
    # Share of the widened renders said by flite's voices (TRAIN_FLITE_VOICES), not espeak-ng's: with 0.25
    # the held-out flite voice's misses fell from 0.55 to 0.28 for "hey fridge" (docs/wakeword_training.md)
    flite_share: float = 0.25
    seed: int = 0

    @property
    def uses_flite(self) -> bool:
        """Whether flite's voices say some of the renders (only the widened sets have them)."""
        return self.wide_voices and self.flite_share > 0

    @classmethod
    def tiny(cls, seed: int = 0) -> WakeTrainingPlan:
        """Seconds of data and a few epochs: for tests and smoke runs, not for use."""
        return cls(
            positive_renders=24,
            scenes_per_render=2,
            confusable_renders=24,
            validation_renders=12,
            validation_confusable_renders=12,
            sentences=60,
            train_stream_s=90.0,
            validation_stream_s=60.0,
            wide_stream_s=30.0,
            epochs=4,
            batch_size=128,
            seed=seed,
        )


@dataclass(frozen=True)
class Evaluation:
    """How a head does at one threshold."""

    threshold: float
    false_accepts: int
    hours: float
    false_accepts_per_hour: float
    positives: int
    false_rejects: int
    false_reject_rate: float
    confusables: int
    confusable_accepts: int
    confusable_accept_rate: float

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def build_head(plan: WakeTrainingPlan, normalization_sample: np.ndarray) -> keras.Model:
    """(B, 16, 96) embeddings -> (B, 1) score. Per-embedding projection, then `plan.hidden_layers` dense layers."""
    inputs = keras.Input(HEAD_INPUT_SHAPE, name="embeddings")  # (B, T=16, E=96)
    normalize = keras.layers.Normalization(axis=-1, name="normalize")
    normalize.adapt(normalization_sample.reshape(-1, EMBEDDING_SIZE))
    x = normalize(inputs)
    if plan.input_noise:
        x = keras.layers.GaussianNoise(plan.input_noise, seed=plan.seed)(x)
    x = keras.layers.Dense(plan.projection, activation="relu", name="project")(x)  # (B, T, P)
    x = keras.layers.Flatten()(x)  # (B, T * P)
    x = keras.layers.Dropout(plan.dropout, seed=plan.seed)(x)
    for layer in range(plan.hidden_layers):
        if layer:
            x = keras.layers.Dropout(plan.dropout, seed=plan.seed + layer)(x)
        x = keras.layers.Dense(plan.hidden, activation="relu", name=f"hidden{layer or ''}")(x)  # (B, H)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="score")(x)  # (B, 1)
    return keras.Model(inputs, outputs, name="wake_head")


def train_head(
    plan: WakeTrainingPlan, data: dict[str, np.ndarray], progress: Progress
) -> tuple[keras.Model, list[float]]:
    """The Keras head fitted on `data` windows; returns the model and the loss per epoch."""
    keras.utils.set_random_seed(plan.seed)
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(plan.seed)
    labels = data["labels"]
    weights = data["weights"].copy()
    positive = labels > 0.5
    negative_weight = float(weights[~positive].sum())
    if positive.any():  # positives carry `positive_share` of all weight
        weights[positive] = plan.positive_share / (1 - plan.positive_share) * negative_weight / positive.sum()
    weights *= len(weights) / weights.sum()  # mean weight 1: the learning rate means the same at any data size
    sample = gather_windows(data, rng.choice(len(labels), min(len(labels), 20_000), replace=False))
    model = build_head(plan, sample)
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
            plan.learning_rate, plan.epochs * -(-len(labels) // plan.batch_size)
        )),
        loss=keras.losses.BinaryCrossentropy(),
        weighted_metrics=[],
    )  # fmt: skip
    rows = tf.constant(data["rows"])
    offsets = tf.range(HEAD_WINDOW_EMBEDDINGS, dtype=tf.int64)
    dataset = (
        tf.data.Dataset.from_tensor_slices((data["starts"], labels[:, None], weights))
        .shuffle(len(labels), seed=plan.seed, reshuffle_each_iteration=True)
        .batch(plan.batch_size)
        .map(lambda s, y, w: (tf.gather(rows, s[:, None] + offsets[None, :]), y, w))
        .prefetch(2)
    )
    losses: list[float] = []

    class Report(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            losses.append(float((logs or {}).get("loss", float("nan"))))
            progress(f"training (loss {losses[-1]:.4f})", epoch + 1, plan.epochs)

    model.fit(dataset, epochs=plan.epochs, verbose=0, callbacks=[Report()], shuffle=False)  # tf.data shuffles
    return model, losses


def export_head(model: keras.Model) -> bytes:
    """Float32 TFLite with one fixed input shape (1, 16, 96): the runtime never resizes it."""

    @tf.function(input_signature=[tf.TensorSpec((1, *HEAD_INPUT_SHAPE), tf.float32, name="embeddings")])
    def serve(embeddings: tf.Tensor) -> tf.Tensor:
        return model(embeddings, training=False)

    # no trackable object: with one, Keras 3 weights stay resource variables and read as NaN in LiteRT
    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()])
    return bytes(converter.convert())


def tflite_scores(head_path: Path, data: dict[str, np.ndarray]) -> np.ndarray:
    """Scores of every window of `data` through the exported head, one invoke per window as at run time."""
    interpreter = load_interpreter(head_path)
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]

    def score(window: np.ndarray) -> float:
        interpreter.set_tensor(input_index, window[None].astype(np.float32))
        interpreter.invoke()
        return float(interpreter.get_tensor(output_index).reshape(-1)[0])

    return score_windows(score, data)


def evaluate_scores(
    threshold: float,
    stream_scores: Sequence[np.ndarray],
    positive_scores: np.ndarray,
    confusable_scores: np.ndarray,
    refractory_frames: int,
) -> Evaluation:
    """`stream_scores`: per negative stream, scores of every frame in order; `positive_scores`
    and `confusable_scores`: the highest score per held-out utterance."""
    false_accepts = sum(len(detections(s, threshold, refractory_frames)) for s in stream_scores)
    hours = sum(len(s) for s in stream_scores) / FRAMES_PER_HOUR
    false_rejects = int((positive_scores < threshold).sum())
    confusable_accepts = int((confusable_scores >= threshold).sum())
    return Evaluation(
        threshold=float(threshold),
        false_accepts=false_accepts,
        hours=hours,
        false_accepts_per_hour=false_accepts / hours if hours else 0.0,
        positives=len(positive_scores),
        false_rejects=false_rejects,
        false_reject_rate=false_rejects / len(positive_scores) if len(positive_scores) else 0.0,
        confusables=len(confusable_scores),
        confusable_accepts=confusable_accepts,
        confusable_accept_rate=confusable_accepts / len(confusable_scores) if len(confusable_scores) else 0.0,
    )


def best_per_group(scores: np.ndarray, data: dict[str, np.ndarray], positives_only: bool) -> np.ndarray:
    """The highest score per scene (over its positive windows, or all of them)."""
    keep = data["labels"] > 0.5 if positives_only else np.ones(len(scores), bool)
    groups = data["groups"][keep]
    best = np.full(int(groups.max()) + 1 if groups.size else 0, -1.0, np.float32)
    np.maximum.at(best, groups, scores[keep])
    result: np.ndarray = best[best >= 0]
    return result


def choose_threshold(
    stream_scores: Sequence[np.ndarray],
    positive_scores: np.ndarray,
    confusable_scores: np.ndarray,
    plan: WakeTrainingPlan,
) -> tuple[Evaluation, list[Evaluation]]:
    """The lowest threshold whose validation false accepts per hour reach the target."""
    refractory_frames = max(1, round(plan.refractory_ms / FRAME_MS))
    curve = [
        evaluate_scores(t, stream_scores, positive_scores, confusable_scores, refractory_frames) for t in THRESHOLD_GRID
    ]
    meeting = [e for e in curve if e.false_accepts_per_hour <= plan.target_false_accepts_per_hour]
    return (meeting[0] if meeting else curve[-1]), curve


def build_sets(
    phrase: str,
    plan: WakeTrainingPlan,
    intents: IntentSet,
    features: SpeechFeatures,
    backgrounds: Backgrounds,
    cache: Cache,
    wake_phrases: Sequence[str] = (),
    progress: Progress = lambda what, done, total: None,
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]], list[str]]:
    """The training and validation window sets of `phrase` (by name), and its confusable texts.

    Training: the phrase (and, with `plan.dropped_h`, its h-dropped form) in scenes, confusable
    phrases, and negative streams, by TRAIN_LANGUAGES with TRAIN_VARIANTS, widened by
    EXTRA_TRAIN_VARIANTS where `plan.wide_voices`. Validation: VALIDATION_VARIANTS only, said
    plainly (no speed change or colouring), for the threshold. No held-out voice is in either."""
    slug = phrase_slug(phrase)
    excluded = sorted({phrase, *(normalize_phrase(p) for p in wake_phrases)})
    train_sentences = command_sentences(intents, "train", plan.sentences, plan.seed, excluded)
    validation_sentences = command_sentences(intents, "validation", plan.sentences, plan.seed, excluded)
    vocabulary = {word for sentence in train_sentences for word in sentence.split()}
    others = [p for p in excluded if p != phrase]
    confusables = confusable_texts(phrase, vocabulary, others, plan.near_misses, train_sentences)
    spellings = phrase_spellings(phrase)
    positive_texts = spellings + (dropped_h_spellings(phrase) if plan.dropped_h else [])
    wide: dict[str, Any] = (
        {"variants": WIDE_TRAIN_VARIANTS, "speed_wpm": WIDE_SPEED_WPM, "pitch": WIDE_PITCH,
         "colour_share": plan.colour_share}
        if plan.wide_voices
        else {}
    )  # fmt: skip
    if plan.uses_flite:
        wide.update(flite_voices=TRAIN_FLITE_VOICES, flite_share=plan.flite_share)
    train_sets = {
        "positives": scene_windows(
            SceneRecipe(f"{slug}-positives-train", tuple(positive_texts), plan.positive_renders,
                        plan.scenes_per_render, positive=True, trailing_speech_share=plan.trailing_speech_share,
                        seed=plan.seed, **wide),
            features, backgrounds, train_sentences, cache, progress,
        ),
        "confusables": scene_windows(
            SceneRecipe(f"{slug}-confusables-train", tuple(confusables), plan.confusable_renders, 1, positive=False,
                        trailing_speech_share=plan.trailing_speech_share, seed=plan.seed, **wide),
            features, backgrounds, train_sentences, cache, progress,
        ),
        "stream": stream_windows(
            StreamRecipe("stream-train", plan.train_stream_s, tuple(train_sentences), seed=plan.seed),
            features, backgrounds, cache, progress,
        ),
    }  # fmt: skip
    if wide and plan.wide_stream_s > 0:
        train_sets["stream-wide"] = stream_windows(
            StreamRecipe("stream-train-wide", plan.wide_stream_s, tuple(train_sentences), seed=plan.seed, **wide),
            features, backgrounds, cache, progress,
        )  # fmt: skip
    validation_sets = {
        "positives": scene_windows(
            SceneRecipe(f"{slug}-positives-validation", tuple(spellings), plan.validation_renders, 1, positive=True,
                        frames_after_end=EVALUATION_FRAMES_AFTER_END, variants=VALIDATION_VARIANTS, speed_share=0.0,
                        seed=plan.seed + 1),
            features, backgrounds, validation_sentences, cache, progress,
        ),
        "confusables": scene_windows(
            SceneRecipe(f"{slug}-confusables-validation", tuple(confusables), plan.validation_confusable_renders, 1,
                        positive=False, variants=VALIDATION_VARIANTS, speed_share=0.0, seed=plan.seed + 1),
            features, backgrounds, validation_sentences, cache, progress,
        ),
        "stream": stream_windows(
            StreamRecipe("stream-validation", plan.validation_stream_s, tuple(validation_sentences),
                         variants=VALIDATION_VARIANTS, speed_share=0.0, seed=plan.seed + 1),
            features, backgrounds, cache, progress,
        ),
    }  # fmt: skip
    return train_sets, validation_sets, confusables


def train_wakeword(
    phrase: str,
    out_dir: Path,
    plan: WakeTrainingPlan,
    intents: IntentSet,
    data_dir: Path | None,
    cache_dir: Path,
    wake_phrases: Sequence[str] = (),
    stage: Stage = lambda message: None,
    progress: Progress = lambda what, done, total: None,
) -> dict[str, Any]:
    """Train a head for `phrase` into `out_dir` (head.tflite + wake.json); returns the metadata.

    `wake_phrases` are the other devices' phrases: spoken as negatives, and kept out of
    the sentence streams. `data_dir` holds the shared corpora (kitchen noise, human
    recordings); without it, training uses sox noise only."""
    started = time.perf_counter()
    require_tools(flite=plan.uses_flite)
    phrase = normalize_phrase(phrase)
    phrase_slug(phrase)  # refuses a phrase without letters before any work
    features = SpeechFeatures()
    cache = Cache(cache_dir)
    timings: dict[str, float] = {}

    def timed(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 1)
        return now

    stage(f"texts, audio and features (cached in {cache_dir})")
    mark = time.perf_counter()
    backgrounds = load_backgrounds(data_dir, held_out=False)
    train_sets, validation_sets, confusables = build_sets(
        phrase, plan, intents, features, backgrounds, cache, wake_phrases, progress
    )
    summaries = {
        name: {key: value for key, value in summary.items() if key != "scene_voices"}
        for name, summary in sorted(cache.summaries.items())
    }
    mark = timed("texts_audio_and_features", mark)

    stage("training the head")
    data = merge(list(train_sets.values()))
    model, losses = train_head(plan, data, progress)
    mark = timed("training", mark)

    stage("export and parity check")
    out_dir.mkdir(parents=True, exist_ok=True)
    head_path = out_dir / HEAD_FILE
    head_path.write_bytes(export_head(model))
    check = merge([_first_windows(validation_sets[name], PARITY_WINDOWS // 2) for name in ("positives", "stream")])
    keras_scores = model.predict(gather_windows(check), batch_size=256, verbose=0).reshape(-1)
    lite_scores = tflite_scores(head_path, check)
    parity = float(np.abs(keras_scores - lite_scores).max())
    if parity > PARITY_TOLERANCE:
        raise RuntimeError(f"the TFLite head differs from Keras by {parity:.2e} (tolerance {PARITY_TOLERANCE})")
    mark = timed("export", mark)

    stage("choosing the threshold on validation data")
    stream_scores = [tflite_scores(head_path, validation_sets["stream"])]
    positive_scores = best_per_group(
        tflite_scores(head_path, validation_sets["positives"]), validation_sets["positives"], True
    )
    confusable_scores = best_per_group(
        tflite_scores(head_path, validation_sets["confusables"]), validation_sets["confusables"], False
    )
    chosen, curve = choose_threshold(stream_scores, positive_scores, confusable_scores, plan)
    timed("threshold", mark)

    metadata = describe(
        phrase, plan, features, head_path, model, chosen, curve, losses, parity, summaries, confusables, timings,
        data, backgrounds.human_sources, time.perf_counter() - started,
    )  # fmt: skip
    (out_dir / "wake.json").write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    WakeWordDetector.from_dir(out_dir)  # the runtime accepts what was written
    return metadata


def _first_windows(data: dict[str, np.ndarray], count: int) -> dict[str, np.ndarray]:
    return {**data, **{key: data[key][:count] for key in ("starts", "labels", "weights", "groups")}}


def describe(
    phrase: str,
    plan: WakeTrainingPlan,
    features: SpeechFeatures,
    head_path: Path,
    model: keras.Model,
    chosen: Evaluation,
    curve: list[Evaluation],
    losses: list[float],
    parity: float,
    summaries: dict[str, Any],
    confusables: list[str],
    timings: dict[str, float],
    data: dict[str, np.ndarray],
    human_sources: list[str],
    seconds: float,
) -> dict[str, Any]:
    """wake.json: what the head is, what made it, and how it did on validation data."""
    shown = [e for e in curve if round(e.threshold, 3) in {0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99}]
    return {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "phrase": phrase,
        "licence": LICENCE,
        "licence_note": licence_note(plan),
        "head": {
            "file": HEAD_FILE,
            "sha256": file_sha256(head_path),
            "bytes": head_path.stat().st_size,
            "parameters": int(model.count_params()),
            "input_shape": [1, *HEAD_INPUT_SHAPE],
            "architecture": f"normalize, dense {plan.projection} per embedding, "
            + ", ".join([f"dense {plan.hidden}"] * plan.hidden_layers)
            + ", sigmoid",
        },
        "features": dict(features.checksums),
        "detection": {
            "threshold": round(chosen.threshold, 4),
            "refractory_ms": plan.refractory_ms,
            "chosen_for": (
                f"lowest threshold with at most {plan.target_false_accepts_per_hour} false accepts per hour "
                "on the validation stream"
                if chosen.false_accepts_per_hour <= plan.target_false_accepts_per_hour
                else f"highest threshold tried: none kept validation false accepts at "
                f"{plan.target_false_accepts_per_hour} per hour"
            ),
        },
        "training": {
            "plan": asdict(plan),
            "windows": {
                "total": len(data["labels"]),
                "positive": int((data["labels"] > 0.5).sum()),
                "negative": int((data["labels"] <= 0.5).sum()),
            },
            "data": summaries,
            "voices": {
                "languages": list(TRAIN_LANGUAGES),
                "variants": list(TRAIN_VARIANTS),
                "extra_variants": list(EXTRA_TRAIN_VARIANTS) if plan.wide_voices else [],
                "flite_voices": list(TRAIN_FLITE_VOICES) if plan.uses_flite else [],
                "validation_variants": list(VALIDATION_VARIANTS),
            },
            "confusables": confusables,
            "human_negatives": len(human_sources),
            "loss_per_epoch": [round(v, 5) for v in losses],
            "seconds": round(seconds, 1),
            "stage_seconds": timings,
            "created": datetime.date.today().isoformat(),
            "assistant_version": __version__,
            "tensorflow_version": tf.__version__,
            "machine": f"{platform.machine()} {platform.system()} {platform.python_version()}",
        },
        "metrics": {
            "validation": chosen.to_dict(),
            "validation_curve": [e.to_dict() for e in shown],
            "tflite_vs_keras_max_abs_diff": parity,
        },
    }


def licence_note(plan: WakeTrainingPlan) -> str:
    """What the head's weights were trained on, and under which terms each came."""
    return (
        "head weights trained by this project's code on espeak-ng speech (GPL-3.0 program; its output is not "
        "encumbered)"
        + (
            ", flite speech (CMU's permissive licence; voices built from CMU's own recordings)"
            if plan.uses_flite
            else ""
        )
        + ", sox noise, the kitchen noise of the Picovoice benchmark (Apache-2.0) and Speech Commands one-word "
        "recordings (CC BY 4.0) as negatives"
    )


def replace_plan(plan: WakeTrainingPlan, **changes: Any) -> WakeTrainingPlan:
    """`plan` with the given fields changed; unknown names fail."""
    return dataclasses.replace(plan, **{k: v for k, v in changes.items() if v is not None})
