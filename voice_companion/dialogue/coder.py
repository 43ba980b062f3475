"""An automatic coder of counsellor utterances, in the spirit of MITI 4.2.1.

:func:`code_utterance` says whether one counsellor utterance holds a reflection (simple or
complex), a question (open or closed), an affirmation or a summary, and which of Gordon's twelve
roadblocks to listening it uses. It is rule-based: the phrases live in ``prompts/coder.toml``.
The benchmark uses it as a check on the engine that does not trust the engine's own labels, and
validates it against the expert labels of AnnoMI (``benchmarks/dialogue_eval.py``).

Questions, affirmations, summaries and roadblocks are found by rules. Whether an utterance holds a
reflection is decided by a small logistic model over hand-made features
(:func:`reflection_features`): the rule-based reflection score, the shape of the sentences
(questions, statements, fragments), cues of information, advice, structuring and acknowledgement,
and how much of the person's own words it gives back. The cues and the model's weights are data
in ``prompts/coder.toml``; the weights were fitted on one half of AnnoMI's transcripts and are
checked on the other half (``benchmarks/dialogue_eval.py``).

When the sentence encoder is installed (:mod:`voice_companion.dialogue.embedding`), the model
also reads an all-MiniLM-L6-v2 embedding of the utterance (``[embedding_model]`` in coder.toml:
the same hand features plus 384 weights on the vector, fitted the same way). What is encoded is
named by its ``embeds``: the whole utterance, or (``"statement_sentences"``) the mean of the
embeddings of its sentences that do not end in a question mark (:func:`embedding_inputs`), so a
question after a reflection does not blur it. The model is only asked about utterances that
state something: an utterance of nothing but questions and acknowledgements is never a
reflection, by rule, and is not encoded. Without the encoder, the hand-feature model
(``[model]``) decides alone; :func:`reflection_model_name` says which one is in use. Embeddings
are remembered within a process, and :func:`code_utterances` encodes a whole batch at once. No
weight may exceed ``MAX_WEIGHT`` in size, so that the decision cannot hang on float rounding in
the encoder.

An optional ``context`` (the person's last turn) lets the coder see a reflection that is only
recognisable by the words it gives back ("Like a new beginning.").
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator, model_validator

from voice_companion.dialogue import embedding
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

# The features of the reflection model, in the order of ``[model.weights]`` in coder.toml.
FEATURES: tuple[str, ...] = (
    "minimal",  # nothing but acknowledgements ("Mm-hmm. Okay.")
    "no_statement",  # only questions: no sentence that states anything
    "question",  # a real question (open or closed)
    "statement_question",  # a statement said as a question ("So you're tired of it?")
    "question_mark",
    "words",  # log(1 + words)
    "short",  # three words or fewer
    "starts_mid",  # begins mid-sentence ("-and then...")
    "ends_cut",  # breaks off ("So you-")
    "rule",  # the rule-based reflection score says reflection
    "reflective_phrase",  # "it sounds like", "you're saying", "part of you"...
    "complex_marker",
    "feeling",
    "you_statement",  # a statement about "you" that is not advice
    "inner",  # words of the inner world: feel, want, care, hard, important...
    "hedge",  # kind of, pretty, a bit...
    "you_state",  # you're, you've, you don't, you still...
    "reflection_then_question",  # a reflective statement, then a question
    "advice",  # you can/should/need to, let's, we'll, make sure...
    "information",  # facts and figures: research, medication, risk, numbers...
    "not_reflection",  # the rule-based list of what is never a reflection
    "conditional",  # if, unless, whether
    "acknowledgement",  # "That sounds good.", "Nice.", "I understand."
    "greeting",
    "self_start",  # a statement that starts with I, we or let's
    "opinion",  # I think, in my experience, as your doctor...
    "context_share",  # share of its content words the person just said
    "context_shared",  # log(1 + content words the person just said)
    "history_share",  # share of its content words the person said lately
    "context_words",  # log(1 + words of the person's last turn)
    "context_minimal",  # the person's last turn was a mere "yeah"
    "context_question",  # the person's last turn asked a question
)
# Features that need the person's words: without them they take the values in
# ``[model.no_context]`` (their average over the fitting data, but none of the person's words
# counted as given back).
CONTEXT_FEATURES: tuple[str, ...] = (
    "context_share",
    "context_shared",
    "history_share",
    "context_words",
    "context_minimal",
    "context_question",
)
# How far back "lately" reaches in the person's words, in words.
_HISTORY_WORDS = 60

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
    wh_asking: str
    _valid = _regexes(
        "wh_start", "aux_start", "open", "tag", "why", "invite", "wonder", "wh_asking"
    )


class _Reflections(BaseModel):
    stems: str
    anywhere: str
    complex: str
    feeling: str
    not_reflection: str
    minimal: str
    _valid = _regexes("stems", "anywhere", "complex", "feeling", "not_reflection", "minimal")


class _Cues(BaseModel):
    spoken_fillers: str
    you_subject: str
    own_view: str
    self_start: str
    advice: str
    information: str
    acknowledgement: str
    greeting: str
    opinion: str
    conditional: str
    hedge: str
    inner: str
    you_state: str
    _valid = _regexes(
        "spoken_fillers", "you_subject", "own_view", "self_start", "advice", "information",
        "acknowledgement", "greeting", "opinion", "conditional", "hedge", "inner", "you_state",
    )


# The largest weight a reflection model may give one raw feature. The fitted weights are all
# below 4; a far larger one would come from a feature that hardly varies in the fitting data
# (three of the encoder's 384 numbers are always about 1e-33 or 1e-8), and would let a
# difference of float rounding in the encoder swing the decision.
MAX_WEIGHT = 100.0


def _check_weights(values: Sequence[float], where: str) -> None:
    bad = [v for v in values if not math.isfinite(v) or abs(v) > MAX_WEIGHT]
    if bad:
        raise ValueError(
            f"{where} must be finite and at most {MAX_WEIGHT:g} in size, not {bad[0]}: refit "
            "the model (benchmarks/dialogue_eval.py gives a feature that does not vary no weight)"
        )


class _Model(BaseModel):
    threshold: float = Field(gt=0.0, lt=1.0)
    bias: float
    weights: dict[str, float]
    no_context: dict[str, float]

    @model_validator(mode="after")
    def _names(self) -> _Model:
        if set(self.weights) != set(FEATURES):
            missing = sorted(set(FEATURES) - set(self.weights))
            unknown = sorted(set(self.weights) - set(FEATURES))
            raise ValueError(
                f"weights must name every feature: missing {missing}, unknown {unknown}"
            )
        if set(self.no_context) != set(CONTEXT_FEATURES):
            raise ValueError(f"no_context must name exactly {list(CONTEXT_FEATURES)}")
        _check_weights(list(self.weights.values()), "weights")
        return self


class _EmbeddingModel(BaseModel):
    """The reflection model over the hand features and the utterance's sentence embedding."""

    threshold: float = Field(gt=0.0, lt=1.0)
    bias: float
    encoder: str
    fitted_on: str
    out_of_fold_kappa: float | None = None
    # What is encoded: the whole utterance, or each of its sentences that does not end in "?"
    # (the vectors averaged); see ``embedding_inputs``.
    embeds: Literal["utterance", "statement_sentences"] = "utterance"
    embedding: list[float]
    weights: dict[str, float]

    @model_validator(mode="after")
    def _shape(self) -> _EmbeddingModel:
        if len(self.embedding) != embedding.DIMENSIONS:
            raise ValueError(
                f"embedding must hold {embedding.DIMENSIONS} weights, not {len(self.embedding)}"
            )
        if set(self.weights) != set(FEATURES):
            missing = sorted(set(FEATURES) - set(self.weights))
            unknown = sorted(set(self.weights) - set(FEATURES))
            raise ValueError(
                f"weights must name every feature: missing {missing}, unknown {unknown}"
            )
        _check_weights(list(self.weights.values()), "weights")
        _check_weights(self.embedding, "embedding weights")
        return self


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
    cues: _Cues
    model: _Model
    embedding_model: _EmbeddingModel | None = None


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
        self.wh_asking = re.compile(q.wh_asking)
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
        self.cues = {
            name: re.compile(getattr(data.cues, name)) for name in _Cues.model_fields
        }
        self.model = data.model
        self.embedding_model = data.embedding_model
        if data.embedding_model is not None:
            m = data.embedding_model
            self.embedding_weights = np.array(m.embedding, dtype=np.float64)
            self.embedding_feature_weights = np.array([m.weights[n] for n in FEATURES])


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


def _question_kind(
    rules: _Compiled, body: str, marked: bool, unpunctuated: bool, heard: str = ""
) -> str | None:
    """"open", "closed", "statement" (a statement said as a question) or None.

    ``heard`` is the person's words (prepared): a question without its question mark that only
    gives back what they asked ("what are you talking about") is theirs, not a question."""
    clauses = _clauses(rules, body)
    is_open = any(rules.open.search(c) for c in clauses) and not rules.tag.search(body)
    is_closed = any(rules.wh_start.search(c) or rules.aux_start.search(c) for c in clauses)
    if not marked:
        if rules.invite.search(body):
            return "open"  # "Tell me more about that.", "I'm wondering what that was like."
        if rules.wonder.search(body):
            return "closed"  # "I wonder if you've thought about it."
        starts = rules.wh_start.search(body) or rules.aux_start.search(body)
        asking = rules.wh_asking.search(body) and not (
            heard and " ".join(body.split()[:4]) in heard
        )
        if not (unpunctuated and starts) and not asking:
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


class _Sentence:
    """One sentence of an utterance, as the coder sees it."""

    __slots__ = ("body", "kind", "score", "strong")

    def __init__(self, body: str, kind: str | None, score: int, strong: bool) -> None:
        self.body = body
        self.kind = kind  # "open", "closed", "statement" (said as a question) or None
        self.score = score
        self.strong = strong

    @property
    def asks(self) -> bool:
        return self.kind in ("open", "closed")


def _analyse(
    rules: _Compiled, prepared: str, context_words: set[str] | None, heard: str = ""
) -> list[_Sentence]:
    """The sentences of a prepared utterance that say something (acknowledgements dropped);
    ``heard`` is the person's words, prepared."""
    unpunctuated = re.search(r"[.!?]", prepared) is None
    out = []
    for sentence, marked in _sentences(prepared):
        body = _strip_lead(rules, sentence)
        if not body or rules.minimal.search(body):
            continue
        kind = _question_kind(rules, body, marked, unpunctuated, heard)
        score, strong = (0, False)
        if kind not in ("open", "closed"):
            score, strong = _reflection_score(rules, body, context_words, kind == "statement")
        out.append(_Sentence(body, kind, score, strong))
    return out


def _rule_reflections(sentences: list[_Sentence]) -> list[str]:
    """The sentences the rules take for reflections."""
    asks = any(s.asks for s in sentences)
    # Beside a real question, only clear reflections count: a lead-in to a question
    # ("You did the sheet. Is there anything...?") is not a reflection.
    return [s.body for s in sentences if s.score >= 2 and (s.strong or not asks)]


def _content(rules: _Compiled, text: str) -> set[str]:
    """Content-word stems, numbers included ("a six" gives back "six", "25" gives back "25")."""
    words = _WORD.findall(text)
    return {_stem(w) for w in words if w not in rules.stopwords and len(w) > 2} | set(
        re.findall(r"\d+", text)
    )


def _density(rx: re.Pattern[str], text: str) -> float:
    """Matches of ``rx`` per square root of the words of ``text``."""
    return len(rx.findall(text)) / math.sqrt(max(1, len(text.split())))


def _features(
    rules: _Compiled,
    text: str,
    prepared: str,
    sentences: list[_Sentence],
    context: str | None,
    history: str | None,
) -> dict[str, float]:
    """Every feature of ``FEATURES`` for one analysed utterance (see ``reflection_features``)."""
    cues = rules.cues
    statements = [s for s in sentences if not s.asks]
    plain = cues["spoken_fillers"].sub(" ", " ".join(s.body for s in statements))
    words = prepared.split()
    f = dict.fromkeys(FEATURES, 0.0)
    f["minimal"] = float(not sentences)
    f["no_statement"] = float(not statements)
    f["question"] = float(any(s.asks for s in sentences))
    f["statement_question"] = float(any(s.kind == "statement" for s in sentences))
    f["question_mark"] = float("?" in prepared)
    f["words"] = math.log1p(len(words))
    f["short"] = float(len(words) <= 3)
    raw = (text or "").strip()
    f["starts_mid"] = float(bool(re.match(r"^[-\u2013\u2014]", raw)) or raw[:1].islower())
    f["ends_cut"] = float(bool(re.search(r"[-\u2013\u2014]$", raw)))
    f["rule"] = float(bool(_rule_reflections(sentences)))
    f["reflective_phrase"] = float(any(rules.anywhere.search(s.body) for s in statements))
    f["complex_marker"] = float(bool(rules.complex.search(prepared)))
    f["feeling"] = float(bool(rules.feeling.search(prepared)))
    f["inner"] = _density(cues["inner"], plain)
    f["hedge"] = _density(cues["hedge"], plain)
    f["you_state"] = _density(cues["you_state"], plain)
    f["conditional"] = _density(cues["conditional"], plain)
    for s in statements:
        body = cues["spoken_fillers"].sub(" ", s.body).strip()
        advice = bool(cues["advice"].search(body))
        hits = {
            "advice": advice,
            "information": bool(cues["information"].search(body)),
            "not_reflection": bool(rules.not_reflection.search(body)),
            "acknowledgement": bool(cues["acknowledgement"].search(body)),
            "opinion": bool(cues["opinion"].search(body)),
            "you_statement": bool(cues["you_subject"].search(body)) and not advice,
            "self_start": bool(cues["self_start"].search(body))
            and not cues["own_view"].search(body),
        }
        for name, hit in hits.items():
            if hit:
                f[name] = 1.0
    f["greeting"] = float(bool(cues["greeting"].search(prepared)))
    seen_reflection = False
    for s in sentences:
        if s.asks and seen_reflection:
            f["reflection_then_question"] = 1.0
        elif not s.asks and (s.score >= 2 or cues["you_subject"].search(s.body)):
            seen_reflection = True

    if context is None:
        f.update(rules.model.no_context)
        return f
    mine = _content(rules, " ".join(s.body for s in statements) or prepared)
    said = prepare(context)
    theirs = _content(rules, said)
    lately = _content(rules, " ".join(prepare(history or context).split()[-_HISTORY_WORDS:]))
    f["context_share"] = len(mine & theirs) / len(mine) if mine else 0.0
    f["context_shared"] = math.log1p(len(mine & theirs))
    f["history_share"] = len(mine & lately) / len(mine) if mine else 0.0
    f["context_words"] = math.log1p(len(said.split()))
    f["context_minimal"] = float(len(said.split()) <= 2 or bool(rules.minimal.search(said)))
    # A real question ("What should I do?"), not a spoken tag ("It just hurt, you know?").
    f["context_question"] = float(any(s.asks for s in _analyse(rules, said, None)))
    return f


def _heard(history: str | None, context: str | None) -> str:
    """Everything the person said (``history``, else ``context``), prepared."""
    quoted = history if history is not None else context
    return prepare(quoted) if quoted else ""


def reflection_features(
    text: str, context: str | None = None, history: str | None = None
) -> dict[str, float]:
    """The features the reflection model weighs, by name (see ``FEATURES``).

    ``context`` is the person's last turn and ``history`` what they have said so far (default:
    ``context``); without a context the context features take the values in
    ``[model.no_context]`` of coder.toml.
    """
    rules = _rules()
    prepared = prepare(text)
    context_words = content_words(context) if context else None
    sentences = _analyse(rules, prepared, context_words, _heard(history, context))
    return _features(rules, text, prepared, sentences, context, history)


def reflection_probability(features: dict[str, float]) -> float:
    """The reflection model's probability that an utterance with these features reflects
    (the hand-feature model, ``[model]``; see :func:`embedding_probability` for the other)."""
    model = _rules().model
    z = model.bias + sum(model.weights[name] * features[name] for name in FEATURES)
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def embedding_probability(features: dict[str, float], vector: np.ndarray) -> float:
    """The probability of ``[embedding_model]`` that an utterance with these features and this
    sentence embedding reflects (its file must have an embedding model)."""
    rules = _rules()
    model = rules.embedding_model
    if model is None:
        raise ValueError("coder.toml has no [embedding_model]")
    z = model.bias + float(rules.embedding_feature_weights @ [features[n] for n in FEATURES])
    z += float(rules.embedding_weights @ np.asarray(vector, dtype=np.float64))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


# --------------------------------------------------------------------------------------------
# Sentence embeddings
# --------------------------------------------------------------------------------------------

_VECTORS: dict[str, np.ndarray] = {}
_VECTORS_MAX = 50_000  # remembered embeddings (about 1.5 kB each); forgotten all at once
_VECTORS_FROM: list[object] = [None]  # the encoder that made them


def _encoder() -> embedding.SentenceEncoder | None:
    """The sentence encoder, or None when it is not installed (or cannot be read)."""
    try:
        return embedding.encoder()
    except embedding.EmbeddingError:
        return None


def _embedding_model_in_use() -> bool:
    """Whether the embedding model decides reflections: it is in coder.toml and the encoder is
    installed."""
    return _rules().embedding_model is not None and _encoder() is not None


def reflection_model_name() -> str:
    """Which reflection model codes utterances: the embedding model, or the hand features alone
    (and why)."""
    model = _rules().embedding_model
    if model is None:
        return "hand features only (coder.toml has no [embedding_model])"
    if _encoder() is None:
        return "hand features only (the sentence encoder is not installed)"
    return f"hand features + sentence embedding ({model.encoder})"


def embed(texts: Sequence[str]) -> np.ndarray | None:
    """The sentence embeddings of ``texts`` (one row each), or None without the encoder. Texts
    not seen before in this process are encoded together, in one batch."""
    enc = _encoder()
    if enc is None:
        return None
    if _VECTORS_FROM[0] is not enc:
        _VECTORS.clear()
        _VECTORS_FROM[0] = enc
    todo = [t for t in dict.fromkeys(texts) if t not in _VECTORS]
    if todo:
        if len(_VECTORS) + len(todo) > _VECTORS_MAX:
            _VECTORS.clear()
        for text, vector in zip(todo, enc.encode(todo), strict=True):
            _VECTORS[text] = vector
    if not texts:
        return np.zeros((0, embedding.DIMENSIONS), dtype=np.float32)
    return np.stack([_VECTORS[t] for t in texts])


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def embedding_inputs(text: str, embeds: str = "statement_sentences") -> list[str]:
    """The texts whose embeddings, averaged, stand for ``text`` in the embedding model: the
    utterance itself (``embeds="utterance"``), or its sentences, as written, that do not end in
    a question mark (all of them when every one does)."""
    if embeds == "utterance":
        return [text]
    sentences = [s for s in _SENTENCE_END.split((text or "").strip()) if s.strip()] or [text]
    return [s for s in sentences if not s.rstrip().endswith("?")] or sentences


def utterance_vector(text: str) -> np.ndarray | None:
    """The vector the embedding model reads for ``text`` (the mean of the embeddings of
    :func:`embedding_inputs`), or None without the encoder or without an embedding model."""
    model = _rules().embedding_model
    if model is None:
        return None
    vectors = embed(embedding_inputs(text, model.embeds))
    return None if vectors is None else vectors.astype(np.float64).mean(axis=0)


def states_something(features: dict[str, float]) -> bool:
    """Whether an utterance with these features says anything that is not a question or an
    acknowledgement: only such an utterance can be a reflection, and only it is encoded."""
    return features["no_statement"] == 0.0


def code_utterance(text: str, context: str | None = None, history: str | None = None) -> Codes:
    """Code one counsellor utterance.

    ``context`` is the person's turn just before it; ``history`` (default: ``context``) is
    everything the person has said, used to tell a roadblock phrase the counsellor uses from
    the person's own words given back ("you said it's not a big deal") and, with ``context``,
    to see how much of the person's words a reflection gives back.
    """
    rules = _rules()
    prepared = prepare(text)
    codes = Codes()
    if not prepared:
        return codes
    context_words = content_words(context) if context else None
    sentences = _analyse(rules, prepared, context_words, _heard(history, context))
    questions = [s.kind for s in sentences if s.kind is not None]
    if questions:
        codes.question = "open" if "open" in questions else "closed"

    features = _features(rules, text, prepared, sentences, context, history)
    reflective = _rule_reflections(sentences)
    if rules.embedding_model is not None and _embedding_model_in_use():
        vector = utterance_vector(text) if states_something(features) else None
        # Nothing stated (only questions and acknowledgements): never a reflection.
        reflects = vector is not None and (
            embedding_probability(features, vector) >= rules.embedding_model.threshold
        )
    else:
        reflects = reflection_probability(features) >= rules.model.threshold
    if reflects:
        said = reflective or [s.body for s in sentences if not s.asks] or [prepared]
        codes.reflection = _depth(rules, " ".join(said), context_words)

    codes.affirmation = any(rx.search(prepared) for rx in rules.affirmations)
    codes.summary = any(rx.search(prepared) for rx in rules.summaries)
    if not codes.summary and reflective and len(" ".join(reflective).split()) >= 40:
        codes.summary = len(reflective) >= 3

    quoted = history if history is not None else context
    said_before = _their_words(quoted) if quoted else ()
    found = []
    for name in ROADBLOCKS:
        if name == "praising" and codes.affirmation:
            continue  # praise that names a real strength is an affirmation, not a roadblock
        for rx in rules.roadblocks[name]:
            matches = [m.group(0).strip(" ,.!?") for m in rx.finditer(prepared)]
            # The person's own words given back ("it's just a dog", said of what others say)
            # are a reflection of them, not the counsellor's roadblock.
            if any(m and not any(m in version for version in said_before) for m in matches):
                found.append(name)
                break
    if "interrogating" not in found and len(questions) > 1:
        found.append("interrogating")
    codes.roadblocks = found
    return codes


def code_utterances(
    items: Sequence[tuple[str, str | None, str | None]],
) -> list[Codes]:
    """Code many (text, context, history) utterances, as :func:`code_utterance` does one; the
    ones the embedding model reads are encoded first, in one batch (much faster)."""
    model = _rules().embedding_model
    if model is not None and _embedding_model_in_use():
        embed(
            [
                part
                for t, c, h in items
                if states_something(reflection_features(t, c, h))
                for part in embedding_inputs(t, model.embeds)
            ]
        )
    return [code_utterance(t, context=c, history=h) for t, c, h in items]


__all__ = [
    "CONTEXT_FEATURES",
    "FEATURES",
    "ROADBLOCKS",
    "Codes",
    "CoderFile",
    "code_utterance",
    "code_utterances",
    "content_words",
    "embed",
    "embedding_inputs",
    "embedding_probability",
    "feeling_terms",
    "reflection_features",
    "reflection_model_name",
    "reflection_probability",
    "shared_content",
    "states_something",
    "utterance_vector",
]
