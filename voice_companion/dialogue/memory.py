"""What the listener remembers within one conversation: people, events, feelings, worries."""

from __future__ import annotations

from dataclasses import dataclass, field

from voice_companion.dialogue.analysis import Turn
from voice_companion.dialogue.base import PastThread
from voice_companion.dialogue.feelings import lexicon
from voice_companion.dialogue.pronouns import swap_words
from voice_companion.dialogue.text import STOPWORDS, content_words, words_only

_OWNED = frozenset({"your", "the", "his", "her", "their", "tomorrow's", "today's"})
_TRAILING_PREPOSITIONS = frozenset("of about at with for to that by in over on".split())
_FIRST_PERSON = frozenset("i i'm i've i'd i'll me my mine myself we us our".split())


@dataclass
class TurnRecord:
    index: int
    clause: str | None
    people: list[str]
    events: list[str]
    topics: list[str]
    feel: str | None  # the core feeling word, turned around ("fed up")
    feel_score: float
    valence: str


@dataclass
class ConversationMemory:
    records: list[TurnRecord] = field(default_factory=list)
    people: dict[str, list[int]] = field(default_factory=dict)
    events: dict[str, list[int]] = field(default_factory=dict)
    topics: dict[str, list[int]] = field(default_factory=dict)
    feelings: dict[str, list[int]] = field(default_factory=dict)
    worries: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    preferred: dict[str, str] = field(default_factory=dict)  # label -> the person's word
    banned: set[str] = field(default_factory=set)  # feeling words the person rejected
    linked: set[int] = field(default_factory=set)  # records already recalled
    used_threads: set[int] = field(default_factory=set)
    opening_topic: str | None = None  # the check-in thread of the greeting

    def add(self, turn: Turn, index: int) -> TurnRecord:
        feel = core_feeling(turn)
        record = TurnRecord(index, turn.clause, list(turn.people), list(turn.events),
                            list(turn.topics), feel, turn.feel.score if turn.feel else 0.0,
                            turn.valence)
        self.records.append(record)
        for store, items in ((self.people, turn.people), (self.events, turn.events),
                             (self.topics, turn.topics)):
            for item in items:
                store.setdefault(item, []).append(index)
        if feel and feel not in self.banned:
            self.feelings.setdefault(feel, []).append(index)
        for worry in turn.worries:
            if worry not in self.worries:
                self.worries.append(worry)
        if turn.value and turn.value not in self.values:
            self.values.append(turn.value)
        if turn.feel and turn.feel.label and turn.feel.own_word:
            self.preferred.setdefault(turn.feel.label, feel or turn.feel.reflect)
        return record

    def earlier_about(self, topics: list[str], now: int,
                      current: str | None = None) -> tuple[str, TurnRecord] | None:
        """An earlier turn (two or more back) about one of ``topics``, not recalled yet."""
        for topic in topics:
            for record in self.records:
                if record.index > now - 2 or record.index in self.linked or not record.clause:
                    continue
                head = topic.split()[-1].lower()
                if (topic in record.people + record.events + record.topics
                        and head in record.clause.lower().split()
                        and len(record.clause.split()) >= 4
                        and _different(record.clause, current)):
                    return topic, record
        return None

    def earlier_feeling(self, feel: str, now: int) -> bool:
        return any(i <= now - 2 for i in self.feelings.get(feel, []))

    def last_topic(self) -> str | None:
        for record in reversed(self.records):
            for group in (record.people, record.events, record.topics):
                for item in group:
                    if item.split()[0] in _OWNED or len(self.people.get(item, [])) >= 2:
                        return item  # a bare name must come up twice before it is reused
        return self.opening_topic

    def last_feeling(self) -> tuple[str, str] | None:
        for record in reversed(self.records):
            if record.feel and record.feel not in self.banned:
                return record.feel, record.valence
        return None

    def items(self, limit: int = 4) -> list[str]:
        ordered = sorted(
            [(i[0], name) for store in (self.people, self.events) for name, i in store.items()]
        )
        names = [name for _, name in ordered]
        if len(names) < 2:
            names += list(self.topics)
        out: list[str] = []
        heads: set[str] = set()
        for name in names:
            head = name.split()[-1].lower().removesuffix("s")  # "your friend", "your friends"
            if head not in heads:
                heads.add(head)
                out.append(name)
        return out[:limit]

    def feeling_words(self, limit: int = 3) -> list[str]:
        words = [w for w in self.feelings if w not in self.banned]
        for word in self.preferred.values():
            if word not in words and word not in self.banned:
                words.append(word)
        return words[-limit:]

    def salient_clause(self, exclude: str | None = None) -> str | None:
        candidates = [r for r in self.records if r.clause and r.clause != exclude]
        if not candidates:
            return None
        best = max(candidates, key=lambda r: (r.feel_score, len(r.clause or ""), -r.index))
        return best.clause

    def matching_thread(self, turn: Turn, threads: list[PastThread]) -> PastThread | None:
        """A thread from an earlier session that this turn is about (shares a content word)."""
        mine = {_stem(w) for w in turn.content} - {""}
        for thread in threads:
            if thread.id in self.used_threads:
                continue
            theirs = {_stem(w) for w in content_words(thread.text)} - {""}
            if mine & theirs:
                return thread
        return None


def core_feeling(turn: Turn) -> str | None:
    """The person's feeling word without hedges, intensifiers or objects ("fed up")."""
    hit = turn.feel
    if hit is None:
        return None
    words = hit.surface.split()
    # said back another way ("sick of" as "fed up"): without its "of" it would mean something
    # else ("sick")
    words = lexicon().reflect_as.get(tuple(words), words)
    while words and words[-1] in _TRAILING_PREPOSITIONS:
        words.pop()
    return " ".join(swap_words(words)) if words else None


def spoken_thread(text: str) -> str:
    """A journal thread as it can be said back: verbatim unless it speaks in the first person."""
    words = words_only(text)
    if any(w in _FIRST_PERSON for w in words):
        return " ".join(swap_words(text.split()))
    return text.strip()


def _different(earlier: str, current: str | None) -> bool:
    """Whether two clauses say different things (at most half their words shared)."""
    if not current:
        return True
    a, b = set(words_only(earlier)), set(words_only(current))
    return len(a & b) <= 0.5 * min(len(a), len(b))


def _stem(word: str) -> str:
    word = word.lower()
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word if word not in STOPWORDS else ""
