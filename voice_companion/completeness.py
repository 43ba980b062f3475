"""Tell whether the words of a turn so far are a finished thought, for end-of-turn timing.

The loop waits briefly after a finished thought and longer after an unfinished one. A text is
unfinished when it has no words; when it trails off ("...", "-", a comma); or when its last words
leave a thought open: a conjunction, subordinator, article or possessive, a subject with no verb
("and then I"), an auxiliary or preposition left hanging ("the problem is", "I was talking to"),
a filler ("um", "you know"). Whisper puts a full stop after most partial transcripts, so a final
"." proves nothing; a "?" or "!" does (except after a hesitation or an article). The word lists
are in ``prompts/completeness.toml``; this module holds the rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from voice_companion.errors import PromptsError
from voice_companion.prompts import load_prompts, prompts_dir

__all__ = ["CompletenessWords", "is_unfinished", "load_completeness"]

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
# Whisper's notes about sound, not words: "[BLANK_AUDIO]", "(sighs)", "*coughs*".
_NOTES = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*")
_CLOSERS = "\"')]}»”’ \t\r\n"
_STRONG_END = "?!"


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(text.lower().replace("’", "'").replace("‘", "'")))


def _entries(values: list[str]) -> list[str]:
    for value in values:
        if not _tokens(value):
            raise ValueError(f"'{value}' has no words")
    return values


class _Lists(BaseModel):
    model_config = ConfigDict(extra="forbid")

    _check = field_validator("*")(_entries)


class AlwaysUnfinished(_Lists):
    hesitations: list[str]
    determiners: list[str]


class Unfinished(_Lists):
    conjunctions: list[str]
    subordinators: list[str]
    subject_pronouns: list[str]
    subject_contractions: list[str]
    fillers: list[str]
    intensifiers: list[str]


class Stranded(BaseModel):
    model_config = ConfigDict(extra="forbid")

    look_back: int = Field(ge=1, le=10)
    auxiliaries: list[str]
    prepositions: list[str]
    relative_words: list[str]
    answer_words: list[str]

    _check = field_validator("auxiliaries", "prepositions", "relative_words", "answer_words")(
        _entries
    )


class Endings(_Lists):
    complete: list[str]


class LeadIn(BaseModel):
    """A short turn that opens with a connective ("And so my friends.") is a lead-in."""

    model_config = ConfigDict(extra="forbid")

    openers: list[str] = Field(min_length=1)
    max_words: int = Field(ge=1, le=20)


class CompletenessWords(BaseModel):
    """The whole of ``prompts/completeness.toml``."""

    model_config = ConfigDict(extra="forbid")

    trailing_marks: list[str] = Field(min_length=1)
    always_unfinished: AlwaysUnfinished
    unfinished: Unfinished
    stranded: Stranded
    endings: Endings
    lead_in: LeadIn

    @field_validator("trailing_marks")
    @classmethod
    def _marks(cls, value: list[str]) -> list[str]:
        for mark in value:
            if not mark.strip() or _tokens(mark):
                raise ValueError(f"'{mark}' must be punctuation")
        return value


def load_completeness(folder: Path | None = None) -> CompletenessWords:
    """Read and validate ``prompts/completeness.toml`` (from ``folder`` when given)."""
    words = load_prompts("completeness", CompletenessWords, folder)
    try:
        _endings(words)
    except ValueError as exc:
        path = (folder or prompts_dir()) / "completeness.toml"
        raise PromptsError(
            f"The wording file {path} has a problem: {exc}.", "Keep each ending in one list."
        ) from exc
    return words


class _Kind(Enum):
    COMPLETE = "a finished ending"
    ALWAYS = "always unfinished"
    UNLESS_STRONG = "unfinished unless ? or !"
    AUXILIARY = "an auxiliary"
    PREPOSITION = "a preposition"


def _endings(words: CompletenessWords) -> dict[tuple[str, ...], _Kind]:
    """Every listed ending and what it means; ValueError when one is listed two ways."""
    groups: list[tuple[_Kind, list[str]]] = [
        (_Kind.COMPLETE, words.endings.complete),
        (_Kind.AUXILIARY, words.stranded.auxiliaries),
        (_Kind.PREPOSITION, words.stranded.prepositions),
    ]
    groups += [(_Kind.ALWAYS, v) for v in words.always_unfinished.model_dump().values()]
    groups += [(_Kind.UNLESS_STRONG, v) for v in words.unfinished.model_dump().values()]
    endings: dict[tuple[str, ...], _Kind] = {}
    for kind, entries in groups:
        for entry in entries:
            key = _tokens(entry)
            if endings.setdefault(key, kind) is not kind:
                raise ValueError(
                    f"'{entry}' is listed both as {endings[key].value} and as {kind.value}"
                )
    return endings


@dataclass(frozen=True)
class _Rules:
    marks: tuple[str, ...]
    endings: dict[tuple[str, ...], _Kind]
    longest: int
    look_back: int
    stops: frozenset[str]
    relative: frozenset[str]
    answers: frozenset[str]
    openers: tuple[tuple[str, ...], ...]
    lead_in_words: int

    @classmethod
    def build(cls, words: CompletenessWords) -> _Rules:
        endings = _endings(words)
        u = words.unfinished
        stops = {w for entry in u.conjunctions + u.subordinators for w in _tokens(entry)}
        return cls(
            marks=tuple(words.trailing_marks),
            endings=endings,
            longest=max(len(key) for key in endings),
            look_back=words.stranded.look_back,
            stops=frozenset(stops),
            relative=frozenset(w for e in words.stranded.relative_words for w in _tokens(e)),
            answers=frozenset(w for e in words.stranded.answer_words for w in _tokens(e)),
            openers=tuple(_tokens(e) for e in words.lead_in.openers),
            lead_in_words=words.lead_in.max_words,
        )

    def unfinished(self, text: str) -> bool:
        text = _NOTES.sub(" ", text).rstrip(_CLOSERS)
        if text.endswith(self.marks):
            return True
        body = text.rstrip(_STRONG_END + _CLOSERS)
        if body.endswith(self.marks):  # "so...?"
            return True
        strong = len(body) < len(text)
        tokens = _tokens(body)
        if not tokens:
            return True
        if not strong and len(tokens) <= self.lead_in_words and self._leads_in(tokens):
            return True
        for size in range(min(self.longest, len(tokens)), 0, -1):
            kind = self.endings.get(tokens[-size:])
            if kind is not None:
                break
        else:
            return False
        if kind is _Kind.COMPLETE:
            return False
        if kind is _Kind.ALWAYS:
            return True
        if strong:
            return False
        if kind is _Kind.UNLESS_STRONG:
            return True
        return not self._closes_clause(tokens, kind is _Kind.AUXILIARY)

    def _leads_in(self, tokens: tuple[str, ...]) -> bool:
        return any(tokens[: len(o)] == o and len(tokens) > len(o) for o in self.openers)

    def _closes_clause(self, tokens: tuple[str, ...], auxiliary: bool) -> bool:
        """Whether the hanging last word closes a clause opened just before it."""
        last = len(tokens) - 1
        for j in range(last - 1, max(-1, last - 1 - self.look_back), -1):
            word = tokens[j]
            if word in self.relative:
                # "that's how it was" closes; "when I was", "and how it was" open a clause.
                return j > 0 and tokens[j - 1] not in self.stops
            if auxiliary and word in self.answers:
                return True
            if word in self.stops:
                return False
        return False


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    return _Rules.build(load_completeness())


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends with a full stop, question or exclamation mark (quotes aside)."""
    return _NOTES.sub(" ", text).rstrip(_CLOSERS).endswith((".", *_STRONG_END))


def is_unfinished(text: str) -> bool:
    """Whether ``text``, a turn's words so far, stops before the thought is finished."""
    return _rules().unfinished(text)
