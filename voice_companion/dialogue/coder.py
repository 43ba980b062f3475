"""An automatic coder of counsellor utterances, in the spirit of MITI 4.2.1.

:func:`code_utterance` says whether one counsellor utterance holds a reflection (simple or
complex), a question (open or closed), an affirmation or a summary, and which of Gordon's twelve
roadblocks to listening it uses. It is rule-based: the phrases live in ``prompts/coder.toml``.
The benchmark uses it as a check on the engine that does not trust the engine's own labels, and
validates it against the expert labels of AnnoMI (``benchmarks/dialogue_eval.py``).

An optional ``context`` (the person's last turn) lets the coder see a reflection that is only
recognisable by the words it gives back ("Like a new beginning.").
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from voice_companion.prompts import load_prompts

ROADBLOCKS: tuple[str, ...] = (
    "ordering",
    "warning",
    "moralising",
    "advising",
    "lecturing",
    "judging",
    "praising",
    "labelling",
    "diagnosing",
    "reassuring",
    "interrogating",
    "withdrawing",
)

_APOSTROPHES = str.maketrans({"'": "_", "\u2019": "_", "\u2018": "_", "`": "_", "\u00b4": "_"})
_FIRST_PERSON = re.compile(
    r"\b(?:i|i_m|i_ve|i_d|i_ll|me|my|mine|we|we_re|we_ve|we_ll|us|our|let_s)\b"
)
_SECOND_PERSON = re.compile(r"\b(?:you|you_re|you_ve|you_d|you_ll|your|yours|yourself)\b")
_WORD = re.compile(r"[a-z][a-z_\-]*")


class Codes(BaseModel):
    """What one counsellor utterance does."""

    reflection: Literal["simple", "complex"] | None = None
    question: Literal["open", "closed"] | None = None
    affirmation: bool = False
    summary: bool = False
    roadblocks: list[str] = Field(default_factory=list)


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc}): {value}") from exc
    return value


def _regexes(*names: str) -> Any:
    """A validator checking that each named field holds valid regular expressions."""

    def check(cls: type, value: str | list[str]) -> str | list[str]:
        return [_regex(v) for v in value] if isinstance(value, list) else _regex(value)

    return field_validator(*names)(classmethod(check))


class _Fillers(BaseModel):
    lead: str
    _valid = _regexes("lead")


class _Questions(BaseModel):
    wh_start: str
    aux_start: str
    open: str
    tag: str
    why: str
    invite: str
    wonder: str
    _valid = _regexes("wh_start", "aux_start", "open", "tag", "why", "invite", "wonder")


class _Reflections(BaseModel):
    stems: str
    anywhere: str
    complex: str
    feeling: str
    not_reflection: str
    minimal: str
    _valid = _regexes("stems", "anywhere", "complex", "feeling", "not_reflection", "minimal")


class _PatternList(BaseModel):
    patterns: list[str] = Field(min_length=1)
    _valid = _regexes("patterns")


class _Roadblocks(BaseModel):
    ordering: list[str]
    warning: list[str]
    moralising: list[str]
    advising: list[str]
    lecturing: list[str]
    judging: list[str]
    praising: list[str]
    labelling: list[str]
    diagnosing: list[str]
    reassuring: list[str]
    interrogating: list[str]
    withdrawing: list[str]
    _valid = _regexes(*ROADBLOCKS)


class _Words(BaseModel):
    stopwords: list[str]


class CoderFile(BaseModel):
    """The shape of ``prompts/coder.toml``."""

    fillers: _Fillers
    questions: _Questions
    reflections: _Reflections
    affirmations: _PatternList
    summaries: _PatternList
    roadblocks: _Roadblocks
    words: _Words


class _Compiled:
    def __init__(self, data: CoderFile) -> None:
        q, r = data.questions, data.reflections
        self.lead = re.compile(data.fillers.lead)
        self.wh_start = re.compile(q.wh_start)
        self.aux_start = re.compile(q.aux_start)
        self.open = re.compile(q.open)
        self.tag = re.compile(q.tag)
        self.why = re.compile(q.why)
        self.invite = re.compile(q.invite)
        self.wonder = re.compile(q.wonder)
        self.stems = re.compile(r.stems)
        self.anywhere = re.compile(r.anywhere)
        self.complex = re.compile(r.complex)
        self.feeling = re.compile(r.feeling)
        self.not_reflection = re.compile(r.not_reflection)
        self.minimal = re.compile(r.minimal)
        self.affirmations = [re.compile(p) for p in data.affirmations.patterns]
        self.summaries = [re.compile(p) for p in data.summaries.patterns]
        self.roadblocks = {
            name: [re.compile(p) for p in getattr(data.roadblocks, name)] for name in ROADBLOCKS
        }
        self.stopwords = frozenset(data.words.stopwords)


@lru_cache(maxsize=4)
def _load(_key: str) -> _Compiled:
    return _Compiled(load_prompts("coder", CoderFile))


def _rules() -> _Compiled:
    from voice_companion.prompts import prompts_dir

    return _load(str(prompts_dir()))


# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------


def prepare(text: str) -> str:
    """Lower case, one space between words, every apostrophe written as ``_``, stutters and
    transcription notes ("wh-what", "the-the", "[chuckles]") removed."""
    t = (text or "").lower().translate(_APOSTROPHES)
    t = re.sub(r"\[[^\]]*\]", " ", t)
    t = re.sub(r"\b([a-z_]+)(?:-\1\b)+", r"\1", t)
    t = re.sub(r"\b([a-z]{1,3})-(?=\1)", "", t)
    return re.sub(r"\s+", " ", t).strip()


def _stem(word: str) -> str:
    word = word.strip("-_")
    if word.endswith("_s"):
        word = word[:-2]
    for suffix in ("ingly", "ing", "edly", "ed", "ies", "es", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if suffix == "ies":
                word += "y"
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiousl":
        word = word[:-1]  # "stopp" -> "stop"
    return word


def content_words(text: str) -> set[str]:
    """The stems of the words in ``text`` that carry content (no stopwords, no fillers)."""
    stop = _rules().stopwords
    return {_stem(w) for w in _WORD.findall(prepare(text)) if w not in stop and len(w) > 2}


def shared_content(reply: str, context: str) -> set[str]:
    """Content-word stems the reply shares with ``context`` (the person's words)."""
    return content_words(reply) & content_words(context)


def feeling_terms(text: str) -> set[str]:
    """Stems of the feeling and wish words in ``text`` ("hurt", "worri", "want")."""
    return {_stem(m.group(0).split()[-1]) for m in _rules().feeling.finditer(prepare(text))}


# --------------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------------


def _sentences(text: str) -> list[tuple[str, bool]]:
    """(sentence, ends with a question mark) for each sentence of a prepared utterance."""
    parts = re.split(r"(?<=[.!?])\s+", text)
    out = []
    for part in parts:
        part = part.strip(" -\u2013\u2014")
        if part:
            out.append((part, part.rstrip().endswith("?")))
    return out


def _strip_lead(rules: _Compiled, sentence: str) -> str:
    stripped = rules.lead.sub("", sentence)
    return stripped.strip(" ,.-\u2013\u2014")


def _clauses(rules: _Compiled, body: str) -> list[str]:
    parts = re.split(r"\s*[,;:\-\u2013\u2014]+\s*|\s+(?=(?:and|or|but|so) )", body)
    out = [body]
    for part in parts:
        part = _strip_lead(rules, part)
        if part and part != body:
            out.append(part)
    return out


def _question_kind(rules: _Compiled, body: str, marked: bool, unpunctuated: bool) -> str | None:
    """"open", "closed", "statement" (a statement said as a question) or None."""
    clauses = _clauses(rules, body)
    is_open = any(rules.open.search(c) for c in clauses) and not rules.tag.search(body)
    is_closed = any(rules.wh_start.search(c) or rules.aux_start.search(c) for c in clauses)
    if not marked:
        if rules.invite.search(body):
            return "open"  # "Tell me more about that.", "I'm wondering what that was like."
        if rules.wonder.search(body):
            return "closed"  # "I wonder if you've thought about it."
        starts = rules.wh_start.search(body) or rules.aux_start.search(body)
        if not (unpunctuated and starts):
            return None
    if is_open:
        return "open"
    if is_closed or rules.tag.search(body):
        return "closed"
    return "statement"


def _reflection_score(
    rules: _Compiled, body: str, context_words: set[str] | None, said_as_question: bool
) -> tuple[int, bool]:
    """A score (reflection at 2 or more) and whether the evidence is strong (a reflective stem or
    the person's own words)."""
    if not body or rules.minimal.search(body) or rules.not_reflection.search(body):
        return 0, False
    score = 0
    strong = False
    if rules.stems.search(body) or rules.anywhere.search(body):
        score += 2
        strong = True
    first = _FIRST_PERSON.findall(body)
    own_view = re.search(r"^(?:i hear|i_m hearing|i imagine|i guess|i wonder|i sense|i get)", body)
    if _SECOND_PERSON.search(body):
        score += 1 if first else 2
    if first and not own_view:
        score -= 1
    if context_words:
        mine = {_stem(w) for w in _WORD.findall(body)} - rules.stopwords
        if mine:
            shared = len(mine & context_words) / len(mine)
            if shared >= 0.5:
                score += 2
                strong = True
            elif shared >= 0.25:
                score += 1
    if said_as_question:
        score += 1
    return score, strong


def _depth(rules: _Compiled, reflection: str, context_words: set[str] | None) -> str:
    """"complex" when the reflection adds meaning, feeling, or two sides; else "simple".

    A feeling word the person said themselves keeps a reflection simple ("You're exhausted."
    after "I'm exhausted"); one they did not say is added meaning. Without the person's words,
    a feeling counts as added only in a longer reflection.
    """
    words = reflection.split()
    if rules.complex.search(reflection) or len(words) >= 18:
        return "complex"
    added = [
        m.group(0)
        for m in rules.feeling.finditer(reflection)
        if context_words is None or _stem(m.group(0).split()[-1]) not in context_words
    ]
    if added and (context_words is not None or len(words) >= 8):
        return "complex"
    return "simple"


_SWAP = {
    "i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself",
    "i_m": "you_re", "i_ve": "you_ve", "i_d": "you_d", "i_ll": "you_ll", "am": "are",
    "we": "you", "us": "you", "our": "your", "was": "were",
}


def _their_words(context: str) -> tuple[str, str]:
    """The person's words as said, and turned around ("my fault" -> "your fault")."""
    prepared = prepare(context)
    swapped = " ".join(_SWAP.get(w, w) for w in prepared.split())
    return prepared, swapped


def code_utterance(text: str, context: str | None = None, history: str | None = None) -> Codes:
    """Code one counsellor utterance.

    ``context`` is the person's turn just before it; ``history`` (default: ``context``) is
    everything the person has said, used only to tell a roadblock phrase the counsellor uses from
    the person's own words given back ("you said it's not a big deal").
    """
    rules = _rules()
    prepared = prepare(text)
    codes = Codes()
    if not prepared:
        return codes
    unpunctuated = re.search(r"[.!?]", prepared) is None
    context_words = content_words(context) if context else None

    questions: list[str] = []
    candidates: list[tuple[str, bool]] = []
    asks = False  # a real question (what/how/do you...) in the utterance
    for sentence, marked in _sentences(prepared):
        body = _strip_lead(rules, sentence)
        kind = _question_kind(rules, body, marked, unpunctuated)
        if kind in ("open", "closed"):
            questions.append(kind)
            asks = True
            continue
        if kind == "statement":
            questions.append("closed")
        score, strong = _reflection_score(rules, body, context_words, kind == "statement")
        if score >= 2:
            candidates.append((body, strong))
    # Beside a real question, only clear reflections count: a lead-in to a question
    # ("You did the sheet. Is there anything...?") is not a reflection.
    reflective = [b for b, strong in candidates if strong or not asks]

    if questions:
        codes.question = "open" if "open" in questions else "closed"
    if reflective:
        codes.reflection = _depth(rules, " ".join(reflective), context_words)

    codes.affirmation = any(rx.search(prepared) for rx in rules.affirmations)
    codes.summary = any(rx.search(prepared) for rx in rules.summaries)
    if not codes.summary and reflective and len(" ".join(reflective).split()) >= 40:
        codes.summary = len(reflective) >= 3

    quoted = history if history is not None else context
    said = _their_words(quoted) if quoted else ()
    found = []
    for name in ROADBLOCKS:
        if name == "praising" and codes.affirmation:
            continue  # praise that names a real strength is an affirmation, not a roadblock
        for rx in rules.roadblocks[name]:
            matches = [m.group(0).strip(" ,.!?") for m in rx.finditer(prepared)]
            # The person's own words given back ("it's just a dog", said of what others say)
            # are a reflection of them, not the counsellor's roadblock.
            if any(m and not any(m in version for version in said) for m in matches):
                found.append(name)
                break
    if "interrogating" not in found and len(questions) > 1:
        found.append("interrogating")
    codes.roadblocks = found
    return codes


__all__ = [
    "ROADBLOCKS",
    "Codes",
    "CoderFile",
    "code_utterance",
    "content_words",
    "feeling_terms",
    "shared_content",
]
