"""Whether the words of a turn so far are a finished thought (short wait) or not (longer wait)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voice_companion.completeness import is_unfinished, load_completeness
from voice_companion.errors import PromptsError

UNFINISHED = [
    "I was happier than",
    "the way I",
    # from the issue
    "I went to see my mother and then I",
    "because",
    "but",
    "but um",
    "um",
    "It's just that...",
    "so I was like",
    "and I think the reason is, ",
    # Whisper's full stop after a partial transcript proves nothing
    "and then I.",
    "I went to see my mother and.",
    "Because.",
    "It was the.",
    "I was talking to my.",
    "She said that.",
    "I'm.",
    "And I was really.",
    "I just.",
    "We went out to.",
    "It's kind of.",
    "I don't know, you know.",
    "I mean.",
    "So the problem is.",
    "When I was.",
    "And then it was.",
    "I was talking to.",
    "Um.",
    "Uh.",
    "He was like, uh.",
    "If.",
    "which.",
    "The thing that worries me most is that.",
    # trailing off, in the marks Whisper writes
    "I was going to...",
    "I was going to…",
    "I was go-",
    "I was go -",
    "It's just—",
    "and then, ",
    "My sister;",
    "The thing is:",
    "so...?",
    # no words at all
    "",
    "   ",
    "...",
    "[BLANK_AUDIO]",
    "(sighs)",
    "*coughs*",
    # curly apostrophes and quotes
    "And then I’m",
    "“It’s just that",
    # a question mark does not rescue a hesitation or an article
    "the?",
    "Um?",
]

FINISHED = [
    # real speech (../shared/speech) and a fixture, held for the long wait before
    "It would have been made still more respectable than he was.",
    "I miss the way things used to be.",
    # from the issue
    "I had a rough day.",
    "I'm tired.",
    "Yes.",
    "No.",
    "Okay.",
    "okay",
    "I don't know.",
    # ordinary complete sentences
    "I went to the shop.",
    "My mother called me today.",
    "I miss her.",
    "I'm not doing well.",
    "I feel ill.",
    "It was a really hard week",
    "I just want to move on.",
    "I felt completely invisible at work!",
    # words from the lists that end a clause in context
    "That's how it was.",
    "I don't know what it is.",
    "It is what it is.",
    "Yes, I was.",
    "I think I can.",
    "That's all I have.",
    "I don't know what it was like.",
    "I think so.",
    "I hope so.",
    "Not really.",
    "I don't really.",
    "Back then.",
    "Ever since.",
    "For a while.",
    "You know what I mean.",
    "I'm worried about that.",
    "I couldn't stop thinking about that.",
    "I'm fine, I guess, or something.",
    # a question or exclamation mark after a word that would otherwise hang
    "Really?",
    "Because?",
    "What are you thinking of?",
    "Do I?",
    "You know?",
    "So?",
    # not fooled by quotes, brackets or Whisper's notes about sound
    "“I’m tired.”",
    "(laughs) I had a rough day.",
    "I had a rough day (sighs)",
    "I had a rough day. [BLANK_AUDIO]",
]


@pytest.mark.parametrize("text", UNFINISHED)
def test_unfinished(text: str) -> None:
    assert is_unfinished(text) is True


@pytest.mark.parametrize("text", FINISHED)
def test_finished(text: str) -> None:
    assert is_unfinished(text) is False


def test_a_thought_grows_from_unfinished_to_finished() -> None:
    """The partial transcripts of one turn, as the loop sees them while the person speaks."""
    partials = [
        ("I", True),
        ("I went", False),
        ("I went to", True),
        ("I went to see my", True),
        ("I went to see my mother.", False),
        ("I went to see my mother and", True),
        ("I went to see my mother and then I.", True),
        ("I went to see my mother and then I, um...", True),
        ("I went to see my mother and then I cried.", False),
    ]
    assert [(text, is_unfinished(text)) for text, _ in partials] == partials


VALID = (Path(__file__).resolve().parent.parent / "prompts" / "completeness.toml").read_text()


def test_the_shipped_word_lists_load() -> None:
    words = load_completeness()
    assert "because" in words.unfinished.subordinators
    assert "..." in words.trailing_marks


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("look_back = 4", "look_back = 0"), "stranded.look_back"),
        (lambda t: t.replace('"because", ', '"", '), "unfinished.subordinators"),
        (lambda t: t.replace('"...", "…"', '"...", "and"'), "trailing_marks"),
        (lambda t: t.replace("\n[endings]\n", "\n[ending]\n"), "ending"),
        (
            lambda t: re.sub(r"\nintensifiers = \[.*?\]\n", "\n", t, flags=re.S),
            "unfinished.intensifiers",
        ),
        (
            lambda t: t.replace('complete = [\n    "think so",', 'complete = [\n    "because",'),
            "'because' is listed both",
        ),
    ],
)
def test_a_broken_word_list_gives_a_clear_error(tmp_path: Path, change, message: str) -> None:
    text = change(VALID)
    assert text != VALID
    (tmp_path / "completeness.toml").write_text(text, encoding="utf-8")
    with pytest.raises(PromptsError) as caught:
        load_completeness(tmp_path)
    assert message in str(caught.value)
    assert str(tmp_path) in str(caught.value)
