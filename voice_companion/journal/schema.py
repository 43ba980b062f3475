"""The journal file: a private SQLite database, its schema and its migrations.

Opening never damages what is there. An existing file is first inspected through a read-only
connection: a file that is not SQLite, is damaged, belongs to another program, or was written by
a newer voice-companion raises :class:`JournalError` and is left exactly as it was. Only then is
it opened for writing and migrated, one transaction per schema version, so an interrupted
migration leaves the previous version intact.

``PRAGMA user_version`` holds the schema version; ``MIGRATIONS[n]`` takes a journal from version
``n`` to ``n + 1``. Each step is SQL, or a Python function for work SQL cannot do.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import quote

from voice_companion.journal.errors import JournalError
from voice_companion.journal.memory import emotions_of, record_turn
from voice_companion.journal.timefmt import from_db
from voice_companion.journal.wording import wording

FILE_NAME = "journal.sqlite3"
APPLICATION_ID = 0x56434A4C  # "VCJL": marks the file as a voice-companion journal
BUSY_TIMEOUT_MS = 10_000
_SQLITE_HEADER = b"SQLite format 3\x00"

Step = str | Callable[[sqlite3.Connection], None]


def _backfill_threads(conn: sqlite3.Connection) -> None:
    """Version 2 keeps threads: find them in every turn stored by version 1."""
    words = wording()
    rows = conn.execute(
        "SELECT id, session_id, transcript, emotions, at FROM turns ORDER BY id"
    ).fetchall()
    for turn_id, session_id, transcript, emotions, at in rows:
        record_turn(
            conn,
            turn_id=turn_id,
            session_id=session_id,
            transcript=transcript,
            emotions=emotions_of(emotions),
            at=from_db(at),
            words=words,
        )


MIGRATIONS: list[Sequence[Step]] = [
    # 0 -> 1: sessions and turns.
    (
        f"PRAGMA application_id = {APPLICATION_ID}",
        "CREATE TABLE sessions ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " started_at TEXT NOT NULL,"
        " ended_at TEXT)",
        "CREATE TABLE turns ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
        " at TEXT NOT NULL,"
        " transcript TEXT NOT NULL,"
        " reply TEXT NOT NULL,"
        " acts TEXT NOT NULL DEFAULT '[]',"
        " emotions TEXT NOT NULL DEFAULT '[]',"
        " safety TEXT)",
        "CREATE INDEX turns_by_session ON turns(session_id, id)",
    ),
    # 1 -> 2: interrupted replies, feelings by label, threads to follow up, optional audio.
    (
        "ALTER TABLE turns ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX turns_by_time ON turns(at)",
        "CREATE TABLE turn_feelings ("
        " turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,"
        " label TEXT NOT NULL,"
        " score REAL NOT NULL,"
        " PRIMARY KEY (turn_id, label)) WITHOUT ROWID",
        "CREATE INDEX feelings_by_label ON turn_feelings(label, score)",
        "CREATE TABLE threads ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,"
        " session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
        " kind TEXT NOT NULL CHECK (kind IN ('event', 'worry', 'person', 'feeling')),"
        " text TEXT NOT NULL,"
        " quote TEXT NOT NULL,"
        " key TEXT NOT NULL,"
        " said_at TEXT NOT NULL,"
        " due TEXT,"
        " status TEXT NOT NULL DEFAULT 'open'"
        "  CHECK (status IN ('open', 'answered', 'declined')),"
        " resolved_at TEXT)",
        "CREATE INDEX threads_by_turn ON threads(turn_id)",
        "CREATE INDEX threads_by_session ON threads(session_id, kind, status)",
        "CREATE INDEX threads_open ON threads(status, key, id)",
        "CREATE INDEX threads_due ON threads(kind, status, due)",
        "CREATE INDEX threads_by_time ON threads(said_at)",
        "CREATE TABLE audio ("
        " turn_id INTEGER PRIMARY KEY REFERENCES turns(id) ON DELETE CASCADE,"
        " wav BLOB NOT NULL)",
        _backfill_threads,
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)


def journal_path(data_dir: Path) -> Path:
    return Path(data_dir).expanduser() / FILE_NAME


def connect(data_dir: Path) -> tuple[sqlite3.Connection, Path]:
    """Open (creating or migrating) the journal in ``data_dir``; see the module docstring."""
    folder = Path(data_dir).expanduser()
    path = folder / FILE_NAME
    _private_folder(folder)
    if path.exists() and path.stat().st_size > 0:
        inspect(path)
    else:
        _private_file(path)
    try:
        os.chmod(path, 0o600)
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
    except (OSError, sqlite3.Error) as exc:
        raise _cannot_open(path, exc) from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise JournalError(
                f"The journal {path} cannot use write-ahead logging (mode {mode}).",
                "Keep the data folder on a local disk (not a network share).",
            )
        conn.execute("PRAGMA synchronous = FULL")  # a finished turn survives a power cut
        migrate(conn, path)
    except sqlite3.Error as exc:
        conn.close()
        raise _cannot_open(path, exc) from exc
    except BaseException:
        conn.close()
        raise
    return conn, path


def inspect(path: Path) -> int:
    """Check an existing journal without writing to it; returns its schema version."""
    with path.open("rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or not header.startswith(_SQLITE_HEADER):
        raise JournalError(
            f"The journal {path} is not a SQLite database (it may be damaged); it was left "
            "untouched.",
            f"Move it aside (for example to {path.name}.damaged) to start a new journal, or "
            "restore it from a backup.",
        )
    uri = f"file:{quote(str(path))}?mode=ro"
    try:
        ro = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise _cannot_open(path, exc) from exc
    try:
        version = ro.execute("PRAGMA user_version").fetchone()[0]
        app_id = ro.execute("PRAGMA application_id").fetchone()[0]
        if app_id not in (0, APPLICATION_ID) or (
            version == 0 and ro.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
        ):
            raise JournalError(
                f"The file {path} is a database of another program, not a voice-companion "
                "journal; it was left untouched.",
                "Move it elsewhere, or set data_dir to another folder.",
            )
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"The journal {path} was written by a newer version of voice-companion (journal "
                f"version {version}; this one reads up to {SCHEMA_VERSION}); it was left "
                "untouched.",
                "Update voice-companion to read it, or use --no-journal.",
            )
        problems = [row[0] for row in ro.execute("PRAGMA quick_check").fetchall()]
        if problems != ["ok"]:
            raise JournalError(
                f"The journal {path} is damaged ({problems[0]}); it was left untouched.",
                f"Move it aside (for example to {path.name}.damaged) to start a new journal, "
                "or restore it from a backup.",
            )
        return int(version)
    except sqlite3.DatabaseError as exc:
        raise JournalError(
            f"The journal {path} is damaged or unreadable ({exc}); it was left untouched.",
            f"Move it aside (for example to {path.name}.damaged) to start a new journal, or "
            "restore it from a backup.",
        ) from exc
    finally:
        ro.close()


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the journal up to :data:`SCHEMA_VERSION`, one transaction per version."""
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise JournalError(
                    f"The journal {path} was written by a newer version of voice-companion.",
                    "Update voice-companion to read it, or use --no-journal.",
                )
            if version == SCHEMA_VERSION:
                conn.execute("COMMIT")
                return
            for step in MIGRATIONS[version]:
                if callable(step):
                    step(conn)
                else:
                    conn.execute(step)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _private_folder(folder: Path) -> None:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if stat.S_IMODE(folder.stat().st_mode) != 0o700:
            os.chmod(folder, 0o700)
    except OSError as exc:
        raise JournalError(
            f"Cannot create or protect the journal folder {folder}: {exc.strerror or exc}.",
            "Check that the folder is yours and writable, or set data_dir to another folder.",
        ) from exc


def _private_file(path: Path) -> None:
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    except OSError as exc:
        raise _cannot_open(path, exc) from exc


def _cannot_open(path: Path, exc: BaseException) -> JournalError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return JournalError(
        f"Cannot open the journal {path}: {reason}.",
        "Check that the file and its folder are yours and writable, or use --no-journal.",
    )


def dumps(value: object) -> str:
    """JSON as stored in the journal (compact, non-ASCII kept)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
