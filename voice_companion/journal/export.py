"""The journal as a file the person can keep: Markdown to read, JSON for programs.

Audio is never exported (only whether a turn had some); everything else is.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from voice_companion.journal.schema import SCHEMA_VERSION
from voice_companion.journal.store import Journal, SessionInfo, StoredTurn

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _collect(
    journal: Journal | None, since: datetime | None
) -> list[tuple[SessionInfo, list[StoredTurn]]]:
    if journal is None:
        return []
    by_session: dict[int, list[StoredTurn]] = {}
    for turn in journal.turns(since=since):
        by_session.setdefault(turn.session_id, []).append(turn)
    out = []
    for info in journal.sessions():
        turns = by_session.get(info.id, [])
        if since is not None and not turns:
            continue  # nothing said in this conversation since then
        out.append((info, turns))
    return out


def export_json(journal: Journal | None, since: datetime | None = None) -> str:
    """Every session (with turns from ``since`` on), its turns and its threads, as JSON."""
    sessions: list[dict[str, Any]] = []
    for info, turns in _collect(journal, since):
        kept = {t.id for t in turns}
        sessions.append(
            {
                "id": info.id,
                "started_at": info.started_at.isoformat(),
                "ended_at": info.ended_at.isoformat() if info.ended_at else None,
                "turns": [
                    {
                        "id": t.id,
                        "at": t.at.isoformat(),
                        "transcript": t.transcript,
                        "reply": t.reply,
                        "acts": t.acts,
                        "feelings": t.emotions,
                        "safety": t.safety,
                        "interrupted": t.interrupted,
                        "has_audio": t.has_audio,
                    }
                    for t in turns
                ],
                "threads": [
                    {
                        "id": th.id,
                        "kind": th.kind,
                        "text": th.text,
                        "quote": th.quote,
                        "turn_id": th.turn_id,
                        "said_at": th.said_at.isoformat(),
                        "due": th.due.isoformat() if th.due else None,
                        "status": th.status,
                    }
                    for th in journal.threads(info.id)
                    if th.turn_id in kept
                ],
            }
        )
    document = {
        "format": "voice-companion-journal",
        "schema_version": SCHEMA_VERSION,
        "exported_at": datetime.now().isoformat(timespec="seconds"),
        "since": since.isoformat() if since else None,
        "sessions": sessions,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")


def _when(dt: datetime) -> str:
    return dt.strftime("%A %d %B %Y, %H:%M")


def export_markdown(journal: Journal | None, since: datetime | None = None) -> str:
    """The journal as Markdown: one section per conversation, "You" and "Companion" turns."""
    lines = [
        "# Journal",
        "",
        f"Exported {_when(datetime.now())}. This file holds what you said: keep it private.",
        "",
    ]
    collected = _collect(journal, since)
    if not collected:
        lines += ["Nothing saved yet.", ""]
    for info, turns in collected:
        lines += [f"## Session {info.id}: {_when(info.started_at)}", ""]
        for t in turns:
            lines.append(f"**You** ({t.at.strftime('%H:%M')}, turn {t.id}): {_md(t.transcript)}")
            lines.append("")
            cut = " *(cut off)*" if t.interrupted else ""
            lines.append(f"**Companion:** {_md(t.reply)}{cut}")
            notes = []
            if t.emotions:
                notes.append(
                    "feelings: "
                    + ", ".join(f"{e['label']} {e['score']:.2f}" for e in t.emotions)
                )
            if t.safety:
                notes.append(f"safety: {t.safety}")
            if notes:
                lines += ["", f"*{_md('; '.join(notes))}*"]
            lines.append("")
        kept = {t.id for t in turns}
        threads = [
            th for th in journal.threads(info.id)
            if th.turn_id in kept
        ]
        if threads:
            lines += ["### Threads", ""]
            for th in threads:
                due = f", due {th.due.date().isoformat()}" if th.due else ""
                lines.append(f"- {th.kind}: {_md(th.text)} ({th.status}{due}; turn {th.turn_id})")
            lines.append("")
    return "\n".join(lines)
