"""The safety net: notice danger in what the person said, and answer with real help.

:class:`SafetyDetector` runs first on every turn. It is built for high recall on transcribed
speech: text is normalised (lower case, no punctuation, contractions expanded both ways, slang
and common speech-recognition mishearings fixed, one-letter slips of key words mapped back), idioms
("this deadline is killing me") are blanked out, and so are exaggeration and sad words about an
ordinary thing ("kill me now, the in-laws are here", "nobody would notice if I left the group
chat") unless heavier words are heard elsewhere in the turn or distress in the last few turns
(the ``[hyperbole]`` section); then each category is tried in turn:

* ``patterns``: phrases that are danger on their own ("kill myself", "end my life");
* ``frames``: combinations of cues heard within a few words of each other, in any order, so a
  new way of saying the same thing is still heard. "i am not planning on being here next month"
  is a self-reference with a negation, a way of being present, and a time to come; "tired of
  waking up every morning" is weariness followed by a word for existing. A frame has ``unless``
  cues that take the weight out of it nearby ("... next week, i am on holiday"), and may count
  only after distress (a means question such as "how deep is the river" after "i lost
  everything");
* ``conditional`` patterns: means questions that count only after distress.

All phrases and cues live in ``prompts/safety.toml``; this module holds only the logic.

What no rule hears goes to a small learned layer (rules OR classifier): the turn is cut into
chunks (whole when short, else sentences, idioms removed, normalised like the rules' input); a
cheap word-and-word-pair regression lets about one ordinary turn in twenty through to the
sentence encoder (:mod:`voice_companion.dialogue.embedding`, all-MiniLM-L6-v2 on ONNX Runtime);
there, per-category logistic regressions and nearest prototypes score each chunk
(:class:`SafetyHead`, weights in ``data/safety_head.npz``, refitted by
``benchmarks/fit_safety_head.py``). A hit says ``pattern="model: 0.93"``; a "means" verdict of
the model counts only after distress, like the rules' means questions. The encoder loads in a
background thread when the first detector is built; without the model package the rules run
alone.

Decisions (documented in ``prompts/safety.toml`` too):

* Negation does not cancel a hit. "I would never kill myself" still mentions suicide and gets the
  gentle check; :class:`SafetyHit` records ``negated`` so callers can tell.
* A mention of someone else's suicide ("my brother killed himself") is a hit, because the
  "suicide" pattern matches the word; bereavement by suicide deserves the check-in too.
* Asking about means that could be innocent ("which bridges are the tallest") is a hit only when
  distress (or danger) was heard in the same turn or one of the last few turns of this
  conversation; asking how much of a drug would kill is always a hit.

:func:`crisis_reply` builds the answer from ``prompts/safety.toml`` and ``prompts/helplines.toml``:
calm acknowledgement, an honest "I am a program and cannot keep you safe", the locale's crisis
lines with every number spoken digit by digit, an offer to stay, and never anything about means.
"""

from __future__ import annotations

import json
import logging
import re
import re._constants as _sre
import re._parser as _sre_parse
import threading
from bisect import bisect_right
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise, product
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, RootModel, field_validator, model_validator

from voice_companion.dialogue.base import Safety
from voice_companion.prompts import load_prompts

CATEGORIES: tuple[str, ...] = (
    "suicide",
    "self_harm",
    "means",
    "harm_to_others",
    "abuse",
    "medical_emergency",
)
LOCALES: tuple[str, ...] = ("US", "UK", "IE", "CA", "AU", "NZ", "OTHER")
_LOCALE_ALIASES = {"GB": "UK", "EN_GB": "UK", "EN_US": "US", "USA": "US", "IRL": "IE"}
_PLACEHOLDERS = {"crisis", "crisis_first", "emergency", "abuse", "child"}
_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_MACRO = re.compile(r"%([A-Z_]+)%")
_FIELD = re.compile(r"\{([a-z_]+)\}")
HEAD_FILE = Path(__file__).resolve().parent / "data" / "safety_head.npz"

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Data files
# --------------------------------------------------------------------------------------------


def _check_regex(pattern: str) -> str:
    try:
        re.compile(_MACRO.sub("x", pattern))
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc}): {pattern}") from exc
    return pattern


class _Rewrite(BaseModel):
    pattern: str
    replace: str

    @field_validator("pattern")
    @classmethod
    def _valid(cls, value: str) -> str:
        return _check_regex(value)


class _Normalise(BaseModel):
    contractions: dict[str, str]
    is_words: list[str]
    is_before: list[str] = []
    ill_verbs: list[str]
    fuzzy: list[str]
    fuzzy_exceptions: list[str] = Field(default_factory=list)
    mishearings: list[_Rewrite] = Field(default_factory=list)


class _Frame(BaseModel):
    """Cues that must all be heard within a few words of each other, in any order."""

    name: str
    cues: list[str] = Field(min_length=1)
    within: int = Field(default=8, ge=1, le=40)
    unless: list[str] = Field(default_factory=list)
    distress: bool = False

    @field_validator("cues", "unless")
    @classmethod
    def _valid(cls, value: list[str]) -> list[str]:
        return [_check_regex(p) for p in value]


class _PatternList(BaseModel):
    patterns: list[str] = Field(min_length=1)
    conditional: list[str] = Field(default_factory=list)
    distress: list[str] = Field(default_factory=list)
    frames: list[_Frame] = Field(default_factory=list)

    @field_validator("patterns", "conditional", "distress")
    @classmethod
    def _valid(cls, value: list[str]) -> list[str]:
        return [_check_regex(p) for p in value]


class _Categories(BaseModel):
    order: list[str]
    suicide: _PatternList
    self_harm: _PatternList
    means: _PatternList
    harm_to_others: _PatternList
    abuse: _PatternList
    medical_emergency: _PatternList

    @field_validator("order")
    @classmethod
    def _all_categories(cls, value: list[str]) -> list[str]:
        if sorted(value) != sorted(CATEGORIES):
            raise ValueError(f"must list each of {', '.join(CATEGORIES)} exactly once")
        return value


def _check_reply(value: str) -> str:
    if len(value) < 20:
        raise ValueError("a crisis reply must be a full sentence or more")
    unknown = set(_FIELD.findall(value)) - _PLACEHOLDERS
    if unknown:
        raise ValueError(f"unknown placeholder(s) {sorted(unknown)}")
    if not {"crisis", "crisis_first", "emergency", "abuse"} & set(_FIELD.findall(value)):
        raise ValueError("every crisis reply must offer a help line or the emergency number")
    return value


class _ReplyPair(BaseModel):
    first: str
    later: list[str] = Field(min_length=1)

    @field_validator("first")
    @classmethod
    def _first(cls, value: str) -> str:
        return _check_reply(value)

    @field_validator("later")
    @classmethod
    def _later(cls, value: list[str]) -> list[str]:
        return [_check_reply(v) for v in value]


class _Idioms(BaseModel):
    patterns: list[str]

    @field_validator("patterns")
    @classmethod
    def _valid(cls, value: list[str]) -> list[str]:
        return [_check_regex(p) for p in value]


class _HyperboleFrame(_Frame):
    """A [hyperbole] frame; ``heavy``, when given, replaces the section's heavy cues for it."""

    heavy: list[str] | None = None

    @field_validator("heavy")
    @classmethod
    def _valid_heavy(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [_check_regex(p) for p in value]


class _Hyperbole(BaseModel):
    """Comic exaggeration with danger words ("kill me now, the in-laws are coming"), and sad
    words about an ordinary thing ("nobody would notice if i left the group chat"): frames
    whose first cue (the phrase) is blanked like an idiom when the other cues (a trivial or
    ordinary cause, the shape of a joke) are near it, unless a ``heavy`` cue (distress, a plan,
    "i mean it") is heard anywhere else in the turn."""

    heavy: list[str] = Field(default_factory=list)
    frames: list[_HyperboleFrame] = Field(default_factory=list)

    @field_validator("heavy")
    @classmethod
    def _valid(cls, value: list[str]) -> list[str]:
        return [_check_regex(p) for p in value]


class SafetyFile(BaseModel):
    """The shape of ``prompts/safety.toml``."""

    replies: dict[str, _ReplyPair]
    normalise: _Normalise
    macros: dict[str, str]
    categories: _Categories
    idioms: _Idioms
    hyperbole: _Hyperbole = Field(default_factory=_Hyperbole)

    @model_validator(mode="after")
    def _complete(self) -> SafetyFile:
        missing = set(CATEGORIES) - set(self.replies)
        if missing:
            raise ValueError(f"replies missing for {sorted(missing)}")
        known = set(self.macros)
        sources = [p for p in self.macros.values()] + self.idioms.patterns
        sources += self.hyperbole.heavy
        for frame in self.hyperbole.frames:
            sources += frame.cues + frame.unless + (frame.heavy or [])
        for name in CATEGORIES:
            table: _PatternList = getattr(self.categories, name)
            sources += table.patterns + table.conditional + table.distress
            for frame in table.frames:
                sources += frame.cues + frame.unless
        for source in sources:
            unknown = set(_MACRO.findall(source)) - known
            if unknown:
                raise ValueError(f"unknown macro(s) {sorted(unknown)} in {source}")
        return self


class HelpLine(BaseModel):
    """One resource: a number with the sentence that introduces it, or a web line."""

    number: str | None = Field(default=None, pattern=r"^[0-9][0-9 \-]*$")
    say: str | None = None
    web: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> HelpLine:
        if self.web:
            if self.number or self.say:
                raise ValueError("give either `web` or `number` with `say`, not both")
            if re.search(r"\d", self.web):
                raise ValueError("a `web` line must not hold digits (they would not be spoken)")
            return self
        if not (self.number and self.say and "{number}" in self.say):
            raise ValueError("a line needs `number` and a `say` sentence holding {number}")
        if re.search(r"\d", self.say):
            raise ValueError("`say` must not hold digits; the number is spoken from `number`")
        return self


class LocaleLines(BaseModel):
    """The help lines of one locale."""

    emergency: str | None = Field(default=None, pattern=r"^[0-9]+$")
    emergency_say: str | None = None
    crisis: list[HelpLine] = Field(min_length=1)
    abuse: list[HelpLine] = Field(default_factory=list)
    child: list[HelpLine] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_emergency(self) -> LocaleLines:
        if not (self.emergency or self.emergency_say):
            raise ValueError("give `emergency` (digits) or `emergency_say`")
        return self


class HelplinesFile(RootModel[dict[str, LocaleLines]]):
    """The shape of ``prompts/helplines.toml``: one table per locale."""

    @model_validator(mode="after")
    def _all_locales(self) -> HelplinesFile:
        missing = set(LOCALES) - set(self.root)
        if missing:
            raise ValueError(f"locale table(s) missing: {sorted(missing)}")
        return self


# --------------------------------------------------------------------------------------------
# Speaking numbers
# --------------------------------------------------------------------------------------------


def speak_number(number: str) -> str:
    """Digits spoken one by one, groups separated by a pause: "116 123" -> "one one six, one
    two three"."""
    groups = [g for g in re.split(r"[\s\-]+", number.strip()) if g]
    return ", ".join(" ".join(_DIGIT_WORDS[int(d)] for d in group) for group in groups)


def _line_text(line: HelpLine) -> str:
    if line.web:
        return line.web
    assert line.say is not None and line.number is not None
    return line.say.replace("{number}", speak_number(line.number))


def normalise_locale(locale: str) -> str:
    """One of :data:`LOCALES`; anything unknown becomes "OTHER"."""
    key = (locale or "").strip().upper().replace("-", "_")
    key = _LOCALE_ALIASES.get(key, key)
    return key if key in LOCALES else "OTHER"


def crisis_reply(category: str, locale: str, first: bool, variant: int = 0) -> str:
    """What the companion says when the safety net fires.

    ``first`` is the first reply of this crisis in the conversation; later ones are shorter and
    still carry the help line. ``variant`` (any counter, such as the turn number) picks among the
    later replies so the same words are not said twice in a row. Numbers are spoken digit by
    digit; there are no digits in the text.
    """
    if category not in CATEGORIES:
        raise ValueError(f"unknown safety category {category!r}; expected one of {CATEGORIES}")
    data = _safety_file()
    lines = load_prompts("helplines", HelplinesFile).root[normalise_locale(locale)]
    emergency = speak_number(lines.emergency) if lines.emergency else str(lines.emergency_say)
    fields = {
        "crisis": " ".join(_line_text(x) for x in lines.crisis),
        "crisis_first": _line_text(lines.crisis[0]),
        "emergency": emergency,
        "abuse": " ".join(_line_text(x) for x in lines.abuse),
        "child": " ".join(_line_text(x) for x in lines.child),
    }
    pair = data.replies[category]
    template = pair.first if first else pair.later[variant % len(pair.later)]
    text = _FIELD.sub(lambda m: fields[m.group(1)], template)
    return re.sub(r"\s{2,}", " ", text).strip()


# --------------------------------------------------------------------------------------------
# Normalising transcribed speech
# --------------------------------------------------------------------------------------------

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_SUFFIXES = (("n't", " not"), ("'m", " am"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"),
             ("'d", " would"))
_IRREGULAR = {"can't": "can not", "won't": "will not", "ain't": "am not", "shan't": "shall not"}


def _within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by one substitution, insertion, deletion or swap."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and (
            a[diff[1]] == b[diff[0]]
        )
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


def _necessary(seq: object) -> frozenset[str] | None:
    """Strings of which every match of the parsed pattern ``seq`` contains at least one.

    Used only to skip patterns that cannot match (speed); ``None`` means "always try".
    """
    candidates: list[frozenset[str]] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= 3:
            candidates.append(frozenset({"".join(run)}))
        run.clear()

    for op, av in seq:  # type: ignore[attr-defined]
        if op is _sre.LITERAL:
            run.append(chr(av))
            continue
        flush()
        found: frozenset[str] | None = None
        if op is _sre.SUBPATTERN:
            found = _necessary(av[3])
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            found = _necessary(av[2]) if av[0] >= 1 else None
        elif op is _sre.BRANCH:
            subs = [_necessary(branch) for branch in av[1]]
            if all(sub is not None for sub in subs):
                found = frozenset().union(*subs)  # type: ignore[arg-type]
        if found:
            candidates.append(found)
    flush()
    if not candidates:
        return None
    return max(candidates, key=lambda c: (min(len(x) for x in c), -len(c)))


class _Gated:
    """A compiled pattern with the strings one of which must be in the text for a match."""

    __slots__ = ("source", "rx", "need")

    def __init__(self, source: str, expanded: str) -> None:
        self.source = source
        self.rx = re.compile(expanded)
        try:
            self.need = _necessary(_sre_parse.parse(expanded))
        except Exception:  # noqa: BLE001 - a pattern the analysis cannot read is always tried
            self.need = None

    def may_match(self, text: str) -> bool:
        return self.need is None or any(s in text for s in self.need)

    def may_match_given(self, present: frozenset[str]) -> bool:
        """Like :meth:`may_match`, given the set of all gate strings found in the text."""
        return self.need is None or not self.need.isdisjoint(present)


class _Normaliser:
    def __init__(self, spec: _Normalise) -> None:
        self.contractions = spec.contractions
        self.is_words = set(spec.is_words)
        self.is_before = set(spec.is_before)
        self.ill_verbs = set(spec.ill_verbs)
        self.fuzzy = tuple(spec.fuzzy)
        self.fuzzy_set = set(spec.fuzzy)
        self.exceptions = set(spec.fuzzy_exceptions)
        self.rewrites = [(_Gated(r.pattern, r.pattern), r.replace) for r in spec.mishearings]
        self._fuzzy_cache: dict[str, str] = {}

    def _expand(self, token: str) -> str:
        if "'" in token:
            if token in _IRREGULAR:
                return _IRREGULAR[token]
            if token.endswith("'s"):
                stem = token[:-2]
                return f"{stem} is" if stem in self.is_words else stem.replace("'", "")
            for suffix, full in _SUFFIXES:
                if token.endswith(suffix):
                    return token[: -len(suffix)].replace("'", "") + full
            token = token.replace("'", "")
        return self.contractions.get(token, token)

    def _fuzz(self, token: str) -> str:
        if len(token) < 6 or token in self.fuzzy_set or token in self.exceptions:
            return token
        hit = self._fuzzy_cache.get(token)
        if hit is None:
            hit = token
            for word in self.fuzzy:
                if word[0] == token[0] and _within_one_edit(token, word):
                    hit = word
                    break
            if len(self._fuzzy_cache) < 50_000:
                self._fuzzy_cache[token] = hit
        return hit

    def __call__(self, text: str) -> str:
        raw = text.lower().translate(_APOSTROPHES)
        raw = re.sub(r"[^a-z0-9' ]+", " ", raw)
        words: list[str] = []
        tokens = [t for t in (t.strip("'") for t in raw.split()) if t]
        for i, token in enumerate(tokens):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            if token.endswith("'s") and nxt in self.is_before:
                # "my dad's unconscious", "the baby's fitting": "is", not a possessive
                words.extend([token[:-2].replace("'", ""), "is"])
                continue
            words.extend(self._expand(token).split())
        for i, word in enumerate(words[:-1]):
            if word == "ill" and words[i + 1] in self.ill_verbs:
                words[i] = "i will"
        joined = " ".join(words)
        for gated, replacement in self.rewrites:
            if gated.may_match(joined):
                joined = gated.rx.sub(replacement, joined)
        return " ".join(self._fuzz(t) for t in joined.split())


# --------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SafetyHit:
    """Why the safety net fired: the category, the matched words and the pattern behind them."""

    category: str
    matched: str
    pattern: str
    negated: bool
    conditional: bool
    normalised: str




def _expand_macros(pattern: str, macros: dict[str, str]) -> str:
    for _ in range(5):  # macros may use other macros
        expanded = _MACRO.sub(lambda m: macros[m.group(1)], pattern)
        if expanded == pattern:
            break
        pattern = expanded
    return pattern


def _compile(patterns: list[str], macros: dict[str, str]) -> list[_Gated]:
    return [_Gated(p, _expand_macros(p, macros)) for p in patterns]


def _cue(pattern: str, macros: dict[str, str]) -> _Gated:
    """A frame cue: a whole-word match of ``pattern``."""
    return _Gated(pattern, r"\b(?:" + _expand_macros(pattern, macros) + r")\b")


Span = tuple[int, int]  # first and last word index of a match


class _Words:
    """One normalised text, and the word spans of each cue found in it (computed once)."""

    __slots__ = ("text", "starts", "_spans")

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [m.start() for m in re.finditer(r"\S+", text)]
        self._spans: dict[str, list[Span]] = {}

    def word_at(self, char: int) -> int:
        return bisect_right(self.starts, char) - 1

    def spans(self, cue: _Gated) -> list[Span]:
        found = self._spans.get(cue.rx.pattern)
        if found is None:
            found = [
                (self.word_at(m.start()), self.word_at(m.end() - 1))
                for m in cue.rx.finditer(self.text)
                if m.end() > m.start()
            ]
            self._spans[cue.rx.pattern] = found
        return found

    def chars(self, span: Span) -> tuple[int, int]:
        first, last = span
        end = self.starts[last]
        while end < len(self.text) and not self.text[end].isspace():
            end += 1
        return self.starts[first], end


class _GateIndex:
    """Which items of an ordered list (patterns or frames, hundreds of them) may match, found
    from the gate strings present in a text, without asking every item: each item is filed
    under the strings one of which it needs (a frame under those of one of its cues)."""

    __slots__ = ("items", "_always", "_by_string")

    def __init__(self, items: list, needs: list[frozenset[str] | None]) -> None:
        self.items = items  # kept: the index is looked up by the list's id
        self._always = [i for i, need in enumerate(needs) if need is None]
        self._by_string: dict[str, list[int]] = {}
        for i, need in enumerate(needs):
            for string in need or ():
                self._by_string.setdefault(string, []).append(i)

    def candidates(self, present: frozenset[str]) -> list:
        """The items that may match, in their list order."""
        found = set(self._always)
        for string in present:
            ids = self._by_string.get(string)
            if ids:
                found.update(ids)
        return [self.items[i] for i in sorted(found)]


class _CompiledFrame:
    """A frame ready to match: its cues, the cues that cancel it, and its window."""

    __slots__ = ("name", "cues", "unless", "within", "distress", "heavy")

    def __init__(self, frame: _Frame, macros: dict[str, str]) -> None:
        self.name = frame.name
        self.cues = [_cue(c, macros) for c in frame.cues]
        self.unless = [_cue(c, macros) for c in frame.unless]
        self.within = frame.within
        self.distress = frame.distress
        # A [hyperbole] frame's own heavy cues (None: the section's).
        own = getattr(frame, "heavy", None)
        self.heavy: list[_Gated] | None = None if own is None else _compile(own, macros)

    def may_match_given(self, present: frozenset[str]) -> bool:
        return all(c.may_match_given(present) for c in self.cues)

    @property
    def need(self) -> frozenset[str] | None:
        """Strings one of which the frame needs (its most selective cue's), or None."""
        needs = [c.need for c in self.cues if c.need is not None]
        return min(needs, key=len) if needs else None

    def match(self, words: _Words) -> Span | None:
        """A stretch of at most ``within`` words holding every cue (disjoint, any order) and
        no cancelling cue nearby, or None."""
        for _anchor, first, last in self._matches(words):
            return first, last
        return None

    def anchors(self, words: _Words) -> list[Span]:
        """The spans of the first cue that take part in a match (for blanking them)."""
        return [anchor for anchor, _first, _last in self._matches(words)]

    def _matches(self, words: _Words) -> Iterator[tuple[Span, int, int]]:
        """For each span of the first cue in a match: that span and the match's stretch."""
        lists = []
        for cue in self.cues:
            found = words.spans(cue)
            if not found:
                return
            lists.append(found)
        anchors, others = lists[0], lists[1:]
        for anchor in anchors:
            # Only spans that fit in one window with the anchor can take part.
            lo, hi = anchor[1] - self.within + 1, anchor[0] + self.within - 1
            near = [[s for s in spans if s[0] >= lo and s[1] <= hi] for spans in others]
            for rest in product(*near):
                combo = (anchor, *rest)
                first = min(s[0] for s in combo)
                last = max(s[1] for s in combo)
                if last - first + 1 > self.within:
                    continue
                ordered = sorted(combo)
                if any(a[1] >= b[0] for a, b in pairwise(ordered)):
                    continue  # one stretch of words may not serve as two cues
                if not self._cancelled(words, first, last):
                    yield anchor, first, last
                    break

    def _cancelled(self, words: _Words, first: int, last: int) -> bool:
        lo, hi = first - self.within, last + self.within
        return any(lo <= s[0] and s[1] <= hi for cue in self.unless for s in words.spans(cue))


class _Rules:
    def __init__(self, data: SafetyFile) -> None:
        macros = data.macros
        self.normalise = _Normaliser(data.normalise)
        self.idioms = _compile(data.idioms.patterns, macros)
        self.order = list(data.categories.order)
        self.always: dict[str, list[_Gated]] = {}
        self.conditional: dict[str, list[_Gated]] = {}
        self.frames: dict[str, list[_CompiledFrame]] = {}
        distress: list[str] = []
        for name in CATEGORIES:
            table: _PatternList = getattr(data.categories, name)
            self.always[name] = _compile(table.patterns, macros)
            self.conditional[name] = _compile(table.conditional, macros)
            self.frames[name] = [_CompiledFrame(f, macros) for f in table.frames]
            distress += table.distress
        self.distress = _compile(distress, macros)
        self.heavy = _compile(data.hyperbole.heavy, macros)
        self.hyperbole = [_CompiledFrame(f, macros) for f in data.hyperbole.frames]
        self.gate = True  # False: try every pattern (tests check the gate changes nothing)
        self._indexes: dict[int, _GateIndex] = {}
        strings: set[str] = set()
        groups = [self.idioms, self.distress, *self.always.values(), *self.conditional.values()]
        groups += [f.cues for frames in self.frames.values() for f in frames]
        for group in groups:
            for p in group:
                strings |= p.need or set()
        idiom_strings: set[str] = set()
        for p in self.idioms:
            idiom_strings |= p.need or set()
        # The words of danger and distress (not of idioms): what makes a chunk worth reading
        # first when a long turn is over the classifier's budget.
        self.vocabulary = frozenset(strings - idiom_strings)
        own_heavy = [f.heavy for f in self.hyperbole if f.heavy is not None]
        for group in [self.heavy, *own_heavy, *(f.cues for f in self.hyperbole)]:
            for p in group:
                strings |= p.need or set()
        self._by_trigram: dict[str, list[str]] = {}
        for string in sorted(strings):
            self._by_trigram.setdefault(string[:3], []).append(string)

    def present(self, text: str) -> frozenset[str]:
        """The gate strings that occur in ``text`` (every gate string is 3+ characters)."""
        index = self._by_trigram
        trigrams = {text[i : i + 3] for i in range(len(text) - 2)}
        found = set()
        for tri in trigrams.intersection(index):
            for string in index[tri]:
                if len(string) == 3 or string in text:
                    found.add(string)
        return frozenset(found)

    def gated(self, items: list, present: frozenset[str]) -> list:
        """The items of ``items`` (patterns or frames) that may match a text whose gate
        strings are ``present``, in order; every item when the gate is off."""
        if not self.gate:
            return items
        index = self._indexes.get(id(items))
        if index is None or index.items is not items:
            index = self._indexes[id(items)] = _GateIndex(items, [i.need for i in items])
        return [i for i in index.candidates(present) if i.may_match_given(present)]

    def blank_idioms(self, text: str, present: frozenset[str], hyperbole: bool = True) -> str:
        """``text`` with idioms blanked; ``present`` must be :meth:`present` of ``text``.
        With ``hyperbole``, comic exaggeration with a trivial cause is blanked too."""
        for idiom in self.gated(self.idioms, present):
            text = idiom.rx.sub(" ~ ", text)
        if hyperbole and self.hyperbole:
            text = self._blank_hyperbole(text, present)
        return text

    def _blank_hyperbole(self, text: str, present: frozenset[str]) -> str:
        """Each matched phrase blanked, unless a heavy cue is heard elsewhere in the turn (the
        phrase's own words do not count: "better off" is heavy, but not inside "he said he would
        be better off without me")."""
        for frame in self.gated(self.hyperbole, present):
            heavy = self.heavy if frame.heavy is None else frame.heavy
            words = _Words(text)
            for span in reversed(frame.anchors(words)):
                start, end = words.chars(span)
                blanked = f"{text[:start]} ~ {text[end:]}"
                if self.first(heavy, blanked, present) is None:
                    text = blanked
        return text

    def first(
        self, patterns: list[_Gated], text: str, present: frozenset[str]
    ) -> tuple[str, re.Match[str]] | None:
        for p in self.gated(patterns, present):
            m = p.rx.search(text)
            if m is not None:
                return p.source, m
        return None

    def first_frame(
        self, frames: list[_CompiledFrame], words: _Words, present: frozenset[str],
        distressed: bool,
    ) -> tuple[str, tuple[int, int], bool] | None:
        """The first frame heard: its name, the characters it covers, whether distress-gated."""
        for frame in self.gated(frames, present):
            if frame.distress and not distressed:
                continue
            span = frame.match(words)
            if span is not None:
                return frame.name, words.chars(span), frame.distress
        return None


@lru_cache(maxsize=4)
def _safety_file_in(_key: str) -> SafetyFile:
    return load_prompts("safety", SafetyFile)


def _safety_file() -> SafetyFile:
    """``prompts/safety.toml``, validated once per prompts folder (it holds hundreds of
    patterns, and validating compiles each of them)."""
    from voice_companion.prompts import prompts_dir

    return _safety_file_in(str(prompts_dir()))


@lru_cache(maxsize=4)
def _rules_for(_key: str) -> _Rules:
    return _Rules(_safety_file())


_RULES_LOCK = threading.Lock()


def _rules() -> _Rules:
    """The compiled rules (about a second, once per prompts folder; a second thread asking
    meanwhile waits for the first instead of compiling them again)."""
    from voice_companion.prompts import prompts_dir

    with _RULES_LOCK:
        return _rules_for(str(prompts_dir()))


def normalise(text: str) -> str:
    """The text as the detector sees it (lower case, no punctuation, contractions expanded)."""
    return _rules().normalise(text)


_NEGATORS = {"not", "never", "no", "nobody", "wont", "without"}


def _negated(text: str, start: int) -> bool:
    before = text[:start].split()[-4:]
    return any(w in _NEGATORS for w in before)


# --------------------------------------------------------------------------------------------
# The learned layer: a logistic regression over sentence embeddings
# --------------------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\s*\n+\s*")
# The encoder is the slow part (about 0.3 ms a word plus a few ms a call on one core), so a
# turn is read whole when short, else sentence by sentence within a budget of words.
WHOLE_MAX_WORDS = 24  # a turn up to this long is read whole, as one chunk
CHUNK_MIN_WORDS = 5  # shorter sentences are joined to the next ("No. I can't. Not again.")
CHUNK_MAX_WORDS = 24  # longer ones are read in overlapping windows of this many words
CHUNK_STRIDE = 16
TURN_MAX_WORDS = 24  # the most words embedded per turn
MODEL_MIN_WORDS = 3  # shorter turns are left to the rules ("yeah", "okay", "kill myself")


def _clean(rules: _Rules, text: str) -> str:
    """``text`` normalised with its idioms removed: what the classifier reads."""
    norm = rules.normalise(text)
    if not norm:
        return ""
    blanked = rules.blank_idioms(norm, rules.present(norm))
    return " ".join(w for w in blanked.split() if w != "~")


def _chunks(rules: _Rules, text: str) -> list[str]:
    """The pieces of one turn the classifier scores (the turn's score is their maximum): the
    whole turn when it is short, else its sentences (short ones joined to the next, long ones
    cut into overlapping windows). Each is normalised like the rules' input, idioms removed,
    so that speech-recognition text (lower case, no punctuation) reads like written text."""
    pieces = [c for c in (_clean(rules, s) for s in _SENTENCE_END.split(text or "")) if c]
    merged: list[str] = []
    carry = ""
    for piece in pieces:
        piece = f"{carry} {piece}" if carry else piece
        if len(piece.split()) < CHUNK_MIN_WORDS:
            carry = piece
        else:
            merged.append(piece)
            carry = ""
    if carry:
        if merged:
            merged[-1] = f"{merged[-1]} {carry}"
        else:
            merged.append(carry)
    whole = " ".join(merged)
    if len(whole.split()) <= WHOLE_MAX_WORDS:
        return [whole] if whole else []
    out: list[str] = []
    for piece in merged:
        words = piece.split()
        start = 0
        while True:
            out.append(" ".join(words[start : start + CHUNK_MAX_WORDS]))
            if start + CHUNK_MAX_WORDS >= len(words):
                break
            start += CHUNK_STRIDE
    return list(dict.fromkeys(out))


def _budget(rules: _Rules, chunks: list[str], max_words: int = TURN_MAX_WORDS) -> list[str]:
    """At most ``max_words`` words of ``chunks``: when a long turn is over the budget, the
    chunks holding most of the rules' danger and distress vocabulary go first."""
    if sum(len(c.split()) for c in chunks) <= max_words:
        return chunks
    vocabulary = rules.vocabulary
    ranked = sorted(
        range(len(chunks)),
        key=lambda i: -len(rules.present(chunks[i]) & vocabulary),
    )
    chosen, used = [], 0
    for i in ranked:
        size = len(chunks[i].split())
        if used + size > max_words and chosen:
            continue
        chosen.append(i)
        used += size
    return [chunks[i] for i in sorted(chosen)]


def classifier_inputs(text: str, max_words: int | None = TURN_MAX_WORDS) -> list[str]:
    """The texts the classifier embeds for one turn (``max_words=None``: no budget)."""
    rules = _rules()
    chunks = _chunks(rules, text)
    return chunks if max_words is None else _budget(rules, chunks, max_words)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40.0, 40.0)))


def _terms(chunk: str) -> set[str]:
    """The words and word pairs of a chunk: what the cheap first stage reads."""
    words = chunk.split()
    return set(words) | {f"{a} {b}" for a, b in pairwise(words)}


@dataclass(frozen=True, eq=False)
class SafetyHead:
    """The learned layer's weights.

    A cheap first stage decides whether a turn is worth the sentence encoder (a few
    milliseconds a call, the slow part): a logistic regression over the words and word pairs
    of each chunk (``gate_terms``, ``gate_weights``, ``gate_bias``); below ``gate_threshold``
    the turn is left to the rules. Its threshold lets through about one ordinary turn in twenty.

    Then a small scorer over the sentence embedding; two halves averaged (``mix``: the share of
    the first):

    * one logistic regression per category, each fitted against every safe example; the
      highest gives the danger probability and the category;
    * nearest prototypes: the mean cosine similarity to the ``k`` closest danger examples, less
      the similarity to the closest safe prototype (a safe example from the labelled set, or
      the centre of a cluster of ordinary counselling talk), through a logistic of slope
      ``slope``.

    The turn is danger when the score of one of its chunks reaches ``threshold``. Stored as
    ``voice_companion/dialogue/data/safety_head.npz`` and refitted by
    ``benchmarks/fit_safety_head.py``; ``info`` records what it was fitted on."""

    weights: np.ndarray  # (len(categories), dimensions)
    bias: np.ndarray  # (len(categories),)
    categories: tuple[str, ...]
    danger: np.ndarray  # (m, dimensions) unit vectors of danger examples
    safe: np.ndarray  # (n, dimensions) unit vectors of safe prototypes
    k: int
    slope: float
    mix: float
    threshold: float
    gate_terms: tuple[str, ...]
    gate_weights: np.ndarray  # (len(gate_terms),)
    gate_bias: float
    gate_threshold: float
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.gate_weights.shape != (len(self.gate_terms),):
            raise ValueError("safety head: one gate weight per gate term")
        weights = dict(zip(self.gate_terms, self.gate_weights.tolist(), strict=True))
        object.__setattr__(self, "_gate", weights)
        d = self.weights.shape[1] if self.weights.ndim == 2 else -1
        shapes = (self.weights.shape, self.bias.shape, self.danger.shape[1:],
                  self.safe.shape[1:])
        if shapes != ((len(self.categories), d), (len(self.categories),), (d,), (d,)):
            raise ValueError(f"safety head: arrays of inconsistent shapes {shapes}")
        if set(self.categories) - set(CATEGORIES) or not self.categories:
            raise ValueError("safety head: unknown categories")
        if not (0.0 < self.threshold < 1.0 and 0.0 <= self.mix <= 1.0 and
                1 <= self.k <= len(self.danger) and len(self.safe)):
            raise ValueError("safety head: a setting out of range")

    @property
    def dimensions(self) -> int:
        return int(self.weights.shape[1])

    def _category_probabilities(self, vectors: np.ndarray) -> np.ndarray:
        return _sigmoid(vectors @ self.weights.T + self.bias)

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """The danger score (0..1) of each row of ``vectors``."""
        vectors = np.atleast_2d(vectors).astype(np.float32)
        regression = self._category_probabilities(vectors).max(axis=1)
        near = np.sort(vectors @ self.danger.T, axis=1)[:, -self.k :].mean(axis=1)
        safe = (vectors @ self.safe.T).max(axis=1)
        prototypes = _sigmoid(self.slope * (near - safe))
        return self.mix * regression + (1.0 - self.mix) * prototypes

    def gate_score(self, chunks: list[str]) -> float:
        """The first stage's score of a turn: the highest over its chunks (no embedding)."""
        weights: dict[str, float] = self._gate  # type: ignore[attr-defined]
        return max(
            (self.gate_bias + sum(weights.get(t, 0.0) for t in _terms(c)) for c in chunks),
            default=-np.inf,
        )

    def category(self, vector: np.ndarray) -> str:
        probabilities = self._category_probabilities(np.atleast_2d(vector).astype(np.float32))
        return self.categories[int(np.argmax(probabilities[0]))]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            np.savez_compressed(
                fh,
                weights=self.weights.astype(np.float32),
                bias=self.bias.astype(np.float32),
                categories=np.array(self.categories),
                danger=self.danger.astype(np.float16),
                safe=self.safe.astype(np.float16),
                settings=np.array([self.k, self.slope, self.mix, self.threshold,
                                   self.gate_bias, self.gate_threshold]),
                gate_terms=np.array(self.gate_terms),
                gate_weights=self.gate_weights.astype(np.float32),
                info=np.array(json.dumps(self.info, sort_keys=True)),
            )

    @classmethod
    def load(cls, path: Path = HEAD_FILE) -> SafetyHead:
        with np.load(path, allow_pickle=False) as data:
            k, slope, mix, threshold, gate_bias, gate_threshold = (
                float(x) for x in data["settings"]
            )
            return cls(
                weights=data["weights"].astype(np.float32),
                bias=data["bias"].astype(np.float32),
                categories=tuple(str(c) for c in data["categories"]),
                danger=data["danger"].astype(np.float32),
                safe=data["safe"].astype(np.float32),
                k=int(k),
                slope=slope,
                mix=mix,
                threshold=threshold,
                gate_terms=tuple(str(t) for t in data["gate_terms"]),
                gate_weights=data["gate_weights"].astype(np.float32),
                gate_bias=gate_bias,
                gate_threshold=gate_threshold,
                info=json.loads(str(data["info"])),
            )


class _Learned:
    """The sentence encoder and the fitted head, loaded once per process in a background
    thread (about 0.3 s) so that building a detector stays cheap; ``get`` waits for it.
    Either part missing (the model package is optional) leaves the rules alone, silently."""

    def __init__(self, path: Path = HEAD_FILE) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._started = False
        self._ready = threading.Event()
        self._value: tuple[Any, SafetyHead] | None = None
        self._cache: OrderedDict[str, tuple[float, np.ndarray]] = OrderedDict()

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._load, name="safety-encoder", daemon=True).start()

    def _load(self) -> None:
        try:
            from voice_companion.dialogue import embedding

            enc = embedding.encoder()
            if enc is not None and not self._path.is_file():
                log.warning("the safety classifier's weights %s are missing; rules only",
                            self._path)
            elif enc is not None:
                head = SafetyHead.load(self._path)
                if head.dimensions != embedding.DIMENSIONS:
                    raise ValueError(f"{self._path} does not fit the sentence encoder")
                self._value = (enc, head)
        except Exception:  # noqa: BLE001 - the rules still run; say why in the log
            log.warning("the safety classifier is unavailable; rules only", exc_info=True)
        finally:
            self._ready.set()

    def get(self) -> tuple[Any, SafetyHead] | None:
        self.start()
        self._ready.wait()
        return self._value

    def score(self, chunks: list[str]) -> list[tuple[float, np.ndarray]] | None:
        """(probability of danger, embedding) for each chunk, or None without the model.
        Recent chunks are remembered (a turn is often checked twice: session and engine)."""
        loaded = self.get()
        if loaded is None:
            return None
        enc, head = loaded
        with self._lock:
            known = {c: self._cache[c] for c in chunks if c in self._cache}
        todo = [c for c in dict.fromkeys(chunks) if c not in known]
        if todo:
            vectors = enc.encode(todo)
            for text, vector, p in zip(todo, vectors, head.scores(vectors), strict=True):
                known[text] = (float(p), vector)
        with self._lock:
            for c in chunks:
                self._cache[c] = known[c]
                self._cache.move_to_end(c)
            while len(self._cache) > 256:
                self._cache.popitem(last=False)
        return [known[c] for c in chunks]


_LEARNED = _Learned()


def warm_up() -> None:
    """Compile the rules and start loading the learned layer now, so that the first turn does
    not wait for them (a live session does this in the background while it greets)."""
    _rules()
    _LEARNED.start()


def classifier_available() -> bool:
    """Whether the learned layer is in use (waits for it to load): the sentence model package
    is installed and the fitted head loads."""
    return _LEARNED.get() is not None


class SafetyDetector:
    """Finds danger in one finished turn. One detector per conversation.

    The detector remembers, for ``distress_memory`` turns, that distress (or danger) was heard,
    so that a question about means in the next turns ("which bridges here are the tallest?")
    is caught.
    """

    def __init__(self, distress_memory: int = 3, learned: bool = True) -> None:
        self._compiled: _Rules | None = None  # compiled on first use (see :func:`warm_up`)
        self._recent: deque[bool] = deque(maxlen=max(distress_memory, 0) + 1)
        # The classifier heard after the rules; its model loads in the background.
        self._learned = _LEARNED if learned else None
        if self._learned is not None:
            self._learned.start()

    @property
    def _rules(self) -> _Rules:
        if self._compiled is None:
            self._compiled = _rules()
        return self._compiled

    def reset(self) -> None:
        """Forget the distress heard so far (a new conversation)."""
        self._recent.clear()

    @property
    def distressed(self) -> bool:
        """Whether distress (or danger) was heard in the last turns: a means question now would
        count."""
        return any(self._recent)

    def check(self, text: str) -> Safety | None:
        """A :class:`Safety` with the category when ``text`` suggests danger, else ``None``."""
        hit = self.assess(text)
        return Safety(category=hit.category) if hit else None

    def assess(self, text: str) -> SafetyHit | None:
        """Like :meth:`check`, with the details of the match."""
        rules = self._rules
        norm = rules.normalise(text or "")
        if not norm:
            self._recent.append(False)
            return None
        # Blanking idioms only removes text, so the gate strings of ``norm`` are a superset of
        # those of ``clean``: a safe gate for both steps.
        present = rules.present(norm)
        # Comic exaggeration is let off only when no distress was heard in the last turns.
        clean = rules.blank_idioms(norm, present, hyperbole=not any(self._recent))
        distress_now = rules.first(rules.distress, clean, present) is not None
        distressed = distress_now or any(self._recent)
        hit = self._find(clean, present, distressed, norm)
        if hit is None and self._learned is not None:
            hit = self._classify(text, norm, distressed)
        # Danger heard now counts as distress for the next turns too.
        self._recent.append(distress_now or hit is not None)
        return hit

    def _find(
        self, clean: str, present: frozenset[str], distressed: bool, norm: str
    ) -> SafetyHit | None:
        rules = self._rules
        words = _Words(clean)
        for name in rules.order:
            found = rules.first(rules.always[name], clean, present)
            if found is not None:
                source, m = found
                return self._hit(name, clean, m.start(), m.end(), source, False, norm)
            framed = rules.first_frame(rules.frames[name], words, present, distressed)
            if framed is not None:
                source, (start, end), gated = framed
                return self._hit(name, clean, start, end, f"frame: {source}", gated, norm)
            if distressed and rules.conditional[name]:
                found = rules.first(rules.conditional[name], clean, present)
                if found is not None:
                    source, m = found
                    return self._hit(name, clean, m.start(), m.end(), source, True, norm)
        return None

    def _classify(self, text: str, norm: str, distressed: bool) -> SafetyHit | None:
        """The learned layer, for what the rules did not hear: the highest-scoring chunk of the
        turn, when it reaches the head's threshold. Like the rules' means questions, a chunk
        the model files under "means" counts only after distress."""
        assert self._learned is not None
        chunks = _budget(self._rules, _chunks(self._rules, text))
        if not chunks or sum(len(c.split()) for c in chunks) < MODEL_MIN_WORDS:
            return None
        loaded = self._learned.get()
        if loaded is None:
            return None
        head = loaded[1]
        if head.gate_score(chunks) < head.gate_threshold:
            return None  # most ordinary talk stops here, before the encoder
        try:
            scored = self._learned.score(chunks)
        except Exception:  # noqa: BLE001 - a broken model must not silence the rules
            log.warning("the safety classifier failed on a turn", exc_info=True)
            return None
        if scored is None:
            return None
        best = max(range(len(chunks)), key=lambda i: scored[i][0])
        p, vector = scored[best]
        if p < head.threshold:
            return None
        category = head.category(vector)
        if category == "means" and not distressed:
            return None
        return SafetyHit(
            category=category,
            matched=chunks[best],
            pattern=f"model: {p:.2f}",
            negated=False,
            conditional=category == "means",
            normalised=norm,
        )

    @staticmethod
    def _hit(
        name: str, clean: str, start: int, end: int, source: str, conditional: bool, norm: str
    ) -> SafetyHit:
        return SafetyHit(
            category=name,
            matched=clean[start:end],
            pattern=source,
            negated=_negated(clean, start),
            conditional=conditional,
            normalised=norm,
        )


__all__ = [
    "CATEGORIES",
    "LOCALES",
    "HelplinesFile",
    "HEAD_FILE",
    "SafetyDetector",
    "SafetyFile",
    "SafetyHead",
    "SafetyHit",
    "classifier_available",
    "classifier_inputs",
    "crisis_reply",
    "normalise",
    "normalise_locale",
    "speak_number",
]
