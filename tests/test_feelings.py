"""Hearing feelings: the lexicon, negation, hedges, intensifiers, mixed feelings, corrections."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice_companion.dialogue.feelings import emotions, find_correction, lexicon
from voice_companion.dialogue.text import clean, tokens
from voice_companion.dialogue.wording import GOEMOTIONS, feelings_wording
from voice_companion.errors import PromptsError
from voice_companion.prompts import load_prompts

ROOT = Path(__file__).resolve().parent.parent


def hear(text: str):
    toks = tokens(clean(text))
    lex = lexicon()
    hits = lex.hits(toks)
    return hits, emotions(hits, lex.inferred(toks))


def labels(text: str) -> list[str]:
    return [e.label for e in hear(text)[1]]


def test_lexicon_is_large_and_uses_goemotions_labels() -> None:
    wording = feelings_wording()
    assert wording.size() >= 1000
    assert set(wording.labels) <= GOEMOTIONS
    assert len(wording.labels) == 27


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I'm so sad today", "sadness"),
        ("honestly I'm furious with him", "anger"),
        ("I'm really nervous about tomorrow", "nervousness"),
        ("i feel so lonely", "sadness"),
        ("I'm absolutely terrified", "fear"),
        ("I'm over the moon", "joy"),
        ("I feel so guilty about it", "remorse"),
        ("I'm fed up with all of it", "annoyance"),
        ("I was so embarrassed", "embarrassment"),
        ("I'm proud of myself", "pride"),
        ("what a relief", "relief"),
        ("I'm really grateful for her", "gratitude"),
        ("I'm hopeful it will work", "optimism"),
        ("I was gutted when it fell through", "sadness"),
        ("I'm a bit disappointed", "disappointment"),
        ("I'm still grieving my dad", "grief"),
    ],
)
def test_feeling_words_map_to_labels(text: str, label: str) -> None:
    assert labels(text)[0] == label


def test_negation_cancels_the_feeling() -> None:
    assert "anger" not in labels("I'm not angry")
    assert "anger" not in labels("i don't feel angry about it")
    assert "joy" not in labels("I'm not happy at all")


def test_cant_stop_is_not_a_negation() -> None:
    assert "nervousness" in labels("I can't stop worrying")


def test_hedges_soften_and_intensifiers_strengthen() -> None:
    plain = hear("I'm sad")[0][0].score
    hedged = hear("I'm kind of sad")[0][0]
    strong = hear("I'm really sad")[0][0]
    assert hedged.score < plain < strong.score
    assert hedged.reflect == "kind of sad"
    assert strong.reflect == "really sad"


def test_ambiguous_words_count_only_in_a_feeling_frame() -> None:
    assert labels("I've been feeling really low") == ["sadness"]
    assert labels("the battery is low") == []
    assert labels("I went down the stairs") == []
    assert "sadness" not in labels("she is a bad driver")


def test_phrases_win_over_their_words() -> None:
    hits, _ = hear("I'm at the end of my rope")
    assert hits[0].surface == "at the end of my rope"
    assert hits[0].reflect == "at the end of your rope"


def test_mixed_feelings_are_both_heard() -> None:
    found = labels("I'm happy for her but also kind of sad")
    assert "joy" in found and "sadness" in found


def test_situations_without_feeling_words_are_inferred() -> None:
    lex = lexicon()
    found = lex.inferred(tokens("nobody at work even notices me"))
    assert found and found[0].rule.name == "unseen"
    assert lex.inferred(tokens("I got the job"))[0].rule.valence == "positive"


def test_states_are_reflected_but_not_reported() -> None:
    hits, found = hear("I'm exhausted")
    assert hits[0].reflect == "exhausted" and hits[0].label == ""
    assert found == []


@pytest.mark.parametrize(
    ("text", "named", "rejected", "chosen"),
    [
        ("I'm not angry, I'm hurt", [], "angry", "hurt"),
        ("not angry just hurt", [], "angry", "hurt"),
        ("im not mad im disappointed", [], "mad", "disappointed"),
        ("it's not anger, it's more like hurt", [], "anger", "hurt"),
        ("I wouldn't say angry, more disappointed", [], "angry", "disappointed"),
        ("more sad than angry", [], "angry", "sad"),
        ("angry isn't the right word. it's more that i feel let down", [], "angry", "let down"),
        ("I'm not angry at him, I'm just done", [], "angry", "done"),
        ("No, not angry. Hurt.", ["angry"], "angry", "hurt"),
        ("No, I'm just tired", ["angry"], "angry", "tired"),
        ("I am not scared. I am furious.", [], "scared", "furious"),
    ],
)
def test_corrections(text: str, named: list[str], rejected: str, chosen: str) -> None:
    toks = tokens(clean(text))
    fix = find_correction(toks, lexicon().hits(toks), named)
    assert fix is not None
    assert fix.rejected == rejected
    assert fix.chosen is not None and chosen in fix.chosen


@pytest.mark.parametrize(
    "text",
    [
        "I'm not happy about my job, it pays badly",
        "I-I'm not-not very happy about it. I'm gonna keep smoking",
        "I'm so tired",
    ],
)
def test_plain_statements_are_not_corrections(text: str) -> None:
    toks = tokens(clean(text))
    assert find_correction(toks, lexicon().hits(toks), []) is None


def test_a_bare_no_rejects_the_word_just_named() -> None:
    toks = tokens("no not really")
    fix = find_correction(toks, lexicon().hits(toks), ["angry"])
    assert fix is not None and fix.rejected == "angry" and fix.chosen is None


def test_broken_lexicon_is_reported_clearly(tmp_path: Path) -> None:
    text = (ROOT / "prompts" / "feelings.toml").read_text()
    (tmp_path / "feelings.toml").write_text(text.replace('"sad" = 0.6', '"sad" = 1.6', 1))
    from voice_companion.dialogue.wording import FeelingsWording

    with pytest.raises(PromptsError) as err:
        load_prompts("feelings", FeelingsWording, tmp_path)
    assert "sad" in str(err.value) and "between 0 and 1" in str(err.value)
