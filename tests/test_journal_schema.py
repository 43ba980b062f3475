"""Schema versions: an older journal is migrated with its data; a newer, damaged or foreign file
is refused with a clear message and left byte-for-byte as it was."""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from voice_companion.journal import Journal, JournalError
from voice_companion.journal.schema import APPLICATION_ID, SCHEMA_VERSION

# The version 1 schema exactly as version 1 of voice-companion wrote it (sessions and turns,
# no threads, no interrupted flag, no audio table).
V1_SCHEMA = [
    f"PRAGMA application_id = {APPLICATION_ID}",
    "CREATE TABLE sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL,"
    " ended_at TEXT)",
    "CREATE TABLE turns (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id INTEGER NOT NULL"
    " REFERENCES sessions(id) ON DELETE CASCADE, at TEXT NOT NULL, transcript TEXT NOT NULL,"
    " reply TEXT NOT NULL, acts TEXT NOT NULL DEFAULT '[]', emotions TEXT NOT NULL DEFAULT '[]',"
    " safety TEXT)",
    "CREATE INDEX turns_by_session ON turns(session_id, id)",
    "PRAGMA user_version = 1",
]


def make_v1(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    for sql in V1_SCHEMA:
        conn.execute(sql)
    conn.execute(
        "INSERT INTO sessions (started_at, ended_at) VALUES"
        " ('2025-04-28T18:00:00.000000', '2025-04-28T18:30:00.000000')"
    )
    turns = [
        ("2025-04-28T18:01:00.000000", "My exam is on Thursday and I'm worried about my mum.",
         "That's a lot at once.", ["complex_reflection"],
         [{"label": "nervousness", "score": 0.72}], None),
        ("2025-04-28T18:05:00.000000", "Some days I feel like nobody would notice if I left.",
         "I'm really glad you told me.", ["safety"], [{"label": "sadness", "score": 0.9}],
         "suicide_passive"),
    ]
    for at, transcript, reply, acts, emotions, safety in turns:
        conn.execute(
            "INSERT INTO turns (session_id, at, transcript, reply, acts, emotions, safety)"
            " VALUES (1, ?, ?, ?, ?, ?, ?)",
            (at, transcript, reply, json.dumps(acts), json.dumps(emotions), safety),
        )
    conn.commit()
    conn.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_version_1_journal_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    make_v1(data / "journal.sqlite3")
    with Journal.open(data) as journal:
        conn = journal._conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        columns = {row[1] for row in conn.execute("PRAGMA table_info(turns)")}
        assert "interrupted" in columns
        turns = journal.turns()
        assert [t.transcript for t in turns] == [
            "My exam is on Thursday and I'm worried about my mum.",
            "Some days I feel like nobody would notice if I left.",
        ]
        assert turns[0].acts == ["complex_reflection"]
        assert turns[0].emotions == [{"label": "nervousness", "score": 0.72}]
        assert turns[1].safety == "suicide_passive"
        assert not any(t.interrupted for t in turns)
        # the feelings table was filled from the old JSON column
        assert conn.execute("SELECT label, score FROM turn_feelings ORDER BY turn_id").fetchall() \
            == [("nervousness", 0.72), ("sadness", 0.9)]
        # threads were found in the old turns, dated from when they were said (a Monday)
        by_kind = {t.kind: t for t in journal.threads()}
        assert by_kind["event"].text == "your exam on Thursday"
        assert by_kind["event"].due == datetime(2025, 5, 1)
        assert by_kind["worry"].text == "your mum"
        assert all(t.turn_id == turns[0].id for t in by_kind.values())
        # and the migrated journal works as a new one
        sid = journal.start_session()
        tid = journal.add_turn(sid, transcript="new", reply="r", acts=[], emotions=[],
                               safety=None, interrupted=True)
        assert journal.turn(tid).interrupted
    # opening again does not migrate twice
    with Journal.open(data) as journal:
        assert len(journal.turns()) == 3
        assert len([t for t in journal.threads() if t.kind == "event"]) == 1


def test_failed_migration_leaves_the_old_version(tmp_path: Path, monkeypatch) -> None:
    from voice_companion.journal import schema

    data = tmp_path / "data"
    make_v1(data / "journal.sqlite3")

    def broken(conn: sqlite3.Connection) -> None:
        raise RuntimeError("killed halfway through the migration")

    steps = list(schema.MIGRATIONS[1])
    patched = [schema.MIGRATIONS[0], [*steps[:3], broken, *steps[3:]]]
    monkeypatch.setattr(schema, "MIGRATIONS", patched)
    with pytest.raises(RuntimeError):
        Journal.open(data)
    conn = sqlite3.connect(data / "journal.sqlite3")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert "interrupted" not in {row[1] for row in conn.execute("PRAGMA table_info(turns)")}
    assert conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 2
    conn.close()
    monkeypatch.undo()
    with Journal.open(data) as journal:
        assert len(journal.turns()) == 2


def test_newer_journal_is_refused_and_untouched(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = data / "journal.sqlite3"
    make_v1(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.execute("CREATE TABLE future_things (x)")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(JournalError) as err:
        Journal.open(data)
    assert "newer version" in err.value.what
    assert "untouched" in err.value.what
    assert "Update voice-companion" in err.value.fix
    assert digest(path) == before


def test_newer_journal_in_wal_mode_with_pending_log_is_untouched(tmp_path: Path) -> None:
    """A newer program killed with its log not yet copied into the file: neither is changed."""
    data = tmp_path / "data"
    path = data / "journal.sqlite3"
    make_v1(path)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    writer.execute("INSERT INTO sessions (started_at) VALUES ('2030-01-01T00:00:00.000000')")
    # copy the files as a crash would leave them (the writer never closed)
    crashed = tmp_path / "crashed"
    crashed.mkdir(mode=0o700)
    for name in ("journal.sqlite3", "journal.sqlite3-wal"):
        (crashed / name).write_bytes((data / name).read_bytes())
    writer.close()
    before = {name: digest(crashed / name) for name in ("journal.sqlite3", "journal.sqlite3-wal")}
    with pytest.raises(JournalError, match="newer version"):
        Journal.open(crashed)
    after = {name: digest(crashed / name) for name in before}
    assert after == before


@pytest.mark.parametrize("kind", ["random", "text", "truncated", "zeroed-middle", "tiny"])
def test_damaged_file_is_refused_and_untouched(tmp_path: Path, kind: str) -> None:
    data = tmp_path / "data"
    path = data / "journal.sqlite3"
    if kind in ("random", "text", "tiny"):
        data.mkdir(mode=0o700)
        rng = random.Random(5)
        content = {
            "random": bytes(rng.randrange(256) for _ in range(8192)),
            "text": b"# my notes\nthis is not a database\n" * 100,
            "tiny": b"SQLite format 3\x00\x10",
        }[kind]
        path.write_bytes(content)
    else:
        with Journal.open(data) as journal:
            sid = journal.start_session()
            for i in range(400):
                journal.add_turn(sid, transcript=f"turn {i} " + "words " * 40, reply="r",
                                 acts=[], emotions=[], safety=None)
        blob = path.read_bytes()
        assert len(blob) > 40_000
        if kind == "truncated":
            path.write_bytes(blob[: len(blob) // 2])
        else:
            middle = len(blob) // 2 // 4096 * 4096
            path.write_bytes(blob[:middle] + b"\x00" * 8192 + blob[middle + 8192:])
    os.chmod(path, 0o600)
    before = digest(path)
    with pytest.raises(JournalError) as err:
        Journal.open(data)
    message = str(err.value)
    assert "untouched" in message
    assert "damaged" in message or "not a SQLite database" in message
    assert "Move it aside" in err.value.fix
    assert digest(path) == before


def test_database_of_another_program_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    path = data / "journal.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.execute("INSERT INTO recipes VALUES ('soup')")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(JournalError, match="another program"):
        Journal.open(data)
    assert digest(path) == before


def test_empty_file_becomes_a_new_journal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "journal.sqlite3").write_bytes(b"")
    with Journal.open(data) as journal:
        assert journal._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert journal._conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
