"""The safety net: what it hears (explicit, indirect, speech-recognition style, idioms) and what it
says (calm, honest, numbers spoken digit by digit, never anything about means)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from voice_companion.dialogue.base import Safety
from voice_companion.dialogue.safety import (
    CATEGORIES,
    LOCALES,
    HelplinesFile,
    SafetyDetector,
    SafetyFile,
    _rules,
    crisis_reply,
    normalise,
    normalise_locale,
    speak_number,
)
from voice_companion.errors import PromptsError
from voice_companion.prompts import load_prompts

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "benchmarks" / "data" / "crisis_utterances.csv"


def category(text: str) -> str | None:
    hit = SafetyDetector().check(text)
    return hit.category if hit else None


# ------------------------------------------------------------------------------ detection

EXPLICIT = [
    ("I want to kill myself.", "suicide"),
    ("I'm going to end my life tonight.", "suicide"),
    ("I've been thinking about suicide.", "suicide"),
    ("I want to die.", "suicide"),
    ("I'm going to hang myself.", "suicide"),
    ("I've been cutting myself.", "self_harm"),
    ("I burn myself when it gets bad.", "self_harm"),
    ("How many pills would it take to kill me?", "means"),
    ("What's a lethal dose of paracetamol?", "means"),
    ("I'm going to kill him.", "harm_to_others"),
    ("I'm going to hurt him.", "harm_to_others"),
    ("I'm scared I'll hurt my baby.", "harm_to_others"),
    ("He hits me.", "abuse"),
    ("My dad touches me.", "abuse"),
    ("My stepfather sexually abused me.", "abuse"),
    ("I can't breathe and my chest hurts.", "medical_emergency"),
    ("I took too many pills.", "medical_emergency"),
    ("I think I'm having a heart attack.", "medical_emergency"),
]

INDIRECT = [
    ("I don't want to be here anymore.", "suicide"),
    ("Everyone would be better off without me.", "suicide"),
    ("I just want to go to sleep and never wake up.", "suicide"),
    ("What's the point of living anymore?", "suicide"),
    ("I'm such a burden to everyone.", "suicide"),
    ("Nobody would even notice if I was gone.", "suicide"),
    ("I've been giving away my things.", "suicide"),
    ("I've been cutting again.", "self_harm"),
    ("I lost my job. Which bridges here are the tallest?", "means"),
    ("I'm not safe at home.", "abuse"),
    ("He doesn't let me leave the house.", "abuse"),
]

ASR = [
    ("i want to kill my self", "suicide"),
    ("i wanna die", "suicide"),
    ("kms", "suicide"),
    ("i just wanna end it all", "suicide"),
    ("i dont want to be here any more", "suicide"),
    ("every one would be better of with out me", "suicide"),
    ("im thinking about sue a side", "suicide"),
    ("ive been feeling suicidle", "suicide"),
    ("i want to and my life", "suicide"),
    ("i wanna dye", "suicide"),
    ("i been cuttin again", "self_harm"),
    ("i self arm when im sad", "self_harm"),
    ("how many pils would it take to die", "means"),
    ("im gonna hurt him", "harm_to_others"),
    ("my dads touching me", "abuse"),
    ("i cant breath and my chess hurts", "medical_emergency"),
    ("i took to many pills", "medical_emergency"),
]

IDIOMS = [
    "This deadline is killing me.",
    "I could murder a pizza.",
    "I'm dying to see it.",
    "That joke killed.",
    "My feet are killing me.",
    "We went to the mall to kill some time.",
    "I'm dead tired.",
    "I nearly died laughing.",
    "Shoot me an email when you get a chance.",
    "I'm bored to death.",
    "My mom is going to kill me when she sees my grades.",
    "I'm killing myself trying to finish this project.",
    "Quitting now would be career suicide.",
    "I'd kill for a coffee right now.",
    "I almost had a heart attack when I saw the bill.",
    "I'm cutting back on sugar.",
    "He beat me at chess again.",
    "I keep beating myself up about it.",
    "Can you hit me up later?",
    "It's not the end of the world.",
]

SAFE_BUT_CLOSE = [
    "I don't want to hurt her feelings.",
    "It really hurt me when he said that.",
    "I'm afraid to tell him because I don't want to hurt him.",
    "My grandma died last spring and I miss her.",
    "I want to dye my hair purple.",
    "I felt like I couldn't breathe in that meeting.",
    "I'm afraid of her reaction.",
    "She pushes me to be better.",
    "I want to end things with my boyfriend.",
    "I took my meds this morning like usual.",
    "",
    "   ",
]


@pytest.mark.parametrize(("text", "expected"), EXPLICIT + INDIRECT + ASR)
def test_danger_is_heard_with_its_category(text: str, expected: str) -> None:
    assert category(text) == expected


@pytest.mark.parametrize("text", IDIOMS + SAFE_BUT_CLOSE)
def test_idioms_and_ordinary_pain_do_not_fire(text: str) -> None:
    assert category(text) is None


def test_check_returns_the_interface_model() -> None:
    hit = SafetyDetector().check("I want to kill myself")
    assert isinstance(hit, Safety)
    assert hit.category in CATEGORIES


def test_an_idiom_does_not_hide_a_real_statement_in_the_same_turn() -> None:
    assert category("this deadline is killing me and honestly i want to kill myself") == "suicide"
    assert category("my feet are killing me, i can't breathe and my chest hurts") == (
        "medical_emergency"
    )


def test_negation_still_counts_as_a_mention_and_is_marked() -> None:
    hit = SafetyDetector().assess("I would never kill myself")
    assert hit is not None and hit.category == "suicide" and hit.negated
    plain = SafetyDetector().assess("I want to kill myself")
    assert plain is not None and not plain.negated


def test_someone_elses_suicide_gets_the_check_in() -> None:
    assert category("My brother killed himself last year.") == "suicide"


def test_means_question_alone_is_not_a_hit_but_after_distress_it_is() -> None:
    detector = SafetyDetector(distress_memory=2)
    assert detector.check("Which bridges here are the tallest?") is None
    assert detector.check("I lost my job today and everything feels hopeless.") is None
    hit = detector.assess("which bridges here are the tallest")
    assert hit is not None and hit.category == "means" and hit.conditional


def test_distress_is_forgotten_after_the_memory_runs_out() -> None:
    detector = SafetyDetector(distress_memory=1)
    detector.check("I feel worthless.")
    detector.check("We went for a walk.")
    detector.check("The weather was nice.")
    assert detector.check("What's the tallest building in town?") is None
    detector.check("I feel worthless.")
    assert detector.check("What's the tallest building in town?") == Safety(category="means")
    detector.reset()
    assert detector.check("What's the tallest building in town?") is None


def test_asking_how_much_of_a_drug_kills_is_always_a_hit() -> None:
    assert category("how much tylenol does it take to die") == "means"


def test_normalisation_expands_contractions_both_ways_and_fixes_mishearings() -> None:
    assert normalise("I'm") == normalise("im") == "i am"
    assert normalise("Don't") == normalise("dont") == "do not"
    assert normalise("I can't, I cannot") == "i can not i can not"
    assert normalise("I wanna") == "i want to"
    assert normalise("kill my self") == "kill myself"
    assert normalise("every one") == "everyone"
    assert normalise("he's") == "he is"
    assert normalise("my dad's car") == "my dad car"
    assert normalise("ill kill him") == "i will kill him"
    assert normalise("I'm ill today") == "i am ill today"
    assert normalise("suicdal thoughts") == "suicidal thoughts"  # one letter dropped
    assert normalise("the homeless man") == "the homeless man"  # a real word is left alone


def test_the_labelled_development_set_is_classified_correctly() -> None:
    """Every development row of the benchmark set: danger heard, idioms and near misses not."""
    wrong = []
    with LABELLED.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["split"] != "dev":
                continue
            fired = category(row["text"]) is not None
            if fired != (row["category"] != "none"):
                wrong.append((row["kind"], row["text"]))
    assert wrong == []


def test_pattern_gate_changes_no_answer() -> None:
    """The speed gate (skip patterns whose key strings are absent) must not change any result."""
    with LABELLED.open(newline="") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    texts += [t for t, _ in EXPLICIT + INDIRECT + ASR] + IDIOMS
    rules = _rules()
    gated = [SafetyDetector().assess(t) for t in texts]
    rules.gate = False
    try:
        ungated = [SafetyDetector().assess(t) for t in texts]
    finally:
        rules.gate = True
    assert [(h.category, h.matched) if h else None for h in gated] == [
        (h.category, h.matched) if h else None for h in ungated
    ]


# ------------------------------------------------------------------------------ the reply

MEANS_WORDS = re.compile(
    r"\b(pills?|tablets?|dose|mg|milligrams?|lethal|rope|noose|bridge|height|tall|jump|"
    r"gun|knife|blade|overdose|how many|how much)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("cat", CATEGORIES)
@pytest.mark.parametrize(("first", "variant"), [(True, 0), (False, 0), (False, 1), (False, 2)])
def test_every_reply_is_honest_spoken_and_free_of_means(
    locale: str, cat: str, first: bool, variant: int
) -> None:
    text = crisis_reply(cat, locale, first, variant)
    assert not re.search(r"\d", text), "numbers must be spoken digit by digit"
    assert not re.search(r"[{}]", text), "no placeholder left unfilled"
    assert not MEANS_WORDS.search(text), MEANS_WORDS.search(text)
    assert "  " not in text
    if first:
        assert "program" in text
        assert "stay" in text
        assert "can't" in text  # an honest limit: it cannot keep them safe or call anyone


@pytest.mark.parametrize(
    ("locale", "crisis", "emergency"),
    [
        ("US", "call or text nine eight eight", "nine one one"),
        ("CA", "call or text nine eight eight", "nine one one"),
        ("UK", "Samaritans free on one one six, one two three", "nine nine nine"),
        ("IE", "Samaritans free on one one six, one two three", "one one two"),
        ("AU", "Lifeline on one three, one one, one four", "zero zero zero"),
        ("NZ", "call or text one seven three seven", "one one one"),
        ("OTHER", "find a helpline dot com", "your local emergency number"),
    ],
)
def test_locale_lines_are_offered(locale: str, crisis: str, emergency: str) -> None:
    first = crisis_reply("suicide", locale, True)
    later = crisis_reply("suicide", locale, False)
    for text in (first, later):
        assert crisis in text
        assert f"call {emergency}" in text
    assert len(later) < len(first)


@pytest.mark.parametrize("cat", CATEGORIES)
def test_later_replies_vary_and_keep_the_line(cat: str) -> None:
    later = [crisis_reply(cat, "UK", False, v) for v in range(3)]
    assert len(set(later)) == 3
    assert all("nine nine nine" in t for t in later)
    assert crisis_reply(cat, "UK", False, 3) == later[0]


def test_abuse_reply_names_abuse_and_child_lines() -> None:
    us = crisis_reply("abuse", "US", True)
    assert "Childhelp" in us and "one, eight zero zero, four two two, four four five three" in us
    assert "Domestic Violence Hotline is one, eight zero zero, seven nine nine" in us
    uk = crisis_reply("abuse", "UK", True)
    assert "Childline" in uk and "zero eight zero zero, one one one one" in uk


def test_medical_emergency_says_call_now() -> None:
    text = crisis_reply("medical_emergency", "UK", True)
    assert text.startswith("This sounds like it could be a medical emergency.")
    assert "Please call nine nine nine now." in text
    assert "Please call nine one one now" in crisis_reply("medical_emergency", "US", False)


def test_means_reply_declines_the_question() -> None:
    assert crisis_reply("means", "US", True).startswith("I can't help with that question")


def test_locale_is_case_insensitive_and_unknown_is_other() -> None:
    assert normalise_locale("uk") == "UK"
    assert normalise_locale("gb") == "UK"
    assert normalise_locale("FR") == "OTHER"
    assert crisis_reply("suicide", "fr", True) == crisis_reply("suicide", "OTHER", True)


def test_unknown_category_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown safety category"):
        crisis_reply("sadness", "US", True)


def test_numbers_are_spoken_digit_by_digit_in_groups() -> None:
    assert speak_number("988") == "nine eight eight"
    assert speak_number("116 123") == "one one six, one two three"
    assert speak_number("1-800-422-4453") == (
        "one, eight zero zero, four two two, four four five three"
    )
    assert speak_number("000") == "zero zero zero"


# ------------------------------------------------------------------------------ data files


def test_shipped_files_validate() -> None:
    load_prompts("safety", SafetyFile)
    lines = load_prompts("helplines", HelplinesFile)
    assert set(lines.root) >= set(LOCALES)


def _copy_with(tmp_path: Path, name: str, old: str, new: str) -> Path:
    folder = tmp_path / "prompts"
    folder.mkdir(exist_ok=True)
    text = (ROOT / "prompts" / f"{name}.toml").read_text()
    assert old in text
    (folder / f"{name}.toml").write_text(text.replace(old, new, 1))
    return folder


def test_a_broken_pattern_is_a_clear_error(tmp_path: Path) -> None:
    old, new = r"'\bkill(?:ing|ed|s)? myself\b'", r"'\bkill(?:ing myself'"
    folder = _copy_with(tmp_path, "safety", old, new)
    with pytest.raises(PromptsError, match="not a valid regular expression"):
        load_prompts("safety", SafetyFile, folder)


def test_an_unknown_placeholder_is_a_clear_error(tmp_path: Path) -> None:
    old, new = "please call {emergency}. I'll", "please call {police}. I'll"
    folder = _copy_with(tmp_path, "safety", old, new)
    with pytest.raises(PromptsError, match="unknown placeholder"):
        load_prompts("safety", SafetyFile, folder)


def test_a_help_line_with_digits_in_its_sentence_is_rejected(tmp_path: Path) -> None:
    folder = _copy_with(tmp_path, "helplines", "any time, day or night.", "any time, 24 hours.")
    with pytest.raises(PromptsError, match="must not hold digits"):
        load_prompts("helplines", HelplinesFile, folder)


def test_a_missing_locale_is_rejected(tmp_path: Path) -> None:
    folder = _copy_with(tmp_path, "helplines", "[NZ]", "[XX]")
    with pytest.raises(PromptsError, match="locale table"):
        load_prompts("helplines", HelplinesFile, folder)
