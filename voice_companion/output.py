"""What the person (or a test) sees: the conversation on the terminal, or JSON Lines.

The JSON Lines contract is stable; other tools rely on it. One object per user turn::

    {"turn": 1, "transcript": "...", "reply": "...", "acts": [...], "emotions": [...],
     "safety": null, "audio": {"file": "a.wav", "start_s": 0.0, "end_s": 4.2},
     "timings_ms": {"asr": 310.0, "dialogue": 2.1, "tts": 15.0}}

``audio`` and ``timings_ms.asr`` appear only for audio input. A bad input is one line
``{"error": "...", "file": "..."}``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape

from voice_companion.dialogue import Reply


class AudioSpan(BaseModel):
    file: str
    start_s: float
    end_s: float


class TurnRecord(BaseModel):
    """One user turn and the companion's answer, as written in JSON Lines."""

    turn: int
    transcript: str
    reply: str
    acts: list[str]
    emotions: list[dict[str, Any]]
    safety: dict[str, str] | None
    audio: AudioSpan | None = None
    timings_ms: dict[str, float]
    interrupted: bool = False

    @classmethod
    def build(
        cls,
        turn: int,
        transcript: str,
        reply: Reply,
        timings_ms: dict[str, float],
        audio: AudioSpan | None = None,
    ) -> TurnRecord:
        return cls(
            turn=turn,
            transcript=transcript,
            reply=reply.text,
            acts=list(reply.acts),
            emotions=[e.model_dump() for e in reply.emotions],
            safety=reply.safety.model_dump() if reply.safety else None,
            audio=audio,
            timings_ms={k: round(v, 1) for k, v in timings_ms.items()},
        )

    def to_json(self) -> str:
        data = self.model_dump(exclude_none=True)
        data["safety"] = self.safety.copy() if self.safety else None
        if not self.interrupted:
            data.pop("interrupted", None)
        return json.dumps(data, ensure_ascii=False)


class Printer:
    """Prints the conversation for people (rich) or machines (JSON Lines)."""

    def __init__(self, json_lines: bool = False, quiet: bool = False) -> None:
        self.json_lines = json_lines
        self.quiet = quiet
        self.console = Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

    def companion(self, text: str) -> None:
        if not self.json_lines and not self.quiet:
            self.console.print(f"[bold cyan]Companion:[/] {escape(text)}")

    def person(self, text: str) -> None:
        if not self.json_lines and not self.quiet:
            self.console.print(f"[bold]You:[/] {escape(text)}")

    def status(self, text: str) -> None:
        if not self.json_lines and not self.quiet:
            self.err.print(f"[dim]{escape(text)}[/]")

    def turn(self, record: TurnRecord) -> None:
        if self.json_lines:
            sys.stdout.write(record.to_json() + "\n")
            sys.stdout.flush()
        else:
            self.person(record.transcript)
            self.companion(record.reply)

    def error(self, message: str, file: str | None = None) -> None:
        if self.json_lines:
            sys.stdout.write(json.dumps({"error": message, "file": file}) + "\n")
            sys.stdout.flush()
        else:
            self.err.print(f"[bold red]Error:[/] {escape(message)}")
