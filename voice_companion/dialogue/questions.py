"""Open questions that follow from what the person just said (never "why")."""

from __future__ import annotations

from voice_companion.dialogue.analysis import Turn
from voice_companion.dialogue.memory import core_feeling

Q = "questions."


def question_pools(turn: Turn) -> list[tuple[str, dict[str, str]]]:
    """Question pools that fit this turn, best first; the general pool is always last."""
    out: list[tuple[str, dict[str, str]]] = []
    flags = turn.flags
    if "advice" in flags:
        out.append((Q + "handback", {}))
    if "dont_know" in flags:
        out.append((Q + "dont_know", {}))
    if turn.valence == "positive":
        out.append((Q + "positive", {}))
    if turn.worries:
        out.append((Q + "worry", {}))
    if turn.events:
        out.append((Q + "event", {"event": turn.events[0]}))
    if turn.people:
        if turn.valence == "negative" or turn.weighty:
            out.append((Q + "person_hard", {"person": turn.people[0]}))
        out.append((Q + "person", {"person": turn.people[0]}))
    core = core_feeling(turn)
    if core and turn.valence != "positive":
        out.append((Q + "feeling", {"feel": core}))
    out.append((Q + "general", {}))
    return out
