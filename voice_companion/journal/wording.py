"""The shape of ``prompts/journal.toml``, validated at load, and a cached accessor."""

from __future__ import annotations

import string
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, field_validator

from voice_companion.prompts import load_prompts


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _check(template: str, allowed: set[str], required: set[str] | None = None) -> str:
    used = _fields(template)
    unknown = used - allowed
    if unknown:
        raise ValueError(
            f"unknown placeholder {{{sorted(unknown)[0]}}}; allowed here: "
            + ", ".join(f"{{{name}}}" for name in sorted(allowed))
        )
    missing = (required or set()) - used
    if missing:
        raise ValueError(f"must contain {{{sorted(missing)[0]}}}")
    return template


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ListWords(_Strict):
    and_word: str = Field(min_length=1)


class RecapWords(_Strict):
    opening: str
    quotes: str
    feelings: str
    today: str
    yesterday: str
    this_week: str
    older: str
    max_topics: int = Field(ge=1, le=10)
    max_quotes: int = Field(ge=1, le=5)
    max_quote_words: int = Field(ge=3, le=60)
    max_feelings: int = Field(ge=0, le=5)

    @field_validator("opening")
    @classmethod
    def _opening(cls, v: str) -> str:
        return _check(v, {"day", "topics"}, {"topics"})

    @field_validator("quotes")
    @classmethod
    def _quotes(cls, v: str) -> str:
        return _check(v, {"day", "quotes"}, {"quotes"})

    @field_validator("feelings")
    @classmethod
    def _feelings(cls, v: str) -> str:
        return _check(v, {"feelings"}, {"feelings"})

    @field_validator("today", "yesterday")
    @classmethod
    def _plain(cls, v: str) -> str:
        return _check(v, set())

    @field_validator("this_week", "older")
    @classmethod
    def _day(cls, v: str) -> str:
        return _check(v, {"weekday", "month", "day_of_month"})


class SummaryWords(_Strict):
    opening_week: str
    opening_since: str
    once: str
    twice: str
    many: str
    themes: str
    events: str
    words: str
    feelings: str
    max_themes: int = Field(ge=1, le=10)
    max_events: int = Field(ge=0, le=10)
    max_words: int = Field(ge=0, le=10)
    max_feelings: int = Field(ge=0, le=10)

    @field_validator("opening_week")
    @classmethod
    def _week(cls, v: str) -> str:
        return _check(v, {"count"}, {"count"})

    @field_validator("opening_since")
    @classmethod
    def _since(cls, v: str) -> str:
        return _check(v, {"count", "since"}, {"count"})

    @field_validator("once", "twice")
    @classmethod
    def _plain(cls, v: str) -> str:
        return _check(v, set())

    @field_validator("many")
    @classmethod
    def _many(cls, v: str) -> str:
        return _check(v, {"n"}, {"n"})

    @field_validator("themes")
    @classmethod
    def _themes(cls, v: str) -> str:
        return _check(v, {"themes"}, {"themes"})

    @field_validator("events")
    @classmethod
    def _events(cls, v: str) -> str:
        return _check(v, {"events"}, {"events"})

    @field_validator("words")
    @classmethod
    def _words(cls, v: str) -> str:
        return _check(v, {"words"}, {"words"})

    @field_validator("feelings")
    @classmethod
    def _feelings(cls, v: str) -> str:
        return _check(v, {"feelings"}, {"feelings"})


class DeclineWords(_Strict):
    fillers: tuple[str, ...]
    whole: tuple[str, ...] = Field(min_length=1)
    short: tuple[str, ...]
    short_max_words: int = Field(ge=1, le=30)
    anywhere: tuple[str, ...]


class ExtractionWords(_Strict):
    worry_words: tuple[str, ...] = Field(min_length=1)
    worry_verbs: tuple[str, ...] = Field(min_length=1)
    worry_causes: tuple[str, ...]
    vague: tuple[str, ...]
    relations: tuple[str, ...] = Field(min_length=1)
    relation_modifiers: tuple[str, ...]
    not_names: tuple[str, ...]
    feeling_threshold: float = Field(ge=0.0, le=1.0)
    recurring_min_turns: int = Field(ge=2, le=100)
    ignored_feelings: tuple[str, ...]
    max_words: int = Field(ge=2, le=30)
    stopwords: tuple[str, ...]


class JournalWording(_Strict):
    lists: ListWords
    recap: RecapWords
    summary: SummaryWords
    feeling_words: dict[str, str]
    decline: DeclineWords
    extraction: ExtractionWords


@lru_cache(maxsize=1)
def wording() -> JournalWording:
    """``prompts/journal.toml``, validated (a problem raises PromptsError naming the entry)."""
    return load_prompts("journal", JournalWording)


def join_words(items: tuple[str, ...], and_word: str) -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {and_word} {items[-1]}"
