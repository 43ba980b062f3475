"""Reading one turn: its clauses, feelings, people, events, worries, ambivalence and kind."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from voice_companion.dialogue.base import Emotion
from voice_companion.dialogue.extract import Extractor
from voice_companion.dialogue.feelings import (
    NAME_INFERRED,
    Correction,
    FeelingHit,
    InferredFeeling,
    Lexicon,
    emotions,
    find_correction,
)
from voice_companion.dialogue.hard_turns import HardTurn, HardTurnReader, strip_sarcasm
from voice_companion.dialogue.pronouns import swap_words, third_person
from voice_companion.dialogue.text import (
    COMMON_STARTS,
    FUNCTION_WORDS,
    STOPWORDS,
    Clause,
    clean,
    content_words,
    opens_statement,
    split_clauses,
    strip_discourse,
    tokens,
    trim_clause,
)

OWN_FEELING_MIN = 0.45  # weaker words ("fine", "good", "okay") are not said back as feelings
_FIRST_PERSON = frozenset("i i'm i've i'd i'll my me we we're we've our".split())
# Openers of a long lead-in before the person's own clause ("every time she asks, I ...").
_TIME_OPENERS = frozenset("last this yesterday today tonight sometimes then now lately earlier "
                          "later recently every most some all".split())
_LONG_LEADS = frozenset("every whenever when each after before since once".split())
_SUBJECT_START = _FIRST_PERSON | frozenset(
    "he she they it it's there there's that that's this he's she's they're everyone everybody "
    "nobody someone people the his her their you you're your mum mom dad things life work "
    "nothing everything no".split()
)
_HEDGE_CLAUSES = frozenset({"i guess", "i think", "i suppose", "i mean", "i don't know",
                            "you know", "i dunno", "i reckon", "i think so", "i guess so",
                            "i would say", "i'd say", "i have to say", "i must say",
                            "i'd probably say", "i would think"})
_HEDGE_TAILS = [["i", "guess"], ["i", "think"], ["i", "suppose"], ["you", "know"]]
_BARE_VERBS = frozenset(
    "get go make take do try stop start keep give put let tell call come look find leave eat "
    "drink have be see ask help talk work use pay buy quit cut move sit stand wait think stay "
    "run walk sleep read write watch listen learn change fix save spend pick hold bring "
    "send".split()
)
_HEDGE_LEAD = frozenset("maybe probably perhaps hopefully honestly definitely obviously "
                        "apparently basically".split())
_QUESTION_START = frozenset(
    "what how why when where who which do does did can could would will is are am should shall "
    "have has isn't aren't don't didn't was were wasn't weren't".split()
)
_MODAL_REWRITES: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("you", "should", "have"), ("you", "wish", "you", "had")),
    (("you", "should've"), ("you", "wish", "you", "had")),
    (("you", "shouldn't", "have"), ("you", "wish", "you", "hadn't")),
    # these read right inside a relative clause too ("something you're having to face")
    (("you", "should"), ("you", "feel", "obliged", "to")),
    (("you", "shouldn't"), ("you", "feel", "you", "can't", "really")),
    (("you", "ought", "to"), ("you", "feel", "obliged", "to")),
    (("you", "have", "to"), ("you're", "having", "to")),
    (("you've", "got", "to"), ("you're", "having", "to")),
    (("you", "got", "to"), ("you're", "having", "to")),
    (("you", "must"), ("you're", "having", "to")),
    (("you", "need", "to"), ("you", "feel", "a", "need", "to")),
    (("you", "needed", "to"), ("you", "felt", "a", "need", "to")),
    (("you", "need"), ("you", "feel", "a", "need", "for")),  # not "you need some help" (lecture)
    (("you", "really", "need"), ("you", "feel", "a", "real", "need", "for")),
    (("you'd", "better"), ("it", "feels", "urgent", "to")),
    (("at", "least"), ()),
    (("just",), ()),
]
# "my mum thinks I should move out": the obligation is the other person's view, not the
# speaker's feeling ("your mum thinks you feel obliged to" would change its meaning)
_REPORTED_OBLIGATION = {"thinks": "expects", "think": "expect", "thought": "expected",
                        "reckons": "expects", "reckon": "expect", "believes": "expects",
                        "says": "wants", "said": "wanted"}
_OBLIGATION = (("you", "should"), ("you", "ought", "to"))
_PAST_THOUGHT = frozenset({"thought", "felt", "knew", "decided", "said"})
_SIDE_MARKERS = frozenset({"but", "though", "although", "however", "whereas", "except"})
_SOME_TIMES_RE = re.compile(
    r"(?P<a>(?:some|other|most) (?:moments|days|times|nights|mornings) [^,.;]+?)(?:,| and| but)+ "
    r"(?P<b>(?:some|other|most|then) (?:moments|days|times|nights|mornings)? ?[^,.;]+)"
)
_PART_OF_ME_RE = re.compile(
    r"part of me (?P<a>[^,.;]+?)(?:,| and| but)+ (?:another|the other|other|a|then)? ?"
    r"part(?: of me)? (?P<b>[^,.;]+)"
)
_CONTRACTED_SUBJECT = {"you're": "is", "you've": "has", "you'd": "would", "you'll": "will"}


_NOT_AFTER_A_NAME = frozenset({"to", "of", "much", "enough", "the", "a", "an"})


@dataclass
class Turn:
    """Everything the engine needs to know about one turn."""

    raw: str
    cleaned: str
    toks: list[str]
    words: list[str]
    clauses: list[Clause]
    hits: list[FeelingHit]
    inferred: list[InferredFeeling]
    emotions: list[Emotion]
    hard: HardTurn
    correction: Correction | None
    people: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    worries: list[str] = field(default_factory=list)
    effort: str | None = None
    value: str | None = None
    clause: str | None = None  # the best clause, turned around
    clause_nf: str | None = None  # the best clause that does not hold the main feeling word
    clause_nf_follows: bool = False  # it came after the feeling, as what happened next
    weighty: bool = False  # a hard event, even with no feeling named ("she broke her hip")
    fragment: str | None = None
    sides: tuple[str, str] | None = None
    contrast: bool = False  # the sides are "used to ... now ...", not ambivalence
    parts: tuple[str, str] | None = None
    feel: FeelingHit | None = None  # the main feeling, in the person's words
    feel_b: FeelingHit | None = None  # a second feeling of the other valence (mixed)
    negated_positive: FeelingHit | None = None  # "not happy"
    inference: InferredFeeling | None = None
    judgement: str | None = None  # a harsh word about themselves ("lazy", "a bad friend")
    judgement_doing: str | None = None  # the same as a doing ("being lazy", "overreacting")
    judgement_kind: str = ""  # verdict | doubt ("maybe I'm being dramatic") | felt
    valence: str = "neutral"
    content: set[str] = field(default_factory=set)

    @property
    def flags(self) -> set[str]:
        return self.hard.flags

    @property
    def substantive(self) -> bool:
        return bool(self.words) and not (self.flags & {"minimal", "empty", "greeting",
                                                       "thanks", "goodbye", "how_are_you",
                                                       "clarify"})

    @property
    def topic(self) -> str | None:
        for group in (self.people, self.events, self.topics):
            if group:
                return group[0]
        return None


class Analyser:
    def __init__(self, lexicon: Lexicon, extractor: Extractor, reader: HardTurnReader) -> None:
        self.lexicon = lexicon
        self.extractor = extractor
        self.reader = reader
        self.swears = reader.swears
        self.softened = dict(item.split("=", 1) for item in reader.vocab.softened)
        self.weighty_words = frozenset(reader.vocab.weighty_words)

    def analyse(self, text: object, named: list[str]) -> Turn:
        raw = text if isinstance(text, str) else ("" if text is None else str(text))
        cleaned = clean(raw)
        toks = tokens(cleaned)
        words = [t for t in toks if t[0].isalnum()]
        clauses = split_clauses(cleaned)
        hits = self.lexicon.hits(toks)
        inferred = self.lexicon.inferred(toks)
        hard = self.reader.read(words, raw)
        turn = Turn(raw=raw, cleaned=cleaned, toks=toks, words=words, clauses=clauses,
                    hits=hits, inferred=inferred, emotions=emotions(hits, inferred), hard=hard,
                    correction=find_correction(toks, hits, named))
        if hard.flags & {"minimal", "empty"}:
            return turn
        if "sarcasm" in hard.flags:
            turn.clauses = clauses = split_clauses(strip_sarcasm(self.reader, cleaned))
            turn.hits = [h for h in hits if h.valence != "positive"]
            turn.emotions = emotions(turn.hits, [i for i in inferred
                                                 if i.rule.valence != "positive"])
        lowered = " ".join(words)
        for clause in clauses:
            turn.people += [p for p in self.extractor.people_in(clause) if p not in turn.people]
            turn.events += [e for e in self.extractor.events_in(clause) if e not in turn.events]
            turn.topics += [t for t in self.extractor.topics_in(clause) if t not in turn.topics]
        turn.worries = self.extractor.worries_in(lowered)
        turn.effort = self.extractor.effort_in(clauses)
        turn.value = self.extractor.value_in(lowered)
        turn.content = content_words(cleaned)
        self._feelings(turn)
        self._clauses(turn)
        self._sides(turn, lowered)
        self._self_judgement(turn)
        turn.weighty = (turn.valence in ("negative", "mixed") or bool(turn.worries)
                        or bool(self.weighty_words & {w.lower() for w in turn.words}))
        return turn

    def _self_judgement(self, turn: Turn) -> None:
        """A harsh verdict on themselves is never said back as a plain statement ("You're a
        terrible mum."): it is kept apart, and clauses that hold it are not reflected."""
        found = self.extractor.self_judgement_in(turn.cleaned)
        if found is None:
            return
        turn.judgement, turn.judgement_doing, turn.judgement_kind = found
        word = turn.judgement.split()[-1]
        for name in ("clause", "clause_nf", "fragment"):
            value = getattr(turn, name)
            if value and word in value.lower().split():
                setattr(turn, name, None)
        if turn.sides and any(word in side.lower().split() for side in turn.sides):
            turn.sides = None

    def soften_swears(self, words: list[str]) -> list[str]:
        """Swear words in gentler words ("pissed off" -> "angry"), others dropped."""
        out: list[str] = []
        i = 0
        while i < len(words):
            pair = " ".join(w.lower() for w in words[i : i + 2])
            if pair in self.softened:
                out.extend(self.softened[pair].split())
                i += 2
                continue
            word = words[i].lower()
            if word in self.softened:
                out.extend(self.softened[word].split())
            else:
                out.append(words[i])
            i += 1
        return out

    def is_name(self, word: str, after: str = "") -> bool:
        """Whether ``word`` (followed by ``after``) looks like someone's name."""
        return (word[:1].isupper() and word != "I"
                and self.decap([word, after] if after else [word])[0] == word)

    def decap(self, words: list[str]) -> list[str]:
        """Lower-case a sentence-initial capital unless the word looks like a name."""
        if not words or not words[0][:1].isupper() or words[0] == "I" or words[0].startswith("I'"):
            return words
        low = words[0].lower()
        base = low.split("'")[0]
        known = (base in STOPWORDS or base in COMMON_STARTS or low in _SUBJECT_START
                 or (low,) in self.lexicon.entries or low in self.extractor.known
                 or low.endswith(("ly", "ing", "ed"))
                 # a name is followed by what it did, not by "to", "of" or an article:
                 # "Possibility to call", "Lots of"
                 or (len(words) > 1 and words[1].lower() in _NOT_AFTER_A_NAME))
        if known:
            return [low, *words[1:]]
        return words

    # ------------------------------------------------------------------ feelings

    def _feelings(self, turn: Turn) -> None:
        own = [h for h in turn.hits if h.own_word and h.score >= OWN_FEELING_MIN
               and not h.surface.split()[0].endswith("ing")]
        own.sort(key=lambda h: -h.score)
        if own:
            turn.feel = own[0]
            other = [h for h in own[1:] if h.valence != own[0].valence
                     and "neutral" not in (h.valence, own[0].valence) and h.label]
            if other:
                turn.feel_b = other[0]
        negpos = [h for h in turn.hits if h.negated and h.valence == "positive"
                  and h.kind in ("words", "framed")]
        if negpos and not any(h.negated and h.valence == "negative" for h in turn.hits):
            turn.negated_positive = negpos[0]
        usable = [i for i in turn.inferred if i.rule.meaning or i.rule.feel]
        usable.sort(key=lambda i: -i.rule.score)
        if usable:
            turn.inference = usable[0]
        pos = neg = 0.0
        for hit in turn.hits:
            weight = hit.score * (0.5 if hit.kind in ("cues", "state_cue") else 1.0)
            if hit.other:
                weight *= 0.3
            if hit.score < OWN_FEELING_MIN:
                continue
            if hit.negated and hit.valence == "positive":
                neg += weight * 0.5
            elif not hit.negated and hit.valence == "positive":
                pos += weight
            elif not hit.negated and hit.valence == "negative":
                neg += weight
        for item in turn.inferred:
            if item.rule.valence == "positive":
                pos += item.rule.score * 0.6
            elif item.rule.valence == "negative":
                neg += item.rule.score * 0.6
        if "sarcasm" in turn.flags:
            neg += pos + 0.3
            pos = 0.0
        if pos >= 0.35 and neg >= 0.35 and turn.feel_b is not None:
            turn.valence = "mixed"
        elif pos >= 0.3 and pos > neg * 1.3:
            turn.valence = "positive"
        elif neg >= 0.3:
            turn.valence = "negative"

    def inferred_feel(self, turn: Turn) -> str | None:
        item = turn.inference
        if item and item.rule.feel and item.rule.score >= NAME_INFERRED:
            return item.rule.feel
        return None

    # ------------------------------------------------------------------ clauses

    def _clauses(self, turn: Turn) -> None:
        scored: list[tuple[float, int, list[str], Clause]] = []
        for index, clause in enumerate(turn.clauses):
            result = self._reflectable(clause, turn)
            if result:
                scored.append((result[0], index, result[1], clause))
        if scored:
            scored.sort(key=lambda item: (-item[0], item[1]))
            turn.clause = " ".join(self._with_next(turn, scored[0][1], scored[0][2], scored))
            if turn.feel is not None:
                feel_tokens = set(turn.feel.surface.split())
                feel_at = next((i for i, c in enumerate(turn.clauses)
                                if feel_tokens <= set(c.lower)), None)
                for _, index, words, clause in scored:
                    if not feel_tokens & set(clause.lower) and len(words) >= 3:
                        turn.clause_nf = " ".join(words)
                        # "I got defensive and we ended up shouting": what followed, not a cause
                        turn.clause_nf_follows = (
                            feel_at is not None and index > feel_at
                            and clause.sentence == turn.clauses[feel_at].sentence
                            and clause.marker in {"and", "then", "so"})
                        break
            else:
                turn.clause_nf = turn.clause
        # a phrase broken off ("Um, on a scale of 1 to 10-") is not said back as a statement
        cut_off = turn.raw.rstrip().endswith(("-", "\u2013", "\u2014"))
        if not scored and len(turn.words) <= 12 and "question" not in turn.flags and not cut_off:
            words: list[str] = []
            for part in turn.clauses:
                piece = self.decap(strip_discourse(part.words))
                if piece:
                    words.extend([",", *piece] if words else piece)
            words = self.soften_swears(words)
            while len(words) > 2 and [w.lower() for w in words[:2]] in _HEDGE_TAILS:
                words = words[2:]
            words = [w for w in words if w.lower() not in self.swears]
            while words and words[0] == ",":
                words = words[1:]
            while len(words) > 2 and [w.lower() for w in words[-2:]] in _HEDGE_TAILS:
                words = words[:-2]
            if (words and content_words(" ".join(words))
                    and words[0].lower() not in _QUESTION_START):
                trimmed = trim_clause(swap_words(self.decap(words)), 9)
                if trimmed and trimmed[0].lower() in _BARE_VERBS:
                    trimmed = ["to", *trimmed]  # "get some income" is not an order
                elif trimmed and trimmed[0].lower() in {"always", "never", "don't", "just"}:
                    trimmed = ["it's", *trimmed] if trimmed[0].lower() in {"always", "never"} \
                        else trimmed[1:]
                if trimmed:
                    turn.fragment = " ".join(trimmed)

    @staticmethod
    def _with_next(turn: Turn, index: int, words: list[str],
                   scored: list[tuple[float, int, list[str], Clause]]) -> list[str]:
        """The chosen clause, joined to the next one when that one is what happened to it
        ("you made dinner" + "he scrolled his phone the whole time"): a short pair says more
        than its first half."""
        clause = turn.clauses[index]
        if index + 1 >= len(turn.clauses):
            return words
        following = turn.clauses[index + 1]
        found = next((w for _, i, w, _ in scored if i == index + 1), None)
        if (found is None or following.sentence != clause.sentence
                or following.marker not in {"and", "then", "so"}
                or following.lower[0] in _FIRST_PERSON or len(words) + len(found) + 1 > 16):
            return words
        return [*words, following.marker, *found]

    def _reflectable(self, clause: Clause, turn: Turn) -> tuple[float, list[str]] | None:
        words = self.soften_swears(strip_discourse([w for w in clause.words]))
        low = [w.lower() for w in words]
        opener = low[0].split("-")[-1] if low else ""  # a stutter: "wha-what"
        if len(low) < 2 or " ".join(low) in _HEDGE_CLAUSES or (
                opener in _QUESTION_START and not opens_statement(low)):
            return None
        if any(w in self.swears for w in low) or "why" in low:
            return None
        meaningful = [w for w in low if len(w) > 2 and w not in FUNCTION_WORDS]
        if not meaningful:
            return None
        score = 0.0
        lead = 1 if low[0] in _HEDGE_LEAD and len(low) > 2 and low[1] in _SUBJECT_START else 0
        if not lead and low[0] not in _SUBJECT_START:  # "some days I ...", "last night we ..."
            owner_ok = low[0] in _TIME_OPENERS  # "last time my hands were shaking"
            lead = next((k for k in range(1, min(4, len(low) - 1)) if low[k] in _FIRST_PERSON
                         and (low[k] not in {"me", "my", "our"}
                              or (owner_ok and low[k] != "me"))), 0)
        if not lead and low[0] in _LONG_LEADS:  # "every time she brings it up, I end up ..."
            lead = next((k for k in range(4, min(9, len(low) - 1)) if low[k] in _FIRST_PERSON
                         and low[k] not in {"me", "my", "our", "myself"}), 0)
        first = low[lead]
        if low[:2] in (["it's", "not"], ["that's", "not"], ["it", "isn't"], ["it", "wasn't"]):
            score -= 2.0
        if low[:2] in (["it's", "that"], ["it's", "more"], ["it", "was"]) and clause.sentence:
            score += 1.0
        if first in _FIRST_PERSON:
            # "my sister handled everything": the person's own part ("and I just froze") says
            # more about them than what someone of theirs did
            score += 1.5 if first in {"my", "our"} else 3.0
        elif first in _SUBJECT_START or self.is_name(*words[lead:lead + 2]):
            score += 1.0
        else:
            score -= 1.5
        if low[lead] in {"you", "you're", "you've", "you'd", "you'll", "your"}:
            return None  # "you" as the subject is usually "people in general"
        if "you" in low or "your" in low or "you're" in low:
            score -= 2.0
        if any(clause_has(h, clause) for h in turn.hits if not h.negated):
            score += 2.0
        joined = " ".join(low)
        if turn.inference and turn.inference.pattern in joined:
            score += 3.0
        elif any(item.pattern in joined for item in turn.inferred):
            score += 1.5
        score += min(3, len(meaningful)) * 0.5
        if 3 <= len(low) <= 14:
            score += 1.0
        elif len(low) < 3:
            score -= 1.0
        if "feel" in low or "felt" in low:
            score += 0.5
        elif len(low) > 20:
            score -= 1.5
        if clause.marker == "because":
            score += 0.3
        swapped = soften(swap_words(self.decap(words)))
        trimmed = trim_clause(swapped, 14)
        if not trimmed or len(trimmed) < 2:
            return None
        if first not in _SUBJECT_START and not self.is_name(*words[lead:lead + 2]):
            return None
        return score, trimmed

    # ------------------------------------------------------------------ ambivalence

    def _sides(self, turn: Turn, lowered: str) -> None:
        match = _PART_OF_ME_RE.search(lowered)
        if match:
            a = trim_clause(swap_words(match.group("a").split()), 10)
            b = trim_clause(swap_words(match.group("b").split()), 10)
            if a and b:
                turn.parts = (" ".join(a), " ".join(b))
                return
        match = _SOME_TIMES_RE.search(lowered)
        if match:
            a = trim_clause(soften(swap_words(match.group("a").split())), 11)
            b = trim_clause(soften(swap_words(match.group("b").split())), 11)
            if a and b and len(a) >= 3 and len(b) >= 3:
                turn.sides = (" ".join(a), " ".join(b))
                return
        clauses = turn.clauses
        for first, second in zip(clauses, clauses[1:], strict=False):
            used_to = "used" in first.lower and second.lower[:1] == ["now"]
            if second.marker not in _SIDE_MARKERS and not used_to:
                continue
            side_a = self._side(first)
            side_b = self._side(second)
            if not side_a or not side_b:
                continue
            if not (first.lower[:1] and (first.lower[0] in _FIRST_PERSON
                                         or second.lower[0] in _FIRST_PERSON)):
                continue
            turn.sides = (" ".join(side_a), " ".join(side_b))
            turn.contrast = used_to
            part_a, part_b = _as_part(side_a), _as_part(side_b)
            if part_a and part_b and not used_to:
                turn.parts = (" ".join(part_a), " ".join(part_b))
            return

    def _side(self, clause: Clause) -> list[str] | None:
        words = strip_discourse(clause.words)
        low = [w.lower() for w in words]
        if len(low) < 3 or low[0] in _QUESTION_START or any(w in self.swears for w in low):
            return None
        if low[0] not in _SUBJECT_START or "why" in low:
            return None
        trimmed = trim_clause(soften(swap_words(self.decap(words))), 11)
        return trimmed if trimmed and len(trimmed) >= 3 else None


def clause_has(hit: FeelingHit, clause: Clause) -> bool:
    return set(hit.surface.split()) <= set(clause.lower)


def soften(words: list[str]) -> list[str]:
    """Rewrite "you should / you have to / at least" so a reflection never sounds like advice."""
    out: list[str] = []
    low = [w.lower() for w in words]
    i = 0
    while i < len(words):
        size = next((len(p) for p in _OBLIGATION if tuple(low[i : i + len(p)]) == p), 0)
        if size and i >= 2 and low[i - 2 : i] == ["told", "you"]:
            out.append("to")  # "she told you you should" -> "she told you to"
            i += size
            continue
        if size and i >= 2 and low[i - 2] == "you" and low[i - 1] in _PAST_THOUGHT:
            out.extend(("it", "was", "up", "to", "you", "to"))  # "you thought it was up to you to"
            i += size
            continue
        if size and i >= 2 and low[i - 1] in _REPORTED_OBLIGATION and low[i - 2] != "you":
            out[-1] = _REPORTED_OBLIGATION[low[i - 1]]  # "he thinks you should" -> "he expects
            out.extend(("you", "to"))  # you to"
            i += size
            continue
        for pattern, replacement in _MODAL_REWRITES:
            if tuple(low[i : i + len(pattern)]) == pattern:
                out.extend(replacement)
                i += len(pattern)
                break
        else:
            out.append(words[i])
            i += 1
    return out


def _as_part(side: list[str]) -> list[str] | None:
    first = side[0].lower()
    if first in _CONTRACTED_SUBJECT:
        return [_CONTRACTED_SUBJECT[first], *side[1:]]
    if first == "you" and len(side) > 1:
        return third_person(side[1:])
    return None
