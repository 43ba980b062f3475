"""The dialogue engine's interface: user text in; reply text, acts, feelings and safety out.

The conversation loop only ever talks to a :class:`DialogueEngine`. Everything inside an engine
(how it reflects, which feelings it hears, how it detects crisis) can be replaced without
touching the loop, the command line or the journal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

Act = Literal[
    "simple_reflection",
    "complex_reflection",
    "open_question",
    "closed_question",
    "affirmation",
    "summary",
    "safety",
    "greeting",
    "closing",
    "silence_prompt",
    "command",
]
ACTS: tuple[str, ...] = Act.__args__  # type: ignore[attr-defined]


class Emotion(BaseModel):
    """A feeling heard in the person's words (GoEmotions-style label, score 0..1)."""

    label: str
    score: float = Field(ge=0.0, le=1.0)


class Safety(BaseModel):
    """Set when the person's words suggest danger; the reply then gives real help."""

    category: str


class Reply(BaseModel):
    """What the companion says back, and what kind of thing it is."""

    text: str
    acts: list[str] = Field(default_factory=list)
    emotions: list[Emotion] = Field(default_factory=list)
    safety: Safety | None = None


class PastThread(BaseModel):
    """Something the person said in an earlier session that is worth following up.

    Produced by the journal; every thread points at the stored turn it came from, so a
    recollection can always be traced back to what the person actually said.
    """

    id: int
    kind: Literal["event", "worry", "person", "feeling"]
    text: str  # the person's words, e.g. "the interview on Friday"
    turn_id: int
    said_at: datetime
    due: datetime | None = None


@runtime_checkable
class DialogueEngine(Protocol):
    """One conversation's listener. A new engine is made for each session."""

    def greet(self, check_in: PastThread | None = None) -> Reply:
        """The opening line; with ``check_in``, a gentle, declinable follow-up on that thread."""
        ...

    def respond(self, text: str) -> Reply:
        """Answer one finished user turn."""
        ...

    def silence_prompt(self) -> Reply:
        """A gentle line after a long silence (never nagging)."""
        ...

    def close(self) -> Reply:
        """A closing summary of what the person said, then goodbye."""
        ...

    def summary(self) -> Reply:
        """A summary of the conversation so far (without ending it)."""
        ...
