"""``voice-companion journal``: list, show, export, forget (with confirmation) and summary."""

from __future__ import annotations

import argparse
import io
import json
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from voice_companion.config import Settings
from voice_companion.journal import Journal, JournalError
from voice_companion.journal.cli import add_journal_parser, run_journal

MARK = "PELICAN-SECRET-6613"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="voice-companion")
    add_journal_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["journal", *argv])


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture()
def filled(settings: Settings) -> dict[str, int]:
    now = datetime.now().replace(microsecond=0)
    old = now - timedelta(days=20)
    with Journal.open(settings.data_dir) as journal:
        s1 = journal.start_session(old)
        t1 = journal.add_turn(s1, transcript="Old news about the garden.", reply="Tell me more.",
                              acts=["open_question"], emotions=[], safety=None, at=old)
        journal.end_session(s1, old + timedelta(minutes=5))
        s2 = journal.start_session(now - timedelta(days=2))
        t2 = journal.add_turn(
            s2, transcript=f"{MARK} I'm worried about my sister Maya.",
            reply="You care about her a lot.", acts=["complex_reflection"],
            emotions=[{"label": "nervousness", "score": 0.8}], safety=None,
            at=now - timedelta(days=2),
        )
        t3 = journal.add_turn(
            s2, transcript="My exam is on the 30th and my sister Maya can't come.",
            reply="That's disappointing.", acts=["simple_reflection"],
            emotions=[{"label": "nervousness", "score": 0.7}], safety=None, interrupted=True,
            at=now - timedelta(days=2) + timedelta(minutes=1),
        )
    return {"s1": s1, "s2": s2, "t1": t1, "t2": t2, "t3": t3}


def raw(settings: Settings) -> bytes:
    return b"".join(p.read_bytes() for p in Path(settings.data_dir).iterdir())


def test_list_shows_every_conversation(settings, filled, capsys) -> None:
    assert run_journal(parse("list"), settings) == 0
    out = capsys.readouterr().out
    assert "Your journal" in out
    assert "Old news about the garden" in out
    assert "PELICAN-SECRET" in out
    lines = [line.split() for line in out.splitlines()]
    assert any(parts[:1] == [str(filled["s1"])] for parts in lines)
    assert any(parts[:1] == [str(filled["s2"])] and "2" in parts for parts in lines)


def test_show_one_conversation(settings, filled, capsys) -> None:
    assert run_journal(parse("show", str(filled["s2"])), settings) == 0
    out = capsys.readouterr().out
    assert MARK in out
    assert "You care about her a lot." in out
    assert "cut off" in out
    assert "nervousness" in out
    assert "worry: your sister Maya" in out or "person: your sister Maya" in out
    assert "Old news" not in out
    with pytest.raises(JournalError, match="no session 99"):
        run_journal(parse("show", "99"), settings)


def test_export_json(settings, filled, capsys) -> None:
    assert run_journal(parse("export", "--format", "json"), settings) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["format"] == "voice-companion-journal"
    assert [s["id"] for s in doc["sessions"]] == [filled["s1"], filled["s2"]]
    turns = doc["sessions"][1]["turns"]
    assert [t["id"] for t in turns] == [filled["t2"], filled["t3"]]
    assert turns[0]["transcript"].startswith(MARK)
    assert turns[0]["feelings"] == [{"label": "nervousness", "score": 0.8}]
    assert turns[1]["interrupted"] is True and turns[1]["has_audio"] is False
    kinds = {(t["kind"], t["text"]) for t in doc["sessions"][1]["threads"]}
    assert ("person", "your sister Maya") in kinds
    assert all(t["turn_id"] in (filled["t2"], filled["t3"]) for t in doc["sessions"][1]["threads"])


def test_export_since_filters_and_markdown(settings, filled, capsys) -> None:
    since = (datetime.now() - timedelta(days=7)).date().isoformat()
    assert run_journal(parse("export", "--since", since), settings) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Journal")
    assert f"## Session {filled['s2']}:" in out
    assert f"## Session {filled['s1']}:" not in out
    assert "Old news" not in out
    assert "**You**" in out and MARK in out
    assert "*(cut off)*" in out
    assert "### Threads" in out


def test_export_to_a_private_file(settings, filled, tmp_path, capsys) -> None:
    target = tmp_path / "out" / "journal.json"
    target.parent.mkdir()
    assert run_journal(parse("export", "--format", "json", "--output", str(target)),
                       settings) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert len(json.loads(target.read_text())["sessions"]) == 2
    assert str(target) in capsys.readouterr().out


def test_bad_date_is_a_clear_usage_error(capsys) -> None:
    with pytest.raises(SystemExit):
        parse("export", "--since", "last tuesday")
    assert "use YYYY-MM-DD" in capsys.readouterr().err


def test_forget_refuses_without_a_terminal_or_yes(settings, filled, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))  # piped, not a terminal
    with pytest.raises(JournalError) as err:
        run_journal(parse("forget", "--turn", str(filled["t2"])), settings)
    assert "no terminal" in err.value.what and "--yes" in err.value.fix
    assert MARK.encode() in raw(settings)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_forget_asks_and_no_means_no(settings, filled, monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", FakeTerminal("no\n"))
    assert run_journal(parse("forget", "--turn", str(filled["t2"])), settings) == 1
    out = capsys.readouterr().out
    assert "cannot be undone" in out and "Nothing was forgotten" in out
    assert MARK.encode() in raw(settings)


def test_forget_turn_after_confirming(settings, filled, monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", FakeTerminal("yes\n"))
    assert run_journal(parse("forget", "--turn", str(filled["t2"])), settings) == 0
    assert "Forgotten" in capsys.readouterr().out
    assert MARK.encode() not in raw(settings)
    with Journal.open(settings.data_dir) as journal:
        assert journal.turn(filled["t2"]) is None
        assert journal.turn(filled["t3"]) is not None


def test_forget_session_and_all_with_yes(settings, filled, capsys) -> None:
    assert run_journal(parse("forget", "--session", str(filled["s2"]), "--yes"), settings) == 0
    assert MARK.encode() not in raw(settings)
    with Journal.open(settings.data_dir) as journal:
        assert [s.id for s in journal.sessions()] == [filled["s1"]]
    with pytest.raises(JournalError, match="no session"):
        run_journal(parse("forget", "--session", str(filled["s2"]), "--yes"), settings)
    with pytest.raises(JournalError, match="no turn"):
        run_journal(parse("forget", "--turn", "12345", "--yes"), settings)
    assert run_journal(parse("forget", "--all", "--yes"), settings) == 0
    assert b"garden" not in raw(settings)
    assert run_journal(parse("list"), settings) == 0
    assert "empty" in capsys.readouterr().out


def test_forget_needs_exactly_one_target(capsys) -> None:
    with pytest.raises(SystemExit):
        parse("forget", "--yes")
    with pytest.raises(SystemExit):
        parse("forget", "--turn", "1", "--all")


def test_summary_week_and_all(settings, filled, capsys) -> None:
    assert run_journal(parse("summary", "--week"), settings) == 0
    week = capsys.readouterr().out
    assert "This past week, we talked once." in week
    assert "your sister Maya" in week
    assert "nervous" in week
    assert "garden" not in week
    assert run_journal(parse("summary"), settings) == 0
    everything = " ".join(capsys.readouterr().out.split())
    assert "we talked twice" in everything


def test_reading_an_absent_journal_creates_nothing(settings, capsys) -> None:
    for argv in (["list"], ["summary", "--week"], ["export", "--format", "json"]):
        assert run_journal(parse(*argv), settings) == 0
    out = capsys.readouterr().out
    assert "empty" in out
    assert '"sessions": []' in out
    with pytest.raises(JournalError, match="empty"):
        run_journal(parse("show", "1"), settings)
    assert run_journal(parse("forget", "--all", "--yes"), settings) == 0
    assert not Path(settings.data_dir).exists()


def test_the_parser_points_at_run_journal() -> None:
    assert parse("list").handler is run_journal


def test_the_persons_words_are_never_read_as_markup(settings, capsys) -> None:
    with Journal.open(settings.data_dir) as journal:
        sid = journal.start_session()
        journal.add_turn(sid, transcript="I typed [bold]this[/bold] and [red]that", reply="ok",
                         acts=[], emotions=[], safety=None)
    assert run_journal(parse("list"), settings) == 0
    assert run_journal(parse("show", str(sid)), settings) == 0
    out = capsys.readouterr().out
    assert out.count("[bold]this[/bold]") == 2
