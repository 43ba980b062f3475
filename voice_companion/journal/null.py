"""A journal that keeps nothing: for ``--no-journal`` and "don't save this"."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from voice_companion.dialogue.base import Emotion, PastThread


class NullJournal:
    """The :class:`~voice_companion.journal.Journal` interface; stores nothing, writes no file.

    Ids are still handed out (so the conversation loop needs no special case), but nothing can
    be recalled or forgotten: every look-back returns "" and every forget returns False.
    """

    path = None
    saving = False

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    @classmethod
    def open(cls, data_dir: Any = None) -> NullJournal:
        return cls()

    def close(self) -> None:
        return None

    def __enter__(self) -> NullJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def start_session(self, started_at: datetime | None = None) -> int:
        return next(self._ids)

    def end_session(self, sid: int, ended_at: datetime | None = None) -> None:
        return None

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
        return next(self._ids)

    def mark_interrupted(self, tid: int, spoken_text: str) -> None:
        return None

    def open_threads(self, now: datetime | None = None, limit: int = 20) -> list[PastThread]:
        return []

    def due_thread(self, now: datetime | None = None) -> PastThread | None:
        return None

    def resolve_thread(
        self, thread_id: int, status: Literal["answered", "declined"],
        at: datetime | None = None,
    ) -> None:
        if status not in ("answered", "declined"):
            raise ValueError(f"status must be 'answered' or 'declined', not {status!r}")

    def forget_turn(self, tid: int) -> bool:
        return False

    def forget_last_turn(self, sid: int) -> bool:
        return False

    def forget_session(self, sid: int) -> bool:
        return False

    def forget_all(self) -> int:
        return 0

    def last_session_recap(
        self, before_session: int | None = None, now: datetime | None = None
    ) -> str:
        return ""

    def last_session_topics(self, before_session: int | None = None) -> str:
        return ""

    def period_summary(self, since: datetime, until: datetime | None = None) -> str:
        return ""
