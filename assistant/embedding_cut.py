"""The speech embedding model, cut in two so that a stream computes only what is new.

The embedding model reads the latest 76 mel frames and its convolutions are
"valid" in time, so consecutive windows, 8 mel frames apart, share most of their
work. Cut after its third max-pooling (a time stride of 4), the front turns the
newest 28 mel frames into the 2 newest rows of that layer, and the back turns the
latest 14 rows into the embedding: the same numbers as the whole model on the
whole window (`tests/test_wake.py` checks it) for about 40% of the CPU time, on
every 80 ms frame the wake word listens to.

The two halves ship beside the original in `models/wake/features/` and are made
from it by this module, the only part of the project that edits a model's
graph (it needs LiteRT's flatbuffer schema, 4 MB of Python objects that the
runtime never imports):

    python -m assistant.embedding_cut [FEATURES_DIR]
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError
from assistant.wake import DEFAULT_FEATURES_DIR, EMBEDDING_BACK_FILE, EMBEDDING_FILE, EMBEDDING_FRONT_FILE

CUT_AFTER_POOLING = 3  # the third MAX_POOL_2D: a time stride of 4 there, which divides the 8 mel frames of a frame


def cut_model(content: bytes, after_op: int) -> tuple[bytes, bytes]:
    """A TFLite model's single subgraph cut after operator `after_op`: (the operators up to
    it, reading the model's inputs and writing that operator's output; the operators after
    it, reading that output and writing the model's outputs). Each half keeps only the
    weights its own operators read."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(content, 0)
    if len(model.subgraphs) != 1:
        raise AssistantError(f"cut_model: expected one subgraph, found {len(model.subgraphs)}")
    graph = model.subgraphs[0]
    if not 0 <= after_op < len(graph.operators) - 1:
        raise AssistantError(f"cut_model: no operator {after_op} with operators after it")
    (cut_tensor,) = graph.operators[after_op].outputs
    front = _keep(model, range(after_op + 1), list(graph.inputs), [cut_tensor])
    back = _keep(model, range(after_op + 1, len(graph.operators)), [cut_tensor], list(graph.outputs))
    return front, back


def pooling_op(content: bytes, nth: int) -> int:
    """The index of the model's `nth` (1-based) MAX_POOL_2D operator."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(content, 0)
    codes = [model.operatorCodes[op.opcodeIndex] for op in model.subgraphs[0].operators]
    kinds = [max(code.builtinCode, code.deprecatedBuiltinCode) for code in codes]  # old models use the second
    pools = [i for i, kind in enumerate(kinds) if kind == schema.BuiltinOperator.MAX_POOL_2D]
    if len(pools) < nth:
        raise AssistantError(f"the model has {len(pools)} max-pooling operators, not {nth}")
    return pools[nth - 1]


def _keep(model: Any, operators: range, inputs: list[int], outputs: list[int]) -> bytes:
    import flatbuffers

    half = copy.deepcopy(model)
    graph = half.subgraphs[0]
    graph.operators = [graph.operators[i] for i in operators]
    graph.inputs, graph.outputs = inputs, outputs
    half.signatureDefs = []  # they name the whole model's inputs and outputs
    used = {t for op in graph.operators for t in [*op.inputs, *op.outputs] if t >= 0} | set(inputs) | set(outputs)
    for index, tensor in enumerate(graph.tensors):
        if index not in used and tensor.buffer > 0:
            half.buffers[tensor.buffer].data = None  # another half's weights
    builder = flatbuffers.Builder(1024)
    builder.Finish(half.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def write_halves(directory: Path = DEFAULT_FEATURES_DIR) -> tuple[Path, Path]:
    content = (directory / EMBEDDING_FILE).read_bytes()
    front, back = cut_model(content, pooling_op(content, CUT_AFTER_POOLING))
    paths = directory / EMBEDDING_FRONT_FILE, directory / EMBEDDING_BACK_FILE
    for path, half in zip(paths, (front, back), strict=True):
        path.write_bytes(half)
    return paths


if __name__ == "__main__":
    for written in write_halves(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FEATURES_DIR):
        print(written)
