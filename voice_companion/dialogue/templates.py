"""Choosing reply templates so that none repeats within 20 turns and no reply is said twice."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from voice_companion.dialogue.wording import template_fields

WINDOW = 20  # a template is not used again within this many replies
# A feeling said as a fact: "you're {feel}", "being {feel}", "it's left you {feel}".
_STATING = re.compile(
    r"(?i)\b(?:being|you're|you are|you were|you've been|you seem|you sound|left you|leaving you"
    r"|leaves you|makes you|made you|and still)\s+(?:\w+\s+)?\{feel\w*\}"
)


@dataclass(frozen=True)
class Pick:
    text: str
    template_id: str


class TemplateBook:
    """All template pools of one conversation, with their use history."""

    def __init__(self, pools: dict[str, list[str]], banned: list[str],
                 seed: int | None = None) -> None:
        self.pools = pools
        self.fields = {name: [template_fields(t) for t in pool] for name, pool in pools.items()}
        self.last_used: dict[str, int] = {}
        self.rng = random.Random(seed)
        self._stating: dict[str, set[str]] = {}
        self.banned_re = re.compile(
            r"(?<![\w'])(?:" + "|".join(re.escape(b) for b in sorted(banned, key=len,
                                                                       reverse=True)) + r")",
            re.I,
        )

    def stating(self, pool: str) -> set[str]:
        """Ids of the templates in ``pool`` that say a feeling as a fact about the person
        ("You're {feel}.", "Being {feel} is hard.", "You're {feel_a}, and still {feel_b}."),
        not as a feeling ("You feel {feel}.")."""
        if pool not in self._stating:
            self._stating[pool] = {
                f"{pool}.{i}" for i, t in enumerate(self.pools.get(pool, []))
                if _STATING.search(t)
            }
        return self._stating[pool]

    def is_banned(self, text: str) -> bool:
        return bool(self.banned_re.search(text))

    def _fresh_id(self, template_id: str, turn: int) -> bool:
        last = self.last_used.get(template_id)
        return last is None or turn - last >= WINDOW

    def pick(self, pool: str, values: dict[str, str], turn: int, exclude: set[str] | None = None,
             stale_ok: bool = False) -> Pick | None:
        """A rendered template from ``pool`` whose {names} all have values, or None."""
        templates = self.pools.get(pool, [])
        have = {k for k, v in values.items() if v}
        exclude = exclude or set()
        order = list(range(len(templates)))
        self.rng.shuffle(order)
        fresh: list[int] = []
        stale: list[int] = []
        for i in order:
            tid = f"{pool}.{i}"
            if tid in exclude or not self.fields[pool][i] <= have:
                continue
            (fresh if self._fresh_id(tid, turn) else stale).append(i)
        fresh.sort(key=lambda i: self.last_used.get(f"{pool}.{i}", -10**6))
        stale.sort(key=lambda i: self.last_used.get(f"{pool}.{i}", -10**6))
        for i in fresh + (stale if stale_ok else []):
            text = templates[i].format_map(values)
            if self.is_banned(text):
                continue
            return Pick(text, f"{pool}.{i}")
        return None

    def commit(self, template_ids: list[str], turn: int) -> None:
        for tid in template_ids:
            self.last_used[tid] = turn
