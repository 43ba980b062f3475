"""Recognise voice commands in a transcribed turn, and word the spoken acknowledgement.

A turn is a command only when, once hesitations anywhere and small words at its edges ("okay",
"please", "can you", "thank you") are dropped, what is left is short and is (nearly) all one
command phrase from ``prompts/commands.toml``. So "slow down, please" is a command, while "my boss
told me to slow down and it made me furious" is something the person is telling us.

Phrases are compared as letters only (no case, punctuation, apostrophes or spaces), so "good bye"
is "goodbye" and "say that a gain" is "say that again". Phrases of at least ``fuzzy_min_letters``
letters also match a turn whose letters are alike enough (difflib ratio), for misheard words;
shorter phrases must match exactly, because short words are too easily confused with ordinary
answers ("after" is not "faster").
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from voice_companion.prompts import load_prompts

__all__ = ["Command", "CommandsWording", "command_reply", "load_commands", "recognise"]


class Command(StrEnum):
    """What the person asked for; the value is the key in ``prompts/commands.toml``."""

    REPEAT = "repeat"
    SLOWER = "slower"
    FASTER = "faster"
    LOUDER = "louder"
    QUIETER = "quieter"
    PAUSE = "pause"
    HELP = "help"
    GOODBYE = "goodbye"
    DONT_SAVE = "dont_save"
    FORGET_THAT = "forget_that"
    LAST_TIME = "last_time"
    READ_WEEK = "read_week"
    SUMMARY = "summary"


_APOSTROPHES = str.maketrans("", "", "'’‘`")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_FORMATTER = string.Formatter()
EMPTY_VARIANT = "empty"


def _words(text: str) -> tuple[str, ...]:
    """Lower-case words, apostrophes removed ("don't" -> "dont"), punctuation as spaces."""
    return tuple(_NON_WORD.sub(" ", text.lower().translate(_APOSTROPHES)).split())


def _letter_counts(key: str) -> np.ndarray:
    """How often each byte value occurs in ``key`` (letters and digits only, so ASCII)."""
    return np.bincount(np.frombuffer(key.encode("ascii"), dtype=np.uint8), minlength=128)


def _placeholders(template: str) -> list[str]:
    """The ``{name}`` fields of a reply template; anything fancier is refused."""
    names: list[str] = []
    for _literal, name, spec, conversion in _FORMATTER.parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"'{{{name}}}' is not a plain {{name}} field")
        names.append(name)
    return names


def _word_list(values: list[str]) -> list[str]:
    for value in values:
        if not _words(value):
            raise ValueError(f"'{value}' has no words")
    return values


class CommandEntry(BaseModel):
    """One command: the phrases that say it and the wording of the reply."""

    model_config = ConfigDict(extra="forbid")

    phrases: list[str] = Field(min_length=1)
    reply: str = Field(min_length=1)
    variants: dict[str, str] = Field(default_factory=dict)

    _check_phrases = field_validator("phrases")(_word_list)

    @field_validator("reply")
    @classmethod
    def _check_reply(cls, value: str) -> str:
        _placeholders(value)
        return value

    @field_validator("variants")
    @classmethod
    def _check_variants(cls, value: dict[str, str]) -> dict[str, str]:
        for name, template in value.items():
            if not name.isidentifier():
                raise ValueError(f"variant name '{name}' must be a plain word")
            if not template.strip():
                raise ValueError(f"variant '{name}' is empty")
            _placeholders(template)
        return value


class Matching(BaseModel):
    """How strictly a turn must match a phrase, and which edge words are dropped first."""

    model_config = ConfigDict(extra="forbid")

    max_words: int = Field(ge=1)
    fuzzy_min_letters: int = Field(ge=1)
    fuzzy_threshold: float = Field(gt=0.5, le=1.0)
    hesitations: list[str]
    leading: list[str]
    trailing: list[str]

    _check_words = field_validator("hesitations", "leading", "trailing")(_word_list)


class CommandsWording(BaseModel):
    """The whole of ``prompts/commands.toml``."""

    model_config = ConfigDict(extra="forbid")

    matching: Matching
    commands: dict[Command, CommandEntry]

    @field_validator("commands")
    @classmethod
    def _check_commands(cls, value: dict[Command, CommandEntry]) -> dict[Command, CommandEntry]:
        missing = [cmd.value for cmd in Command if cmd not in value]
        if missing:
            raise ValueError(f"every command needs an entry; missing: {', '.join(missing)}")
        owner: dict[str, Command] = {}
        for cmd, entry in value.items():
            for phrase in entry.phrases:
                key = "".join(_words(phrase))
                if owner.setdefault(key, cmd) != cmd:
                    raise ValueError(
                        f"the phrase '{phrase}' is listed under both {owner[key]} and {cmd}"
                    )
        return value


def load_commands(folder: Path | None = None) -> CommandsWording:
    """Read and validate ``prompts/commands.toml`` (from ``folder`` when given)."""
    return load_prompts("commands", CommandsWording, folder)


@dataclass(frozen=True)
class _Matcher:
    """The wording compiled for fast look-up: exact keys, and the long keys for fuzzy matching."""

    wording: CommandsWording
    exact: dict[str, Command]
    fuzzy: tuple[tuple[str, Command], ...]  # the long phrases
    fuzzy_counts: np.ndarray  # letters of each long phrase, counted by byte value
    fuzzy_sizes: np.ndarray
    hesitations: frozenset[str]
    leading: tuple[tuple[str, ...], ...]
    trailing_reversed: tuple[tuple[str, ...], ...]  # each filler's words last to first

    @classmethod
    def build(cls, wording: CommandsWording) -> _Matcher:
        m = wording.matching
        exact = {
            "".join(_words(phrase)): cmd
            for cmd, entry in wording.commands.items()
            for phrase in entry.phrases
        }
        fuzzy = tuple((key, cmd) for key, cmd in exact.items() if len(key) >= m.fuzzy_min_letters)

        def edge(words: list[str]) -> tuple[tuple[str, ...], ...]:
            return tuple(sorted({_words(w) for w in words}, key=len, reverse=True))

        return cls(
            wording=wording,
            exact=exact,
            fuzzy=fuzzy,
            fuzzy_counts=np.array([_letter_counts(key) for key, _ in fuzzy]).reshape(-1, 128),
            fuzzy_sizes=np.array([len(key) for key, _ in fuzzy], dtype=np.int64),
            hesitations=frozenset(w for h in m.hesitations for w in _words(h)),
            leading=edge(m.leading),
            trailing_reversed=tuple(f[::-1] for f in edge(m.trailing)),
        )

    @staticmethod
    def _cuts(words: tuple[str, ...], fillers: tuple[tuple[str, ...], ...]) -> list[int]:
        """How many words can be dropped from the start of ``words``, one filler at a time."""
        cuts = [0]
        while cuts[-1] < len(words):
            rest = words[cuts[-1] :]
            filler = next((f for f in fillers if rest[: len(f)] == f), None)
            if filler is None:
                break
            cuts.append(cuts[-1] + len(filler))
        return cuts

    def _candidates(self, text: str) -> tuple[list[str], str]:
        """The turn's letters with each combination of edge words dropped, least dropped first,
        and the turn with all of them dropped ("" when nothing, or too much, is left)."""
        words = tuple(w for w in _words(text) if w not in self.hesitations)
        limit = self.wording.matching.max_words
        starts = self._cuts(words, self.leading)
        ends = [len(words) - n for n in self._cuts(words[::-1], self.trailing_reversed)]
        keys = ["".join(words[i:j]) for i in starts for j in ends if 0 < j - i <= limit]
        core = words[starts[-1] : ends[-1]]
        return keys, "".join(core) if len(core) <= limit else ""

    def recognise(self, text: str) -> Command | None:
        m = self.wording.matching
        keys, key = self._candidates(text)
        for candidate in keys:  # the turn as said first: the phrase explaining most of it wins
            if candidate in self.exact:
                return self.exact[candidate]
        if len(key) < m.fuzzy_min_letters:  # misheard words: only once the edge words are gone
            return None
        # ratio = 2*matches/(sum of lengths), and matches are at most the letters both share:
        # that bound, for every long phrase at once, leaves a few phrases worth comparing.
        shared = np.minimum(self.fuzzy_counts, _letter_counts(key)).sum(axis=1)
        bound = 2.0 * shared / (self.fuzzy_sizes + len(key))
        best: Command | None = None
        best_score = m.fuzzy_threshold
        for i in np.argsort(-bound):
            if bound[i] < best_score:
                break
            phrase, cmd = self.fuzzy[i]
            score = SequenceMatcher(None, key, phrase, autojunk=False).ratio()
            if score >= best_score:
                best, best_score = cmd, score
        return best


_SENTENCE_END = re.compile(r"[.!?,;]+\s+")


@lru_cache(maxsize=1)
def _matcher() -> _Matcher:
    return _Matcher.build(load_commands())


def recognise(text: str) -> Command | None:
    """The command a whole turn gives, or ``None`` when the turn is not a command.

    Case, punctuation, hesitations and edge words such as "okay", "please" and "can you" do not
    matter; a command phrase inside a longer sentence is not a command. A turn of several short
    sentences is a command when every sentence gives the same one ("That's all for today.
    Goodbye.").
    """
    matcher = _matcher()
    whole = matcher.recognise(text)
    if whole is not None:
        return whole
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    if len(sentences) < 2:
        return None
    found = {matcher.recognise(sentence) for sentence in sentences}
    return found.pop() if len(found) == 1 else None


def _blank(value: object) -> bool:
    return value is None or not str(value).strip()


def command_reply(cmd: Command | str, variant: str | None = None, **fields: object) -> str:
    """The spoken acknowledgement of ``cmd``, from ``prompts/commands.toml``.

    ``fields`` fill the reply's ``{name}`` fields (``last_reply`` for REPEAT, ``summary`` for
    GOODBYE, READ_WEEK and SUMMARY, ``topics`` for LAST_TIME). When a needed field is missing or
    blank, the command's ``empty`` variant is spoken instead. ``variant`` picks a named variant
    (``"at_limit"``, ``"no_journal"``, ``"empty"``). Extra fields are ignored.

    Raises ValueError for an unknown variant, or when a needed field is missing and there is no
    ``empty`` variant to fall back on.
    """
    command = Command(cmd)
    entry = _matcher().wording.commands[command]
    if variant is None:
        template = entry.reply
        if any(_blank(fields.get(n)) for n in _placeholders(template)):
            template = entry.variants.get(EMPTY_VARIANT, template)
    elif variant in entry.variants:
        template = entry.variants[variant]
    else:
        known = ", ".join(sorted(entry.variants)) or "none"
        raise ValueError(f"The {command} reply has no variant '{variant}' (it has: {known}).")
    names = _placeholders(template)
    missing = [n for n in names if _blank(fields.get(n))]
    if missing:
        raise ValueError(f"The {command} reply needs {', '.join(missing)}.")
    text = template.format_map({n: " ".join(str(fields[n]).split()) for n in names})
    return " ".join(text.split())
