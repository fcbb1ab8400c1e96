"""The training loop: deterministic for a seed, resumable from checkpoints, with progress.

Losses, each averaged over the positions where its target applies:
intent cross-entropy (parse rows; where several intents answer a row, the loss
is on their total probability), slot-tag cross-entropy (parse rows with spans)
and next-token cross-entropy (reply and unlabelled-text rows).
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from assistant.train.data import Rows
from assistant.train.model import ModelConfig, TinyLM, build

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 8000
    batch_size: int = 64
    learning_rate: float = 2e-3
    warmup_steps: int = 300
    weight_decay: float = 0.01
    seed: int = 0
    checkpoint_every: int = 500


class ProgressBar:
    """One line on stderr, rewritten in place: step, losses, speed, time left."""

    def __init__(self, total: int, enabled: bool | None = None) -> None:
        self.total = total
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.started = time.perf_counter()
        self.first_step: int | None = None

    def update(self, step: int, losses: dict[str, float]) -> None:
        if self.first_step is None:
            self.first_step = step
        done = step - self.first_step
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed if elapsed > 0 and done else 0.0
        left = (self.total - step) / rate if rate else 0.0
        width = 24
        filled = int(width * step / self.total)
        text = " ".join(f"{k} {v:.3f}" for k, v in losses.items())
        bar = f"[{'#' * filled}{'.' * (width - filled)}]"
        line = f"\r{bar} {step}/{self.total} {text} {rate:.1f} it/s, {left / 60:.1f} min left"
        if self.enabled:
            print(line, end="", file=sys.stderr, flush=True)
        elif step == self.total or step % 250 == 0:
            print(line.strip(), file=sys.stderr, flush=True)  # a log file gets one line now and then

    def close(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


def masked_cross_entropy(logits: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
    """Mean cross-entropy over the targets that are not -1."""
    mask = tf.cast(targets >= 0, tf.float32)
    losses = tf.keras.losses.sparse_categorical_crossentropy(tf.maximum(targets, 0), logits, from_logits=True)
    return tf.reduce_sum(losses * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


def set_cross_entropy(logits: tf.Tensor, accepted: tf.Tensor) -> tf.Tensor:
    """Mean of -log(total probability of the accepted classes) over rows that accept any."""
    accepted = tf.cast(accepted, tf.bool)
    has_target = tf.cast(tf.reduce_any(accepted, axis=-1), tf.float32)
    log_total = tf.reduce_logsumexp(logits, axis=-1)
    log_accepted = tf.reduce_logsumexp(tf.where(accepted, logits, -1e9), axis=-1)
    return tf.reduce_sum((log_total - log_accepted) * has_target) / tf.maximum(tf.reduce_sum(has_target), 1.0)


def train(
    rows: Rows,
    model_config: ModelConfig,
    config: TrainConfig,
    checkpoint_dir: Path,
    progress: Callable[[int, dict[str, float]], None] | None = None,
) -> TinyLM:
    """Train, resuming from the latest checkpoint in `checkpoint_dir` if there is one."""
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    model = build(model_config)
    schedule = _WarmupCosine(config.learning_rate, config.warmup_steps, config.steps)
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=config.weight_decay, clipnorm=1.0)
    optimizer.build(model.trainable_variables)
    step = tf.Variable(0, dtype=tf.int64, trainable=False)
    # Dropout's random state lives outside the model's weights; keep it too, so a
    # resumed run draws the same masks an uninterrupted one would.
    dropout_states = [layer.seed_generator.state.value for layer in _dropout_layers(model)]
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step, dropout=dropout_states)
    manager = tf.train.CheckpointManager(checkpoint, str(checkpoint_dir), max_to_keep=2)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).expect_partial()
        log.info("resumed from %s at step %d", manager.latest_checkpoint, int(step))

    @tf.function(reduce_retracing=True)
    def train_step(batch: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        with tf.GradientTape() as tape:
            intent, tags, next_token = model(batch["tokens"], batch["prefix_length"], batch["length"], training=True)
            losses = {
                "intent": set_cross_entropy(intent, batch["intents"]),
                "tags": masked_cross_entropy(tags, batch["tags"]),
                "lm": masked_cross_entropy(next_token, batch["next_token"]),
            }
            total = losses["intent"] + losses["tags"] + losses["lm"]
        gradients = tape.gradient(total, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        return losses

    smoothed: dict[str, float] = {}
    for index in _batch_indices(rows.length, config, start=int(step)):
        batch = rows.take(index)
        width = min(rows.tokens.shape[1], -(-int(batch.length.max()) // LENGTH_STEP) * LENGTH_STEP)
        inputs = {name: getattr(batch, name) for name in _INPUTS}
        for name in ("tokens", "tags", "next_token"):
            inputs[name] = inputs[name][:, :width]
        losses = train_step({name: tf.constant(value) for name, value in inputs.items()})
        step.assign_add(1)
        current = int(step)
        for name, value in losses.items():
            smoothed[name] = 0.98 * smoothed.get(name, float(value)) + 0.02 * float(value)
        if progress is not None:
            progress(current, smoothed)
        if current % config.checkpoint_every == 0 or current == config.steps:
            manager.save(checkpoint_number=current)
    return model


def _dropout_layers(layer: keras.layers.Layer) -> list[keras.layers.Dropout]:
    found = [layer] if isinstance(layer, keras.layers.Dropout) else []
    for child in layer._layers if hasattr(layer, "_layers") else []:
        found += _dropout_layers(child)
    return found


_INPUTS = ("tokens", "prefix_length", "length", "intents", "tags", "next_token")


BUCKET_BATCHES = 50  # batches drawn together and grouped by length, to cut padding
LENGTH_STEP = 8  # batches are trimmed to a multiple of this many tokens (few retraces)


def _batch_indices(lengths: np.ndarray, config: TrainConfig, start: int) -> Iterator[np.ndarray]:
    """The batches from step `start` on. Each epoch's order depends only on the
    seed, so a resumed run sees exactly the batches an uninterrupted one would.
    Rows of similar length share a batch, so little compute goes to padding."""
    n = len(lengths)
    per_epoch = max(1, n // config.batch_size)
    epoch, batches = -1, []
    for step in range(start, config.steps):
        step_epoch, position = divmod(step, per_epoch)
        if step_epoch != epoch:
            epoch, batches = step_epoch, _epoch_batches(lengths, config, step_epoch)
        yield batches[position]


def _epoch_batches(lengths: np.ndarray, config: TrainConfig, epoch: int) -> list[np.ndarray]:
    rng = np.random.default_rng([config.seed, epoch])
    order = rng.permutation(len(lengths))
    size = config.batch_size
    batches: list[np.ndarray] = []
    chunk = size * BUCKET_BATCHES
    for begin in range(0, len(order) - size + 1, chunk):
        rows = order[begin : begin + chunk]
        rows = rows[np.argsort(lengths[rows], kind="stable")]
        group = [rows[i : i + size] for i in range(0, len(rows) - size + 1, size)]
        batches += [group[i] for i in rng.permutation(len(group))]
    return batches


class _WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, peak: float, warmup: int, total: int) -> None:
        self.peak, self.warmup, self.total = peak, warmup, total

    def __call__(self, step: tf.Tensor) -> tf.Tensor:
        step = tf.cast(step, tf.float32)
        warm = self.peak * step / max(1, self.warmup)
        progress = tf.clip_by_value((step - self.warmup) / max(1, self.total - self.warmup), 0.0, 1.0)
        cosine = 0.1 * self.peak + 0.9 * self.peak * 0.5 * (1.0 + tf.cos(math.pi * progress))
        return tf.where(step < self.warmup, warm, cosine)

    def get_config(self) -> dict[str, float]:
        return {"peak": self.peak, "warmup": self.warmup, "total": self.total}
