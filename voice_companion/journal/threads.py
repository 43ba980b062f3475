"""Threads worth following up, found in what the person said, and declines of a check-in.

A thread is always made of the person's own words. Each candidate carries two forms:

- ``quote``: the exact span of the transcript it came from ("my interview is on Friday"), so a
  recollection can be traced back to a stored turn;
- ``text``: the same words as the companion would say them back, with "I/my/me" turned into
  "you/your" and a date said relative to that day made absolute ("tomorrow" said on a Thursday
  becomes "on Friday"): "your interview on Friday".

Kinds: ``event`` (something with a date still to come), ``worry`` (something the person is
worried, nervous, scared... about), ``person`` (someone who matters: "my sister", "my partner
Sam"). Recurring feelings (``feeling``) need the stored history, so the journal finds those,
using :func:`feeling_phrase` for the person's words. The vocabulary lives in
``prompts/journal.toml`` ([extraction] and [decline]).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Literal

from voice_companion.journal.dates import DateMention, find_dates
from voice_companion.journal.wording import DeclineWords, ExtractionWords, wording

Kind = Literal["event", "worry", "person", "feeling"]


@dataclass(frozen=True)
class ThreadCandidate:
    """A thread found in one turn, before it is stored."""

    kind: Kind
    text: str  # the person's words, said back ("your interview on Friday")
    quote: str  # the exact words in the transcript ("my interview is on Friday")
    key: str  # the same thing mentioned twice has the same key
    due: datetime | None = None


_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")
_CURLY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})

# Splits a transcript into clauses; "and", "so"... split only before a new subject.
_CLAUSE_BREAK = re.compile(
    r"[.!?;:\n]+|,\s*|\s+-+\s+"
    r"|\s+(?:but|because|cause|'cause|though|although|except|whereas|anyway)\s+"
    r"|\s+(?:and|so|when|while|since|until|if|then|cos|or)\s+"
    r"(?=(?:i|i'm|im|i've|ive|i'll|i'd|we|we're|she|he|they|it|it's|its|that|this|there|you)\b)",
    re.IGNORECASE,
)

# Clauses about the past, or negated, hold no upcoming event.
_NOT_UPCOMING = re.compile(
    r"\b(?:was|were|had|did|went|yesterday|ago|used\s+to|last\s+(?:week|night|time|year|month"
    r"|weekend|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|not(?!\s+sure)|never"
    r"|no\s+longer|didn't"
    r"|didnt|isn't|isnt|aren't|arent|wasn't|wasnt|weren't|werent|won't|wont|don't\s+have"
    r"|dont\s+have|doesn't|doesnt|cancel+ed|called\s+off|postponed|if|might|maybe)\b",
    re.IGNORECASE,
)

_DETERMINERS = {"my", "our", "a", "an", "the", "this", "his", "her", "their"}
_SAY_DETERMINER = {"my": "your", "our": "your", "a": "the", "an": "the", "this": "the"}
# Words between a noun phrase and its date: "my interview *is* on Friday".
_LINKS = {
    "is", "'s", "are", "will", "be", "gonna", "happens", "happening", "starts", "start",
    "scheduled", "planned", "booked", "set", "for", "coming", "up", "comes", "due",
}
# Words that cannot be inside a short noun phrase naming an event.
_NOT_NOUN = {
    "i", "i'm", "im", "i've", "ive", "i'll", "i'd", "you", "he", "she", "it", "we", "they",
    "me", "him", "us", "them", "is", "are", "was", "were", "be", "been", "am", "have", "has",
    "had", "do", "does", "did", "going", "gonna", "want", "need", "got", "get", "to", "about",
    "of", "for", "with", "at", "in", "on", "from", "by", "and", "or", "but", "so", "that",
    "which", "who", "what", "it's", "there", "there's", "will", "would", "can", "could",
    "should", "really", "just", "very", "like", "think", "know", "feel", "nervous",
    "worried", "scared", "anxious", "excited", "dreading", "afraid", "stressed",
} | _LINKS | _DETERMINERS

_NOUN_PREPOSITIONS = {"at", "with", "for", "in", "of"}

_REFLECT = {
    "i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself",
    "i'm": "you're", "im": "you're", "i've": "you've", "ive": "you've", "i'll": "you'll",
    "i'd": "you'd", "we": "you", "us": "you", "our": "your", "ours": "yours",
    "ourselves": "yourselves", "we're": "you're", "we've": "you've", "we'll": "you'll",
    "we'd": "you'd",
}
_AFTER_I = {"am": "are", "was": "were"}
_TRAILING_FILLERS = re.compile(
    r"(?:\s+(?:you\s+know|i\s+guess|i\s+think|i\s+mean|or\s+something|and\s+stuff|and\s+all"
    r"|right\s+now|to\s+be\s+honest|honestly|lately|a\s+lot|all\s+the\s+time|these\s+days"
    r"|at\s+the\s+moment|really|anymore|though|like|too|as\s+well|again|and|so|but|um|uh))+$",
    re.IGNORECASE,
)


def normalise_apostrophes(text: str) -> str:
    """Curly apostrophes become straight ones; the length of the text does not change."""
    return text.translate(_CURLY)


def reflect(words: str) -> str:
    """The person's words said back to them: "my dad's health" -> "your dad's health"."""
    out: list[str] = []
    last = 0
    previous = ""
    for match in _WORD.finditer(words):
        token = match.group(0)
        low = token.lower()
        out.append(words[last : match.start()])
        if low in _REFLECT:
            out.append(_REFLECT[low])
        elif previous == "i" and low in _AFTER_I:
            out.append(_AFTER_I[low])
        else:
            out.append(token)
        previous = low
        last = match.end()
    out.append(words[last:])
    return "".join(out).strip()


def clauses(text: str) -> list[tuple[int, int]]:
    """The (start, end) spans of the clauses of ``text``."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _CLAUSE_BREAK.finditer(text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _tokens(text: str, start: int = 0, end: int | None = None) -> list[re.Match[str]]:
    return list(_WORD.finditer(text, start, len(text) if end is None else end))


def _alt(words: list[str]) -> str:
    items = sorted({w.strip().lower() for w in words if w.strip()}, key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s+").replace("'", "'?") for w in items)


@dataclass(frozen=True)
class _Patterns:
    worry_feeling: re.Pattern[str]
    worry_verb: re.Pattern[str]
    worry_cause: re.Pattern[str]
    person: re.Pattern[str]
    feeling: re.Pattern[str]
    vague: frozenset[str]
    not_names: frozenset[str]
    worry_vocab: frozenset[str]
    max_words: int


_MODS = (
    r"(?:(?:so|really|very|a\s+bit|a\s+little(?:\s+bit)?|kind\s+of|kinda|sort\s+of|pretty|quite"
    r"|super|too|just|still|also|seriously|honestly|totally|all|more|getting|increasingly"
    r"|incredibly|extremely|terribly|awfully|always|constantly|a\s+lot|more\s+and\s+more"
    r"|keep|kept|can'?t\s+stop|cannot\s+stop)\s+)*"
)


@lru_cache(maxsize=4)
def _patterns(words: ExtractionWords) -> _Patterns:
    subject = (
        r"(?:i'?m|i\s+am|i'?ve\s+been|i\s+feel|i'?m\s+feeling|i\s+am\s+feeling|i\s+get|i\s+got"
        r"|i'?m\s+getting|i\s+keep\s+getting|i\s+keep\s+feeling|i\s+still\s+feel|we'?re"
        r"|we\s+are|we'?ve\s+been)"
    )
    worry_feeling = re.compile(
        rf"\b{subject}\s+{_MODS}(?:{_alt(words.worry_words)})(?:\s+sick)?"
        r"\s+(?:about|of|for|over|by|around|with)\s+(?P<obj>.+)$",
        re.IGNORECASE,
    )
    worry_verb = re.compile(
        rf"\b(?:i|we)(?:'?m|\s+am|'?ve\s+been|'?re)?\s+{_MODS}(?:{_alt(words.worry_verbs)})"
        r"(?:\s+(?:about|over|of|on))?\s+(?P<obj>.+)$",
        re.IGNORECASE,
    )
    worry_cause = re.compile(
        r"(?P<obj>\b(?:my|our|the|this|his|her|their)\s+(?:[\w'-]+\s+){0,6}?[\w'-]+)"
        r"\s+(?:is|are|has\s+been|have\s+been|keeps|keep)\s+(?:really\s+|kind\s+of\s+|just\s+"
        rf"|so\s+|still\s+|been\s+)*(?:{_alt(words.worry_causes)})(?:\s+(?:at|on|to))?\s+me\b",
        re.IGNORECASE,
    )
    person = re.compile(
        rf"\b(?P<det>my|our)\s+(?P<mods>(?:(?:{_alt(words.relation_modifiers)})[\s-]+)*)"
        rf"(?P<rel>{_alt(words.relations)})(?P<poss>'s?)?(?![\w-])"
        r"(?:,?\s+(?P<name>(?-i:[A-Z][a-z]+)))?",
        re.IGNORECASE,
    )
    feeling = re.compile(
        r"\b(?:i\s+feel|i'?m\s+feeling|i\s+am\s+feeling|i'?ve\s+been\s+feeling|i\s+felt"
        r"|i\s+keep\s+feeling|i\s+still\s+feel|i\s+always\s+feel|i\s+just\s+feel"
        r"|i\s+really\s+feel|makes\s+me\s+feel|made\s+me\s+feel)\s+(?P<rest>.+)$",
        re.IGNORECASE,
    )
    vocab = {w.lower() for w in words.worry_words if len(w.split()) == 1}
    return _Patterns(
        worry_feeling=worry_feeling,
        worry_verb=worry_verb,
        worry_cause=worry_cause,
        person=person,
        feeling=feeling,
        vague=frozenset(v.lower() for v in words.vague),
        not_names=frozenset(n.lower() for n in words.not_names),
        worry_vocab=frozenset(vocab),
        max_words=words.max_words,
    )


def extract_threads(
    transcript: str, said_at: datetime, words: ExtractionWords | None = None
) -> list[ThreadCandidate]:
    """Events, worries and people in one turn of the person's words, in order of appearance."""
    pats = _patterns(words or wording().extraction)
    text = normalise_apostrophes(transcript)
    found: list[tuple[int, ThreadCandidate]] = []
    for start, end in clauses(text):
        events = _events(text, start, end, said_at, pats)
        found.extend(events)
        found.extend(_worries(text, start, end, pats, [c for _, c in events]))
    worried = {c.text.lower() for _, c in found if c.kind == "worry"}
    found.extend(p for p in _people(text, pats) if p[1].text.lower() not in worried)
    found.sort(key=lambda item: item[0])
    seen: set[str] = set()
    result: list[ThreadCandidate] = []
    for _, cand in found:
        if cand.key not in seen:
            seen.add(cand.key)
            result.append(_quote_original(cand, text, transcript))
    return result


def _quote_original(cand: ThreadCandidate, text: str, transcript: str) -> ThreadCandidate:
    """The quote exactly as in the transcript (curly apostrophes included)."""
    at = text.find(cand.quote)
    if at < 0 or text == transcript:
        return cand
    return replace(cand, quote=transcript[at : at + len(cand.quote)])


def _key(kind: str, words: str) -> str:
    return f"{kind}:" + " ".join(t.lower() for t in _WORD.findall(words))


def _span_text(text: str, start: int, end: int) -> str:
    return text[start:end].strip()


# ---------------------------------------------------------------- events


# How far before a date to look for what it is the date of, in characters.
_LOOK_BACK = 200

_VP_SUBJECT = re.compile(
    r"(?:\b(?:i'?m|i\s+am|we'?re|we\s+are|i'?ll\s+be|we'?ll\s+be)"
    r"|\b(?P<det>my|our|the)\s+(?P<np>(?:[\w'-]+\s+){0,2}?[\w'-]+)\s+(?:is|are|'s))"
    r"\s+(?P<vp>[a-z'-]+ing\b.*)$",
    re.IGNORECASE,
)
_RIGHT_NP = re.compile(
    r"\s*(?:is|'s|will\s+be)\s+(?P<det>my|our|the|a|an)\s+(?P<np>[\w'-]+(?:\s+[\w'-]+)*)",
    re.IGNORECASE,
)


def _events(
    text: str, start: int, end: int, said_at: datetime, pats: _Patterns
) -> list[tuple[int, ThreadCandidate]]:
    clause = text[start:end]
    if _NOT_UPCOMING.search(clause):
        return []
    out: list[tuple[int, ThreadCandidate]] = []
    for mention in find_dates(clause, said_at.date()):
        made = (
            _event_verb_phrase(clause, mention, pats)
            or _event_noun_before(clause, mention, pats)
            or _event_noun_after(clause, mention, pats)
        )
        if made is None:
            continue
        phrase_start, phrase_end, said, key_words = made
        quote = _span_text(clause, phrase_start, phrase_end)
        cand = ThreadCandidate(
            kind="event",
            text=f"{said} {mention.spoken()}",
            quote=quote,
            key=_key("event", key_words) + f":{mention.day.isoformat()}",
            due=mention.due,
        )
        out.append((start + phrase_start, cand))
    return out


def _event_verb_phrase(
    clause: str, m: DateMention, pats: _Patterns
) -> tuple[int, int, str, str] | None:
    before = clause[: m.start].rstrip()
    match = _VP_SUBJECT.search(before, max(0, m.start - _LOOK_BACK))
    if not match:
        return None
    vp = match.group("vp").strip()
    tokens = vp.split()
    if not tokens or tokens[0].lower() in pats.worry_vocab or len(tokens) > pats.max_words:
        return None
    if tokens[0].lower() in {"feeling", "thinking", "hoping", "trying", "being"}:
        return None
    if any(t.lower() in pats.worry_vocab for t in tokens):
        return None  # "I'm getting nervous about Friday" is a worry, not an event
    said = reflect(vp)
    key_words = vp
    if match.group("det"):
        subject = f"{_say_det(match.group('det'))} {match.group('np')}"
        if any(t.lower() in _NOT_NOUN for t in match.group("np").split()):
            return None
        said = f"{subject} {said}"
        key_words = f"{match.group('np')} {vp}"
    return (match.start(), m.end, said, key_words)


def _event_noun_before(
    clause: str, m: DateMention, pats: _Patterns
) -> tuple[int, int, str, str] | None:
    window = max(0, m.start - _LOOK_BACK)
    toks = _tokens(clause, window, m.start)
    if window > 0:
        toks = toks[1:]  # the first may be the end of a longer word
    i = len(toks) - 1
    while i >= 0 and toks[i].group(0).lower() in _LINKS:
        i -= 1
    noun: list[str] = []
    last = i
    used_preposition = False
    while i >= 0 and len(noun) < 6:
        word = toks[i].group(0)
        low = word.lower()
        if i == last and low.endswith("'s"):  # "my interview's on Friday"
            word = word[:-2]
            low = low[:-2]
        if low in _NOUN_PREPOSITIONS and noun and not used_preposition:
            used_preposition = True  # "a presentation at work"
        elif low in _NOT_NOUN:
            break
        noun.insert(0, word)
        i -= 1
    if not noun or i < 0 or toks[i].group(0).lower() not in _DETERMINERS:
        return None
    det = toks[i].group(0)
    said = f"{_say_det(det)} {' '.join(noun)}"
    return (toks[i].start(), m.end, said, " ".join(noun))


def _event_noun_after(
    clause: str, m: DateMention, pats: _Patterns
) -> tuple[int, int, str, str] | None:
    match = _RIGHT_NP.match(clause, m.end)
    if not match:
        return None
    noun_words = match.group("np").split()[: pats.max_words]
    noun = " ".join(noun_words)
    said = f"{_say_det(match.group('det'))} {reflect(noun)}"
    end = match.start("np") + len(noun)
    return (m.start, end, said, noun)


def _say_det(det: str) -> str:
    low = det.lower()
    return _SAY_DETERMINER.get(low, low)


# ---------------------------------------------------------------- worries


def _worries(
    text: str, start: int, end: int, pats: _Patterns, events: list[ThreadCandidate]
) -> list[tuple[int, ThreadCandidate]]:
    clause = text[start:end]
    for pattern in (pats.worry_feeling, pats.worry_verb, pats.worry_cause):
        match = pattern.search(clause)
        if not match:
            continue
        obj_start, obj_end = _trim_object(clause, match.start("obj"), match.end("obj"), pats)
        if obj_end <= obj_start:
            continue
        obj = clause[obj_start:obj_end]
        if _is_vague(obj, pats):
            continue
        obj_words = {w.lower() for w in _WORD.findall(obj)}
        if any(obj_words & {w.lower() for w in _WORD.findall(e.quote)} - _DETERMINERS
               - {"on", "is", "the"} for e in events):
            continue  # "I'm nervous about my interview on Friday": the event covers it
        if pattern is pats.worry_cause:
            quote_start, quote_end = obj_start, match.end()
        else:
            quote_start, quote_end = match.start(), obj_end
        cand = ThreadCandidate(
            kind="worry",
            text=reflect(obj),
            quote=_span_text(clause, quote_start, quote_end),
            key=_key("worry", reflect(obj)),
        )
        return [(start + quote_start, cand)]
    return []


def _trim_object(clause: str, start: int, end: int, pats: _Patterns) -> tuple[int, int]:
    obj = clause[start:end]
    trimmed = _TRAILING_FILLERS.sub("", obj.rstrip())
    toks = _tokens(trimmed)
    if len(toks) > pats.max_words:
        trimmed = trimmed[: toks[pats.max_words - 1].end()]
    trimmed = trimmed.rstrip(" '-")
    return start, start + len(trimmed)


def _is_vague(obj: str, pats: _Patterns) -> bool:
    low = " ".join(t.lower() for t in _WORD.findall(obj))
    if not low or low in pats.vague:
        return True
    filler = pats.vague | {"the", "a", "of", "about", "all", "this", "that", "just", "so"}
    return all(t in filler for t in low.split())


# ---------------------------------------------------------------- people


def _people(text: str, pats: _Patterns) -> list[tuple[int, ThreadCandidate]]:
    out: list[tuple[int, ThreadCandidate]] = []
    for match in pats.person.finditer(text):
        rel = match.group("rel")
        mods = " ".join(match.group("mods").split())
        name = match.group("name")
        if name and (match.group("poss") or name.lower() in pats.not_names):
            name = None
        words = " ".join(part for part in (mods, rel) if part)
        said = f"your {words}" + (f" {name}" if name else "")
        end = match.end("name") if name else match.end("rel")
        key = "person:" + rel.lower() + (f":{name.lower()}" if name else "")
        cand = ThreadCandidate(
            kind="person",
            text=said,
            quote=_span_text(text, match.start(), end),
            key=key,
        )
        out.append((match.start(), cand))
    return out


# ---------------------------------------------------------------- feelings


def feeling_phrase(
    transcript: str, spoken_names: list[str], words: ExtractionWords | None = None
) -> tuple[str, str] | None:
    """The person's words for a feeling in this turn, as ``(text, quote)``, or None.

    Prefers a clause like "I feel invisible at work" ("feeling invisible at work"); otherwise a
    word from ``spoken_names`` (e.g. "sad" for sadness) used in the transcript ("feeling sad").
    """
    pats = _patterns(words or wording().extraction)
    text = normalise_apostrophes(transcript)
    for start, end in clauses(text):
        clause = text[start:end]
        match = pats.feeling.search(clause)
        if not match:
            continue
        rest_start, rest_end = _trim_object(clause, match.start("rest"), match.end("rest"), pats)
        rest = clause[rest_start:rest_end]
        if rest_end <= rest_start or _is_vague(rest, pats):
            continue
        return f"feeling {reflect(rest)}", _span_text(clause, match.start(), rest_end)
    for name in spoken_names:
        if not name.strip():
            continue
        found = re.search(rf"\b{re.escape(name.strip())}\b", text, re.IGNORECASE)
        if found:
            return f"feeling {name.strip().lower()}", found.group(0)
    return None


# ---------------------------------------------------------------- declines


def _plain(text: str) -> str:
    text = normalise_apostrophes(text).lower().replace("'", "")
    return " ".join(re.findall(r"[a-z0-9]+", text))


@lru_cache(maxsize=4)
def _decline_sets(words: DeclineWords) -> tuple[tuple[str, ...], frozenset[str], tuple[str, ...],
                                                  tuple[str, ...]]:
    fillers = tuple(sorted({_plain(f) for f in words.fillers if _plain(f)}, key=len, reverse=True))
    return (
        fillers,
        frozenset(_plain(w) for w in words.whole),
        tuple(_plain(w) for w in words.short if _plain(w)),
        tuple(_plain(w) for w in words.anywhere if _plain(w)),
    )


def _strip_fillers(text: str, fillers: tuple[str, ...]) -> str:
    changed = True
    while changed and text:
        changed = False
        for filler in fillers:
            if text == filler:
                return ""
            if text.startswith(filler + " "):
                text, changed = text[len(filler) + 1 :], True
            if text.endswith(" " + filler):
                text, changed = text[: -len(filler) - 1], True
    return text


def is_decline(text: str, words: DeclineWords | None = None) -> bool:
    """Whether ``text`` turns down a check-in ("I'd rather not talk about it", "not today")."""
    decline = words or wording().decline
    fillers, whole, short, anywhere = _decline_sets(decline)
    plain = _plain(text)
    if not plain:
        return False
    core = _strip_fillers(plain, fillers)
    if plain in whole or core in whole:
        return True
    padded = f" {plain} "
    if any(f" {phrase} " in padded for phrase in anywhere):
        return True
    if len(core.split()) <= decline.short_max_words:
        return any(f" {phrase} " in f" {core} " for phrase in short)
    return False


def traces_to(quote: str, transcript: str) -> bool:
    """Whether a thread's quote is, word for word, in a stored transcript."""
    return normalise_apostrophes(quote).lower() in normalise_apostrophes(transcript).lower()
