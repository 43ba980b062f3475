"""Recognising the turns that need special handling.

"What should I do?", "are you a real person?", one-word answers, "I don't know", sarcasm,
swearing, off-topic requests, thanks, greetings, goodbyes, "what do you mean?", questions aimed
at the companion ("do you think I'm crazy?") and long rambling turns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from voice_companion.dialogue.pronouns import swap_words
from voice_companion.dialogue.text import STOPWORDS, opens_statement, trim_clause
from voice_companion.dialogue.wording import Vocab

RAMBLE_WORDS = 40
_ENGLISH_HINTS = frozenset(
    "i you he she it we they me my your the a an and but or so to of in on at is are was were "
    "am be been have has had do does did not no yes yeah this that what how when where who "
    "with for just like really very can can't don't i'm it's that's there feel know think".split()
)
_QUESTION_START = frozenset(
    "what how why when where who which do does did can could would will is are am should shall "
    "have has".split()
)
_WONDER_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?:but |so |and |well )?(?:do you think|would you say|don't you think|"
                r"you think) (?:that )?(?P<rest>.+)$"), "{rest}"),
    (re.compile(r"^(?:but |so |and |well )?am i (?P<rest>.+)$"), "you're {rest}"),
    (re.compile(r"^(?:but |so )?is it (?P<adj>normal|wrong|bad|okay|ok|weird|stupid|selfish|"
                r"crazy|strange|silly|fair|terrible|awful) (?P<rest>(?:to|that|if|for me to) .+)$"),
     "it's {adj} {rest}"),
    (re.compile(r"^(?:but |so )?is (?:there )?something wrong with me$"),
     "something is wrong with you"),
    (re.compile(r"^(?:but |so )?was i (?P<rest>.+)$"), "you were {rest}"),
    (re.compile(r"^(?:but |so )?(?:is|was) (?:that|this|it) (?P<adj>normal|okay|ok|wrong|bad|"
                r"weird|crazy|stupid|strange|silly|terrible)$"), "it's {adj}"),
]

# Questions asked of life, not of the companion ("When will this end?", "What's wrong with
# me?"): each names the pool of reflections that answers the feeling under it. ``rest`` is the
# person's words, turned around ("why can't I just be happy" -> "just be happy").
_CRY_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?:but |and |so |god |honestly )?when (?:will|does|is) (?:this|it|all this|"
                r"any of this|all of this|the pain|this feeling) (?:ever )?(?:end|stop|get "
                r"(?:better|easier)|be over|go away|let up)\b"), "cry_end"),
    (re.compile(r"^(?:but |and |so )?why (?:does|do|did|is) (?:this|it|this stuff|these things|"
                r"everything|bad stuff|stuff like this) (?:always |keep |keeps )?(?:happen|"
                r"happening|happens) (?:to me|to us)\b"), "cry_why_me"),
    (re.compile(r"^(?:but |and |so )?why (?:me|is it always me|does it have to be me)\b"),
     "cry_why_me"),
    (re.compile(r"^(?:but |and |so )?(?:what's|what is) (?:wrong|the matter) with me\b"),
     "cry_wrong_with_me"),
    (re.compile(r"^(?:but |and |so )?why (?:can't|cannot|can not|couldn't) i (?P<rest>.{3,60})$"),
     "cry_why_cant"),
    (re.compile(r"^(?:but |and |so )?how (?:am i|are we) (?:supposed|meant) to (?P<rest>.{3,60})$"),
     "cry_how"),
    (re.compile(r"^(?:but |and |so )?(?:what's|what is|whats) (?:even )?the point(?: of (?:it|"
                r"any of it|anything|trying))?$"), "cry_point"),
    (re.compile(r"^(?:but |and |so )?who (?:does|says|would do) (?:that|something like that)\b"),
     "cry_who_does_that"),
]


# What may come before words said to the companion about itself ("honestly, you don't get it")
_TO_COMPANION_LEAD = re.compile(
    r"^(?:(?:but|and|so|well|oh|okay|ok|honestly|sorry|look|no|man|god|seriously|sometimes|"
    r"i think|i feel like|it feels like|it's like|i just think|to be honest),? )*")


def _said_to_companion(raw: str, phrases: tuple[str, ...]) -> bool:
    """A sentence of ``raw`` opens with one of ``phrases`` (normalised; not "I told him you
    don't get it")."""
    for sentence in re.split(r"[.!?;]+", raw or ""):
        said = _TO_COMPANION_LEAD.sub("", _norm(sentence))
        if any(said == p or said.startswith(p + " ") for p in phrases):
            return True
    return False


@dataclass
class HardTurn:
    """What kind of turn this is beyond its content."""

    flags: set[str] = field(default_factory=set)
    wondering: str | None = None  # "do you think I'm crazy" -> "you're crazy"
    cry: tuple[str, str] | None = None  # ("cry_why_cant", "just be happy"): a question to life


class HardTurnReader:
    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.minimal_tokens = {t for phrase in vocab.minimal for t in phrase.split()}
        self.minimal_tokens |= {"that's", "fine", "good", "okay", "sounds", "it", "is", "was",
                                "yeah", "thanks", "uh", "um", "mm", "hmm"}
        self.swears = set(vocab.swearing)
        self.feedback = tuple(_norm(p) for p in vocab.feedback)
        words = sorted((_norm(p).split() for p in vocab.sarcasm), key=len, reverse=True)
        self.sarcasm_re = re.compile(
            r"(?<![\w'])(?:" + "|".join(r"[\s,.!]+".join(map(re.escape, w)) for w in words if w)
            + r")(?![\w'])[\s,.!]*", re.I)

    def read(self, words: list[str], raw: str) -> HardTurn:
        out = HardTurn()
        flags = out.flags
        n = len(words)
        joined = " ".join(words)
        padded = f" {joined} "
        if n == 0:
            flags.add("minimal" if re.search(r"[a-zA-Z]", raw or "") else "empty")
            return out

        def has(phrases: list[str]) -> bool:
            return any(f" {_norm(p)} " in padded for p in phrases)

        if all(w in self.minimal_tokens for w in words) and n <= 8:
            flags.add("minimal")
        core = _strip_edges(words, self.minimal_tokens)
        core_joined = " ".join(core)
        if n <= 10 and any(core_joined == _norm(p) or core_joined.startswith(_norm(p) + " ")
                           for p in self.vocab.dont_know):
            if len(core) <= 7:
                flags.add("dont_know")
        if n <= 5 and any(joined == _norm(p) or joined.startswith(_norm(p) + " ")
                          for p in self.vocab.greetings):
            flags.add("greeting")
        if n <= 6 and has(self.vocab.thanks):
            flags.add("thanks")
        if n <= 7 and has(self.vocab.goodbye):
            flags.add("goodbye")
        if n <= 7 and has(self.vocab.how_are_you):
            flags.add("how_are_you")
        if n <= 7 and has(self.vocab.clarify):
            flags.add("clarify")
        if has(self.vocab.real_person):
            flags.add("real_person")
        if n <= 14 and _said_to_companion(raw, self.feedback):
            flags.add("feedback")
        if has(self.vocab.off_topic):
            flags.add("off_topic")
        if has(self.vocab.advice):
            flags.add("advice")
        if n <= 8 and has(self.vocab.dismissive):
            flags.add("dismissive")
        if has(self.vocab.sarcasm) or _love_how(joined):
            flags.add("sarcasm")
        if n >= 3 and not any(w in _ENGLISH_HINTS or w in STOPWORDS for w in words):
            flags.add("unclear")
        if any(w in self.swears for w in words):
            flags.add("swearing")
        if n > RAMBLE_WORDS:
            flags.add("ramble")
        if "?" in raw or (words[0] in _QUESTION_START and not opens_statement(words)):
            flags.add("question")
        out.cry = _cry(joined)
        if out.cry:
            flags.add("cry")
        out.wondering = _wondering(joined)
        if out.wondering:
            flags.add("wondering")
        return out


def strip_sarcasm(reader: HardTurnReader, text: str) -> str:
    """The turn without its sarcastic frame ("oh great, my car broke down" -> "my car ...")."""
    stripped = reader.sarcasm_re.sub(" ", text)
    stripped = re.sub(r"(?i)^\W*(?:oh|just|so|well|yeah)?\W*(?:great|perfect|wonderful|"
                      r"fantastic|brilliant|lovely|awesome)?\b[\s,.!]*", "", stripped)
    return stripped.strip() or text


def _norm(phrase: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+(?:['-][a-z0-9]+)*", phrase.lower()))


def _strip_edges(words: list[str], minimal: set[str]) -> list[str]:
    out = list(words)
    while out and out[0] in {"um", "uh", "well", "so", "yeah", "oh", "honestly", "mm", "hmm"}:
        out.pop(0)
    while out and out[-1] in {"um", "uh", "really", "yeah", "honestly", "mm", "hmm"}:
        out.pop()
    return out


def _love_how(joined: str) -> bool:
    return bool(re.search(r"\bi (?:just )?love (?:it )?(?:how|when) ", joined)) and bool(
        re.search(r"\b(?:never|always|again|ignores?|forgets?|late|leaves?|nothing|every time)\b",
                  joined))


def _cry(joined: str) -> tuple[str, str] | None:
    for pattern, pool in _CRY_RULES:
        match = pattern.match(joined)
        if match:
            rest = match.groupdict().get("rest") or ""
            trimmed = trim_clause(swap_words(rest.split()), 10) if rest else None
            if rest and not trimmed:
                continue
            return pool, " ".join(trimmed or [])
    return None


def _wondering(joined: str) -> str | None:
    for pattern, shape in _WONDER_RULES:
        match = pattern.match(joined)
        if not match:
            continue
        parts = {}
        for key, value in match.groupdict().items():
            words = value.split()
            parts[key] = " ".join(swap_words(words)) if key == "rest" else value
        text = shape.format(**parts)
        trimmed = trim_clause(text.split(), 14)
        return " ".join(trimmed) if trimmed else None
    return None
