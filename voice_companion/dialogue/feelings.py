"""Hearing feelings in the person's words, with the lexicon in ``prompts/feelings.toml``.

Handles negation ("not angry"), hedges ("kind of sad"), intensifiers ("really hurt"), phrases
("fed up", "over the moon"), ambiguous words that count only after "I'm" / "I feel" ("down",
"low"), situations that carry a feeling without naming it ("nobody noticed"), mixed feelings, and
corrections ("I'm not angry, I'm hurt").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from voice_companion.dialogue.base import Emotion
from voice_companion.dialogue.pronouns import swap_words
from voice_companion.dialogue.text import STOPWORDS, tokens
from voice_companion.dialogue.wording import FeelingsWording, Inference, feelings_wording

REPORT_THRESHOLD = 0.4  # a heard feeling word this strong is reported as an emotion
INFERRED_REPORT = 0.6  # a feeling inferred from a situation must be this sure to be reported
NAME_INFERRED = 0.5  # ... and this sure to be named tentatively
_CLEAN_INTENSIFIERS = frozenset(
    "really so very completely totally absolutely incredibly extremely deeply truly".split()
)
_PREPOSITIONS = frozenset("of about at with for to that by in over on".split())
_SPATIAL_AFTER = frozenset(
    "the a an at to on in there here from into onto stairs street road hill town".split()
)
_SPATIAL_WORDS = frozenset("down low up high flat blue heavy raw over out".split())
_ADVERB_GAP = "really|even|ever|actually|just|always|never|quite|truly|still|fully|properly"
_NO_GAP_LAST = frozenset("me him her them us you it myself".split())
_AFTER_ADJECTIVE = frozenset("about that for because and but when with at to today right now "
                             "again lately inside".split())
_MINE = frozenset("i i'm im i've i'd me my myself we we're feel felt feeling".split())
_THEIRS = frozenset("he she they he's she's they're his their him them everyone everybody "
                    "people it it's that's this says said".split())
_SENTENCE_EDGE = frozenset({",", ".", ";", "!", "?", "-"})
_BOUNDARY = frozenset({",", ".", ";", "!", "?", "but", "though", "although", "however"})
_NEGATION_STOP = frozenset({"and", "i'm", "im", "just", "more", "rather", "it's", "actually",
                            "instead", "i"})
_NOT_NEGATING_NEXT = frozenset({"stop", "help", "only", "just"})


@dataclass
class FeelingHit:
    """One feeling heard in a turn."""

    label: str  # GoEmotions label, or "" for a state such as "tired"
    score: float
    surface: str  # the lexicon phrase as said ("fed up")
    reflect: str  # the phrase to say back ("really fed up with your job")
    kind: str  # words | framed | cues | state | state_cue | judged (of a thing: "it was great")
    valence: str
    negated: bool
    start: int
    end: int
    other: bool = False  # someone else's feeling ("he was proud")

    @property
    def own_word(self) -> bool:
        """The person's own word can be said back ("you're exhausted")."""
        return (self.kind in ("words", "framed", "state", "state_framed") and not self.negated
                and not self.other)


@dataclass
class InferredFeeling:
    rule: Inference
    pattern: str
    position: int


@dataclass
class Correction:
    """The person corrected a feeling word: ``rejected`` is out, ``chosen`` is theirs."""

    rejected: str | None
    chosen: str | None
    chosen_label: str | None


class Lexicon:
    """The compiled feeling lexicon."""

    def __init__(self, wording: FeelingsWording) -> None:
        self.entries: dict[tuple[str, ...], tuple[str, float, str, str]] = {}
        self.say: dict[str, str] = {}
        self.nameable: dict[str, bool] = {}
        self.valence: dict[str, str] = {}
        for label, entry in wording.labels.items():
            self.say[label] = entry.say
            self.nameable[label] = entry.name
            self.valence[label] = entry.valence
            for kind, table in (("words", entry.words), ("framed", entry.framed),
                                ("cues", entry.cues)):
                for phrase, score in table.items():
                    self.entries[tuple(tokens(phrase))] = (label, score, kind, entry.valence)
        for phrase, score in wording.states.words.items():
            self.entries[tuple(tokens(phrase))] = ("", score, "state", "negative")
        for phrase, score in wording.states.framed.items():
            self.entries[tuple(tokens(phrase))] = ("", score, "state_framed", "negative")
        for phrase, score in wording.states.cues.items():
            self.entries[tuple(tokens(phrase))] = ("", score, "state_cue", "negative")
        self.max_len = max(len(k) for k in self.entries)
        mods = wording.modifiers
        self.hedges = [tuple(tokens(h)) for h in mods.hedges]
        self.intensifiers = [tuple(tokens(i)) for i in mods.intensifiers]
        self.negators = {n for n in mods.negators if " " not in n}
        self.frames = set(mods.frames)
        self.evaluative = frozenset(wording.evaluative)
        self.skip = {t for phrase in self.hedges + self.intensifiers for t in phrase} | {"a", "of"}
        self.rules = wording.inference
        self.reflect_as = {tuple(tokens(k)): v.split() for k, v in wording.reflect_as.items()}
        alternatives = []
        self.pattern_rule: dict[str, Inference] = {}
        for rule in wording.inference:
            for pattern in rule.patterns:
                key = " ".join(tokens(pattern))
                if key and key not in self.pattern_rule:
                    self.pattern_rule[key] = rule
                    alternatives.append(_gapped(key))
        alternatives.sort(key=len, reverse=True)
        self.rule_re = re.compile(r"(?<![\w'])(?:" + "|".join(alternatives) + r")(?![\w'])")

    # ------------------------------------------------------------------ matching

    def hits(self, toks: list[str]) -> list[FeelingHit]:
        """Every feeling phrase in ``toks`` (lower-case tokens with punctuation), longest first."""
        found: list[FeelingHit] = []
        i = 0
        n = len(toks)
        while i < n:
            matched = False
            for size in range(min(self.max_len, n - i), 0, -1):
                key = tuple(toks[i : i + size])
                entry = self.entries.get(key)
                if entry is None:
                    continue
                label, score, kind, valence = entry
                if kind in ("framed", "state_framed") and not self._framed(toks, i, i + size):
                    continue
                if kind == "framed" and self._about_a_thing(toks, i, i + size):
                    kind = "judged"  # "dinner was lovely": it colours the turn, but is not
                    # said back as their feeling ("you're lovely")
                if size == 1 and key[0] in STOPWORDS and kind != "framed":
                    continue
                found.append(self._hit(toks, i, i + size, label, score, kind, valence))
                i += size
                matched = True
                break
            if not matched:
                i += 1
        return found

    def _about_a_thing(self, toks: list[str], start: int, end: int) -> bool:
        """Whether an evaluative word ("lovely", "awful") judges a thing, not the person: no
        person is its subject ("the dinner was lovely", not "I was lovely")."""
        return (end - start == 1 and toks[start] in self.evaluative
                and not _PERSON_SUBJECTS & set(toks[max(0, start - 5):start])
                and not (start == 0 or toks[start - 1] in _SENTENCE_EDGE))

    def _framed(self, toks: list[str], start: int, end: int) -> bool:
        if toks[start:end] == ["used"] and toks[end:end + 1] == ["to"]:
            return False  # "I used to go", "I was used to it": a habit, not feeling used
        if end - start == 1 and toks[end:end + 1] in (["time"], ["times"]):
            return False  # "a little more free time", "good times": the time, not the person
        if (end < len(toks) and end - start == 1 and toks[end] in _SPATIAL_AFTER
                and toks[start] in _SPATIAL_WORDS):
            return False  # "down at the pub", "low on petrol"; "invisible at work" is a feeling
        if start > 0 and toks[start - 1] in {"a", "an"} and end < len(toks) and (
                toks[end][0].isalpha() and toks[end] not in _AFTER_ADJECTIVE):
            return False  # "a bad mother": describing a thing, not a feeling
        if start == 0 or toks[start - 1] in _SENTENCE_EDGE:
            after = 0
            while end + after < len(toks) and toks[end + after] not in _SENTENCE_EDGE:
                after += 1
            if after <= 1:  # a feeling said on its own: "Hurt." / "no, lonely"
                return True
        j = start - 1
        steps = 0
        while j >= 0 and steps < 4:
            tok = toks[j]
            if tok in self.frames:
                return True
            if tok not in self.skip and tok not in self.negators and not tok.endswith("n't"):
                return False
            j -= 1
            steps += 1
        return False

    def _modifier_before(self, toks: list[str], start: int, phrases: list[tuple[str, ...]],
                         window: int) -> tuple[str, ...] | None:
        for phrase in sorted(phrases, key=len, reverse=True):
            for offset in range(0, window):
                end = start - offset
                begin = end - len(phrase)
                if begin < 0:
                    continue
                if tuple(toks[begin:end]) == phrase:
                    between = toks[end:start]
                    if any(t in _BOUNDARY for t in between):
                        continue
                    return phrase
        return None

    def _negated(self, toks: list[str], start: int) -> bool:
        if _used_to(toks, start):
            return True  # "I used to love going out": a feeling that is gone now
        if any(tuple(toks[max(0, start - len(e)):start]) == e for e in _EXPECTED):
            return True  # "he said I should be grateful": expected of them, not felt
        j = start - 1
        steps = 0
        while j >= 0 and steps < 4:
            tok = toks[j]
            if tok in _BOUNDARY or tok in _NEGATION_STOP:
                return False
            if tok in self.negators or tok.endswith("n't"):
                nxt = toks[j + 1] if j + 1 < len(toks) else ""
                if nxt in _NOT_NEGATING_NEXT:
                    return False
                if tok == "never" and nxt in {"been", "felt", "so", "this", "more"}:
                    return False
                return True
            j -= 1
            steps += 1
        return False

    def _hit(self, toks: list[str], start: int, end: int, label: str, score: float, kind: str,
             valence: str) -> FeelingHit:
        surface = " ".join(toks[start:end])
        negated = self._negated(toks, start)
        hedge = self._modifier_before(toks, start, self.hedges, 3)
        intens = self._modifier_before(toks, start, self.intensifiers, 2)
        words: list[str] = []
        if hedge:
            score *= 0.75
            if self._modifier_before(toks, start, [hedge], 1):
                words.extend(hedge)
        elif intens:
            score = min(1.0, score * 1.2)
            if len(intens) == 1 and intens[0] in _CLEAN_INTENSIFIERS:
                words.append("really" if intens[0] in {"so", "too"} else intens[0])
        words.extend(self.reflect_as.get(tuple(toks[start:end]), toks[start:end]))
        if words and words[-1] in _PREPOSITIONS:
            tail = []
            for tok in toks[end : end + 6]:
                if tok in _BOUNDARY or tok in {"and", "because"}:
                    break
                tail.append(tok)
            while tail and tail[-1] in STOPWORDS - {"me", "my", "her", "him", "them", "it"}:
                tail.pop()
            if tail and tail[0] == "me":
                tail[0] = "myself"  # "proud of me" -> "proud of yourself"
            if tail:
                words.extend(tail)
            else:
                words.pop()
        reflect = " ".join(swap_words(words)) if words else surface
        return FeelingHit(label, round(score, 3), surface, reflect, kind, valence, negated,
                          start, end, self._someone_else(toks, start))

    @staticmethod
    def _someone_else(toks: list[str], start: int) -> bool:
        """Whether the nearest subject before a feeling word is another person."""
        j = start - 1
        while j >= 0 and start - j <= 5 and toks[j] not in _SENTENCE_EDGE:
            if toks[j] in _MINE:
                return False
            if toks[j] in _THEIRS:
                return True
            j -= 1
        return False

    def _rule_for(self, matched: str) -> Inference | None:
        """The rule of a match that had words in its gap ("nobody at work notices")."""
        words = matched.split()
        for size in range(len(words) - 1, 0, -1):
            for key in (" ".join([words[0], *words[-size:]]),):
                if key in self.pattern_rule:
                    return self.pattern_rule[key]
        return None

    def inferred(self, text_tokens: list[str]) -> list[InferredFeeling]:
        """Situations that usually carry a feeling ("nobody noticed")."""
        joined = " ".join(t for t in text_tokens if t not in {",", ".", ";", "!", "?"})
        out: list[InferredFeeling] = []
        seen: set[str] = set()
        for match in self.rule_re.finditer(joined):
            rule = self.pattern_rule.get(match.group(0)) or self._rule_for(match.group(0))
            if rule is None or rule.name in seen:
                continue
            seen.add(rule.name)
            out.append(InferredFeeling(rule, match.group(0), match.start()))
        return out


def _gapped(key: str) -> str:
    """A pattern that also matches with up to two words after its first word
    ("nobody notices" matches "nobody at work notices")."""
    words = key.split()
    if len(words) < 2 or len(words[0]) < 3 or (len(words) == 2 and words[1] in STOPWORDS):
        return re.escape(key)
    if words[-1] in _NO_GAP_LAST:
        rest = r"\s".join(re.escape(w) for w in words[1:])
        return re.escape(words[0]) + r"(?:\s(?:" + _ADVERB_GAP + r")){0,2}\s" + rest
    rest = r"\s".join(re.escape(w) for w in words[1:])
    return re.escape(words[0]) + r"(?:\s[\w']+){0,3}?\s" + rest


@lru_cache(maxsize=4)
def _lexicon(key: int) -> Lexicon:
    return Lexicon(feelings_wording())


def lexicon() -> Lexicon:
    return _lexicon(id(feelings_wording()))


def emotions(hits: list[FeelingHit], inferred: list[InferredFeeling]) -> list[Emotion]:
    """The confident feelings of a turn, strongest first (at most three)."""
    best: dict[str, float] = {}
    for hit in hits:
        if hit.label and not hit.negated and hit.score >= REPORT_THRESHOLD:
            best[hit.label] = max(best.get(hit.label, 0.0), hit.score)
    for item in inferred:
        rule = item.rule
        if rule.label and rule.score >= INFERRED_REPORT and rule.label not in best:
            best[rule.label] = rule.score
    ranked = sorted(best.items(), key=lambda kv: -kv[1])[:3]
    return [Emotion(label=label, score=round(min(score, 1.0), 3)) for label, score in ranked]


_MARKS = frozenset({",", ".", ";", "-", "but", "i'm", "im", "just", "more", "it's", "its",
                    "rather", "actually", "i", "i'd", "instead"})
_STRONG_MARKS = frozenset({"i'm", "im", "just", "more", "it's", "its", "rather", "actually",
                           "i", "feel", "i'd", "instead"})
_FILLER_MARKS = frozenset({",", ".", ";", "-", "but", "i'm", "im", "just", "more", "it's", "its",
                           "rather", "actually", "i", "i'd", "feel", "feeling", "like", "say",
                           "really", "probably", "mostly", "kind", "sort", "of", "a", "bit", "am",
                           "was", "felt", "is", "that's", "instead", "quite", "pretty"})
_WRONG_WORD_RE = re.compile(
    r"\b([a-z'-]+) (?:isn't|is not|wasn't|was not|is the wrong|was the wrong|isn't quite|"
    r"is not quite|doesn't quite|doesn't) ?(?:the |quite the |really the )?(?:right |best )?"
    r"(?:word|it|fit)\b"
)
_REJECT_START = ("no ", "no,", "nah", "nope", "not really", "not exactly", "not quite",
                 "that's not it", "wrong")
_NOT_REJECTING = ("no idea", "no clue", "not sure", "no one", "nobody", "no time", "not much")


def find_correction(toks: list[str], hits: list[FeelingHit], named: list[str]) -> Correction | None:
    """A corrected feeling word: "I'm not angry, I'm hurt", "more hurt than angry".

    ``named`` holds the feeling words the companion used in its last reply; "no" or "not X"
    right after them rejects them.
    """
    for i, tok in enumerate(toks):  # "more Y than X"
        if tok != "more":
            continue
        later = [h for h in hits if i < h.start <= i + 3]
        if later and later[0].end < len(toks) and toks[later[0].end] == "than":
            rejected = [h for h in hits if h.start == later[0].end + 1]
            if rejected:
                return Correction(rejected[0].surface, later[0].reflect, later[0].label or None)
    for index, hit in enumerate(hits):  # "not X, (I'm) Y", "less X, more Y"
        is_less = hit.start > 0 and toks[hit.start - 1] == "less"
        if not (hit.negated or is_less) or _used_to(toks, hit.start):
            continue  # "I used to be anxious, now I'm calm" corrects no word of ours
        rejected = _core(hit.surface)
        k = hit.end
        while k < len(toks) and toks[k] not in _MARKS and k - hit.end < 3:
            k += 1
        if k >= len(toks) or toks[k] not in _MARKS:
            if rejected in named:
                return Correction(rejected, None, None)
            continue
        reach = 3 if toks[k] == "." else 6
        for later in hits[index + 1 :]:
            if not later.negated and later.start >= k and later.start - k <= reach:
                return Correction(rejected, later.reflect, later.label or None)
        if toks[k] in {",", "just", "more", "rather", "i'm", "im", "-"}:
            chosen = _words_after(toks, k)
            if chosen:
                return Correction(rejected, chosen, None)
        if rejected in named:
            return Correction(rejected, None, None)
    joined = " ".join(t for t in toks if t not in {",", ".", "!", "?", ";"})
    match = _WRONG_WORD_RE.search(joined)
    if match and match.group(1) not in STOPWORDS:
        rejected = match.group(1)
        after = [h for h in hits if h.surface != rejected and not h.negated]
        if after:
            return Correction(rejected, after[-1].reflect, after[-1].label or None)
        rest = tokens(joined[match.end():])
        return Correction(rejected, _words_after(rest, 0), None)
    if named and not joined.startswith(_NOT_REJECTING):
        for word in named:
            negated = re.search(rf"\b(?:not|n't|isn't|wasn't|never) (?:really |exactly |quite |"
                                rf"that |so |feeling |feel )?{re.escape(word)}\b", joined)
            if negated or (joined + " ").startswith(_REJECT_START) and len(toks) <= 7:
                chosen = [h for h in hits if not h.negated and h.surface != word and h.own_word]
                if chosen:
                    return Correction(word, chosen[0].reflect, chosen[0].label or None)
                return Correction(word, None, None)
    return None


_NOT_A_FEELING = frozenset("not no never think know guess mean say said want need have had do "
                           "did get got go going".split())
_FUNCTION_WORDS = frozenset("a an the to of and it that this really just so very or but with "
                            "about at for in on i you he she they we".split())


_PERSON_SUBJECTS = frozenset("i i'm im i've i'd me myself we we're we've us he she they he's "
                             "she's they're".split())


# a feeling expected of the person rather than had
_EXPECTED = (("should", "be"), ("should", "feel"), ("ought", "to", "be"), ("ought", "to", "feel"),
             ("supposed", "to", "be"), ("supposed", "to", "feel"))


def _used_to(toks: list[str], start: int) -> bool:
    """Whether the feeling at ``start`` is in the past: "I used to (be so) happy"."""
    before = toks[max(0, start - 4):start]
    return any(a == "used" and b in {"to", "ta"} for a, b in pairwise(before))


def _core(surface: str) -> str:
    words = surface.split()
    while len(words) > 1 and words[-1] in _PREPOSITIONS:
        words.pop()
    return " ".join(words)


def _words_after(words: list[str], start: int) -> str | None:
    """The person's own word after a rejected one: "not angry, just done" -> "done"."""
    out: list[str] = []
    strong = False
    ended = False
    for tok in words[start : start + 9]:
        if not out and tok in _FILLER_MARKS:
            strong = strong or tok in _STRONG_MARKS
            continue
        if tok in {".", "!", "?", ",", ";", "and", "because", "but"}:
            ended = True
            break
        out.append(tok)
        if len(out) > 3:
            return None
    else:
        ended = len(words) <= start + 9
    if not ended:
        return None
    while out and out[-1] in _FUNCTION_WORDS:
        out.pop()
    if not strong or not out or all(w in _FUNCTION_WORDS for w in out):
        return None
    if any(w.endswith("n't") or w in _NOT_A_FEELING for w in out):
        return None
    return " ".join(swap_words(out))
