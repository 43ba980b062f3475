"""``voice-companion journal``: see, export, summarise and forget the private journal.

    journal list
    journal show SESSION
    journal export [--format markdown|json] [--since DATE] [--output FILE]
    journal forget --turn ID | --session ID | --all [--yes]
    journal summary [--week | --since DATE] [--speak]

Reading commands never create a journal. ``forget`` asks for confirmation on the terminal;
``--yes`` confirms in advance, and without a terminal it refuses unless ``--yes`` is given.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from voice_companion.journal.errors import JournalError
from voice_companion.journal.export import export_json, export_markdown
from voice_companion.journal.store import Journal

_CONFIRM = ("y", "yes")


def parse_date(text: str) -> datetime:
    """``YYYY-MM-DD`` (or an ISO date and time) for ``--since``."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid date {text!r}: use YYYY-MM-DD, for example 2025-05-01"
        ) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def add_journal_parser(subparsers: Any) -> None:
    """Add ``journal`` and its commands to an argparse ``add_subparsers()`` object."""
    parser = subparsers.add_parser(
        "journal",
        help="see, export, summarise or forget your private journal",
        description="Your private journal of conversations: see it, export it, hear a summary "
        "of it, or forget any of it.",
    )
    parser.set_defaults(handler=run_journal)
    commands = parser.add_subparsers(dest="journal_command", metavar="COMMAND", required=True)

    commands.add_parser("list", help="list your conversations")

    show = commands.add_parser("show", help="show one conversation, turn by turn")
    show.add_argument("session", type=_positive, metavar="SESSION", help="session number")

    export = commands.add_parser("export", help="export the journal as Markdown or JSON")
    export.add_argument("--format", choices=("markdown", "json"), default="markdown")
    export.add_argument("--since", type=parse_date, metavar="DATE", help="from this day on")
    export.add_argument(
        "--output", type=Path, metavar="FILE", help="write to FILE (private, 0600) not the screen"
    )

    forget = commands.add_parser("forget", help="delete a turn, a conversation or everything")
    which = forget.add_mutually_exclusive_group(required=True)
    which.add_argument("--turn", type=_positive, metavar="ID", help="forget one turn")
    which.add_argument("--session", type=_positive, metavar="ID", help="forget a conversation")
    which.add_argument("--all", action="store_true", help="forget the whole journal")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    summary = commands.add_parser("summary", help="themes and feelings over a period")
    period = summary.add_mutually_exclusive_group()
    period.add_argument("--week", action="store_true", help="the past seven days")
    period.add_argument("--since", type=parse_date, metavar="DATE", help="from this day on")
    summary.add_argument("--speak", action="store_true", help="also say it out loud")


def run_journal(args: argparse.Namespace, settings: Any) -> int:
    """Run one ``journal`` command; returns the exit code. Problems raise JournalError."""
    command = getattr(args, "journal_command", None)
    console = Console(highlight=False, soft_wrap=False)
    data_dir = Path(settings.data_dir)
    if command == "forget":
        return _forget(args, data_dir, console)
    if command not in ("list", "show", "export", "summary"):
        raise JournalError(
            f"Unknown journal command {command!r}.",
            "Use one of: list, show, export, forget, summary.",
        )
    if not Journal.exists(data_dir):
        if command == "show":
            raise JournalError(
                f"There is no session {args.session}: the journal is empty.",
                "Nothing has been saved yet.",
            )
        if command == "export":
            return _export(None, args, console)
        console.print("Your journal is empty: nothing has been saved yet.")
        return 0
    with Journal.open(data_dir) as journal:
        if command == "list":
            return _list(journal, console)
        if command == "show":
            return _show(journal, args.session, console)
        if command == "export":
            return _export(journal, args, console)
        return _summary(journal, args, settings, console)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _list(journal: Journal, console: Console) -> int:
    sessions = journal.sessions()
    if not sessions:
        console.print("Your journal is empty: nothing has been saved yet.")
        return 0
    first_words = {}
    for info in sessions:
        turns = journal.turns(info.id)
        first_words[info.id] = _short(turns[0].transcript, 50) if turns else ""
    table = Table(title="Your journal", box=box.SIMPLE_HEAD)
    table.add_column("Session", justify="right")
    table.add_column("Started")
    table.add_column("Turns", justify="right")
    table.add_column("First words")
    for info in sessions:
        table.add_row(
            str(info.id),
            info.started_at.strftime("%a %d %b %Y %H:%M"),
            str(info.turns),
            Text(first_words[info.id]),
        )
    console.print(table)
    return 0


def _show(journal: Journal, sid: int, console: Console) -> int:
    info = journal.session(sid)
    if info is None:
        raise JournalError(
            f"There is no session {sid} in the journal.",
            "Run `voice-companion journal list` to see the sessions.",
        )
    ended = f", ended {info.ended_at.strftime('%H:%M')}" if info.ended_at else ""
    console.print(
        f"[bold]Session {sid}: {info.started_at.strftime('%A %d %B %Y %H:%M')}{ended}[/bold]"
    )
    for t in journal.turns(sid):
        console.print()
        console.print(f"[bold]Turn {t.id}[/bold], {t.at.strftime('%H:%M')}")
        console.print(Text("You: ", style="bold") + Text(t.transcript))
        cut = " (cut off)" if t.interrupted else ""
        console.print(Text("Companion: ", style="bold") + Text(t.reply + cut))
        notes = []
        if t.emotions:
            notes.append("feelings: " + ", ".join(e["label"] for e in t.emotions))
        if t.safety:
            notes.append(f"safety: {t.safety}")
        if notes:
            console.print(Text("; ".join(notes), style="dim"))
    threads = journal.threads(sid)
    if threads:
        console.print()
        console.print("[bold]Threads kept from this conversation[/bold]")
        for th in threads:
            due = f", due {th.due.date().isoformat()}" if th.due else ""
            console.print(Text(f"  {th.kind}: {th.text} ({th.status}{due}; turn {th.turn_id})"))
    return 0


def _export(journal: Journal | None, args: argparse.Namespace, console: Console) -> int:
    render = export_json if args.format == "json" else export_markdown
    text = render(journal, args.since)
    if args.output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return 0
    path: Path = args.output.expanduser()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(path, 0o600)
    except OSError as exc:
        raise JournalError(
            f"Cannot write the export to {path}: {exc.strerror or exc}.",
            "Choose a file in a folder you can write to.",
        ) from exc
    console.print(Text(f"Exported the journal to {path} (readable only by you)."))
    return 0


def _summary(
    journal: Journal, args: argparse.Namespace, settings: Any, console: Console
) -> int:
    now = datetime.now()
    if args.week:
        since = now - timedelta(days=7)
    elif args.since is not None:
        since = args.since
    else:
        turns = journal.turns()
        since = turns[0].at if turns else now
    text = journal.period_summary(since, now)
    if not text:
        console.print("There's nothing in your journal from that period yet.")
        return 0
    console.print(Text(text))
    if args.speak:
        from voice_companion.voice import speak_text

        speak_text(text, settings)
    return 0


def _forget(args: argparse.Namespace, data_dir: Path, console: Console) -> int:
    if not Journal.exists(data_dir):
        console.print("Your journal is empty: there is nothing to forget.")
        return 0
    with Journal.open(data_dir) as journal:
        if args.all:
            sessions = journal.sessions()
            count = sum(s.turns for s in sessions)
            what = (
                f"the whole journal ({_plural(len(sessions), 'conversation')}, "
                f"{_plural(count, 'turn')})"
            )
        elif args.session is not None:
            info = journal.session(args.session)
            if info is None:
                raise JournalError(
                    f"There is no session {args.session} in the journal.",
                    "Run `voice-companion journal list` to see the sessions.",
                )
            what = (
                f"session {info.id} ({_plural(info.turns, 'turn')}, started "
                f"{info.started_at.strftime('%A %d %B %Y %H:%M')})"
            )
        else:
            turn = journal.turn(args.turn)
            if turn is None:
                raise JournalError(
                    f"There is no turn {args.turn} in the journal.",
                    "Run `voice-companion journal show SESSION` to see the turn numbers.",
                )
            what = f'turn {turn.id} ("{_short(turn.transcript, 40)}")'
        if not args.yes and not _confirm(what, console):
            console.print("Nothing was forgotten.")
            return 1
        if args.all:
            journal.forget_all()
        elif args.session is not None:
            journal.forget_session(args.session)
        else:
            journal.forget_turn(args.turn)
    console.print(Text(f"Forgotten: {what}, and everything kept from it."))
    return 0


def _confirm(what: str, console: Console) -> bool:
    stdin = sys.stdin
    if stdin is None or not stdin.isatty():
        raise JournalError(
            f"Not forgetting {what}: forgetting needs confirmation and there is no terminal to "
            "ask on.",
            "Add --yes to confirm on the command line.",
        )
    console.print(Text(f"This deletes {what} and everything kept from it. It cannot be undone."))
    console.print("Type yes to confirm: ", end="")
    sys.stdout.flush()
    answer = stdin.readline()
    return answer.strip().lower() in _CONFIRM
