"""The journal file: privacy, what a turn stores, one transaction per turn, forgetting for real."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from voice_companion.dialogue.base import Emotion, Safety
from voice_companion.journal import Journal, JournalError, NullJournal, open_journal
from voice_companion.journal import store as store_module

T0 = datetime(2025, 5, 5, 19, 0)  # a Monday evening


def raw_bytes(folder: Path) -> bytes:
    """Every byte of the database and its write-ahead log, as they are on disk."""
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def fill(journal: Journal, sid: int, count: int, start: datetime = T0) -> list[int]:
    return [
        journal.add_turn(
            sid,
            transcript=f"ordinary turn number {i} about work and my week",
            reply=f"It sounds like turn {i} mattered to you.",
            acts=["complex_reflection"],
            emotions=[],
            safety=None,
            at=start + timedelta(minutes=i),
        )
        for i in range(count)
    ]


def test_folder_and_file_are_private(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    with Journal.open(data) as journal:
        sid = journal.start_session()
        journal.add_turn(sid, transcript="hello", reply="hi", acts=[], emotions=[], safety=None)
        assert mode(data) == 0o700
        assert mode(journal.path) == 0o600
        for extra in data.iterdir():  # -wal and -shm inherit the file's permissions
            assert mode(extra) == 0o600, extra


def test_existing_loose_folder_and_file_are_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Journal.open(data):
        pass
    os.chmod(data, 0o755)
    os.chmod(data / "journal.sqlite3", 0o644)
    with Journal.open(data) as journal:
        assert mode(data) == 0o700
        assert mode(journal.path) == 0o600


def test_pragmas_wal_secure_delete_foreign_keys(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "data") as journal:
        conn = journal._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_a_turn_stores_everything_it_was_given(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "data") as journal:
        sid = journal.start_session(T0)
        tid = journal.add_turn(
            sid,
            transcript="I can't sleep, everything feels heavy",
            reply="It sounds exhausting to carry all that.",
            acts=["complex_reflection", "open_question"],
            emotions=[Emotion(label="sadness", score=0.81), {"label": "fear", "score": 0.3}],
            safety=Safety(category="self_harm"),
            interrupted=True,
            at=T0 + timedelta(minutes=1),
        )
        journal.end_session(sid, T0 + timedelta(minutes=5))
        turn = journal.turn(tid)
        assert turn is not None
        assert turn.session_id == sid
        assert turn.at == T0 + timedelta(minutes=1)
        assert turn.transcript == "I can't sleep, everything feels heavy"
        assert turn.reply == "It sounds exhausting to carry all that."
        assert turn.acts == ["complex_reflection", "open_question"]
        assert turn.emotions == [
            {"label": "sadness", "score": 0.81},
            {"label": "fear", "score": 0.3},
        ]
        assert turn.safety == "self_harm"
        assert turn.interrupted is True
        assert turn.has_audio is False
        [info] = journal.sessions()
        assert (info.id, info.started_at, info.ended_at, info.turns) == (
            sid, T0, T0 + timedelta(minutes=5), 1,
        )


def test_audio_is_stored_only_when_given(tmp_path: Path) -> None:
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(64))
    with Journal.open(tmp_path / "data") as journal:
        sid = journal.start_session()
        plain = journal.add_turn(sid, transcript="a", reply="b", acts=[], emotions=[], safety=None)
        spoken = journal.add_turn(
            sid, transcript="c", reply="d", acts=[], emotions=[], safety=None, audio_wav=wav
        )
        assert journal.audio(plain) is None
        assert journal.audio(spoken) == wav
        assert journal.turn(spoken).has_audio and not journal.turn(plain).has_audio
        assert journal._conn.execute("SELECT COUNT(*) FROM audio").fetchone()[0] == 1


def test_mark_interrupted_keeps_only_what_was_spoken(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Journal.open(data) as journal:
        sid = journal.start_session()
        tid = journal.add_turn(
            sid, transcript="my week was hard", acts=[], emotions=[], safety=None,
            reply="It sounds like this week asked a lot of you UNSPOKEN-TAIL-5521 and more.",
        )
        journal.mark_interrupted(tid, "It sounds like this week")
        turn = journal.turn(tid)
        assert turn.reply == "It sounds like this week"
        assert turn.interrupted
        assert b"UNSPOKEN-TAIL-5521" not in raw_bytes(data)


def test_turn_and_its_threads_commit_together_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Journal.open(tmp_path / "data") as journal:
        sid = journal.start_session(T0)

        def explode(*args: object, **kwargs: object) -> list[int]:
            raise RuntimeError("power cut while keeping threads")

        monkeypatch.setattr(store_module.memory, "record_turn", explode)
        with pytest.raises(RuntimeError):
            journal.add_turn(
                sid, transcript="My interview is on Friday", reply="r", acts=[], emotions=[],
                safety=None, at=T0,
            )
        assert journal.turns(sid) == []
        assert journal.threads() == []
        monkeypatch.undo()
        tid = journal.add_turn(
            sid, transcript="My interview is on Friday", reply="r", acts=[], emotions=[],
            safety=None, at=T0,
        )
        assert [t.turn_id for t in journal.threads()] == [tid]


def test_adding_to_a_missing_session_is_a_clear_error(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "data") as journal:
        with pytest.raises(JournalError, match="no session 42"):
            journal.add_turn(42, transcript="x", reply="y", acts=[], emotions=[], safety=None)
        with pytest.raises(ValueError, match="feeling"):
            sid = journal.start_session()
            journal.add_turn(sid, transcript="x", reply="y", acts=[],
                             emotions=[{"label": "joy", "score": 3}], safety=None)
        assert journal.turns() == []


def test_closed_journal_refuses_politely(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "data")
    journal.close()
    with pytest.raises(JournalError, match="closed"):
        journal.start_session()


# --------------------------------------------------------------------------- forgetting


MARK_TURN = "AARDVARK-QUARTZ-9931"
MARK_REPLY = "MOONLIGHT-REPLY-4417"


def _journal_with_secret(data: Path, long: bool = False) -> tuple[Journal, int, int]:
    journal = Journal.open(data)
    sid = journal.start_session(T0)
    fill(journal, sid, 150)
    body = " ".join(["and it keeps going"] * 600) if long else ""
    secret = journal.add_turn(
        sid,
        transcript=f"{MARK_TURN} I'm worried about my brother's drinking {body}",
        reply=f"{MARK_REPLY} It sounds like you care about him a great deal.",
        acts=["complex_reflection"],
        emotions=[{"label": "fear", "score": 0.9}],
        safety=None,
        at=T0 + timedelta(hours=3),
        audio_wav=b"RIFF" + MARK_TURN.encode() + b"-AUDIO",
    )
    fill(journal, sid, 40, start=T0 + timedelta(hours=4))
    return journal, sid, secret


@pytest.mark.parametrize("long", [False, True], ids=["short-turn", "overflow-pages"])
def test_forget_turn_removes_its_words_from_the_file_bytes(tmp_path: Path, long: bool) -> None:
    data = tmp_path / "data"
    journal, sid, secret = _journal_with_secret(data, long)
    assert MARK_TURN.encode() in raw_bytes(data)
    assert any(t.turn_id == secret for t in journal.threads())
    assert journal.forget_turn(secret) is True
    assert journal.turn(secret) is None
    assert all(t.turn_id != secret for t in journal.threads())
    assert journal.audio(secret) is None
    blob = raw_bytes(data)
    assert MARK_TURN.encode() not in blob
    assert MARK_REPLY.encode() not in blob
    assert b"brother's drinking" not in blob  # the thread text went with the turn
    assert len(journal.turns(sid)) == 190  # nothing else was touched
    assert journal.forget_turn(secret) is False
    journal.close()
    assert MARK_TURN.encode() not in raw_bytes(data)


def test_forget_last_turn_is_forget_that(tmp_path: Path) -> None:
    data = tmp_path / "data"
    journal, sid, secret = _journal_with_secret(data)
    other = journal.start_session(T0 + timedelta(days=1))
    assert journal.forget_last_turn(other) is False  # nothing said yet in that session
    last = journal.add_turn(
        sid, transcript=f"{MARK_TURN}-LAST my exam is tomorrow", reply="ok", acts=[],
        emotions=[], safety=None, at=T0 + timedelta(hours=5),
    )
    assert journal.forget_last_turn(sid) is True
    assert journal.turn(last) is None
    assert journal.turn(secret) is not None  # only the last one
    assert f"{MARK_TURN}-LAST".encode() not in raw_bytes(data)
    assert all(t.turn_id != last for t in journal.threads())
    journal.close()


def test_forget_session_and_forget_all(tmp_path: Path) -> None:
    data = tmp_path / "data"
    journal, sid, _ = _journal_with_secret(data)
    keep = journal.start_session(T0 + timedelta(days=2))
    kept = journal.add_turn(keep, transcript="KEEPSAKE-2203 my sister Ana visited", reply="r",
                            acts=[], emotions=[], safety=None, at=T0 + timedelta(days=2))
    assert journal.forget_session(sid) is True
    assert [s.id for s in journal.sessions()] == [keep]
    assert MARK_TURN.encode() not in raw_bytes(data)
    assert b"KEEPSAKE-2203" in raw_bytes(data)
    assert {t.turn_id for t in journal.threads()} == {kept}
    assert journal.forget_all() == 1
    assert journal.sessions() == [] and journal.threads() == [] and journal.turns() == []
    assert b"KEEPSAKE-2203" not in raw_bytes(data)
    assert b"sister" not in raw_bytes(data)
    # ids are never reused, so a stale id can never reach a newer turn
    sid2 = journal.start_session()
    assert sid2 > keep
    journal.close()


def test_null_journal_writes_nothing(tmp_path: Path) -> None:
    before = set(tmp_path.rglob("*"))
    journal = NullJournal()
    sid = journal.start_session()
    tid = journal.add_turn(sid, transcript="secret", reply="r", acts=[], emotions=[],
                           safety=None, audio_wav=b"RIFF")
    assert isinstance(tid, int) and tid != sid
    journal.mark_interrupted(tid, "r")
    assert journal.open_threads() == [] and journal.due_thread() is None
    assert journal.forget_last_turn(sid) is False and journal.forget_all() == 0
    assert journal.last_session_recap() == "" and journal.period_summary(T0) == ""
    journal.resolve_thread(1, "declined")
    with pytest.raises(ValueError):
        journal.resolve_thread(1, "maybe")  # type: ignore[arg-type]
    journal.end_session(sid)
    journal.close()
    assert set(tmp_path.rglob("*")) == before


def test_open_journal_follows_the_setting(tmp_path: Path) -> None:
    from voice_companion.config import Settings

    off = open_journal(Settings(journal=False, data_dir=tmp_path / "off"))
    assert isinstance(off, NullJournal)
    assert not (tmp_path / "off").exists()
    on = open_journal(Settings(data_dir=tmp_path / "on"))
    assert isinstance(on, Journal)
    on.close()
    assert Journal.exists(tmp_path / "on")


def test_nothing_outside_the_schema_can_be_stored(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "data") as journal:
        sid = journal.start_session()
        tid = journal.add_turn(sid, transcript="x", reply="y", acts=[], emotions=[], safety=None)
        with pytest.raises(sqlite3.IntegrityError):
            journal._conn.execute(
                "INSERT INTO threads (turn_id, session_id, kind, text, quote, key, said_at)"
                " VALUES (?, ?, 'rumour', 't', 'q', 'k', 'now')",
                (tid, sid),
            )


def test_null_journal_has_the_journal_interface() -> None:
    import inspect

    api = [
        "start_session", "add_turn", "mark_interrupted", "end_session", "open_threads",
        "due_thread", "resolve_thread", "forget_turn", "forget_session", "forget_all",
        "forget_last_turn", "last_session_recap", "last_session_topics", "period_summary",
        "close",
    ]
    for name in api:
        real = inspect.signature(getattr(Journal, name))
        null = inspect.signature(getattr(NullJournal, name))
        assert list(real.parameters) == list(null.parameters), name
    assert Journal.saving is True and NullJournal.saving is False
