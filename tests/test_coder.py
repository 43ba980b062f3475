"""The automatic coder of counsellor utterances, on hand-written lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice_companion.dialogue.coder import (
    ROADBLOCKS,
    CoderFile,
    code_utterance,
    content_words,
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


def test_context_reveals_a_reflection_made_of_the_persons_words() -> None:
    person = "Honestly it feels like a new beginning, moving to the coast."
    assert code_utterance("A new beginning, moving to the coast.", context=person).reflection
    assert code_utterance("A new beginning, moving to the coast.").reflection is None


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
