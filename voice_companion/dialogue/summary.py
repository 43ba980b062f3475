"""Summaries that gather the threads of the conversation in the person's own words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from voice_companion.dialogue.memory import ConversationMemory
from voice_companion.dialogue.templates import Pick, TemplateBook


def join_items(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c" """
    seen: set[str] = set()  # "the weight and weight" says one thing twice
    kept = []
    for item in items:
        key = re.sub(r"^(?:the|your|a|an|this|that) ", "", item.lower().strip())
        if item and key not in seen:
            seen.add(key)
            kept.append(item)
    items = kept
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


@dataclass
class SummaryParts:
    picks: list[Pick]

    @property
    def text(self) -> str:
        return " ".join(p.text for p in self.picks)


def gather(memory: ConversationMemory, book: TemplateBook, turn: int, section: str,
           current_clause: str | None = None, min_threads: int = 2) -> SummaryParts | None:
    """The body of a summary: people and events, feelings, a worry, something they said.

    Returns None when there is too little to gather (fewer than ``min_threads`` threads).
    """
    picks: list[Pick] = []
    items = memory.items()
    feelings = memory.feeling_words()
    worry = memory.worries[-1] if memory.worries else None
    clause = current_clause or memory.salient_clause()
    value = memory.values[-1] if memory.values else None
    threads = sum(bool(x) for x in (items, feelings, worry, value)) + (1 if clause else 0)
    if threads < min_threads:
        return None
    intro = book.pick(f"{section}.intro", {}, turn, stale_ok=True)
    if intro:
        picks.append(intro)
    if items:
        pick = book.pick("summary.items", {"items": join_items(items)}, turn, stale_ok=True)
        if pick:
            picks.append(pick)
    if feelings:
        pick = book.pick("summary.feelings", {"feelings": join_items(feelings)}, turn,
                         stale_ok=True)
        if pick:
            picks.append(pick)
    if worry:
        pick = book.pick("summary.worry", {"worry": worry}, turn, stale_ok=True)
        if pick:
            picks.append(pick)
    if clause and (not items or not feelings or current_clause):
        pick = book.pick("summary.clause", {"clause": clause}, turn, stale_ok=True)
        if pick:
            picks.append(pick)
    if value:
        pick = book.pick("summary.value", {"value": value}, turn, stale_ok=True)
        if pick:
            picks.append(pick)
    return SummaryParts(picks)
