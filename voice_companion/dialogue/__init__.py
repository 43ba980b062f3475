"""The dialogue engine: what the companion says back. See :mod:`.base` for the interface."""

from __future__ import annotations

from voice_companion.dialogue.base import (
    ACTS,
    DialogueEngine,
    Emotion,
    PastThread,
    Reply,
    Safety,
)

__all__ = ["ACTS", "DialogueEngine", "Emotion", "PastThread", "Reply", "Safety", "create_engine"]


def create_engine(locale: str = "US", memory: list[PastThread] | None = None) -> DialogueEngine:
    """A fresh engine for one conversation, knowing ``memory`` from earlier sessions."""
    from voice_companion.dialogue.engine import ReflectiveEngine

    return ReflectiveEngine(locale=locale, memory=list(memory or []))
