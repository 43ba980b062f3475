"""Reflection candidates for one turn: simple, complex and double-sided.

Each candidate names a template pool, the values for its {names}, whether it is a complex
reflection, and how well it fits this turn. The engine picks among them so that complex
reflections stay above half and no template repeats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from voice_companion.dialogue.analysis import Turn
from voice_companion.dialogue.base import PastThread
from voice_companion.dialogue.memory import ConversationMemory, core_feeling, spoken_thread
from voice_companion.dialogue.text import content_words

S = "reflections."
C = "reflections_complex."
_NOT_PLURAL = frozenset(
    "boss class glass bus business stress illness sadness loneliness fitness address witness "
    "process progress success christmas its his this us is was yes less mess press dress guess "
    "focus crisis diagnosis thesis analysis basis status campus virus bonus chess news "
    "mathematics physics politics series species means lens gas atlas canvas bias".split()
)
_PLURAL = frozenset("children people grandchildren men women police family's".split())


def singular(phrase: str | None) -> str | None:
    """A noun phrase that takes "is"/"has": plural ones become "what's going on with ___"."""
    if not phrase:
        return phrase
    head = phrase.split()[-1].lower()
    plural = head in _PLURAL or (head.endswith("s") and head not in _NOT_PLURAL
                                 and not head.endswith(("ss", "us", "is", "'s")))
    return f"what's going on with {phrase}" if plural else phrase


@dataclass
class Candidate:
    pool: str
    values: dict[str, str]
    complex: bool
    weight: float
    named: tuple[str, ...] = ()  # feeling words this reflection says
    link: int | None = None  # an earlier record it recalls
    thread: int | None = None  # a past thread it recalls


def _echoes(meaning: str, clause: str | None) -> bool:
    """Whether a meaning would only repeat the clause ("alone" ... "feeling alone")."""
    if not clause:
        return False
    return bool(content_words(meaning) & content_words(clause))


def candidates(turn: Turn, memory: ConversationMemory, threads: list[PastThread], now: int,
               last_link: int) -> list[Candidate]:
    out: list[Candidate] = []
    own_feel = None
    own_core = None
    if turn.feel is not None:
        core = core_feeling(turn)
        if core and core not in memory.banned:
            own_feel, own_core = turn.feel.reflect, core
    inferred = None
    item = turn.inference
    if own_feel is None and item and item.rule.feel and item.rule.score >= 0.5:
        word = memory.preferred.get(item.rule.label, item.rule.feel) if item.rule.label else (
            item.rule.feel)
        if word not in memory.banned:
            inferred = word
    clause, clause_nf, topic = turn.clause, turn.clause_nf, singular(turn.topic)
    add = out.append

    if turn.parts:
        add(Candidate(C + "double", {"part_a": turn.parts[0], "part_b": turn.parts[1]}, True, 5.0))
    if turn.sides:
        now_good = any(h.valence == "positive" and not h.negated for h in turn.hits)
        now_bad = any(h.valence == "negative" and not h.negated for h in turn.hits)
        pool = C + ("double_sides" if not turn.contrast else
                    "contrast_better" if now_good and not now_bad else "contrast")
        add(Candidate(pool, {"side_a": turn.sides[0], "side_b": turn.sides[1]}, True, 4.8))
    if turn.feel and turn.feel_b and own_feel and turn.feel_b.reflect not in memory.banned:
        add(Candidate(C + "mixed", {"feel_a": own_feel, "feel_b": turn.feel_b.reflect}, True,
                      4.6, named=(own_core or "", turn.feel_b.surface)))
    if turn.hard.cry:
        pool, rest = turn.hard.cry
        add(Candidate(C + pool, {"rest": rest}, True, 4.7))
    if turn.judgement:
        if turn.judgement_kind == "doubt":
            add(Candidate(C + "self_doubt", {"doing": turn.judgement_doing or ""}, True, 4.55))
        else:
            pool = "self_felt" if turn.judgement_kind == "felt" else "self_judgement"
            add(Candidate(C + pool, {"label": turn.judgement}, True, 4.55))
    if turn.hard.wondering:
        add(Candidate(C + "wondering", {"clause": turn.hard.wondering}, True, 4.5))
    if "sarcasm" in turn.flags:
        said = clause or turn.fragment
        if said and len(said.split()) >= 4:
            add(Candidate(C + "sarcasm", {"clause": said}, True, 4.4))
        add(Candidate(C + "sarcasm_plain", {}, True, 4.3))
    if "dismissive" in turn.flags:
        add(Candidate(C + "dismissive", {}, True, 4.6))
    if "swearing" in turn.flags and turn.valence != "positive" and (clause or topic):
        add(Candidate(C + "intensity", {"clause": clause or "", "topic": topic or ""}, True, 4.2))
    thread = memory.matching_thread(turn, threads)
    if thread is not None:
        add(Candidate(C + "past_thread", {"thread": spoken_thread(thread.text)}, True, 4.0,
                      thread=thread.id))
    if now - last_link >= 3:
        found = memory.earlier_about(turn.people + turn.events + turn.topics, now, clause)
        if found and clause:
            name, record = found
            add(Candidate(C + "memory_link", {"topic": singular(name) or "",
                                              "earlier": record.clause or "",
                                              "clause": clause}, True, 3.9, link=record.index))
        if own_core and memory.earlier_feeling(own_core, now):
            add(Candidate(C + "memory_feeling", {"feel": own_core}, True, 3.4, named=(own_core,)))
    positive = turn.valence == "positive"
    if positive:
        feel = own_feel if turn.feel and turn.feel.valence == "positive" else ""
        said = (clause_nf if feel else clause) or ""
        add(Candidate(C + "positive", {"feel": feel or "", "clause": said}, True, 3.8,
                      named=(own_core,) if feel and own_core else ()))
        if item and item.rule.valence == "positive" and item.rule.meaning:
            add(Candidate(C + "meaning_positive", {"meaning": item.rule.meaning,
                                                   "clause": clause or ""}, True, 3.6))
    if own_feel and clause_nf and not positive:
        pool = C + ("feeling_then" if turn.clause_nf_follows else "feeling_content")
        add(Candidate(pool, {"feel": own_feel, "clause": clause_nf}, True, 3.5,
                      named=(own_core or "",)))
    if (item and item.rule.meaning and item.rule.valence == "negative" and item.rule.score >= 0.45
            and not _echoes(item.rule.meaning, clause)):
        add(Candidate(C + "meaning_negative", {"meaning": item.rule.meaning,
                                               "clause": clause or "", "topic": topic or ""},
                      True, 3.3))
    if inferred and clause and not positive:
        add(Candidate(C + "inferred", {"feel": inferred, "clause": clause}, True, 3.2,
                      named=(inferred,)))
    if turn.people and turn.valence == "negative":
        person = turn.people[0]
        said = clause if clause and person.split()[-1] not in clause.split() else ""
        add(Candidate(C + "value_person", {"person": person, "clause": said}, True, 2.0))
    if own_feel:
        pool = C + ("continue_positive" if turn.feel and turn.feel.valence == "positive"
                    else "continue_negative")
        add(Candidate(pool, {"feel": own_feel}, True, 2.5, named=(own_core or "",)))
    if turn.negated_positive is not None and not own_feel:
        phrase = "not " + turn.negated_positive.reflect
        add(Candidate(S + "feeling", {"feel": phrase}, False, 2.7))
    if own_feel and topic:
        add(Candidate(S + "feeling_topic", {"feel": own_feel, "topic": topic}, False, 2.6,
                      named=(own_core or "",)))
    if own_feel:
        add(Candidate(S + "feeling", {"feel": own_feel}, False, 2.4, named=(own_core or "",)))
    if clause:
        add(Candidate(S + "content", {"clause": clause}, False, 2.2))
        if len(clause.split()) >= 4:
            pool = "content_complex" if turn.weighty else _neutral_pool(clause)
            add(Candidate(C + pool, {"clause": clause}, True, 1.8))
    if turn.fragment:
        add(Candidate(S + "fragment", {"fragment": turn.fragment}, False, 2.0))
    if topic and not clause:
        about = f"what's happening with {turn.topic}" if turn.people else topic
        add(Candidate(C + "continue_topic", {"topic": about}, True, 1.2))
    return out


_INTENTION_RE = re.compile(
    r"^(?:so |and |but )?you(?:'ll| will| are going to|'re going to| want to| wanted to|'d like"
    r" to| would like to| hope to|'re hoping to| are hoping to|'re planning| plan to|'re"
    r" thinking of|'re thinking about| might| may)\b")
# (not "every day": "I've been practising every day for a month" is an effort, not a habit)
_HABIT_RE = re.compile(r"\b(?:usually|normally|typically|generally|tend to|tends to|"
                       r"most (?:days|nights|mornings|weekends))\b")


def _neutral_pool(clause: str) -> str:
    """Neutral news, by what it says: a plan or wish, a habit, or anything else."""
    low = clause.lower()
    if _INTENTION_RE.match(low):
        return "content_intention"
    if _HABIT_RE.search(low):
        return "content_habit"
    return "content_neutral"


def continuation(memory: ConversationMemory) -> list[Candidate]:
    """Reflections that carry on from earlier turns when this one adds little ("Yeah.")."""
    out: list[Candidate] = []
    last = memory.last_topic()
    topic = f"what's happening with {last}" if last in memory.people else singular(last)
    feeling = memory.last_feeling()
    if feeling:
        word, valence = feeling
        pool = C + ("continue_positive" if valence == "positive" else "continue_negative")
        out.append(Candidate(pool, {"feel": word}, True, 1.6, named=(word,)))
    if topic:
        out.append(Candidate(C + "continue_topic", {"topic": topic}, True, 1.5))
    out.append(Candidate(C + "continue_plain", {}, True, 0.5))
    return out
