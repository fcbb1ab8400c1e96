"""TFLite export: float32, dynamic-range int8 and full int8 from one trained model.

The exported graph has one fixed shape (a batch of one sequence of `max_len`
tokens), so the runtime never resizes tensors. Full int8 is calibrated on a
representative sample of training rows; operations that have no int8 kernel
stay in float, which the converter reports.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from assistant.train.data import Rows
from assistant.train.model import TinyLM

VARIANTS = ("float32", "dynamic_int8", "int8")
FILE_NAMES = {"float32": "model_float32.tflite", "dynamic_int8": "model_dynamic_int8.tflite", "int8": "model.tflite"}
CALIBRATION_ROWS = 400


def serving_function(model: TinyLM) -> tf.types.experimental.ConcreteFunction:
    length = model.config.max_len

    @tf.function(
        input_signature=[
            tf.TensorSpec((1, length), tf.int32, name="tokens"),
            tf.TensorSpec((1,), tf.int32, name="prefix_length"),
            tf.TensorSpec((1,), tf.int32, name="length"),
        ]
    )
    def serve(tokens: tf.Tensor, prefix_length: tf.Tensor, length: tf.Tensor) -> dict[str, tf.Tensor]:
        intent, tags, next_token = model(tokens, prefix_length, length, training=False)
        return {"intent": intent, "tags": tags, "next_token": next_token}

    return serve.get_concrete_function()


def export(model: TinyLM, variant: str, calibration: Rows | None = None) -> bytes:
    """The model as a TFLite flatbuffer of the given variant."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")
    function = serving_function(model)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], model)
    if variant != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "int8":
        if calibration is None:
            raise ValueError("full int8 needs calibration rows")
        converter.representative_dataset = lambda: _representative(calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    return bytes(converter.convert())


def _representative(rows: Rows) -> Iterator[list[np.ndarray]]:
    picks = np.random.default_rng(0).permutation(len(rows))[:CALIBRATION_ROWS]
    for i in picks:
        yield [rows.tokens[i : i + 1], rows.prefix_length[i : i + 1], rows.length[i : i + 1]]
