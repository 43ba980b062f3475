"""Memory across sessions: a scripted week in which events and worries from the first
conversation are followed up later, declined and answered threads never come back, and every
recollection traces to a stored turn."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from voice_companion.dialogue.base import PastThread
from voice_companion.journal import Journal, JournalError, is_decline
from voice_companion.journal.threads import reflect, traces_to

MON = datetime(2025, 5, 5, 19, 0)
WED = datetime(2025, 5, 7, 18, 0)
SAT = datetime(2025, 5, 10, 10, 0)
NEXT_MON = datetime(2025, 5, 12, 20, 0)


def assert_traceable(journal: Journal, thread: PastThread) -> None:
    """The thread came from a stored turn whose transcript holds its words."""
    turn = journal.trace(thread)
    assert turn is not None, thread
    assert turn.id == thread.turn_id
    assert turn.at == thread.said_at
    assert traces_to(thread.quote, turn.transcript), (thread.quote, turn.transcript)
    said_back = set(reflect(thread.quote).lower().replace("'s", "").split())
    text_words = set(thread.text.lower().replace("'s", "").split())
    # everything said back is the person's words, pronouns turned, or the resolved day
    assert text_words - said_back <= {"the", "on", "feeling", "friday", "thursday", "your"}, (
        thread.text, thread.quote,
    )


def say(journal: Journal, sid: int, at: datetime, text: str, *feelings: tuple[str, float]) -> int:
    return journal.add_turn(
        sid,
        transcript=text,
        reply="(reply)",
        acts=["complex_reflection"],
        emotions=[{"label": label, "score": score} for label, score in feelings],
        safety=None,
        at=at,
    )


def check_all(journal: Journal, now: datetime) -> list[PastThread]:
    threads = journal.open_threads(now)
    for thread in threads:
        assert_traceable(journal, thread)
    due = journal.due_thread(now)
    if due is not None:
        assert_traceable(journal, due)
    return threads


def test_a_week_of_conversations(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "data")

    # ---- session 1, Monday evening
    assert journal.due_thread(MON) is None  # nothing stored yet
    s1 = journal.start_session(MON)
    say(journal, s1, MON, "My interview is on Friday and I'm really nervous.", ("nervousness", 0.8))
    say(journal, s1, MON + timedelta(minutes=2),
        "I'm worried about my dad's health. He had tests last week.", ("fear", 0.6))
    say(journal, s1, MON + timedelta(minutes=4), "My sister Ana keeps saying it'll be fine.")
    journal.end_session(s1, MON + timedelta(minutes=10))
    texts = {t.text for t in check_all(journal, MON + timedelta(minutes=11))}
    assert {"your interview on Friday", "your dad's health", "your sister Ana"} <= texts

    # ---- session 2, Wednesday: the interview is not due yet; the worry from last time is
    due = journal.due_thread(WED)
    assert due is not None and (due.kind, due.text) == ("worry", "your dad's health")
    assert "dad's health" in journal.trace(due).transcript
    s2 = journal.start_session(WED)
    assert journal.due_thread(WED) == due  # starting the session changes nothing
    answer = "I'd rather not talk about it"
    assert is_decline(answer)
    journal.resolve_thread(due.id, "declined")
    say(journal, s2, WED + timedelta(minutes=1), answer)
    say(journal, s2, WED + timedelta(minutes=3),
        "Work was exhausting. I feel invisible at work.", ("nervousness", 0.7), ("sadness", 0.6))
    say(journal, s2, WED + timedelta(minutes=5), "I'm seeing my friend Jo tomorrow night.")
    journal.end_session(s2, WED + timedelta(minutes=9))
    threads = check_all(journal, WED + timedelta(minutes=10))
    feeling = [t for t in threads if t.kind == "feeling"]
    assert [t.text for t in feeling] == ["feeling invisible at work"]  # nervous twice: recurs
    assert "your dad's health" not in {t.text for t in threads}  # declined
    assert journal.due_thread(WED + timedelta(hours=1)) is None  # nothing due yet

    # ---- session 3, Saturday: the interview (Friday) has passed: check in on it first
    recap = journal.last_session_recap(before_session=None, now=SAT)
    assert recap.startswith("Last time we talked, on Wednesday, you talked about")
    assert "feeling invisible at work" in recap
    due = journal.due_thread(SAT)
    assert due is not None
    assert (due.kind, due.text, due.due) == ("event", "your interview on Friday",
                                             datetime(2025, 5, 9))
    assert due.said_at == MON
    s3 = journal.start_session(SAT)
    assert not is_decline("It went okay actually, they want a second round")
    journal.resolve_thread(due.id, "answered")
    # the next one due is seeing Jo ("tomorrow night", said on Wednesday: Thursday)
    due = journal.due_thread(SAT)
    assert (due.kind, due.text, due.due) == ("event", "seeing your friend Jo on Thursday night",
                                             datetime(2025, 5, 8))
    journal.resolve_thread(due.id, "answered")
    assert journal.due_thread(SAT) is None
    say(journal, s3, SAT + timedelta(minutes=2), "I'm still worried about my dad's health.")
    say(journal, s3, SAT + timedelta(minutes=4), "The interview went well, I think.")
    journal.end_session(s3, SAT + timedelta(minutes=8))
    check_all(journal, SAT + timedelta(minutes=9))

    # ---- session 4, next Monday: nothing answered or declined comes back
    assert journal.due_thread(NEXT_MON) is None
    texts = {t.text for t in check_all(journal, NEXT_MON)}
    assert "your interview on Friday" not in texts
    assert "your dad's health" not in texts
    assert "your sister Ana" in texts
    s4 = journal.start_session(NEXT_MON)
    tid = say(journal, s4, NEXT_MON, "My exam is tomorrow.")
    assert any(t.turn_id == tid for t in journal.open_threads(NEXT_MON + timedelta(minutes=1)))
    assert journal.forget_last_turn(s4)  # "forget that"
    assert all(t.turn_id != tid for t in journal.threads())
    assert journal.due_thread(NEXT_MON + timedelta(days=1, hours=12)) is None

    # ---- what was said, over the week
    summary = journal.period_summary(MON - timedelta(hours=1), MON + timedelta(days=7))
    assert summary.startswith("This past week, we talked 3 times.")  # the 4th was forgotten
    assert "your sister Ana" in summary
    assert "your interview on Friday" in summary
    assert "nervous" in summary
    journal.close()


def test_check_in_on_a_worry_only_from_the_last_session(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "data") as journal:
        s1 = journal.start_session(MON)
        say(journal, s1, MON, "I'm anxious about the move")
        s2 = journal.start_session(WED)
        say(journal, s2, WED, "Today was fine, just tired")
        assert journal.due_thread(SAT) is None  # the worry was two sessions ago
        s3 = journal.start_session(SAT)
        say(journal, s3, SAT, "I keep worrying about money")
        due = journal.due_thread(SAT + timedelta(hours=2))
        assert due.text == "money" and due.turn_id == journal.turns(s3)[0].id
        assert journal.due_thread(SAT) is None  # not before it was said
        assert [t.text for t in journal.open_threads(SAT + timedelta(hours=2))][:2] == [
            "money", "the move",
        ]


def test_events_long_past_are_not_followed_up(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "data") as journal:
        sid = journal.start_session(MON)
        say(journal, sid, MON, "My interview is on Friday")
        assert journal.due_thread(MON + timedelta(days=4)).text == "your interview on Friday"
        assert journal.due_thread(MON + timedelta(days=30)) is None
        assert journal.open_threads(MON + timedelta(days=30)) == []


def test_resolving_covers_repeats_and_unknown_ids_are_errors(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "data") as journal:
        s1 = journal.start_session(MON)
        say(journal, s1, MON, "I'm worried about my dad's health")
        s2 = journal.start_session(WED)
        say(journal, s2, WED, "I'm so worried about my dad's health")
        assert len([t for t in journal.threads() if t.kind == "worry"]) == 2
        assert [t.text for t in journal.open_threads(SAT)].count("your dad's health") == 1
        due = journal.due_thread(SAT)
        journal.resolve_thread(due.id, "answered")
        assert {t.status for t in journal.threads() if t.kind == "worry"} == {"answered"}
        assert journal.due_thread(SAT) is None
        with pytest.raises(JournalError, match="no thread 999"):
            journal.resolve_thread(999, "answered")
        with pytest.raises(ValueError):
            journal.resolve_thread(due.id, "ignored")  # type: ignore[arg-type]


def test_repeats_in_one_session_are_kept_once(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "data") as journal:
        sid = journal.start_session(MON)
        first = say(journal, sid, MON, "My sister called again")
        say(journal, sid, MON + timedelta(minutes=1), "my sister just doesn't listen")
        people = [t for t in journal.threads() if t.kind == "person"]
        assert [(p.text, p.turn_id) for p in people] == [("your sister", first)]


def test_recap_uses_only_stored_words(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "data") as journal:
        assert journal.last_session_recap() == "" and journal.last_session_topics() == ""
        s1 = journal.start_session(MON)
        say(journal, s1, MON, "Work has been a lot. My manager moved every deadline again.",
            ("annoyance", 0.7))
        say(journal, s1, MON + timedelta(minutes=1), "I just needed to say it out loud.",
            ("annoyance", 0.8), ("neutral", 0.9))
        s2 = journal.start_session(WED)
        recap = journal.last_session_recap(before_session=s2, now=WED)
        assert recap == (
            "Last time we talked, on Monday, you talked about your manager. "
            "It sounded like you were feeling annoyed."
        )
        say(journal, s2, WED, "Nothing much happened today. Dinner was nice.")
        recap = journal.last_session_recap(now=WED + timedelta(days=1))
        assert recap == (
            "Last time we talked, yesterday, you said: Nothing much happened today."
        )
        assert journal.last_session_topics(before_session=s2) == "your manager"
        assert journal.last_session_recap(before_session=s1) == ""


def test_week_summary_falls_back_to_the_persons_frequent_words(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "data") as journal:
        sid = journal.start_session(MON)
        for i, text in enumerate([
            "The garden kept me sane this week.",
            "I planted tomatoes in the garden.",
            "Tomatoes and beans, the garden is full.",
        ]):
            say(journal, sid, MON + timedelta(minutes=i), text, ("joy", 0.9))
        summary = journal.period_summary(MON - timedelta(days=1), MON + timedelta(days=6))
        assert summary == (
            "This past week, we talked once. Words that came up often: garden and tomatoes. "
            "Most often, you sounded happy."
        )
        assert journal.period_summary(MON + timedelta(days=1), MON + timedelta(days=2)) == ""
