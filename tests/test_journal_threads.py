"""Threads found in what a person says, dates resolved from when they said it, and declines."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from voice_companion.errors import PromptsError
from voice_companion.journal.dates import find_dates
from voice_companion.journal.threads import (
    extract_threads,
    feeling_phrase,
    is_decline,
    reflect,
    traces_to,
)
from voice_companion.journal.wording import JournalWording
from voice_companion.prompts import load_prompts

WEDNESDAY = date(2025, 5, 7)
SAID = datetime(2025, 5, 7, 20, 15)


def one(text: str, kind: str, said: datetime = SAID):
    found = [c for c in extract_threads(text, said) if c.kind == kind]
    assert len(found) == 1, (text, found)
    assert traces_to(found[0].quote, text)
    return found[0]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("today", date(2025, 5, 7)),
        ("tonight", date(2025, 5, 7)),
        ("tomorrow", date(2025, 5, 8)),
        ("tomorrow night", date(2025, 5, 8)),
        ("the day after tomorrow", date(2025, 5, 9)),
        ("on Friday", date(2025, 5, 9)),
        ("friday", date(2025, 5, 9)),
        ("on Wednesday", date(2025, 5, 14)),  # said on a Wednesday: next week's
        ("this Wednesday", date(2025, 5, 7)),
        ("on Monday", date(2025, 5, 12)),
        ("next Friday", date(2025, 5, 16)),
        ("next Monday", date(2025, 5, 12)),
        ("this weekend", date(2025, 5, 10)),
        ("next weekend", date(2025, 5, 17)),
        ("next week", date(2025, 5, 12)),
        ("next month", date(2025, 6, 1)),
        ("in two weeks", date(2025, 5, 21)),
        ("in a couple of days", date(2025, 5, 9)),
        ("on the 12th", date(2025, 5, 12)),
        ("on the 3rd", date(2025, 6, 3)),
        ("the 7th", date(2025, 5, 7)),
        ("March 12", date(2026, 3, 12)),
        ("the 2nd of June", date(2025, 6, 2)),
    ],
)
def test_dates_resolve_from_the_day_they_were_said(words: str, expected: date) -> None:
    [mention] = find_dates(f"it is {words}", WEDNESDAY)
    assert mention.day == expected


@pytest.mark.parametrize(
    "words", ["yesterday", "last Friday", "every Friday", "on the first day", "on Fridays"]
)
def test_past_habitual_and_non_dates_are_not_events(words: str) -> None:
    assert find_dates(f"it was {words}", WEDNESDAY) == []


def test_the_same_words_mean_different_days_when_said_on_different_days() -> None:
    monday = extract_threads("My interview is on Friday", datetime(2025, 5, 5, 9))
    saturday = extract_threads("My interview is on Friday", datetime(2025, 5, 10, 9))
    assert monday[0].due == datetime(2025, 5, 9)
    assert saturday[0].due == datetime(2025, 5, 16)


@pytest.mark.parametrize(
    ("said", "text", "due"),
    [
        ("My interview is on Friday.", "your interview on Friday", date(2025, 5, 9)),
        ("I have a job interview on Friday", "the job interview on Friday", date(2025, 5, 9)),
        ("I'm nervous about my interview on Friday", "your interview on Friday",
         date(2025, 5, 9)),
        ("my exam's tomorrow", "your exam on Thursday", date(2025, 5, 8)),
        ("I'm seeing my sister tomorrow", "seeing your sister on Thursday", date(2025, 5, 8)),
        ("I'm going to tell her tonight", "going to tell her on Wednesday night",
         date(2025, 5, 7)),
        ("my sister is getting married next weekend",
         "your sister getting married on the weekend", date(2025, 5, 17)),
        ("tomorrow is my first day at the new job",
         "your first day at the new job on Thursday", date(2025, 5, 8)),
        ("I've got a dentist appointment on the 12th",
         "the dentist appointment on the 12th", date(2025, 5, 12)),
        ("we're moving house in two weeks", "moving house on Wednesday the 21st",
         date(2025, 5, 21)),
        ("there's a big presentation at work next week",
         "the big presentation at work next week", date(2025, 5, 12)),
        ("I'm not sure how my interview on Friday will go", "your interview on Friday",
         date(2025, 5, 9)),
    ],
)
def test_upcoming_events(said: str, text: str, due: date) -> None:
    event = one(said, "event")
    assert event.text == text
    assert event.due == datetime.combine(due, datetime.min.time())


@pytest.mark.parametrize(
    "said",
    [
        "I had an interview on Friday",
        "my interview was on friday",
        "my interview isn't on Friday anymore",
        "the party got cancelled on Friday",
        "I might have an interview on Friday",
        "I'm not going to the party on Friday",
        "every Friday I go to yoga",
        "I'm so tired today",
    ],
)
def test_no_event_from_past_negated_hypothetical_or_habit(said: str) -> None:
    assert [c for c in extract_threads(said, SAID) if c.kind == "event"] == []


@pytest.mark.parametrize(
    ("said", "text"),
    [
        ("I'm worried about my dad's health.", "your dad's health"),
        ("I'm so scared of losing my job, you know", "losing your job"),
        ("I keep worrying about money", "money"),
        ("I'm dreading the family dinner", "the family dinner"),
        ("My dad's health is really weighing on me", "your dad's health"),
        ("i'm kind of anxious about what my boss thinks of me",
         "what your boss thinks of you"),
        ("I can\u2019t stop thinking about what she said", "what she said"),
        ("Honestly I've been stressed about the move for weeks", "the move for weeks"),
    ],
)
def test_ongoing_worries(said: str, text: str) -> None:
    assert one(said, "worry").text == text


@pytest.mark.parametrize(
    "said",
    ["I'm not worried about the exam", "I'm worried about it", "I was never scared of him",
     "I don't worry about money"],
)
def test_no_worry_when_negated_or_vague(said: str) -> None:
    assert [c for c in extract_threads(said, SAID) if c.kind == "worry"] == []


def test_a_worry_about_an_event_is_kept_once_as_the_event() -> None:
    found = extract_threads("I'm really nervous about my interview on Friday", SAID)
    assert [(c.kind, c.text) for c in found] == [("event", "your interview on Friday")]


@pytest.mark.parametrize(
    ("said", "texts"),
    [
        ("My partner Sam doesn't get it", ["your partner Sam"]),
        ("my little brother and my best friend Alex came over",
         ["your little brother", "your best friend Alex"]),
        ("I called my mum. And my sister And then", ["your mum", "your sister"]),
        ("my sister's wedding", ["your sister"]),
    ],
)
def test_people_who_matter(said: str, texts: list[str]) -> None:
    people = [c for c in extract_threads(said, SAID) if c.kind == "person"]
    assert [p.text for p in people] == texts
    assert all(traces_to(p.quote, said) for p in people)


def test_quotes_are_the_exact_words_even_with_curly_apostrophes() -> None:
    said = "I\u2019m worried about my dad\u2019s health"
    worry = one(said, "worry")
    assert worry.quote == said
    assert worry.text == "your dad's health"


def test_every_thread_traces_to_the_words_it_came_from() -> None:
    said = (
        "So my interview is on Friday, and I'm worried about my dad's health. My partner Sam "
        "says I should relax but I'm dreading the family dinner next week."
    )
    found = extract_threads(said, SAID)
    assert {c.kind for c in found} == {"event", "worry", "person"}
    for cand in found:
        assert cand.quote in said
        # every word said back is a word of the quote, or a pronoun turned around
        quote_words = set(reflect(cand.quote).lower().split()) | set(cand.quote.lower().split())
        extra = set(cand.text.lower().replace("'s", "").split()) - {
            w.replace("'s", "") for w in quote_words
        }
        assert extra <= {"the", "on", "friday", "monday", "your"}, (cand, extra)


def test_reflect_turns_pronouns_around() -> None:
    assert reflect("I am scared my boss ignores me") == "you are scared your boss ignores you"
    assert reflect("I was sure I'd lose my mind") == "you were sure you'd lose your mind"


def test_feeling_phrase_prefers_the_persons_own_clause() -> None:
    assert feeling_phrase("Honestly I feel invisible at work.", ["sad"]) == (
        "feeling invisible at work", "I feel invisible at work",
    )
    assert feeling_phrase("it was such a sad day", ["sad"]) == ("feeling sad", "sad")
    assert feeling_phrase("I feel it", ["angry"]) is None


@pytest.mark.parametrize(
    "answer",
    [
        "I'd rather not talk about it",
        "Not today.",
        "not today thanks",
        "Let's talk about something else.",
        "Um, no thanks.",
        "no",
        "Can we not?",
        "I don't want to talk about it right now",
        "i dont really want to talk about that",
        "Honestly I'm not ready to talk about it yet",
    ],
)
def test_declines(answer: str) -> None:
    assert is_decline(answer)


@pytest.mark.parametrize(
    "answer",
    [
        "It went well actually",
        "no, it was great! They offered me the job",
        "the interview is not today, it moved to Monday and I'm okay with it really",
        "I want to move on from him, but it is hard when he calls every day",
        "Not great. I froze on the second question",
        "",
    ],
)
def test_answers_are_not_declines(answer: str) -> None:
    assert not is_decline(answer)


def test_wording_file_is_validated(tmp_path) -> None:
    words = load_prompts("journal", JournalWording)
    assert words.recap.opening.count("{topics}") == 1
    (tmp_path / "journal.toml").write_text(
        (load_prompts.__globals__["prompts_dir"]() / "journal.toml")
        .read_text()
        .replace('opening = "Last time we talked, {day}, you talked about {topics}."',
                 'opening = "Last time {when} you talked about {topics}."')
    )
    with pytest.raises(PromptsError, match=r"recap.opening.*\{when\}"):
        load_prompts("journal", JournalWording, folder=tmp_path)
