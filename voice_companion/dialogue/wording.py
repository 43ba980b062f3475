"""The listener's wording (``prompts/engine.toml``) and feeling lexicon (``prompts/feelings.toml``).

Both files are validated when loaded: every template may only use the ``{names}`` its pool
allows, reflections never ask questions, questions are exactly one open question, and lexicon
intensities lie between 0 and 1. A mistake becomes a PromptsError naming the file and the key.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from voice_companion.prompts import load_prompts, prompts_dir

GOEMOTIONS = frozenset(
    "admiration amusement anger annoyance approval caring confusion curiosity desire "
    "disappointment disapproval disgust embarrassment excitement fear gratitude grief joy love "
    "nervousness optimism pride realization relief remorse sadness surprise".split()
)

# The {names} each pool may use.
_FIELDS: dict[str, set[str]] = {
    "greeting.plain": set(),
    "greeting.*": {"thread"},
    "silence.*": set(),
    "reflections.feeling": {"feel"},
    "reflections.feeling_topic": {"feel", "topic"},
    "reflections.content": {"clause"},
    "reflections.fragment": {"fragment"},
    "reflections_complex.feeling_content": {"feel", "clause"},
    "reflections_complex.feeling_then": {"feel", "clause"},
    "reflections_complex.inferred": {"feel", "clause"},
    "reflections_complex.content_complex": {"clause"},
    "reflections_complex.content_neutral": {"clause"},
    "reflections_complex.content_intention": {"clause"},
    "reflections_complex.content_habit": {"clause"},
    "reflections_complex.meaning_negative": {"meaning", "clause", "topic"},
    "reflections_complex.meaning_positive": {"meaning", "clause"},
    "reflections_complex.positive": {"feel", "clause"},
    "reflections_complex.value_person": {"person", "clause"},
    "reflections_complex.double": {"part_a", "part_b"},
    "reflections_complex.double_sides": {"side_a", "side_b"},
    "reflections_complex.contrast": {"side_a", "side_b"},
    "reflections_complex.contrast_better": {"side_a", "side_b"},
    "reflections_complex.mixed": {"feel_a", "feel_b"},
    "reflections_complex.memory_link": {"topic", "earlier", "clause"},
    "reflections_complex.memory_feeling": {"feel"},
    "reflections_complex.past_thread": {"thread"},
    "reflections_complex.continue_topic": {"topic"},
    "reflections_complex.continue_negative": {"feel"},
    "reflections_complex.continue_positive": {"feel"},
    "reflections_complex.continue_plain": set(),
    "reflections_complex.intensity": {"clause", "topic"},
    "reflections_complex.sarcasm": {"clause"},
    "reflections_complex.sarcasm_plain": set(),
    "reflections_complex.dismissive": set(),
    "reflections_complex.advice_wish": {"topic"},
    "reflections_complex.advice_plain": set(),
    "reflections_complex.dont_know": set(),
    "reflections_complex.ramble_feel": {"items", "feel"},
    "reflections_complex.ramble_plain": {"items"},
    "reflections_complex.self_judgement": {"label"},
    "reflections_complex.self_felt": {"label"},
    "reflections_complex.cry_end": set(),
    "reflections_complex.cry_why_me": set(),
    "reflections_complex.cry_wrong_with_me": set(),
    "reflections_complex.cry_why_cant": {"rest"},
    "reflections_complex.cry_how": {"rest"},
    "reflections_complex.cry_point": set(),
    "reflections_complex.cry_who_does_that": set(),
    "reflections_complex.self_doubt": {"doing"},
    "reflections_complex.clarify": set(),
    "reflections_complex.wondering": {"clause"},
    "reflections_complex.correction": {"feel_x", "feel_y"},
    "reflections_complex.correction_only": {"feel_y"},
    "reflections_complex.correction_rejected": {"feel_x"},
    "reflections_complex.correction_content": set(),
    "reflections_complex.distinction": {"feel_x", "feel_y"},
    "hard.*": set(),
    "questions.person": {"person"},
    "questions.person_hard": {"person"},
    "questions.event": {"event"},
    "questions.feeling": {"feel"},
    "questions.*": set(),
    "affirmations.effort": {"effort"},
    "affirmations.value": {"value"},
    "affirmations.*": set(),
    "summary.items": {"items"},
    "summary.feelings": {"feelings"},
    "summary.worry": {"worry"},
    "summary.clause": {"clause"},
    "summary.value": {"value"},
    "summary.*": set(),
    "closing.*": set(),
}


def allowed_fields(pool: str) -> set[str]:
    if pool in _FIELDS:
        return _FIELDS[pool]
    return _FIELDS.get(pool.split(".")[0] + ".*", set())


def template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


Pool = list[str]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")
    SECTION: ClassVar[str] = ""

    @model_validator(mode="after")
    def _check_templates(self) -> _Section:
        section = self.SECTION
        for name in type(self).model_fields:
            pool = f"{section}.{name}"
            templates = getattr(self, name)
            if not templates:
                raise ValueError(f"{pool} is empty; it needs at least one line")
            for template in templates:
                try:
                    used = template_fields(template)
                except ValueError as exc:
                    raise ValueError(f"{pool}: {template!r} has a broken {{name}}") from exc
                extra = used - allowed_fields(pool)
                if extra:
                    raise ValueError(
                        f"{pool}: {template!r} uses {sorted(extra)}; allowed here: "
                        f"{sorted(allowed_fields(pool)) or 'none'}"
                    )
                if not template.strip():
                    raise ValueError(f"{pool} has an empty line")
                _check_spoken(pool, template)
        return self


def _check_spoken(pool: str, template: str) -> None:
    asks = template.count("?")
    if pool.startswith("questions."):
        if asks != 1 or not template.rstrip().endswith("?"):
            raise ValueError(f"{pool}: {template!r} must be exactly one question, ending in '?'")
        if template.lower().startswith(("why", "how come")):
            raise ValueError(f"{pool}: {template!r} is a 'why' question; ask an open one instead")
    elif pool.startswith(("reflections", "affirmations", "summary", "silence", "closing")):
        if asks:
            raise ValueError(f"{pool}: {template!r} must not ask a question")
    elif asks > 1:
        raise ValueError(f"{pool}: {template!r} asks more than one question")
    literal = "".join(text for text, _, _, _ in string.Formatter().parse(template))
    if any(ch in literal for ch in "*#_`~<>[]{}") or not literal.isascii():
        raise ValueError(f"{pool}: {template!r} has characters that are not spoken")


class Greeting(_Section):
    SECTION: ClassVar[str] = "greeting"
    plain: Pool
    event_past: Pool
    event_future: Pool
    worry: Pool
    person: Pool
    feeling: Pool


class Silence(_Section):
    SECTION: ClassVar[str] = "silence"
    prompts: Pool


class Reflections(_Section):
    SECTION: ClassVar[str] = "reflections"
    feeling: Pool
    feeling_topic: Pool
    content: Pool
    fragment: Pool


class ComplexReflections(_Section):
    SECTION: ClassVar[str] = "reflections_complex"
    feeling_content: Pool
    feeling_then: Pool
    content_complex: Pool
    content_neutral: Pool
    content_intention: Pool
    content_habit: Pool
    inferred: Pool
    meaning_negative: Pool
    meaning_positive: Pool
    positive: Pool
    value_person: Pool
    double: Pool
    double_sides: Pool
    contrast: Pool
    contrast_better: Pool
    mixed: Pool
    memory_link: Pool
    memory_feeling: Pool
    past_thread: Pool
    continue_topic: Pool
    continue_negative: Pool
    continue_positive: Pool
    continue_plain: Pool
    intensity: Pool
    sarcasm: Pool
    sarcasm_plain: Pool
    dismissive: Pool
    self_judgement: Pool
    self_felt: Pool
    cry_end: Pool
    cry_why_me: Pool
    cry_wrong_with_me: Pool
    cry_why_cant: Pool
    cry_how: Pool
    cry_point: Pool
    cry_who_does_that: Pool
    self_doubt: Pool
    advice_wish: Pool
    advice_plain: Pool
    dont_know: Pool
    ramble_feel: Pool
    ramble_plain: Pool
    clarify: Pool
    wondering: Pool
    correction: Pool
    correction_only: Pool
    correction_rejected: Pool
    correction_content: Pool
    distinction: Pool


class Hard(_Section):
    SECTION: ClassVar[str] = "hard"
    real_person: Pool
    off_topic: Pool
    how_are_you: Pool
    greeting_reply: Pool
    thanks: Pool
    encourager: Pool
    unclear: Pool
    crisis_check_in: Pool
    feedback: Pool


class Questions(_Section):
    SECTION: ClassVar[str] = "questions"
    person: Pool
    person_hard: Pool
    event: Pool
    feeling: Pool
    worry: Pool
    positive: Pool
    general: Pool
    handback: Pool
    dont_know: Pool
    opening: Pool
    correction: Pool
    real_person: Pool


class Affirmations(_Section):
    SECTION: ClassVar[str] = "affirmations"
    effort: Pool
    effort_after: Pool
    value: Pool


class Summary(_Section):
    SECTION: ClassVar[str] = "summary"
    intro: Pool
    items: Pool
    feelings: Pool
    worry: Pool
    clause: Pool
    value: Pool
    end: Pool
    empty: Pool


class Closing(_Section):
    SECTION: ClassVar[str] = "closing"
    intro: Pool
    end: Pool
    empty: Pool
    after_crisis: Pool
    fallback: Pool


class Vocab(BaseModel):
    model_config = ConfigDict(extra="forbid")
    people: list[str]
    people_modifiers: list[str]
    events: list[str]
    event_modifiers: list[str]
    event_times: list[str]
    topics: list[str]
    advice: list[str]
    real_person: list[str]
    feedback: list[str]
    off_topic: list[str]
    greetings: list[str]
    thanks: list[str]
    goodbye: list[str]
    how_are_you: list[str]
    clarify: list[str]
    minimal: list[str]
    dont_know: list[str]
    sarcasm: list[str]
    dismissive: list[str]
    swearing: list[str]
    softened: list[str]
    efforts: list[str]
    values: list[str]
    weighty_words: list[str]
    self_judgements: list[str]
    judging_words: list[str]
    judged_roles: list[str]
    banned: list[str]

    @field_validator("*")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("the list is empty")
        for item in value:
            if item.count("=") > 1:
                raise ValueError(f"{item!r} must be 'words=replacement'")
            if item != item.lower() or not item.strip():
                raise ValueError(f"{item!r} must be lower case and not blank")
        return value


class EngineWording(BaseModel):
    """All of ``prompts/engine.toml``."""

    model_config = ConfigDict(extra="forbid")
    greeting: Greeting
    silence: Silence
    reflections: Reflections
    reflections_complex: ComplexReflections
    hard: Hard
    questions: Questions
    affirmations: Affirmations
    summary: Summary
    closing: Closing
    vocab: Vocab

    def pools(self) -> dict[str, list[str]]:
        """Every template pool by its dotted name ("reflections.feeling")."""
        out: dict[str, list[str]] = {}
        for section_name in type(self).model_fields:
            section = getattr(self, section_name)
            if section_name == "vocab":
                continue
            for pool in type(section).model_fields:
                out[f"{section_name}.{pool}"] = list(getattr(section, pool))
        return out


Intensity = float


class LabelEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    say: str
    name: bool
    valence: Literal["positive", "negative", "neutral"]
    words: dict[str, Intensity] = Field(default_factory=dict)
    framed: dict[str, Intensity] = Field(default_factory=dict)
    cues: dict[str, Intensity] = Field(default_factory=dict)

    @field_validator("words", "framed", "cues")
    @classmethod
    def _entries(cls, value: dict[str, float]) -> dict[str, float]:
        for key, score in value.items():
            if key != key.lower() or not key.strip():
                raise ValueError(f"{key!r} must be lower case")
            if not 0.0 <= score <= 1.0:
                raise ValueError(f"{key!r} has intensity {score}; it must be between 0 and 1")
        return value


class States(BaseModel):
    model_config = ConfigDict(extra="forbid")
    words: dict[str, Intensity]
    framed: dict[str, Intensity] = Field(default_factory=dict)
    cues: dict[str, Intensity]


class Modifiers(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hedges: list[str]
    intensifiers: list[str]
    negators: list[str]
    frames: list[str]


class Inference(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    label: str
    feel: str
    meaning: str
    valence: Literal["positive", "negative", "neutral"]
    score: float = Field(ge=0.0, le=1.0)
    patterns: list[str] = Field(min_length=1)


class FeelingsWording(BaseModel):
    """All of ``prompts/feelings.toml``."""

    model_config = ConfigDict(extra="forbid")
    reflect_as: dict[str, str] = Field(default_factory=dict)
    feel_only: list[str] = Field(default_factory=list)
    evaluative: list[str] = Field(default_factory=list)
    modifiers: Modifiers
    labels: dict[str, LabelEntry]
    states: States
    inference: list[Inference]

    @model_validator(mode="after")
    def _check(self) -> FeelingsWording:
        unknown = set(self.labels) - GOEMOTIONS
        if unknown:
            raise ValueError(f"unknown labels {sorted(unknown)}; use the GoEmotions label set")
        seen: dict[str, str] = {}
        for label, entry in self.labels.items():
            for key in [*entry.words, *entry.framed, *entry.cues]:
                if key in seen:
                    raise ValueError(f"{key!r} is listed under both {seen[key]} and {label}")
                seen[key] = label
        for word in [*self.feel_only, *self.evaluative]:
            if word != word.lower() or not word.strip():
                raise ValueError(f"feel_only / evaluative: {word!r} must be lower case")
        for rule in self.inference:
            if rule.label and rule.label not in self.labels:
                raise ValueError(f"inference {rule.name!r} has unknown label {rule.label!r}")
        return self

    def size(self) -> int:
        """How many words and phrases the lexicon holds."""
        per_label = sum(len(e.words) + len(e.framed) + len(e.cues) for e in self.labels.values())
        states = self.states
        return per_label + len(states.words) + len(states.framed) + len(states.cues)


@lru_cache(maxsize=4)
def _engine_wording(folder: Path) -> EngineWording:
    return load_prompts("engine", EngineWording, folder)


@lru_cache(maxsize=4)
def _feelings_wording(folder: Path) -> FeelingsWording:
    return load_prompts("feelings", FeelingsWording, folder)


def engine_wording() -> EngineWording:
    return _engine_wording(prompts_dir())


def feelings_wording() -> FeelingsWording:
    return _feelings_wording(prompts_dir())
