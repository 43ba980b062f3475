"""The coder's reflection model over sentence embeddings, and its fallback without the encoder."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from voice_companion.dialogue import coder, embedding
from voice_companion.dialogue.coder import (
    FEATURES,
    CoderFile,
    code_utterance,
    code_utterances,
    reflection_model_name,
)
from voice_companion.errors import PromptsError
from voice_companion.prompts import load_prompts

ROOT = Path(__file__).resolve().parent.parent

PERSON = "I'm so tired of these late shifts. I never see my kids anymore."
REFLECTION = "It sounds like the late shifts are keeping you from your kids, and that hurts."
QUESTION = "What would you like to do about the shifts?"
ADVICE = "You should ask your manager for day shifts."


class _CountingEncoder:
    """A stand-in encoder: a fixed vector per text, and a record of every batch encoded."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        out = np.zeros((len(texts), embedding.DIMENSIONS), dtype=np.float32)
        out[:, 0] = 1.0
        return out


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[_CountingEncoder]:
    fake = _CountingEncoder()
    monkeypatch.setattr(embedding, "encoder", lambda: fake)
    yield fake
    coder._VECTORS.clear()  # nothing a fake encoded outlives the test
    coder._VECTORS_FROM[0] = None


def test_the_stored_embedding_model_loads_and_says_what_it_was_fitted_on() -> None:
    model = load_prompts("coder", CoderFile).embedding_model
    assert model is not None
    assert len(model.embedding) == embedding.DIMENSIONS
    assert set(model.weights) == set(FEATURES)
    assert 0.0 < model.threshold < 1.0
    assert "development half" in model.fitted_on and "all-MiniLM-L6-v2" in model.encoder
    assert any(w != 0.0 for w in model.embedding)


def test_an_obvious_reflection_and_an_obvious_question_are_coded_right() -> None:
    # With the encoder installed this is the embedding model; without it, the fallback.
    codes = code_utterance(REFLECTION, context=PERSON)
    assert codes.reflection is not None and codes.question is None
    codes = code_utterance(QUESTION, context=PERSON)
    assert codes.question == "open" and codes.reflection is None
    assert code_utterance(ADVICE, context=PERSON).reflection is None
    assert code_utterance("Mm-hmm.", context=PERSON).reflection is None


def test_the_embedding_model_is_used_when_the_encoder_is_installed() -> None:
    assert reflection_model_name().startswith("hand features + sentence embedding")
    lines = [
        ("You've been carrying all of this on your own.", "Nobody helps me with any of it."),
        ("Part of you wants to quit, and part of you isn't ready.",
         "I know I should stop drinking but it's the only thing that relaxes me."),
        ("So the weekends are the hardest.", "Weekdays are fine, it's the weekends that get me."),
    ]
    for line, person in lines:
        assert code_utterance(line, context=person).reflection is not None, line


def test_without_the_encoder_the_coder_falls_back_to_the_hand_feature_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(embedding, "encoder", lambda: None)
    assert reflection_model_name() == "hand features only (the sentence encoder is not installed)"
    assert coder.embed(["anything"]) is None
    assert code_utterance(REFLECTION, context=PERSON).reflection is not None
    assert code_utterance(QUESTION, context=PERSON).reflection is None
    assert code_utterance(QUESTION, context=PERSON).question == "open"
    batch = code_utterances([(REFLECTION, PERSON, PERSON), (QUESTION, PERSON, None)])
    assert batch == [code_utterance(REFLECTION, PERSON, PERSON), code_utterance(QUESTION, PERSON)]


def test_a_broken_model_package_is_a_fallback_too(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise embedding.EmbeddingError("cannot read model.safetensors")

    monkeypatch.setattr(embedding, "encoder", broken)
    assert reflection_model_name().startswith("hand features only")
    assert code_utterance(REFLECTION, context=PERSON).reflection is not None


def test_a_batch_is_encoded_at_once_and_only_what_states_something(
    counting: _CountingEncoder,
) -> None:
    items = [
        (REFLECTION, PERSON, PERSON),
        (QUESTION, PERSON, PERSON),  # only a question: never a reflection, never encoded
        ("Mm-hmm. Okay.", PERSON, PERSON),
        (ADVICE, PERSON, PERSON),
        (REFLECTION, "Something else.", PERSON),  # the same words: encoded once
    ]
    codes = code_utterances(items)
    assert counting.batches == [[REFLECTION, ADVICE]]
    assert [c.question for c in codes][:2] == [None, "open"]
    assert codes[1].reflection is None and codes[2].reflection is None
    # Coding again, one at a time, encodes nothing new.
    for text, context, history in items:
        code_utterance(text, context=context, history=history)
    assert counting.batches == [[REFLECTION, ADVICE]]


def test_a_coder_file_with_a_short_embedding_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    text = (ROOT / "prompts" / "coder.toml").read_text()
    start = text.index("embedding = [")
    end = text.index("]", start)
    (folder / "coder.toml").write_text(text[:start] + "embedding = [0.1, 0.2" + text[end:])
    with pytest.raises(PromptsError, match="coder.toml.*embedding_model"):
        load_prompts("coder", CoderFile, folder)


def test_a_coder_file_without_an_embedding_model_still_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (ROOT / "prompts" / "coder.toml").read_text()
    cut = text[: text.index("\n[embedding_model]\n")] + "\n"
    assert "embedding_model" not in tomllib.loads(cut)
    (tmp_path / "coder.toml").write_text(cut)
    monkeypatch.setenv("VOICE_COMPANION_PROMPTS_DIR", str(tmp_path))
    assert reflection_model_name() == "hand features only (coder.toml has no [embedding_model])"
    assert code_utterance(REFLECTION, context=PERSON).reflection is not None
    assert code_utterance(QUESTION, context=PERSON).reflection is None


def test_the_stored_model_encodes_the_sentences_that_state_something() -> None:
    model = load_prompts("coder", CoderFile).embedding_model
    assert model is not None and model.embeds == "statement_sentences"
    text = "You're worn out. What would help? And part of you wants to stop."
    assert coder.embedding_inputs(text) == ["You're worn out.", "And part of you wants to stop."]
    assert coder.embedding_inputs(text, "utterance") == [text]
    # Nothing but questions: every sentence stands for it.
    assert coder.embedding_inputs("Why? What then?") == ["Why?", "What then?"]
    assert coder.embedding_inputs(REFLECTION) == [REFLECTION]


def test_the_vector_is_the_mean_of_the_statement_sentences(counting: _CountingEncoder) -> None:
    vector = coder.utterance_vector("You're worn out. What would help? You want to stop.")
    assert vector is not None and vector.shape == (embedding.DIMENSIONS,)
    assert vector[0] == pytest.approx(1.0)
    assert counting.batches == [["You're worn out.", "You want to stop."]]


def test_an_unknown_embedding_input_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    text = (ROOT / "prompts" / "coder.toml").read_text()
    text = text.replace('embeds = "statement_sentences"', 'embeds = "paragraphs"')
    (folder / "coder.toml").write_text(text)
    with pytest.raises(PromptsError, match="coder.toml.*embedding_model.embeds"):
        load_prompts("coder", CoderFile, folder)


# Counsellor lines of every kind, with the person's turn before each.
LINES = [
    (REFLECTION, PERSON),
    (QUESTION, PERSON),
    (ADVICE, PERSON),
    ("So the drinking helps you unwind, and you're not sure you want to give that up.",
     "After work a few beers is the only thing that calms me down."),
    ("You've cut down a lot already. What made that possible?",
     "I only smoke five a day now, down from twenty."),
    ("So you're worried about what your kids see.", "My son asked me why I smoke."),
    ("A six.", "I'd say a six."),
    ("Okay.", "Yeah, that's about it."),
    ("On a scale of 0 to 10, how important is it to you to quit?", "Mm-hmm."),
    ("Hi, I'm the pharmacist on duty today. Thanks for coming in.", None),
]


class _RoundingEncoder:
    """The real encoder, with a little noise on every number, more than float rounding gives."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.noise = np.random.default_rng(0)

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.asarray(self.real.encode(texts), dtype=np.float64)  # type: ignore[attr-defined]
        return (out + self.noise.normal(0.0, 1e-6, out.shape)).astype(np.float32)


def _probabilities() -> list[float]:
    out = []
    for text, person in LINES:
        features = coder.reflection_features(text, person)
        vector = coder.utterance_vector(text)
        assert vector is not None
        out.append(coder.embedding_probability(features, vector))
    return out


def test_float_rounding_in_the_encoder_does_not_change_a_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = embedding.encoder()
    assert real is not None, "the sentence encoder is not installed (scripts/setup installs it)"
    coder._VECTORS.clear()
    before = _probabilities()
    codes = [code_utterance(text, context=person) for text, person in LINES]
    noisy = _RoundingEncoder(real)
    monkeypatch.setattr(embedding, "encoder", lambda: noisy)
    try:
        after = _probabilities()
        assert after == pytest.approx(before, abs=1e-3)
        assert [code_utterance(text, context=person) for text, person in LINES] == codes
    finally:
        coder._VECTORS.clear()
        coder._VECTORS_FROM[0] = None
    # The lines are coded as a counsellor would code them.
    reflects = [c.reflection is not None for c in codes]
    assert reflects == [True, False, False, True, True, True, True, False, False, False]
    assert [c.question for c in codes][4] == "open"


def test_no_weight_rests_on_a_number_the_encoder_never_varies() -> None:
    real = embedding.encoder()
    assert real is not None, "the sentence encoder is not installed (scripts/setup installs it)"
    vectors = np.asarray(real.encode([text for text, _ in LINES]), dtype=np.float64)
    flat = np.abs(vectors).max(axis=0) < 1e-6  # about 1e-33 or 1e-8 for every sentence
    assert flat.any()
    model = load_prompts("coder", CoderFile).embedding_model
    assert model is not None
    weights = np.array(model.embedding)
    assert (weights[flat] == 0.0).all()
    assert np.abs(weights).max() <= coder.MAX_WEIGHT
    assert max(abs(w) for w in model.weights.values()) <= coder.MAX_WEIGHT


def test_a_coder_file_with_a_huge_weight_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    text = (ROOT / "prompts" / "coder.toml").read_text()
    start = text.index("embedding = [\n") + len("embedding = [\n  ")
    end = text.index(",", start)
    (folder / "coder.toml").write_text(text[:start] + "1.2e+31" + text[end:])
    with pytest.raises(PromptsError, match="coder.toml.*embedding_model.*at most 100"):
        load_prompts("coder", CoderFile, folder)
