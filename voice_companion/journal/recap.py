"""Looking back, out loud: the last conversation, and a period ("read me my week").

Only stored words are used: thread texts (the person's words said back), the start of what the
person said, and the feeling labels stored with each turn. The joining phrases come from
``prompts/journal.toml``. An empty string means there is nothing to say.
"""

from __future__ import annotations

import calendar
import re
import sqlite3
from collections import Counter
from datetime import datetime, timedelta

from voice_companion.journal.dates import ordinal
from voice_companion.journal.threads import reflect
from voice_companion.journal.timefmt import from_db, to_db
from voice_companion.journal.wording import JournalWording, join_words

# Which kinds of thread are replayed first in a recap.
_KIND_ORDER = {"worry": 0, "event": 1, "feeling": 2, "person": 3}
_SENTENCE = re.compile(r"[^.!?]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*")


def _last_session(conn: sqlite3.Connection, before: int | None) -> int | None:
    row = conn.execute(
        "SELECT session_id FROM turns WHERE (? IS NULL OR session_id < ?)"
        " ORDER BY session_id DESC LIMIT 1",
        (before, before),
    ).fetchone()
    return row[0] if row else None


def _topics(conn: sqlite3.Connection, sid: int, limit: int) -> list[str]:
    rows = conn.execute(
        "SELECT kind, key, text FROM threads WHERE session_id = ? ORDER BY id", (sid,)
    ).fetchall()
    seen: set[str] = set()
    picked: list[tuple[int, int, str]] = []
    for order, (kind, key, text) in enumerate(rows):
        if key in seen:
            continue
        seen.add(key)
        picked.append((_KIND_ORDER.get(kind, 9), order, text))
    picked.sort()
    texts = [text for _, _, text in picked[:limit]]
    return _drop_contained(texts)


def _drop_contained(texts: list[str]) -> list[str]:
    """"your dad" adds nothing next to "your dad's health"."""
    out = []
    for text in texts:
        low = text.lower()
        if not any(low != other.lower() and low in other.lower() for other in texts):
            out.append(text)
    return out


def _quotes(conn: sqlite3.Connection, sid: int, words: JournalWording) -> list[str]:
    w = words.recap
    out: list[str] = []
    for (transcript,) in conn.execute(
        "SELECT transcript FROM turns WHERE session_id = ? ORDER BY id", (sid,)
    ):
        for sentence in _SENTENCE.findall(transcript):
            tokens = sentence.split()
            if len(tokens) >= 3:
                out.append(reflect(" ".join(tokens[: w.max_quote_words]).strip(" ,;:")))
                break
        if len(out) >= w.max_quotes:
            break
    return out


def _feelings(
    conn: sqlite3.Connection, where: str, args: tuple, limit: int, words: JournalWording
) -> list[str]:
    if limit <= 0:
        return []
    ex = words.extraction
    ignored = [label.lower() for label in ex.ignored_feelings] or [""]
    marks = ", ".join("?" for _ in ignored)
    rows = conn.execute(
        "SELECT f.label, COUNT(*) AS n, MAX(f.score) AS top FROM turn_feelings f"
        f" JOIN turns t ON t.id = f.turn_id WHERE {where} AND f.score >= ?"
        f" AND f.label NOT IN ({marks}) GROUP BY f.label ORDER BY n DESC, top DESC LIMIT ?",
        (*args, ex.feeling_threshold, *ignored, limit),
    ).fetchall()
    return [words.feeling_words.get(label, label) for label, _, _ in rows]


def describe_day(at: datetime, now: datetime, words: JournalWording) -> str:
    w = words.recap
    days = (now.date() - at.date()).days
    if days <= 0:
        return w.today
    if days == 1:
        return w.yesterday
    names = {
        "weekday": calendar.day_name[at.weekday()],
        "month": calendar.month_name[at.month],
        "day_of_month": ordinal(at.day),
    }
    return (w.this_week if days < 7 else w.older).format(**names)


def last_session_topics(
    conn: sqlite3.Connection, before: int | None, words: JournalWording
) -> str:
    """The topics of the last conversation with turns, or the start of what was said."""
    sid = _last_session(conn, before)
    if sid is None:
        return ""
    and_word = words.lists.and_word
    topics = _topics(conn, sid, words.recap.max_topics)
    return join_words(topics or _quotes(conn, sid, words), and_word)


def last_session_recap(
    conn: sqlite3.Connection, before: int | None, now: datetime, words: JournalWording
) -> str:
    sid = _last_session(conn, before)
    if sid is None:
        return ""
    w = words.recap
    and_word = words.lists.and_word
    first = conn.execute(
        "SELECT at FROM turns WHERE session_id = ? ORDER BY id LIMIT 1", (sid,)
    ).fetchone()[0]
    day = describe_day(from_db(first), now, words)
    topics = _topics(conn, sid, w.max_topics)
    if topics:
        parts = [w.opening.format(day=day, topics=join_words(topics, and_word))]
    else:
        quotes = _quotes(conn, sid, words)
        if not quotes:
            return ""
        parts = [w.quotes.format(day=day, quotes=join_words(quotes, and_word))]
    feelings = _feelings(conn, "t.session_id = ?", (sid,), w.max_feelings, words)
    if feelings:
        parts.append(w.feelings.format(feelings=join_words(feelings, and_word)))
    return " ".join(parts)


def _count_words(n: int, words: JournalWording) -> str:
    s = words.summary
    return s.once if n == 1 else s.twice if n == 2 else s.many.format(n=n)


def period_summary(
    conn: sqlite3.Connection, since: datetime, until: datetime, words: JournalWording
) -> str:
    s = words.summary
    and_word = words.lists.and_word
    lo, hi = to_db(since), to_db(until)
    sessions, turns = conn.execute(
        "SELECT COUNT(DISTINCT session_id), COUNT(*) FROM turns WHERE at >= ? AND at < ?",
        (lo, hi),
    ).fetchone()
    if not turns:
        return ""
    span = until - since
    if timedelta(days=6, hours=12) <= span <= timedelta(days=7, hours=12):
        parts = [s.opening_week.format(count=_count_words(sessions, words))]
    else:
        names = {"weekday": calendar.day_name[since.weekday()],
                 "month": calendar.month_name[since.month], "day_of_month": ordinal(since.day)}
        since_words = words.recap.older.format(**names).removeprefix("on ").strip()
        parts = [s.opening_since.format(count=_count_words(sessions, words), since=since_words)]
    themes = [
        text for text, in conn.execute(
            "SELECT th.text FROM threads th JOIN (SELECT MAX(id) AS id, COUNT(*) AS n"
            " FROM threads WHERE said_at >= ? AND said_at < ? AND kind IN ('worry', 'person')"
            " GROUP BY key) g ON g.id = th.id ORDER BY g.n DESC, g.id DESC LIMIT ?",
            (lo, hi, s.max_themes + 2),
        )
    ]
    themes = _drop_contained(themes)[: s.max_themes]
    if themes:
        parts.append(s.themes.format(themes=join_words(themes, and_word)))
    elif s.max_words:
        common = _common_words(conn, lo, hi, words)
        if common:
            parts.append(s.words.format(words=join_words(common, and_word)))
    if s.max_events:
        events = [
            text for text, in conn.execute(
                "SELECT MAX(text) FROM threads WHERE said_at >= ? AND said_at < ?"
                " AND kind = 'event' GROUP BY key ORDER BY MIN(due) LIMIT ?",
                (lo, hi, s.max_events),
            )
        ]
        if events:
            parts.append(s.events.format(events=join_words(events, and_word)))
    feelings = _feelings(conn, "t.at >= ? AND t.at < ?", (lo, hi), s.max_feelings, words)
    if feelings:
        parts.append(s.feelings.format(feelings=join_words(feelings, and_word)))
    return " ".join(parts)


def _common_words(
    conn: sqlite3.Connection, lo: str, hi: str, words: JournalWording
) -> list[str]:
    stop = {w.lower().replace("'", "") for w in words.extraction.stopwords}
    counts: Counter[str] = Counter()
    for (transcript,) in conn.execute(
        "SELECT transcript FROM turns WHERE at >= ? AND at < ?", (lo, hi)
    ):
        for token in _WORD.findall(transcript):
            low = token.lower().replace("\u2019", "'")
            if len(low) >= 3 and low.replace("'", "") not in stop:
                counts[low] += 1
    return [word for word, n in counts.most_common(words.summary.max_words) if n >= 2]
