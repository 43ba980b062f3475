"""Finding the people, events, subjects, worries, efforts and values in one turn.

Everything returned is already turned around for the reply: "my sister" -> "your sister",
"my interview on friday" -> "your interview on friday".
"""

from __future__ import annotations

import re
from functools import lru_cache

from voice_companion.dialogue.pronouns import swap_words
from voice_companion.dialogue.text import STOPWORDS, Clause, strip_discourse, trim_clause
from voice_companion.dialogue.wording import Vocab

_OWNERS = {"my": "your", "our": "your"}
_EVENT_DETERMINERS = {"my": "your", "our": "your", "the": "the", "a": "the", "an": "the",
                      "this": "the", "that": "the", "his": "his", "her": "her", "their": "their",
                      "next": "the", "tomorrow's": "tomorrow's", "today's": "today's"}
_NAME_STOP = frozenset(
    "I I'm I've I'd I'll Monday Tuesday Wednesday Thursday Friday Saturday Sunday January "
    "February March April May June July August September October November December Christmas "
    "Easter God OK Okay Yeah Yes No Oh Well So And But Mr Mrs Ms Dr Um Uh Mm English TV Mondays "
    "Tuesdays Wednesdays Thursdays Fridays Saturdays Sundays Christmases Hey Hi Hello Wow Ah "
    "Ahh Ooh Oops Sorry Please Thanks Right Sure Look Listen Gosh Jeez Damn Fine Great Nope "
    "Yep Hmm Huh".split()
)
_WORRY_RE = re.compile(
    r"\b(?:worried|worry|worrying|scared|afraid|anxious|nervous|terrified|frightened|"
    r"stressing|stressed|panicking|concerned|fear|freaking out|dreading|dread)\s+"
    r"(about|that|of|for)\s+([^.,;!?]{3,80})"
)
_WHAT_IF_RE = re.compile(r"\bwhat if\s+([^.,;!?]{3,60})")
_VALUE_WANT_RE = re.compile(r"\bi (?:just )?want to be (?:a |an )?((?:good|better|great|"
                            r"decent|present|kind|loving|strong|healthy|happy|there)[^.,;!?]{0,30})")
_CARE_RE = re.compile(r"\b(?:i (?:really )?care (?:a lot )?about|i love(?= my )|"
                      r"i'd do anything for|"
                      r"it matters to me that|what matters to me is|i value)\s+([^.,;!?]{2,40})")
_VERB_TOO = frozenset({"work", "rent", "exercise", "drinking", "smoking", "training", "cooking",
                       "home", "flat", "future", "past", "life", "body"})
_BEFORE_NOUN = frozenset("my our your the at from to about with after before for of his her their "
                         "this that".split())
_UNCOUNTED = frozenset(
    "work school college university uni money debt rent health weight sleep drinking alcohol "
    "smoking drugs gambling family home life faith church dating pregnancy fertility retirement "
    "exercise training homework housework cooking parenting loneliness grief anxiety stress "
    "confidence self-esteem medication treatment illness pain recovery sobriety cigarettes beer "
    "wine weed vaping music art writing chores bills grades studies kids friendships shifts "
    "court custody immigration".split()
) | {"social media"}
_EFFORT_NEGATION = frozenset({"didn't", "never", "not", "don't", "can't", "couldn't", "won't",
                              "wouldn't", "haven't", "hasn't", "no"})


_ASKED_JUDGEMENT_RE = re.compile(
    r"\b(?:(?:do you think|you think|did|have) i (overreacted|over reacted|overreact|over react|"
    r"was (?:being )?(?:too sensitive|dramatic|unreasonable|selfish|petty|wrong|out of line|"
    r"harsh|stupid|rude))|(?:was|am) i (wrong|out of line|too harsh|unfair|being unreasonable|"
    r"being selfish|being petty|being too sensitive|being dramatic))\b"
)


class Extractor:
    """Per-turn extraction using the vocabulary in ``prompts/engine.toml``."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.people = _phrases(vocab.people)
        self.people_mods = set(vocab.people_modifiers)
        self.events = _phrases(vocab.events)
        self.event_mods = set(vocab.event_modifiers)
        self.event_times = set(vocab.event_times)
        self.topics = _phrases(vocab.topics)
        self.known = set(self.people) | set(self.events) | set(self.topics)
        self.efforts = sorted((tuple(e.split()) for e in vocab.efforts), key=len, reverse=True)
        self._judgement_re = re.compile(
            r"\b(?:i'm|i am|im|i was|i've been|i have been|am i)"
            r"\s+(?:(?:just|so|such|being|really|probably|totally|completely|a bit|kind of|sort of"
            r"|maybe|too|being so|being a bit|being too|the most)\s+)*"
            r"((?:(?:a|an)\s+)?(?:" + "|".join(re.escape(w) for w in vocab.judging_words) + r")"
            r"\s+(?:" + "|".join(re.escape(r) for r in vocab.judged_roles) + r")|"
            + "|".join(re.escape(v) for v in sorted(vocab.self_judgements, key=len, reverse=True))
            + r")\b"
        )

    # ---------------------------------------------------------------- people and events

    def people_in(self, clause: Clause) -> list[str]:
        out: list[str] = []
        low = clause.lower
        for i, tok in enumerate(low):
            if tok not in _OWNERS:
                continue
            j = i + 1
            mods: list[str] = []
            while j < len(low) and low[j] in self.people_mods and len(mods) < 2:
                mods.append(low[j])
                j += 1
            noun = _match_phrase(low, j, self.people)
            if noun:
                out.append(" ".join(["your", *mods, noun]))
        words = clause.words
        for i, word in enumerate(words):
            neighbours = [w for w in (words[i - 1] if i else "", words[i + 1] if i + 1 < len(
                words) else "") if w[:1].isupper() and w != "I" and not w.startswith("I'")]
            if neighbours:
                continue
            if (i > 0 and word[:1].isupper() and word.isalpha() and word not in _NAME_STOP
                    and clause.words[i - 1] not in {".", "!", "?"} and len(word) > 1
                    and word.lower() not in STOPWORDS and word.lower() not in self.people
                    and not word.isupper()):
                out.append(word)
        return _unique(out)

    def events_in(self, clause: Clause) -> list[str]:
        out: list[str] = []
        low = clause.lower
        for i, tok in enumerate(low):
            if tok not in _EVENT_DETERMINERS:
                continue
            j = i + 1
            mods: list[str] = []
            while j < len(low) and low[j] in self.event_mods and len(mods) < 2:
                if _match_phrase(low, j, self.events) and not _match_phrase(low, j + 1,
                                                                            self.events):
                    break
                mods.append(low[j])
                j += 1
            noun = _match_phrase(low, j, self.events)
            if not noun:
                continue
            end = j + len(noun.split())
            when = _time_after(low, end, self.event_times)
            det = _EVENT_DETERMINERS[tok]
            out.append(" ".join([det, *mods, noun, *when]))
        return _unique(out)

    def topics_in(self, clause: Clause) -> list[str]:
        out: list[str] = []
        low = clause.lower
        for i in range(len(low)):
            noun = _match_phrase(low, i, self.topics)
            if not noun:
                continue
            prev = low[i - 1] if i else ""
            if noun in _VERB_TOO and prev not in _BEFORE_NOUN:
                continue  # "the heating doesn't work": a verb, not a subject
            if prev in _OWNERS:
                out.append(f"your {noun}")
            elif prev in {"his", "her", "their"}:
                continue
            elif prev in {"the", "a", "an", "this", "that"} or noun not in _UNCOUNTED:
                out.append(f"the {noun}")
            else:
                out.append(noun)
        return _unique(out)

    # ---------------------------------------------------------------- worries, effort, values

    def self_judgement_in(self, text: str) -> tuple[str, str, str] | None:
        """A harsh word the person uses about themselves ("I'm such an idiot", "maybe I'm being
        dramatic"): the word ("such an idiot", "dramatic"), it as a doing ("being dramatic",
        "overreacting"), and how it was said: "verdict", "doubt" ("maybe", "probably", "am I
        ...?") or "felt" ("I feel like I'm not good enough")."""
        low = text.lower().replace("’", "'")
        asked = _ASKED_JUDGEMENT_RE.search(low)  # "do you think I overreacted?"
        if asked:
            said = asked.group(1) or asked.group(2)
            doing = {"overreacted": "overreacting", "over reacted": "overreacting",
                     "overreact": "overreacting", "over react": "overreacting"}.get(said)
            doing = doing or "being " + said.removeprefix("was ").removeprefix("being ")
            return doing.removeprefix("being "), doing, "doubt"
        m = self._judgement_re.search(low)
        if m is None:
            return None
        before = low[max(0, m.start() - 40):m.start()]
        reported = re.search(r"\b(\w+)\s+(?:says?|said|thinks?|thought|calls? me|called me|"
                             r"told me|tells me|accuses? me of|accused me of|acts? like|"
                             r"acted like|acting like|treats? me like|treated me like|implied|"
                             r"implies|reckons?|makes? out|made out|looks? at me like|"
                             r"looked at me like)\s+(?:that\s+)?$", before)
        if reported and reported.group(1) != "i":
            return None  # someone else's verdict ("he says I'm lazy"): reflected as said
        felt = bool(re.search(r"\b(?:feel|feels|felt|feeling)\s+(?:like|as if|as though)\s+$",
                              before))  # "feeling like I'm not good enough": a felt verdict
        said = low[m.start():m.end()].split()
        lead = next(len(w) for w in (["i", "have", "been"], ["i've", "been"], ["i", "am"],
                                     ["am", "i"], ["i", "was"], said[:1]) if said[:len(w)] == w)
        rest = [w for w in said[lead:] if w not in {"just", "really", "probably", "totally",
                                                    "completely", "maybe", "kind", "sort", "of"}]
        while rest and rest[0] in {"being", "such", "so"}:
            rest = rest[1:]
        if not rest:
            return None
        label = " ".join(rest)
        gerund = label if rest[0].endswith("ing") else f"being {label}"
        hedged_before = re.search(r"\b(?:maybe|perhaps|probably|i guess|i think|i suppose|"
                                  r"wonder if|or)\s*$", before)
        hedged_after = re.search(r"^\s*(?:\?|,? ?(?:probably|maybe|i guess|i think|"
                                 r"or something|or not))", low[m.end():])
        doubt = bool(hedged_before or hedged_after or said[:2] == ["am", "i"]
                     or {"maybe", "probably"} & set(said))
        return label, gerund, "felt" if felt else "doubt" if doubt else "verdict"

    def worries_in(self, text: str) -> list[str]:
        out = []
        for match in _WORRY_RE.finditer(text):
            connector, rest = match.group(1), match.group(2)
            words = trim_clause(swap_words(rest.split()), 9)
            if words:
                out.append(" ".join(["about" if connector in {"of", "for"} else connector,
                                     *words]))
        for match in _WHAT_IF_RE.finditer(text):
            words = trim_clause(swap_words(match.group(1).split()), 8)
            if words:
                out.append("about what happens if " + " ".join(words))
        return _unique(out)

    def effort_in(self, clauses: list[Clause]) -> str | None:
        """Something the person did that took effort, as "you ..." ("you told her anyway")."""
        for clause in clauses:
            words = strip_discourse(clause.words)
            low = [w.lower() for w in words]
            if len(low) < 3 or low[0] not in {"i", "i've", "i'm"}:
                continue
            said = low[1:]
            rest = said[1:] if said and said[0] in {"still", "even", "actually", "really",
                                                    "also"} else said
            if rest and rest[0] in _EFFORT_NEGATION:
                continue
            if not any(tuple(rest[: len(e)]) == e or tuple(low[: len(e)]) == e
                       or tuple(said[: len(e)]) == e for e in self.efforts):
                continue
            if any(w in _EFFORT_NEGATION for w in low[1:4]):
                continue
            trimmed = trim_clause(swap_words(words), 12)
            if trimmed and len(trimmed) >= 3:
                return " ".join(trimmed)
        return None

    def value_in(self, text: str) -> str | None:
        match = _VALUE_WANT_RE.search(text)
        if match:
            words = trim_clause(swap_words(match.group(1).split()), 6)
            if words:
                article = "an" if words[0][:1] in "aeiou" else "a"
                lead = [] if words[0] in {"there", "present", "happy", "healthy", "strong",
                                          "kind", "loving"} else [article]
                return " ".join(["being", *lead, *words])
        match = _CARE_RE.search(text)
        if match:
            words = trim_clause(swap_words(match.group(1).split()), 5)
            if words and not (len(words) == 1 and words[0] in STOPWORDS | {"it", "that"}):
                return " ".join(words)
        return None


@lru_cache(maxsize=256)
def _phrases_cached(items: tuple[str, ...]) -> dict[str, int]:
    return {item: len(item.split()) for item in items}


def _phrases(items: list[str]) -> dict[str, int]:
    return _phrases_cached(tuple(items))


def _match_phrase(low: list[str], start: int, phrases: dict[str, int]) -> str | None:
    for size in (3, 2, 1):
        if start + size <= len(low):
            candidate = " ".join(low[start : start + size])
            if candidate in phrases:
                return candidate
    return None


def _time_after(low: list[str], start: int, times: set[str]) -> list[str]:
    if start >= len(low):
        return []
    first = low[start]
    if first in {"tomorrow", "today", "tonight", "yesterday"}:
        return [first]
    nxt = low[start + 1] if start + 1 < len(low) else ""
    if first in {"on", "this", "next", "last"} and nxt in times:
        return [first, nxt]
    if first == "on" and nxt == "the" and start + 2 < len(low) and low[start + 2] in times:
        return ["on", "the", low[start + 2]]
    return []


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
