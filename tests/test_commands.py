"""Voice commands: what counts as a command, what does not, and what the companion says back."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from voice_companion import commands
from voice_companion.commands import Command, command_reply, load_commands, recognise
from voice_companion.errors import PromptsError
from voice_companion.prompts import prompts_dir

C = Command

SAID_AS_COMMANDS = [
    # the phrases of the issue, as Whisper might write them
    ("Say that again.", C.REPEAT),
    ("Repeat that.", C.REPEAT),
    ("What did you say?", C.REPEAT),
    ("Sorry, come again?", C.REPEAT),
    ("Slower.", C.SLOWER),
    ("Slow down.", C.SLOWER),
    ("Speak more slowly.", C.SLOWER),
    ("Faster.", C.FASTER),
    ("Speed up.", C.FASTER),
    ("Talk faster.", C.FASTER),
    ("Louder.", C.LOUDER),
    ("Speak up.", C.LOUDER),
    ("I can't hear you.", C.LOUDER),
    ("Quieter.", C.QUIETER),
    ("Softer.", C.QUIETER),
    ("You're too loud.", C.QUIETER),
    ("Pause.", C.PAUSE),
    ("Give me a minute.", C.PAUSE),
    ("Hold on.", C.PAUSE),
    ("Let me think.", C.PAUSE),
    ("What can I say?", C.HELP),
    ("Help.", C.HELP),
    ("What are the commands?", C.HELP),
    ("That's all for today.", C.GOODBYE),
    ("Goodbye.", C.GOODBYE),
    ("Bye.", C.GOODBYE),
    ("I'm done for today.", C.GOODBYE),
    ("Let's stop here.", C.GOODBYE),
    ("Don't save this.", C.DONT_SAVE),
    ("Don't record this.", C.DONT_SAVE),
    ("Off the record.", C.DONT_SAVE),
    ("Forget that.", C.FORGET_THAT),
    ("Delete that.", C.FORGET_THAT),
    ("Please forget what I just said.", C.FORGET_THAT),
    ("What did I talk about last time?", C.LAST_TIME),
    ("What did we talk about last time?", C.LAST_TIME),
    ("Read me my week.", C.READ_WEEK),
    ("How was my week?", C.READ_WEEK),
    ("Can you summarise?", C.SUMMARY),
    ("Sum up what I've said.", C.SUMMARY),
    # case, punctuation, apostrophes
    ("SAY THAT AGAIN!!!", C.REPEAT),
    ("say that again", C.REPEAT),
    ("say—that again?", C.REPEAT),
    ("dont save this", C.DONT_SAVE),
    ("Don’t save this.", C.DONT_SAVE),
    ("GOODBYE", C.GOODBYE),
    # fillers and politeness at the edges, hesitations anywhere
    ("Um, can you slow down a little, please?", C.SLOWER),
    ("Okay, could you please say that again?", C.REPEAT),
    ("Uh, louder please.", C.LOUDER),
    ("Okay, that's all for today, thank you.", C.GOODBYE),
    ("Okay. Bye.", C.GOODBYE),
    ("Can you repeat that for me?", C.REPEAT),
    ("Hmm, give me a minute.", C.PAUSE),
    ("Say, um, that again.", C.REPEAT),
    ("No, wait.", C.PAUSE),
    ("Sorry. Say that again.", C.REPEAT),
    ("Just forget what I just said.", C.FORGET_THAT),
    ("I'd like you to summarize what I've said.", C.SUMMARY),
    # misheard
    ("Say that a gain.", C.REPEAT),
    ("Slow her.", C.SLOWER),
    ("Slow er.", C.SLOWER),
    ("Good bye.", C.GOODBYE),
    ("Good-bye!", C.GOODBYE),
    ("By.", C.GOODBYE),
    ("Speak more slowley.", C.SLOWER),
    ("Re peat that.", C.REPEAT),
    ("What did you sey?", C.REPEAT),
    ("Give me a minit.", C.PAUSE),
    ("Don't safe this.", C.DONT_SAVE),
    ("Summarise what I've sad.", C.SUMMARY),
    ("What did we talk about last tine?", C.LAST_TIME),
    ("Read me my weak.", C.READ_WEEK),
    ("That's all for to day.", C.GOODBYE),
    ("Some it up.", C.SUMMARY),
]

NOT_COMMANDS = [
    # the words of a command inside something the person is telling us
    "my boss told me to slow down and it made me furious",
    "I never got to say goodbye to my dad",
    "I just want someone to help me",
    "she said give me a minute and walked out",
    "it felt like the week was read to me",
    "My mum keeps asking me to speak up at family dinners.",
    "He never repeats himself, he said it once and that was it.",
    "I can't hear you say that again without crying.",
    "We said bye at the station and I haven't seen her since.",
    "I wish I could forget that night.",
    "I want to forget that.",
    "I need to slow down.",
    "I'm trying to pause before I react.",
    "Last time I saw him he was so angry.",
    "What did I do wrong?",
    "How was I supposed to know?",
    "It's too loud in here, the neighbours are at it again.",
    "The week went by so fast.",
    "I told her to stop talking about it.",
    "It was a faster way home.",
    "Don't save me a seat, she said.",
    # short answers that are not commands
    "After.",
    "Okay.",
    "Thank you.",
    "Yes.",
    "No.",
    "I'm done.",
    "Help me.",
    "Slow.",
    "Too fast.",
    "Lower.",
    "Master.",
    "Sorry.",
    "What?",
    "Hello.",
    "I don't know.",
    "",
    "   ",
    "...",
    "Um.",
]


@pytest.mark.parametrize(("text", "expected"), SAID_AS_COMMANDS)
def test_commands_are_recognised(text: str, expected: Command | None) -> None:
    assert recognise(text) == expected


@pytest.mark.parametrize("text", NOT_COMMANDS)
def test_other_turns_are_not_commands(text: str) -> None:
    assert recognise(text) is None


def _wording_file() -> dict:
    with (prompts_dir() / "commands.toml").open("rb") as fh:
        return tomllib.load(fh)


def test_every_listed_phrase_is_recognised_as_its_own_command() -> None:
    for key, entry in _wording_file()["commands"].items():
        for phrase in entry["phrases"]:
            assert recognise(phrase) == Command(key), phrase
            assert recognise(f"Um, okay, {phrase}, please.") == Command(key), phrase


def test_long_phrases_survive_a_misheard_letter() -> None:
    """A long phrase with any one letter lost or doubled still gives its own command."""
    wording = load_commands()
    for cmd, entry in wording.commands.items():
        for phrase in entry.phrases:
            key = "".join(re.findall(r"[a-z0-9]+", phrase.lower().replace("'", "")))
            if len(key) < wording.matching.fuzzy_min_letters:
                continue
            for i in range(len(key)):
                assert recognise(key[:i] + key[i] + key[i:]) == cmd, (phrase, i)
                if len(key) > wording.matching.fuzzy_min_letters:
                    assert recognise(key[:i] + key[i + 1 :]) == cmd, (phrase, i)


def test_short_phrases_need_every_letter() -> None:
    """Short words are too easily ordinary answers ("after" is not "faster") to be guessed at."""
    assert recognise("aster") is None
    assert recognise("fasterr") is None
    assert recognise("help") == C.HELP
    assert recognise("hel") is None


def test_help_names_a_phrase_for_every_other_command() -> None:
    """Everything must be usable by voice alone, so the spoken help must tell how."""
    help_words = " ".join(re.findall(r"[a-z0-9]+", command_reply(C.HELP).lower().replace("'", "")))
    for cmd, entry in load_commands().commands.items():
        if cmd is C.HELP:
            continue
        said = [
            " ".join(re.findall(r"[a-z0-9]+", p.lower().replace("'", ""))) for p in entry.phrases
        ]
        assert any(f" {p} " in f" {help_words} " for p in said), cmd


def test_every_phrase_the_help_offers_is_itself_recognised() -> None:
    quoted = re.findall(r'"([^"]+)"', command_reply(C.HELP))
    assert len(quoted) >= 12
    assert all(recognise(q) is not None for q in quoted), quoted


def test_every_command_has_a_spoken_reply() -> None:
    fields = {"last_reply": "How did that feel?", "summary": "You talked about work."}
    fields["topics"] = "your exam"
    for cmd in Command:
        reply = command_reply(cmd, **fields)
        assert reply and reply[0].isupper() and reply[-1] in ".!?", (cmd, reply)
        assert "{" not in reply and "  " not in reply


def test_replies_acknowledge_the_command() -> None:
    assert command_reply(C.SLOWER) == "Okay, I'll speak more slowly."
    assert "faster" in command_reply(C.FASTER)
    assert "louder" in command_reply(C.LOUDER)
    assert "quietly" in command_reply(C.QUIETER)
    assert "time" in command_reply(C.PAUSE).lower()
    assert "won't save" in command_reply(C.DONT_SAVE)
    assert "forgotten" in command_reply(C.FORGET_THAT)


def test_replies_carry_the_fields_they_are_given() -> None:
    assert command_reply(C.REPEAT, last_reply="How did that feel?") == (
        "Of course. How did that feel?"
    )
    assert command_reply(C.LAST_TIME, topics="your sister's wedding") == (
        "Last time, you talked about your sister's wedding."
    )
    week = command_reply(C.READ_WEEK, summary="On Monday you felt  tired.\n")
    assert week == "Here is your week. On Monday you felt tired."
    bye = command_reply(C.GOODBYE, summary="Today you talked about your exam.")
    assert bye.startswith("Today you talked about your exam. Thank you")
    assert command_reply("summary", summary="You felt left out.").endswith("You felt left out.")


def test_a_missing_or_blank_field_gives_the_empty_wording() -> None:
    assert command_reply(C.REPEAT) == command_reply(C.REPEAT, last_reply="  ")
    assert command_reply(C.REPEAT).startswith("I haven't said anything yet.")
    assert command_reply(C.LAST_TIME, topics=None).startswith("I don't have anything saved")
    assert "{" not in command_reply(C.GOODBYE)
    assert command_reply(C.GOODBYE).startswith("Thank you for talking with me today.")


def test_named_variants() -> None:
    assert command_reply(C.SLOWER, variant="at_limit") == (
        "I'm already speaking as slowly as I can."
    )
    assert "already" in command_reply(C.LOUDER, variant="at_limit")
    assert "journal is off" in command_reply(C.LAST_TIME, variant="no_journal")
    assert "nothing to forget" in command_reply(C.FORGET_THAT, variant="empty")


def test_an_unknown_variant_or_command_is_an_error() -> None:
    with pytest.raises(ValueError, match="no variant 'at_limit'"):
        command_reply(C.REPEAT, variant="at_limit")
    with pytest.raises(ValueError):
        command_reply("shout")


VALID = (Path(__file__).resolve().parent.parent / "prompts" / "commands.toml").read_text()


def _write(folder: Path, text: str) -> Path:
    (folder / "commands.toml").write_text(text, encoding="utf-8")
    return folder


def test_the_shipped_wording_loads() -> None:
    wording = load_commands()
    assert set(wording.commands) == set(Command)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("[commands.summary]", "[commands.summery]"), "commands"),
        (
            lambda t: re.sub(r"\[commands\.help\].*?(?=\[commands\.goodbye\])", "", t, flags=re.S),
            "missing: help",
        ),
        (
            lambda t: t.replace('"hold on", "hang on"', '"hold on", "say that again"'),
            "both repeat and pause",
        ),
        (
            lambda t: t.replace("Of course. {last_reply}", "Of course. {last_reply.upper}"),
            "commands.repeat.reply",
        ),
        (
            lambda t: t.replace("Of course. {last_reply}", "Of course. {last_reply"),
            "commands.repeat.reply",
        ),
        (lambda t: t.replace("max_words = 9", "max_words = 0"), "matching.max_words"),
        (
            lambda t: t.replace('"forget that", "delete that"', '"?!", "delete that"'),
            "commands.forget_that.phrases",
        ),
        (lambda t: t.replace("\n[matching]\n", "\n[matching]\ncolour = 3\n"), "matching.colour"),
    ],
)
def test_a_broken_wording_file_gives_a_clear_error(tmp_path: Path, change, message: str) -> None:
    text = change(VALID)
    assert text != VALID
    with pytest.raises(PromptsError) as caught:
        load_commands(_write(tmp_path, text))
    assert message in str(caught.value)
    assert str(tmp_path) in str(caught.value)


def test_a_reply_needing_a_field_without_an_empty_wording_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = VALID.replace('reply = "Okay, I\'ll speak more slowly."', 'reply = "Slower, {who}."')
    _write(tmp_path, text)
    monkeypatch.setenv("VOICE_COMPANION_PROMPTS_DIR", str(tmp_path))
    commands._matcher.cache_clear()
    try:
        assert command_reply(C.SLOWER, who="Sam") == "Slower, Sam."
        with pytest.raises(ValueError, match="needs who"):
            command_reply(C.SLOWER)
    finally:
        monkeypatch.undo()
        commands._matcher.cache_clear()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("That's all for today. Goodbye.", Command.GOODBYE),
        ("Slower. Slower please.", Command.SLOWER),
        ("I miss him. Goodbye.", None),  # a sentence that is not a command: not a command
        ("Louder. Goodbye.", None),  # two different commands: neither
        ("That's all for today, goodbye.", Command.GOODBYE),
        ("I miss her, goodbye.", None),
    ],
)
def test_several_short_sentences_giving_one_command(text, expected):
    assert recognise(text) == expected
