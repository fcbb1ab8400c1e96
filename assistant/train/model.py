"""The tiny language model: a small transformer in the nanoGPT spirit.

One network serves both tasks. A sequence starts with a prefix that every
position of the prefix sees in full (the transcript for parsing, the frame for
replying); after the prefix, attention is causal, as in a language model.

    parse:  <parse> set a timer for five minutes <sep>
            -> intent head at <sep>, a slot tag (BIO) per transcript token
    reply:  <reply> [timer.start] [=duration] five minutes <eov> <sep> okay , timer set ... <end>
            -> next-token head over the reply
    lm:     <lm> human command text <end>   (unlabelled text: next-token head only)

Attention masking is bounded (-10 before the softmax, then the masked weights are
zeroed and the rest renormalised), because an additive mask of -1e4 or -1e9 ruins
full-int8 calibration. After renormalising, padding and later tokens have no
influence at all, so the padded length never changes a result.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import keras
import tensorflow as tf

MASK_VALUE = -10.0  # bounded so that int8 calibration keeps the attention scores' range
SCORE_CAP = 5.0  # attention scores are soft-capped to (-SCORE_CAP, SCORE_CAP); 2 * cap = -MASK_VALUE


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    n_intents: int  # every intent plus "none" (out of scope)
    n_tags: int  # "O" plus B- and I- for every slot name
    max_len: int = 64  # tokens in one sequence, prefix included
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    d_ff: int = 384
    dropout: float = 0.1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Block(keras.layers.Layer):
    """Pre-norm transformer block: x + attention(norm(x)), x + mlp(norm(x))."""

    def __init__(self, config: ModelConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.norm_attention = keras.layers.LayerNormalization(epsilon=1e-5)
        self.qkv = keras.layers.Dense(3 * config.d_model)
        self.projection = keras.layers.Dense(config.d_model)
        self.norm_mlp = keras.layers.LayerNormalization(epsilon=1e-5)
        self.expand = keras.layers.Dense(config.d_ff, activation="gelu")
        self.contract = keras.layers.Dense(config.d_model)
        self.dropout = keras.layers.Dropout(config.dropout)

    def call(self, x: tf.Tensor, mask: tf.Tensor, training: bool = False) -> tf.Tensor:
        c = self.config
        batch, length = tf.shape(x)[0], tf.shape(x)[1]  # training trims padding; export fixes T
        head_size = c.d_model // c.n_heads
        qkv = self.qkv(self.norm_attention(x))  # (B, T, 3C)
        qkv = tf.reshape(qkv, (batch, length, 3, c.n_heads, head_size))
        qkv = tf.transpose(qkv, (2, 0, 3, 1, 4))  # (3, B, H, T, D)
        q, k, v = qkv[0], qkv[1], qkv[2]
        scores = tf.matmul(q, k, transpose_b=True) * (1.0 / math.sqrt(head_size))  # (B, H, T, T)
        # Soft-cap the scores to (-5, 5): with the -10 mask, a masked key (padding is
        # never trained to score low) can then never outweigh the best allowed key,
        # so in int8 the allowed weights never all round to zero before renormalising.
        scores = SCORE_CAP * tf.tanh(scores / SCORE_CAP)
        scores = scores + (1.0 - mask) * MASK_VALUE
        # Zero the masked keys and renormalise, so that they change nothing: not the
        # weights of the others either (padding and later tokens must not matter).
        weights = tf.nn.softmax(scores, axis=-1) * mask
        weights = weights / tf.reduce_sum(weights, axis=-1, keepdims=True)
        attended = tf.matmul(self.dropout(weights, training=training), v)  # (B, H, T, D)
        attended = tf.reshape(tf.transpose(attended, (0, 2, 1, 3)), (batch, length, c.d_model))
        x = x + self.dropout(self.projection(attended), training=training)
        x = x + self.dropout(self.contract(self.expand(self.norm_mlp(x))), training=training)
        return x


class TinyLM(keras.Model):
    def __init__(self, config: ModelConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.token_embedding = keras.layers.Embedding(config.vocab_size, config.d_model)
        self.position_embedding = keras.layers.Embedding(config.max_len, config.d_model)
        self.blocks = [Block(config, name=f"block_{i}") for i in range(config.n_layers)]
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-5)
        self.intent_head = keras.layers.Dense(config.n_intents)
        self.tag_head = keras.layers.Dense(config.n_tags)
        self.dropout = keras.layers.Dropout(config.dropout)

    def call(
        self, tokens: tf.Tensor, prefix_length: tf.Tensor, length: tf.Tensor, training: bool = False
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """tokens (B, T) int32 with T <= max_len; prefix_length, length (B,) int32.
        Returns intent logits (B, I), tag logits (B, T, G), next-token logits (B, T, V)."""
        steps = tf.shape(tokens)[1]
        positions = tf.range(steps)
        x = self.token_embedding(tokens) + self.position_embedding(positions)[tf.newaxis]  # (B, T, C)
        x = self.dropout(x, training=training)
        mask = attention_mask(prefix_length, length, steps)  # (B, 1, T, T)
        for block in self.blocks:
            x = block(x, mask, training=training)
        x = self.final_norm(x)
        next_token = tf.matmul(x, self.token_embedding.embeddings, transpose_b=True)  # tied weights
        at_separator = tf.gather(x, tf.maximum(prefix_length - 1, 0), batch_dims=1)  # (B, C)
        return self.intent_head(at_separator), self.tag_head(x), next_token


def attention_mask(prefix_length: tf.Tensor, length: tf.Tensor, max_len: int | tf.Tensor) -> tf.Tensor:
    """1.0 where query i may attend key j: keys inside the sequence, and either
    inside the prefix (seen in full) or not after i (causal). Shape (B, 1, T, T)."""
    query = tf.range(max_len)[:, tf.newaxis]  # (T, 1)
    key = tf.range(max_len)[tf.newaxis, :]  # (1, T)
    in_prefix = key[tf.newaxis] < prefix_length[:, tf.newaxis, tf.newaxis]  # (B, 1, T)
    in_sequence = key[tf.newaxis] < length[:, tf.newaxis, tf.newaxis]
    allowed = in_sequence & (in_prefix | (key <= query)[tf.newaxis])  # (B, T, T)
    return tf.cast(allowed, tf.float32)[:, tf.newaxis]


def build(config: ModelConfig) -> TinyLM:
    model = TinyLM(config)
    zeros = tf.zeros((1, config.max_len), tf.int32)
    model(zeros, tf.ones((1,), tf.int32), tf.ones((1,), tf.int32))  # create the weights
    return model


def count_parameters(model: keras.Model) -> int:
    return int(sum(math.prod(w.shape) for w in model.weights))
