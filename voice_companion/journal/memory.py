"""Threads in the database: keeping them from each turn, and choosing which to follow up.

Every function takes an open connection; the caller owns the transaction, so a turn and the
threads found in it are committed together.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from typing import Literal

from voice_companion.dialogue.base import PastThread
from voice_companion.journal.threads import extract_threads, feeling_phrase
from voice_companion.journal.timefmt import from_db, to_db
from voice_companion.journal.wording import JournalWording

# An event is followed up from the day it was due until this many days later.
EVENT_FOLLOW_UP_DAYS = 14

ThreadStatus = Literal["open", "answered", "declined"]

# Once the person declines a check-in, that thread is not raised again, even when mentioned again.
_NOT_DECLINED = (
    "NOT EXISTS (SELECT 1 FROM threads d WHERE d.status = 'declined' AND d.key = {t}.key)"
)


class JournalThread(PastThread):
    """A :class:`PastThread` with what the journal also knows about it."""

    quote: str  # the exact words in the stored transcript of ``turn_id``
    session_id: int
    status: ThreadStatus = "open"


THREAD_COLUMNS = "id, kind, text, quote, turn_id, session_id, said_at, due, status"


def thread_from_row(row: sqlite3.Row | tuple) -> JournalThread:
    tid, kind, text, quote, turn_id, session_id, said_at, due, status = row
    return JournalThread(
        id=tid,
        kind=kind,
        text=text,
        quote=quote,
        turn_id=turn_id,
        session_id=session_id,
        said_at=from_db(said_at),
        due=from_db(due),
        status=status,
    )


def emotions_of(raw: str | None) -> list[dict]:
    """Stored feelings as a list of ``{"label", "score"}``; anything unreadable is skipped."""
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        return []
    out = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("label"), str):
            try:
                out.append({"label": item["label"], "score": float(item.get("score", 0.0))})
            except (TypeError, ValueError):
                continue
    return out


def record_turn(
    conn: sqlite3.Connection,
    *,
    turn_id: int,
    session_id: int,
    transcript: str,
    emotions: list[dict],
    at: datetime,
    words: JournalWording,
) -> list[int]:
    """Store the feelings of a turn and the threads found in it; returns the new thread ids."""
    best: dict[str, float] = {}
    for emotion in emotions:
        label = emotion["label"].strip().lower()
        if label:
            best[label] = max(best.get(label, 0.0), float(emotion["score"]))
    conn.executemany(
        "INSERT OR REPLACE INTO turn_feelings (turn_id, label, score) VALUES (?, ?, ?)",
        [(turn_id, label, score) for label, score in best.items()],
    )
    said_at = to_db(at)
    new_ids: list[int] = []
    for cand in extract_threads(transcript, at, words.extraction):
        if _open_in_session(conn, cand.key, session_id):
            continue
        new_ids.append(
            _insert(conn, turn_id, session_id, cand.kind, cand.text, cand.quote, cand.key,
                    said_at, to_db(cand.due) if cand.due else None)
        )
    new_ids.extend(_recurring_feelings(conn, turn_id, session_id, transcript, best, said_at,
                                       words))
    return new_ids


def _open_in_session(conn: sqlite3.Connection, key: str, session_id: int) -> bool:
    row = conn.execute(
        "SELECT 1 FROM threads WHERE status = 'open' AND key = ? AND session_id = ? LIMIT 1",
        (key, session_id),
    ).fetchone()
    return row is not None


def _insert(
    conn: sqlite3.Connection, turn_id: int, session_id: int, kind: str, text: str, quote: str,
    key: str, said_at: str, due: str | None,
) -> int:
    cur = conn.execute(
        "INSERT INTO threads (turn_id, session_id, kind, text, quote, key, said_at, due)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (turn_id, session_id, kind, text, quote, key, said_at, due),
    )
    return int(cur.lastrowid or 0)


def _recurring_feelings(
    conn: sqlite3.Connection, turn_id: int, session_id: int, transcript: str,
    best: dict[str, float], said_at: str, words: JournalWording,
) -> list[int]:
    ex = words.extraction
    ignored = {label.lower() for label in ex.ignored_feelings}
    quotes_used: set[str] = set()
    new_ids: list[int] = []
    for label, score in sorted(best.items(), key=lambda item: -item[1]):
        if label in ignored or score < ex.feeling_threshold:
            continue
        earlier = conn.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM turn_feelings WHERE label = ? AND score >= ?"
            " AND turn_id != ? LIMIT ?)",
            (label, ex.feeling_threshold, turn_id, ex.recurring_min_turns - 1),
        ).fetchone()[0]
        if earlier < ex.recurring_min_turns - 1:
            continue
        key = f"feeling:{label}"
        if _open_in_session(conn, key, session_id):
            continue
        names = [name for name in (words.feeling_words.get(label), label) if name]
        phrase = feeling_phrase(transcript, names, ex)
        if phrase is None or phrase[1] in quotes_used:
            continue
        quotes_used.add(phrase[1])
        new_ids.append(
            _insert(conn, turn_id, session_id, "feeling", phrase[0], phrase[1], key, said_at, None)
        )
    return new_ids


def open_threads(conn: sqlite3.Connection, now: datetime, limit: int) -> list[JournalThread]:
    """The latest mention of each open thread, newest first; events long past are left out."""
    stale = to_db(datetime.combine(now.date(), datetime.min.time())
                  - timedelta(days=EVENT_FOLLOW_UP_DAYS))
    rows = conn.execute(
        f"SELECT {_prefixed('th')} FROM threads th"
        " JOIN (SELECT MAX(id) AS id FROM threads WHERE status = 'open' GROUP BY key) latest"
        " ON latest.id = th.id"
        " WHERE th.said_at <= ? AND (th.kind != 'event' OR th.due >= ?)"
        f" AND {_NOT_DECLINED.format(t='th')}"
        " ORDER BY th.said_at DESC, th.id DESC LIMIT ?",
        (to_db(now), stale, limit),
    ).fetchall()
    return [thread_from_row(row) for row in rows]


def due_thread(conn: sqlite3.Connection, now: datetime) -> JournalThread | None:
    """At most one thread to check in on: an event due by today, else a worry from last time."""
    midnight = datetime.combine(now.date(), datetime.min.time())
    row = conn.execute(
        f"SELECT {THREAD_COLUMNS} FROM threads WHERE kind = 'event' AND status = 'open'"
        f" AND due < ? AND due >= ? AND said_at < ? AND {_NOT_DECLINED.format(t='threads')}"
        " ORDER BY due DESC, id DESC LIMIT 1",
        (
            to_db(midnight + timedelta(days=1)),
            to_db(midnight - timedelta(days=EVENT_FOLLOW_UP_DAYS)),
            to_db(now),
        ),
    ).fetchone()
    if row:
        return thread_from_row(row)
    last = conn.execute(
        "SELECT session_id FROM turns WHERE at < ? ORDER BY at DESC, id DESC LIMIT 1",
        (to_db(now),),
    ).fetchone()
    if last is None:
        return None
    row = conn.execute(
        f"SELECT {THREAD_COLUMNS} FROM threads WHERE session_id = ? AND kind = 'worry'"
        f" AND status = 'open' AND said_at < ? AND {_NOT_DECLINED.format(t='threads')}"
        " ORDER BY id DESC LIMIT 1",
        (last[0], to_db(now)),
    ).fetchone()
    return thread_from_row(row) if row else None


def resolve(conn: sqlite3.Connection, thread_id: int, status: str, at: datetime) -> int:
    """Mark a thread, and every open mention of the same thing, answered or declined."""
    row = conn.execute("SELECT key FROM threads WHERE id = ?", (thread_id,)).fetchone()
    if row is None:
        return 0
    conn.execute(
        "UPDATE threads SET status = ?, resolved_at = ? WHERE id = ?",
        (status, to_db(at), thread_id),
    )
    cur = conn.execute(
        "UPDATE threads SET status = ?, resolved_at = ? WHERE key = ? AND status = 'open'",
        (status, to_db(at), row[0]),
    )
    return 1 + cur.rowcount


def _prefixed(alias: str) -> str:
    return ", ".join(f"{alias}.{col.strip()}" for col in THREAD_COLUMNS.split(","))
