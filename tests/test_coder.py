"""The automatic coder of counsellor utterances, on hand-written lines."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from voice_companion.dialogue import embedding
from voice_companion.dialogue.coder import (
    CONTEXT_FEATURES,
    FEATURES,
    ROADBLOCKS,
    CoderFile,
    code_utterance,
    content_words,
    embed,
    embedding_probability,
    reflection_features,
    reflection_probability,
    shared_content,
)
from voice_companion.errors import PromptsError
from voice_companion.prompts import load_prompts

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "line",
    [
        "You're exhausted.",
        "So you went to the interview anyway.",
        "You've been up since five with the baby.",
        "Your sister didn't call back.",
        "You don't want to go back there.",
    ],
)
def test_simple_reflections(line: str) -> None:
    codes = code_utterance(line)
    assert codes.reflection == "simple"
    assert codes.question is None
    assert codes.roadblocks == []


@pytest.mark.parametrize(
    "line",
    [
        "It sounds like what hurts most is not the argument, but feeling that nobody noticed "
        "how hard you tried.",
        "Part of you wants to tell her, and part of you is afraid of how she'll react.",
        "You feel invisible at work, and underneath that there's a lot of hurt.",
        "It seems like being taken seriously really matters to you.",
        "Earlier you said you felt invisible at work, and now it's happening at home too.",
    ],
)
def test_complex_reflections(line: str) -> None:
    codes = code_utterance(line)
    assert codes.reflection == "complex"
    assert codes.roadblocks == []


@pytest.mark.parametrize(
    "line",
    [
        "What was that like for you?",
        "How did you feel when she said that?",
        "Tell me more about your sister.",
        "What else comes up when you think about it?",
        "I'm wondering what that meant to you.",
        "Okay. So, what would you like to happen next?",
    ],
)
def test_open_questions(line: str) -> None:
    codes = code_utterance(line)
    assert codes.question == "open"
    assert codes.reflection is None


@pytest.mark.parametrize(
    "line",
    [
        "Did you tell her?",
        "Is that right?",
        "How many times has that happened?",
        "Are you still working there?",
        "Where do you live?",
    ],
)
def test_closed_questions(line: str) -> None:
    assert code_utterance(line).question == "closed"


def test_a_statement_said_as_a_question_is_a_reflection_and_a_closed_question() -> None:
    codes = code_utterance("So you're really tired of it?")
    assert codes.reflection is not None
    assert codes.question == "closed"


def test_a_reflection_then_an_open_question() -> None:
    codes = code_utterance("You're worried about your dad. What worries you most?")
    assert codes.reflection is not None
    assert codes.question == "open"
    assert codes.roadblocks == []


def test_unpunctuated_questions_are_still_heard() -> None:
    assert code_utterance("what was that like for you").question == "open"
    assert code_utterance("did you tell her").question == "closed"


@pytest.mark.parametrize(
    "line",
    [
        "It took real courage to go back there.",
        "You kept going even when nobody believed you.",
        "You really care about your kids.",
        "You're someone who takes promises seriously.",
    ],
)
def test_affirmations_name_a_strength_and_are_not_empty_praise(line: str) -> None:
    codes = code_utterance(line)
    assert codes.affirmation
    assert "praising" not in codes.roadblocks


def test_summaries() -> None:
    line = (
        "Let me see if I've got this: your sister moved away, work has been relentless, "
        "and you've been feeling alone with all of it."
    )
    assert code_utterance(line).summary
    assert not code_utterance("You're tired.").summary


ROADBLOCK_LINES = [
    ("ordering", "Stop thinking about him and go to bed."),
    ("ordering", "You need to call her today."),
    ("warning", "If you don't leave now, you'll regret it."),
    ("moralising", "You should be grateful for what you have."),
    ("advising", "Have you tried going for a walk when you feel like this?"),
    ("advising", "Why don't you just talk to your boss?"),
    ("lecturing", "Research shows that exercise helps with low mood."),
    ("judging", "That was selfish of you, and it's your own fault."),
    ("praising", "Great job!"),
    ("praising", "You're right, I agree."),
    ("labelling", "You're being dramatic."),
    ("labelling", "You're such a people pleaser."),
    ("diagnosing", "You're only saying that because you want attention."),
    ("diagnosing", "That sounds like depression."),
    ("reassuring", "Don't worry, everything happens for a reason."),
    ("reassuring", "At least you still have your job."),
    ("reassuring", "I'm sure it will all work out."),
    ("interrogating", "Why did you do that?"),
    ("interrogating", "What happened? When was that? Who was there?"),
    ("withdrawing", "Anyway, let's talk about something else."),
    ("withdrawing", "Haha, on a lighter note, how's the weather?"),
]


@pytest.mark.parametrize(("name", "line"), ROADBLOCK_LINES)
def test_each_roadblock_is_found(name: str, line: str) -> None:
    assert name in code_utterance(line).roadblocks


def test_every_roadblock_has_an_example() -> None:
    assert {name for name, _ in ROADBLOCK_LINES} == set(ROADBLOCKS)


@pytest.mark.parametrize(
    "line",
    [
        "You're not angry, you're hurt.",
        "It sounds like you want to be seen for how hard you try.",
        "What would feel right to you?",
        "It sounds like you're hoping someone will tell you what to do, and part of you "
        "already knows what matters to you.",
        "I'm a program running on your computer, not a person. I'm here to listen.",
        "Take your time. I'm here.",
        "Tell me more about that.",
        "That sounds really hard.",
        "You're proud of yourself, and it sounds like you've earned it.",
    ],
)
def test_good_listening_has_no_roadblocks(line: str) -> None:
    assert code_utterance(line).roadblocks == []


def test_context_reveals_a_reflection_made_of_the_persons_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = "Honestly it feels like a new beginning, moving to the coast."
    line = "A new beginning, moving to the coast."
    assert code_utterance(line, context=person).reflection
    with_words = reflection_features(line, context=person)
    alone = reflection_features(line)
    assert reflection_probability(with_words) > reflection_probability(alone)
    vectors = embed([line])
    if vectors is not None:
        assert embedding_probability(with_words, vectors[0]) > embedding_probability(
            alone, vectors[0]
        )
    # The hand-feature model alone (no sentence encoder) needs the person's words to see it;
    # the embedding model also takes a bare fragment for a reflection, as AnnoMI's experts
    # mostly do.
    monkeypatch.setattr(embedding, "encoder", lambda: None)
    assert code_utterance(line, context=person).reflection
    assert code_utterance(line).reflection is None


@pytest.mark.parametrize(
    ("line", "person"),
    [
        (
            "You can take it once a day, with food, and it will help lower your cholesterol.",
            "Okay. So how do I take it?",
        ),
        ("You should call your doctor if you feel dizzy.", "I feel dizzy sometimes."),
        (
            "If you want, we can look at some of the options next time you come in.",
            "I guess so.",
        ),
        ("Let me tell you a bit about how this program works.", "Okay."),
        (
            "Research shows that most people who quit need several attempts.",
            "I tried to quit before and failed.",
        ),
        ("Hi, thanks for coming in today.", None),
    ],
)
def test_information_advice_and_structuring_are_not_reflections(
    line: str, person: str | None
) -> None:
    assert code_utterance(line, context=person).reflection is None


@pytest.mark.parametrize(
    ("line", "person"),
    [
        ("Probably a six.", "Probably a six, I would say."),
        ("Inner harmony, health and security.",
         "Number four is inner harmony, and number five is security."),
        ("So you went back to work after the funeral.",
         "I went back to work right after the funeral."),
        ("So you stopped drinking last week, and it has been hard.",
         "I stopped drinking last week. It has been really hard."),
    ],
)
def test_fragments_and_restatements_of_the_persons_words_are_reflections(
    line: str, person: str
) -> None:
    assert code_utterance(line, context=person).reflection == "simple"


def test_a_double_sided_reflection_after_ambivalence_is_complex() -> None:
    codes = code_utterance(
        "It sounds like part of you wants to quit and part of you enjoys it.",
        context="I like smoking but I know I should stop.",
    )
    assert codes.reflection == "complex"


@pytest.mark.parametrize("line", ["Mm-hmm. Okay.", "Right.", "Yeah, yeah.", "Okay, sure."])
def test_backchannels_are_not_reflections_even_after_rich_talk(line: str) -> None:
    person = "I stopped drinking last week and it has been really hard on me."
    assert code_utterance(line, context=person).reflection is None


def test_a_question_asked_without_its_question_mark_is_heard() -> None:
    line = "Okay. Well, how confident are you that you could cut down if you wanted to-"
    assert code_utterance(line).question == "open"
    # "What you're saying is..." opens a reflection, not a question.
    codes = code_utterance("What you're saying is that you want to quit.")
    assert codes.question is None and codes.reflection is not None


def test_the_persons_own_question_given_back_is_not_the_counsellors_question() -> None:
    person = "What are you talking about, a few months down the line?"
    reply = "What are you talking about, a few months down the line. What comes up for you?"
    assert "interrogating" not in code_utterance(reply, context=person).roadblocks
    assert "interrogating" in code_utterance(reply).roadblocks


def test_reflection_features_name_every_feature_and_use_the_persons_words() -> None:
    line = "So you went back to work after the funeral."
    person = "I went back to work right after the funeral."
    alone = reflection_features(line)
    heard = reflection_features(line, context=person)
    assert set(alone) == set(heard) == set(FEATURES)
    assert heard["context_share"] == 1.0 and alone["context_share"] == 0.0
    assert reflection_probability(heard) > reflection_probability(alone)
    # Without the person's words, the context features take the values the model file gives.
    defaults = load_prompts("coder", CoderFile).model.no_context
    assert {name: alone[name] for name in CONTEXT_FEATURES} == defaults


def test_a_spoken_tag_in_the_persons_words_is_not_their_question() -> None:
    line = "It hurt."
    assert reflection_features(line, context="It just hurt, you know?")["context_question"] == 0
    assert reflection_features(line, context="What should I do?")["context_question"] == 1


def test_minimal_encouragers_are_nothing() -> None:
    for line in ("Mm-hmm.", "Okay.", "Right.", "Uh-huh.", ""):
        codes = code_utterance(line)
        assert codes.reflection is None and codes.question is None and codes.roadblocks == []


def test_content_words_drop_fillers_and_match_word_forms() -> None:
    assert content_words("I'm so worried about the interview, you know") == {"worri", "interview"}
    assert shared_content("You're worried about the interviews.", "I worry about my interview") == {
        "interview"
    }


def test_a_broken_coder_file_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    text = (ROOT / "prompts" / "coder.toml").read_text()
    broken = text.replace("why = '^(?:why|how come)", "why = '^(?:why", 1)
    (folder / "coder.toml").write_text(broken)
    with pytest.raises(PromptsError, match="coder.toml"):
        load_prompts("coder", CoderFile, folder)


def test_a_coder_file_missing_a_model_weight_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    text = (ROOT / "prompts" / "coder.toml").read_text()
    weights = text.index("[model.weights]")
    line_start = text.index("\nhedge = ", weights) + 1
    line_end = text.index("\n", line_start) + 1
    (folder / "coder.toml").write_text(text[:line_start] + text[line_end:])
    with pytest.raises(PromptsError, match="coder.toml.*model"):
        load_prompts("coder", CoderFile, folder)


def _benchmark() -> object:
    if "dialogue_eval" in sys.modules:  # loaded by tests/test_dialogue_eval.py
        return sys.modules["dialogue_eval"]
    spec = importlib.util.spec_from_file_location(
        "dialogue_eval", ROOT / "benchmarks" / "dialogue_eval.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["dialogue_eval"] = module
    spec.loader.exec_module(module)
    return module


def _annotated(transcript: str, turns: list[tuple[str, str, bool]]) -> list[dict]:
    rows = []
    for uid, (who, text, reflection) in enumerate(turns):
        asks = who == "therapist" and text.endswith("?")
        rows.append({
            "transcript_id": transcript, "utterance_id": str(uid), "interlocutor": who,
            "utterance_text": text, "annotator_id": "1",
            "reflection_exists": str(reflection) if who == "therapist" else "n/a",
            "question_exists": str(asks) if who == "therapist" else "n/a",
            "reflection_subtype": "simple" if reflection else "n/a",
            "question_subtype": "open" if asks else "n/a",
        })
    return rows


def test_the_reflection_model_is_fitted_on_the_development_half_only() -> None:
    bench: Any = _benchmark()
    dev: list[dict] = []
    for t in range(0, 20, 2):
        dev += _annotated(str(t), [
            ("client", f"I stopped drinking {t} days ago and it has been hard.", False),
            ("therapist", f"So you stopped {t} days ago, and it has been hard.", True),
            ("client", "Yeah.", False),
            ("therapist", "What would you like to happen next?", False),
            ("client", "I don't know.", False),
            ("therapist", "You can take the tablets twice a day with food.", t % 4 == 0),
        ])
    # The held-out half says the opposite of everything: it must not move the model.
    heldout: list[dict] = []
    for t in range(1, 20, 2):
        heldout += _annotated(str(t), [
            ("client", "I stopped drinking and it has been hard.", False),
            ("therapist", "So you stopped, and it has been hard.", False),
            ("client", "Yeah.", False),
            ("therapist", "You can take the tablets twice a day with food.", True),
        ])
    fitted = bench.fit_reflection_model(dev + heldout)
    assert fitted == bench.fit_reflection_model(dev)
    assert fitted["fitted_on"] == 30
    text = bench.reflection_model_toml(fitted)
    assert text.startswith("[model]\n") and "[model.weights]" in text

    out = bench.coder_agreement(dev + heldout)
    assert out["utterances"] == 50
    assert out["development"]["utterances"] == 30 and out["heldout"]["utterances"] == 20
    assert [m.name for m in bench.coder_rows(out)][0].endswith("held-out half")


def test_fitting_gives_a_feature_that_does_not_vary_no_weight() -> None:
    # Like three of the encoder's 384 numbers: about 1e-33 (or 1e-8) whatever the sentence.
    import numpy as np

    bench: Any = _benchmark()
    rng = np.random.default_rng(1)
    signal = rng.normal(size=(200, 2))
    y = (signal[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(float)
    flat = np.column_stack([rng.normal(0, 1e-33, 200), -2e-8 + rng.normal(0, 5e-9, 200)])
    weights, bias = bench._fit_logistic(np.hstack([signal, flat]), y, 10.0)
    assert list(weights[2:]) == [0.0, 0.0]
    alone, alone_bias = bench._fit_logistic(signal, y, 10.0)
    assert weights[:2] == pytest.approx(alone) and bias == pytest.approx(alone_bias)
    assert weights[0] > 1.0 and abs(weights[1]) < 0.5
