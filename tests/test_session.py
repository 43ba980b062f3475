"""One conversation: voice commands, echo of the companion's own voice, journal, check-ins."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from voice_companion.commands import Command
from voice_companion.config import load_settings
from voice_companion.journal import Journal, NullJournal
from voice_companion.session import Conversation


@pytest.fixture()
def settings(tmp_path):
    return load_settings(data_dir=tmp_path / "data")


def conversation(settings, journal=None) -> Conversation:
    conv = Conversation(settings, journal or Journal.open(settings.data_dir))
    conv.start()
    return conv


def test_turns_are_answered_and_journaled_at_once(settings):
    conv = conversation(settings)
    outcome = conv.handle("My boss ignored me in the meeting again.")
    assert outcome.reply.text and outcome.command is None and not outcome.end
    # committed before the next turn: another connection sees it immediately
    other = Journal.open(settings.data_dir)
    assert [t.transcript for t in other.turns(conv.session_id)] == [
        "My boss ignored me in the meeting again."]
    other.close()


def test_voice_commands_change_the_voice_and_are_marked_as_commands(settings):
    conv = conversation(settings)
    rate, volume = settings.rate, settings.volume
    out = conv.handle("Slower, please.")
    assert out.command is Command.SLOWER and out.reply.acts == ["command"]
    assert settings.rate < rate
    conv.handle("louder")
    assert settings.volume == min(1.0, volume + 0.15)
    first = conv.handle("I feel invisible at work.").reply.text
    again = conv.handle("Say that again?")
    assert again.command is Command.REPEAT and again.reply.text == first


def test_commands_are_not_journaled_and_words_inside_sentences_are_not_commands(settings):
    conv = conversation(settings)
    conv.handle("pause")
    out = conv.handle("My boss told me to slow down and it made me furious.")
    assert out.command is None
    journal = Journal.open(settings.data_dir)
    assert [t.transcript for t in journal.turns(conv.session_id)] == [
        "My boss told me to slow down and it made me furious."]
    journal.close()


def test_speed_has_limits_and_says_so(settings):
    settings.rate = 80
    out = conversation(settings).handle("slower")
    assert settings.rate == 80 and "slowly as I can" in out.reply.text


def test_goodbye_closes_with_a_summary_and_ends(settings):
    conv = conversation(settings)
    conv.handle("I'm worried about my sister. She hasn't called in weeks.")
    out = conv.handle("That's all for today, goodbye.")
    assert out.end and out.command is Command.GOODBYE
    assert "command" in out.reply.acts and len(out.reply.text.split()) > 8


def test_crisis_words_are_never_taken_as_a_command(settings):
    out = conversation(settings).handle("Goodbye. I'm going to kill myself tonight.")
    assert out.command is None and out.reply.safety is not None and not out.end


def test_own_voice_is_recognised(settings):
    conv = conversation(settings)
    reply = conv.handle("I had a really rough day at work.").reply.text
    assert conv.is_own_voice(reply.lower().rstrip("."))
    words = reply.split()
    assert conv.is_own_voice(" ".join(words[: max(3, len(words) // 2)]))
    assert not conv.is_own_voice("I had a really rough day at work.")


def test_forget_that_and_dont_save_this(settings):
    conv = conversation(settings)
    conv.handle("My sister Anna is moving to Berlin.")
    out = conv.handle("Forget that.")
    assert out.command is Command.FORGET_THAT
    journal = Journal.open(settings.data_dir)
    assert journal.turns(conv.session_id) == []
    conv.handle("I keep thinking about my dad.")
    assert conv.handle("Don't save this.").command is Command.DONT_SAVE
    assert journal.turns() == []  # the session so far is gone
    conv.handle("Something private.")
    assert journal.turns() == []  # and nothing more is written
    journal.close()


def test_silence_prompt_once_and_not_while_paused(settings):
    conv = conversation(settings, NullJournal())
    assert conv.silence() is not None
    assert conv.silence() is None  # never nagging: once per silence
    conv.handle("Give me a minute.")
    assert conv.silence() is None  # paused until the person speaks again
    conv.handle("Okay, so my week was long.")
    assert conv.silence() is not None


def test_check_in_on_a_due_thread_and_it_is_not_raised_again(settings):
    said = datetime.now() - timedelta(days=3)
    journal = Journal.open(settings.data_dir)
    sid = journal.start_session(said)
    journal.add_turn(sid, transcript="My job interview is tomorrow and I'm nervous.",
                     reply="...", acts=[], emotions=[], safety=None, at=said)
    journal.end_session(sid)
    journal.close()
    conv = Conversation(settings, Journal.open(settings.data_dir))
    greeting = conv.start()
    assert conv.check_in is not None and "interview" in greeting.text.lower()
    conv.handle("It went well actually.")
    conv.journal.end_session(conv.session_id)
    conv.journal.close()
    again = Conversation(settings, Journal.open(settings.data_dir))
    again.start()
    assert again.check_in is None or "interview" not in again.check_in.text


def test_audio_is_stored_only_when_the_person_turns_it_on(settings):
    from voice_companion.audio import load_file, to_wav_bytes
    from voice_companion.fixtures import fixture_path

    wav = to_wav_bytes(load_file(fixture_path("turn_short_im_tired.flac")), 16000)
    conv = conversation(settings)
    off = conv.handle("I'm tired.", wav).turn_id
    settings.store_audio = True
    on = conv.handle("I'm tired.", wav).turn_id
    assert conv.journal.audio(off) is None
    assert conv.journal.audio(on) == wav


def test_three_sessions_follow_up_only_on_what_was_said(settings):
    """Session 1 mentions an event and a worry; sessions 2 and 3 follow up on them, and every
    recollection (check-ins and "last time" links) traces back to a stored turn."""
    import re

    day1 = datetime.now() - timedelta(days=4)
    first = Conversation(settings, Journal.open(settings.data_dir), clock=lambda: day1)
    first.start()
    first.handle("My job interview is tomorrow and I'm really nervous about it.")
    first.handle("I'm also worried about my dad's health.")
    first.close()
    first.journal.close()

    recollections: list[str] = []
    check_ins = []
    for offset in (2, 3):
        day = day1 + timedelta(days=offset)
        conv = Conversation(settings, Journal.open(settings.data_dir), clock=lambda day=day: day)
        greeting = conv.start()
        if conv.check_in is not None:
            check_ins.append(conv.check_in)
            assert conv.check_in.text in greeting.text
        replies = [greeting.text]
        for text in ("It went okay I think.", "Work has been stressful lately.",
                     "I keep thinking about my dad."):
            replies.append(conv.handle(text).reply.text)
        recollections += [r for r in replies if re.search(r"last time|last week|earlier", r, re.I)]
        traced = {t.text: conv.journal.trace(t) for t in conv.journal.threads()}
        assert all(turn is not None for turn in traced.values())
        for thread in check_ins:  # a check-in is about words the person really said
            source = conv.journal.trace(thread)
            assert source is not None
            said = source.transcript.lower()
            days = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
            skip = days | {"your", "the", "a", "on", "about"}
            words = [w for w in thread.text.lower().split() if w not in skip]
            assert words and all(w in said for w in words), (thread.text, said)
        conv.close()
        conv.journal.close()
    assert any("interview" in t.text for t in check_ins)  # the event came back
    assert len({t.id for t in check_ins}) == len(check_ins)  # nothing raised twice
    journal = Journal.open(settings.data_dir)
    stored = " ".join(t.transcript.lower() for t in journal.turns())
    journal.close()
    for reply in recollections:  # a recollection only ever quotes the person's own words
        for quoted in re.findall(r"(?:your|the) ([a-z' ]+?)(?:[.,?]|$)", reply.lower()):
            assert any(w in stored for w in quoted.split() if len(w) > 2), (reply, quoted)
