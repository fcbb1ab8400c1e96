"""The one place that imports a TFLite interpreter.

LiteRT (`ai-edge-litert`) first; `tflite-runtime` only as a fallback, because its
last release (2.14) cannot run int8 models from current converters. A missing
interpreter, or a model the installed one cannot load, fails with a message that
says what to install.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError

log = logging.getLogger(__name__)


class InterpreterUnavailable(AssistantError):
    """No TFLite interpreter is installed, or it cannot load this model."""


def load_interpreter(path: Path, threads: int = 1, input_shapes: Mapping[int, Sequence[int]] | None = None) -> Any:
    """A ready interpreter for the model at `path` (tensors allocated).

    `input_shapes` (input position -> shape) sets the shape of inputs the model leaves
    open (a -1 in the signature) before tensors are allocated.
    """
    interpreter_class, backend = _interpreter_class()
    try:
        interpreter = interpreter_class(model_path=str(path), num_threads=threads)
        details = interpreter.get_input_details()
        for position, shape in (input_shapes or {}).items():
            interpreter.resize_tensor_input(details[position]["index"], list(shape))
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as error:
        hint = (
            " (tflite-runtime 2.14 cannot run current int8 models: pip install ai-edge-litert)"
            if backend == "tflite_runtime"
            else ""
        )
        raise InterpreterUnavailable(f"{path}: {backend} cannot load this model: {error}{hint}") from error
    return interpreter


def _interpreter_class() -> tuple[Any, str]:
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, "ai_edge_litert"
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter

        log.warning("using tflite-runtime: int8 models from current converters may not load; install ai-edge-litert")
        return Interpreter, "tflite_runtime"
    except ImportError:
        raise InterpreterUnavailable("no TFLite interpreter installed: pip install ai-edge-litert") from None
