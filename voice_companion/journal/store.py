"""The private journal: every finished turn, kept in one transaction, and the person's control.

Each finished turn (with the threads found in it) is committed in one transaction with
``synchronous=FULL``, so a crash, ``kill -9`` or power cut loses at most the turn in progress.
Forgetting deletes the rows (threads, feelings and audio go with their turn) with
``secure_delete`` on, then checkpoints and truncates the write-ahead log, so the forgotten words
are gone from the bytes of the database file, not just hidden.

One :class:`Journal` may be shared between threads; several processes may use the same file at
once (SQLite's write-ahead log and a busy timeout serialise the writers).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from voice_companion.dialogue.base import Emotion, PastThread
from voice_companion.journal import memory, recap
from voice_companion.journal.errors import JournalError
from voice_companion.journal.memory import JournalThread
from voice_companion.journal.schema import connect, dumps, journal_path
from voice_companion.journal.timefmt import from_db, local, to_db
from voice_companion.journal.wording import wording


@dataclass(frozen=True)
class SessionInfo:
    """One conversation in the journal."""

    id: int
    started_at: datetime
    ended_at: datetime | None
    turns: int


@dataclass(frozen=True)
class StoredTurn:
    """One finished turn as stored."""

    id: int
    session_id: int
    at: datetime
    transcript: str
    reply: str
    acts: list[str]
    emotions: list[dict]
    safety: str | None
    interrupted: bool
    has_audio: bool


_TURN_COLUMNS = (
    "t.id, t.session_id, t.at, t.transcript, t.reply, t.acts, t.emotions, t.safety,"
    " t.interrupted, EXISTS (SELECT 1 FROM audio a WHERE a.turn_id = t.id)"
)


def _turn_from_row(row: Sequence[Any]) -> StoredTurn:
    tid, sid, at, transcript, reply, acts, emotions, safety, interrupted, has_audio = row
    try:
        acts_list = [str(a) for a in json.loads(acts or "[]")]
    except ValueError:
        acts_list = []
    return StoredTurn(
        id=tid,
        session_id=sid,
        at=from_db(at),
        transcript=transcript,
        reply=reply,
        acts=acts_list,
        emotions=memory.emotions_of(emotions),
        safety=safety,
        interrupted=bool(interrupted),
        has_audio=bool(has_audio),
    )


class Journal:
    """The journal file in a data folder. Open it with :meth:`Journal.open`."""

    saving = True  # NullJournal says False

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._lock = threading.RLock()
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, data_dir: Path) -> Journal:
        """Open (or create) ``data_dir/journal.sqlite3``; folder 0700, file 0600."""
        conn, path = connect(Path(data_dir))
        return cls(conn, path)

    @staticmethod
    def path_in(data_dir: Path) -> Path:
        return journal_path(data_dir)

    @staticmethod
    def exists(data_dir: Path) -> bool:
        """Whether a journal file is already there (without creating one)."""
        path = journal_path(data_dir)
        return path.exists() and path.stat().st_size > 0

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._conn.execute("PRAGMA optimize")
            except sqlite3.Error:
                pass
            self._conn.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._check_open()
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction; committed only if the block finishes."""
        with self._lock:
            self._check_open()
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                try:
                    self._conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.Error):
                    raise self._failed(exc) from exc
                raise

    def _check_open(self) -> None:
        if self._closed:
            raise JournalError("The journal is closed.", "Open it again with Journal.open().")

    def _failed(self, exc: sqlite3.Error) -> JournalError:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return JournalError(
                f"The journal {self.path} is busy: another program has held it for too long.",
                "Close other voice-companion windows and try again.",
            )
        return JournalError(
            f"The journal {self.path} could not be read or written ({exc}).",
            "If this keeps happening the file may be damaged: move it aside to start a new one.",
        )

    def _scrub(self) -> None:
        """Copy the write-ahead log into the file and empty it, so deleted words leave disk."""
        for attempt in range(20):
            try:
                busy = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            except sqlite3.OperationalError:
                busy = 1
            if not busy:
                return
            time.sleep(0.05 * (attempt + 1))

    # ------------------------------------------------------------------ sessions and turns

    def start_session(self, started_at: datetime | None = None) -> int:
        with self._write() as conn:
            cur = conn.execute("INSERT INTO sessions (started_at) VALUES (?)", (to_db(started_at),))
            return int(cur.lastrowid or 0)

    def end_session(self, sid: int, ended_at: datetime | None = None) -> None:
        with self._write() as conn:
            conn.execute("UPDATE sessions SET ended_at = ? WHERE id = ?", (to_db(ended_at), sid))

    def add_turn(
        self,
        sid: int,
        *,
        transcript: str,
        reply: str,
        acts: Sequence[str] = (),
        emotions: Sequence[Emotion | dict] = (),
        safety: Any = None,
        interrupted: bool = False,
        at: datetime | None = None,
        audio_wav: bytes | None = None,
    ) -> int:
        """Store one finished turn, and the threads found in it, in one transaction."""
        when = local(at)
        feelings = _emotion_dicts(emotions)
        safety_text = getattr(safety, "category", safety)
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (sid,)).fetchone() is None:
                raise JournalError(
                    f"There is no session {sid} in the journal.",
                    "Start a session with start_session() before adding turns.",
                )
            cur = conn.execute(
                "INSERT INTO turns (session_id, at, transcript, reply, acts, emotions, safety,"
                " interrupted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sid, to_db(when), transcript, reply, dumps([str(a) for a in acts]),
                    dumps(feelings), None if safety_text is None else str(safety_text),
                    int(bool(interrupted)),
                ),
            )
            tid = int(cur.lastrowid or 0)
            if audio_wav is not None:
                conn.execute("INSERT INTO audio (turn_id, wav) VALUES (?, ?)", (tid, audio_wav))
            memory.record_turn(
                conn, turn_id=tid, session_id=sid, transcript=transcript, emotions=feelings,
                at=when, words=wording(),
            )
            return tid

    def mark_interrupted(self, tid: int, spoken_text: str) -> None:
        """The reply was cut off: keep only the words that were actually spoken."""
        with self._write() as conn:
            conn.execute(
                "UPDATE turns SET reply = ?, interrupted = 1 WHERE id = ?", (spoken_text, tid)
            )
        self._scrub()

    # ------------------------------------------------------------------ memory

    def open_threads(self, now: datetime | None = None, limit: int = 20) -> list[PastThread]:
        """Threads still worth following (newest first), for the engine's memory."""
        with self._read() as conn:
            return list(memory.open_threads(conn, local(now), limit))

    def due_thread(self, now: datetime | None = None) -> PastThread | None:
        """At most one thread to check in on at the start of a new session.

        An event whose day has come (today or up to two weeks ago), else the latest worry from
        the last session with turns; never a thread that was answered, nor anything the person
        once declined to talk about. Call it before or right after ``start_session``.
        """
        with self._read() as conn:
            return memory.due_thread(conn, local(now))

    def resolve_thread(
        self, thread_id: int, status: Literal["answered", "declined"],
        at: datetime | None = None,
    ) -> None:
        """The person answered or declined the check-in: it (and its repeats) won't come back."""
        if status not in ("answered", "declined"):
            raise ValueError(f"status must be 'answered' or 'declined', not {status!r}")
        with self._write() as conn:
            if memory.resolve(conn, thread_id, status, local(at)) == 0:
                raise JournalError(
                    f"There is no thread {thread_id} in the journal.",
                    "It may have been forgotten along with the turn it came from.",
                )

    def threads(self, session_id: int | None = None) -> list[JournalThread]:
        """Every stored thread (of one session), in the order they were said."""
        where, args = (
            ("WHERE session_id = ?", (session_id,)) if session_id is not None else ("", ())
        )
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {memory.THREAD_COLUMNS} FROM threads {where} ORDER BY id", args
            ).fetchall()
        return [memory.thread_from_row(row) for row in rows]

    def trace(self, thread: PastThread | int) -> StoredTurn | None:
        """The stored turn a thread came from."""
        thread_id = thread if isinstance(thread, int) else thread.id
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {_TURN_COLUMNS} FROM turns t JOIN threads th ON th.turn_id = t.id"
                " WHERE th.id = ?",
                (thread_id,),
            ).fetchone()
        return _turn_from_row(row) if row else None

    # ------------------------------------------------------------------ forgetting

    def forget_turn(self, tid: int) -> bool:
        """Delete a turn and everything kept from it; its words leave the file."""
        with self._write() as conn:
            deleted = conn.execute("DELETE FROM turns WHERE id = ?", (tid,)).rowcount
        self._scrub()
        return deleted > 0

    def forget_last_turn(self, sid: int) -> bool:
        """"Forget that": delete the latest stored turn of session ``sid``."""
        with self._write() as conn:
            deleted = conn.execute(
                "DELETE FROM turns WHERE id = (SELECT MAX(id) FROM turns WHERE session_id = ?)",
                (sid,),
            ).rowcount
        self._scrub()
        return deleted > 0

    def forget_session(self, sid: int) -> bool:
        """Delete a whole conversation and everything kept from it."""
        with self._write() as conn:
            deleted = conn.execute("DELETE FROM sessions WHERE id = ?", (sid,)).rowcount
        self._scrub()
        return deleted > 0

    def forget_all(self) -> int:
        """Delete every conversation; returns how many turns were deleted."""
        with self._write() as conn:
            turns = conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0]
            conn.execute("DELETE FROM threads")
            conn.execute("DELETE FROM sessions")
        with self._lock:
            self._scrub()
            try:
                self._conn.execute("VACUUM")  # shrink the file to an empty journal
            except sqlite3.Error:
                pass
            self._scrub()
        return int(turns)

    # ------------------------------------------------------------------ looking back

    def last_session_recap(
        self, before_session: int | None = None, now: datetime | None = None
    ) -> str:
        """Spoken answer to "what did I talk about last time?"; "" when nothing is stored.

        Pass the current session as ``before_session`` so it is not the one recapped.
        """
        with self._read() as conn:
            return recap.last_session_recap(conn, before_session, local(now), wording())

    def last_session_topics(self, before_session: int | None = None) -> str:
        """Just the topics of the last session ("your interview on Friday and your sister")."""
        with self._read() as conn:
            return recap.last_session_topics(conn, before_session, wording())

    def period_summary(self, since: datetime, until: datetime | None = None) -> str:
        """Spoken themes and feelings between ``since`` and ``until`` ("read me my week")."""
        with self._read() as conn:
            return recap.period_summary(conn, local(since), local(until), wording())

    # ------------------------------------------------------------------ reading

    def sessions(self) -> list[SessionInfo]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT s.id, s.started_at, s.ended_at,"
                " (SELECT COUNT(*) FROM turns t WHERE t.session_id = s.id)"
                " FROM sessions s ORDER BY s.id"
            ).fetchall()
        return [SessionInfo(r[0], from_db(r[1]), from_db(r[2]), r[3]) for r in rows]

    def session(self, sid: int) -> SessionInfo | None:
        return next((s for s in self.sessions() if s.id == sid), None)

    def turns(
        self, sid: int | None = None, since: datetime | None = None
    ) -> list[StoredTurn]:
        """Stored turns, oldest first: of one session, and/or from ``since`` on."""
        clauses, args = [], []
        if sid is not None:
            clauses.append("t.session_id = ?")
            args.append(sid)
        if since is not None:
            clauses.append("t.at >= ?")
            args.append(to_db(since))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_TURN_COLUMNS} FROM turns t {where} ORDER BY t.id", args
            ).fetchall()
        return [_turn_from_row(row) for row in rows]

    def turn(self, tid: int) -> StoredTurn | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {_TURN_COLUMNS} FROM turns t WHERE t.id = ?", (tid,)
            ).fetchone()
        return _turn_from_row(row) if row else None

    def audio(self, tid: int) -> bytes | None:
        with self._read() as conn:
            row = conn.execute("SELECT wav FROM audio WHERE turn_id = ?", (tid,)).fetchone()
        return bytes(row[0]) if row else None


def _emotion_dicts(emotions: Sequence[Emotion | dict]) -> list[dict]:
    out = []
    for item in emotions:
        try:
            emotion = item if isinstance(item, Emotion) else Emotion.model_validate(item)
        except ValidationError as exc:
            raise ValueError(f"Not a feeling (label and score 0..1): {item!r}") from exc
        out.append({"label": emotion.label, "score": round(float(emotion.score), 4)})
    return out
