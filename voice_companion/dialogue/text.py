"""Cleaning, tokenising and splitting what the person said into clauses.

Input may be typed text or speech-recognition output (lower case, no punctuation, stutters,
fillers). Everything here is plain string work and never raises on odd input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_CHARS = 6000

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                         "\u2014": " - ", "\u2013": " - ", "\u2026": "..."})
_CONTRACTIONS = {
    "im": "i'm", "ive": "i've", "dont": "don't", "cant": "can't", "didnt": "didn't",
    "doesnt": "doesn't", "isnt": "isn't", "wasnt": "wasn't", "werent": "weren't",
    "couldnt": "couldn't", "wouldnt": "wouldn't", "shouldnt": "shouldn't", "havent": "haven't",
    "hasnt": "hasn't", "thats": "that's", "theyre": "they're", "youre": "you're",
    "whats": "what's", "arent": "aren't", "hadnt": "hadn't", "ain't": "isn't",
    "wanna": "want to", "gonna": "going to", "gotta": "got to", "kinda": "kind of",
    "sorta": "sort of", "dunno": "don't know", "cos": "because", "cuz": "because",
    "'cause": "because", "coz": "because", "lemme": "let me",
    "mum's": "mum's", "i'd've": "i would have", "til": "until", "tho": "though",
}
_FILLER_RE = re.compile(
    r"(?<![\w'-])(?:u+m+|u+h+|e+r+m+|e+r|a+h+|h+m+|m+|mm+-?hmm+|uh-huh|uh-oh)(?![\w'-])[,.]?",
    re.I,
)
_STUTTER_RE = re.compile(r"(?<![\w'])(\w+)(?:(?:-+\s*|,?\s+)\1\b)+", re.I)
# a contraction started again without it: "he's-he thinks" is "he thinks"
# a word with a leading apostrophe started again: "'cause-'cause like"
_APOSTROPHE_STUTTER_RE = re.compile(r"(?<![\w'])('\w+)(?:-+\s*\1\b)+", re.I)
_CONTRACTION_STUTTER_RE = re.compile(r"(?<![\w'])(\w+)'\w+-+\s*(?=\1\b)", re.I)
_PHRASE_STUTTER_RE = re.compile(r"(?<![\w'])((?:[\w']+\s+){1,2}[\w']+)(?:-+|,)?\s+\1(?![\w'])",
                                re.I)
_ASIDE_RE = re.compile(r"(?:^|(?<=[,.;]))\s*(?:i don't know|i guess|i suppose|i mean),\s*", re.I)
_LIKE_FILLER_RE = re.compile(
    r"\b(just|was|and|so|were|then)\s+like,?\s+(?=(?:\w+ed|i|you|he|she|we|they|the|a|"
    r"so|really|totally|literally|super|went|got|said|came)\b)", re.I)
# a word broken off before the speaker starts again ("I was- I had"); at the very end the word
# was usually finished and the speaker interrupted ("...every day-"), so only the dash goes
_FRAGMENT_RE = re.compile(r"\b\w{1,12}-{1,3}(?=\s+\S)")
_END_DASH_RE = re.compile(r"(?<=\w)[-\u2013\u2014]+\s*$")
# a filler set off by commas on both sides ("a friend who, uh, does it"): both commas go with it
_COMMA_FILLER_RE = re.compile(
    r",\s*(?:u+m+|u+h+|e+r+m+|e+r|a+h+|h+m+)\s*,(?=\s*[a-z])(?!\s*(?:you know|i mean|like)\b)")
_BRACKETS_RE = re.compile(r"[\[(][^\])]{0,40}[\])]")
_YOU_KNOW_RE = re.compile(
    r"(?:(?<=^)|(?<=[,.;!?]))\s*you know,?|,\s*you know(?=\s*(?:[,.;!?]|$))"
    r"|\byou know what i mean\b|\bi mean,", re.I)
_LIKE_RE = re.compile(r"(?:(?<=^)|(?<=[,.;!?]))\s*like,|,\s*like,|\blike like\b", re.I)
_SPACES_RE = re.compile(r"\s+")
TOKEN_RE = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*|[,.;!?]", re.I)

SUBJECTS = frozenset(
    "i i'm i've i'd i'll my me we we're we've our he she they it there that he's she's "
    "they're it's there's that's his her their mine you you're your people everyone nobody "
    "everybody someone somebody this".split()
)
_SUBORDINATORS = frozenset("when whenever where wherever while what how who".split())


def opens_statement(words: list[str]) -> bool:
    """Whether words that open with a question word are a statement ("When I got home the
    kitchen was a mess", "What hurts is...", "How he talks to me..."): the question word is
    followed by a subject, not by a verb as in "when did", "what do I do", "how is"."""
    low = [w.lower() for w in words[:2]]
    return (len(low) == 2 and low[0] in _SUBORDINATORS and low[1] in SUBJECTS
            and low[1] not in {"there", "that", "this", "it", "you", "your"})


DISCOURSE = frozenset(
    "well so and but yeah yes yep yup no nope oh okay ok right like just anyway plus "
    "basically honestly actually literally then also because or alright hey look see now "
    "sure lol haha hahaha omg".split()
)
STOPWORDS = frozenset(
    """a an the and or but so if then than that this these those it its it's i i'm i've i'd
    i'll me my mine myself we us our you your yours yourself he him his she her hers they them
    their there here is am are was were be been being have has had do does did doing done
    will would shall should can could may might must to of in on at by for with about as
    into onto from up down out over under again further once just very really too quite
    not no nor only own same some any all both each few more most other such what which who
    whom whose when where why how because while until also yeah yes okay ok oh well like
    kind sort bit lot lots thing things stuff something anything nothing everything get got
    getting go going gone went know think thought mean want say said tell told feel felt
    feeling way much many even still maybe guess gonna wanna gotta don't didn't doesn't
    isn't wasn't aren't weren't can't couldn't won't wouldn't shouldn't haven't hasn't
    hadn't that's what's there's he's she's they're we're you're let's one two make made
    back around through time times day today yesterday tomorrow now then always never
    sometimes often ever mm um uh right sure though although since every""".split()
)


@dataclass
class Clause:
    """One clause of a turn: its words as said (cleaned), lower-case tokens and how it joins."""

    words: list[str]
    marker: str = ""  # the joining word before it: "but", "because", "and", ...
    sentence: int = 0
    lower: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.lower = [w.lower() for w in self.words]

    @property
    def text(self) -> str:
        return " ".join(self.words)


COMMON_STARTS = frozenset(
    """last next every sometimes usually often mostly everyone everybody someone somebody
    anyone nobody nothing something everything most some both each many few lots one two three
    first second third yesterday today tonight tomorrow lately recently apparently obviously
    luckily sadly hopefully finally eventually suddenly anyway besides plus also still even
    especially work school home life things stuff people family money another other whatever
    whenever wherever once since after before during until sure yeah okay oh wow well
    pretty quite fairly kind sort good great fine bad not maybe probably definitely actually
    honestly basically really just exactly absolutely totally certainly possibly perhaps almost
    never always no yes right true much more less better worse""".split()
)
FUNCTION_WORDS = frozenset(
    """a an the and or but so if then than that this these those it its it's i i'm i've i'd
    i'll me my mine myself we us our you your yours yourself he him his she her hers they them
    their there here is am are was were be been being have has had do does did will would
    shall should can could may might must to of in on at by for with about as into from up
    out not no just very really too yeah yes okay ok oh well like um uh mm any some all""".split()
)


def clean(text: object) -> str:
    """Tidy raw input: quotes, brackets, fillers, stutters, ASR contractions; never raises."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = text[:MAX_CHARS].translate(_QUOTES)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = _BRACKETS_RE.sub(" ", text)
    text = _PHRASE_STUTTER_RE.sub(r"\1", text)
    text = _CONTRACTION_STUTTER_RE.sub("", text)
    text = _APOSTROPHE_STUTTER_RE.sub(r"\1", text)
    text = _STUTTER_RE.sub(r"\1", text)
    text = re.sub(r"(\w)-{2,}\s*", r"\1, ", text)
    text = _FRAGMENT_RE.sub(",", text)
    text = _END_DASH_RE.sub("", text)
    text = _COMMA_FILLER_RE.sub(" ", text)
    text = _FILLER_RE.sub(" ", text)
    text = _YOU_KNOW_RE.sub(",", text)
    text = _LIKE_RE.sub(",", text)
    text = _LIKE_FILLER_RE.sub(r"\1 ", text)
    text = _ASIDE_RE.sub(" ", text)
    text = re.sub(r"^[\s,.;:-]+", "", text)
    text = re.sub(r"\s*,(?:\s*,)+", ",", text)
    text = re.sub(r"\s+([,.;!?])", r"\1", text)
    text = re.sub(r",+([.;!?])", r"\1", text)  # "the shop, you know." left "the shop,."
    text = re.sub(r"([.;!?])\s*,+", r"\1", text)  # "it's okay. I mean, I" left "okay., I"
    text = re.sub(r"([,;])(?=[^\s])", r"\1 ", text)
    words = []
    for word in _SPACES_RE.sub(" ", text).strip().split(" "):
        core = word.strip(",.;!?\"").lower()
        if core in _CONTRACTIONS:
            rep = _CONTRACTIONS[core]
            letter = next((c for c in word if c.isalpha()), "")
            word = word.lower().replace(core, rep, 1) if letter.islower() else (
                rep[:1].upper() + rep[1:] + word[len(word.rstrip(",.;!?\"")):])
        words.append(word)
    return " ".join(w for w in words if w).strip(" ,")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens and sentence punctuation."""
    return [t.lower() for t in TOKEN_RE.findall(text)]


def words_only(text: str) -> list[str]:
    return [t for t in tokens(text) if t[0].isalnum()]


def content_words(text: str) -> set[str]:
    """Words that carry meaning (no stopwords, at least three letters)."""
    return {w for w in words_only(text) if len(w) > 2 and w not in STOPWORDS}


_RUN_ON_STARTS = {"i", "i'm", "i've", "my", "we", "she", "he", "they"}
_RUN_ON_ENDS = {"this", "it", "now", "today", "yesterday", "anyway", "though", "too", "again",
                "lately", "there", "here", "tonight", "week", "before", "all", "well", "either",
                "ago", "much", "enough", "anymore", "everything", "right", "okay"}
_SPLIT_WORDS = {"but", "because", "although", "though", "however", "except", "whereas"}
_JOIN_WORDS = {"and", "so", "then", "plus"}


def split_clauses(text: str) -> list[Clause]:
    """Split cleaned text into clauses at sentence ends and at joining words."""
    clauses: list[Clause] = []
    sentence_parts = re.split(r"(?<=[.!?;])\s+|\s+-\s+", text)
    for s_index, sentence in enumerate(sentence_parts):
        raw = TOKEN_RE.findall(sentence)
        run_on = len(raw) > 12 and not any(t in {",", ".", "!", "?", ";"} for t in raw)
        current: list[str] = []
        marker = ""
        i = 0
        while i < len(raw):
            tok = raw[i]
            low = tok.lower()
            nxt = raw[i + 1].lower() if i + 1 < len(raw) else ""
            if low in {".", "!", "?", ";"}:
                i += 1
                continue
            boundary = ""
            if low in _SPLIT_WORDS and current and (low, nxt) not in {("because", "of"),
                                                                      ("except", "for")}:
                boundary = low  # "because of the delays" is not a clause of its own
            elif low in _JOIN_WORDS and current and (nxt in SUBJECTS or nxt in {"then", "now"}):
                boundary = low
            elif run_on and low in _RUN_ON_STARTS and len(current) >= 3 and (
                    current[-1].lower() in _RUN_ON_ENDS):
                clauses.append(Clause(current, marker, s_index))
                current, marker = [tok], ""
                i += 1
                continue
            elif low == "," and current and (nxt in SUBJECTS or nxt in _SPLIT_WORDS
                                             or nxt in _JOIN_WORDS):
                boundary = ","
            if boundary:
                clauses.append(Clause(current, marker, s_index))
                current, marker = [], boundary if boundary != "," else ""
                if boundary == ",":
                    i += 1
                    continue
                i += 1
                continue
            if low == ",":
                if current:
                    current.append(",")
                i += 1
                continue
            current.append(tok)
            i += 1
        if current:
            clauses.append(Clause(current, marker, s_index))
    for clause in clauses:
        while clause.words and clause.words[-1] == ",":
            clause.words.pop()
        while clause.words and clause.words[0] == ",":
            clause.words.pop(0)
        clause.lower = [w.lower() for w in clause.words]
    return [c for c in clauses if c.words]


def strip_discourse(words: list[str]) -> list[str]:
    """Drop leading discourse words ("well", "so", "yeah") and trailing tags ("or whatever")."""
    out = list(words)
    while out and (out[0].lower() in DISCOURSE or out[0] == ","):
        if out[0].lower() == "i" and len(out) > 1 and out[1].lower() == "mean":
            out = out[2:]
            continue
        if out[0].lower() == "like" and len(out) > 1 and out[1].lower() not in SUBJECTS | {
                ",", "and"}:
            break
        if out[0].lower() in {"no", "right"} and len(out) > 1 and out[1].lower() not in SUBJECTS \
                and out[1] != ",":
            break
        out.pop(0)
    while len(out) >= 3 and out[0].lower() == "i" and (
            out[1].lower() in {"guess", "suppose", "reckon"} or (
            out[1].lower() in {"mean", "think", "feel"} and out[2].lower() in SUBJECTS)):
        out = out[2:]
    if len(out) >= 2 and out[0].lower() == "i" and out[1].lower() == "mean":
        out = out[2:]
    lead = [w.lower() for w in out[:3]]
    if len(out) > 3 and lead in (["i", "have", "to"], ["i", "must", "say"]) and (
            out[2].lower() == "say" or out[3].lower() == "say"):
        out = out[4:] if out[3].lower() == "say" else out[3:]
    if len(out) >= 3 and [w.lower() for w in out[:2]] in (["it's", "like"], ["it", "was"]) and (
            out[2].lower() in SUBJECTS or out[1].lower() == "like"):
        if out[1].lower() == "like":
            out = out[2:]
    tails = (("or", "whatever"), ("or", "something"), ("and", "stuff"), ("and", "everything"),
             ("and", "that"), ("you", "know"), ("i", "guess"), ("i", "think"), ("or", "so"))
    changed = True
    while changed and out:
        changed = False
        while out and (out[-1] == "," or out[-1].lower() in {"so", "and", "but", "like", "yeah"}
                       ) and not (out[-1].lower() == "like" and _like_belongs(out, len(out) - 1)):
            out.pop()
            changed = True
        for tail in tails:
            if len(out) > len(tail) + 1 and tuple(w.lower() for w in out[-len(tail):]) == tail:
                out = out[: -len(tail)]
                changed = True
    return out


_PREPOSITIONS = frozenset("about to with for at on in of from into".split())
_VOCATIVES = frozenset("doc doctor sir ma'am mate man dude buddy love honey".split())
_DANGLING = frozenset(
    "a an the and or but so to of in on at by for with about my your our their his "
    "which who when if because as i we they he she than "
    "from into very really just no not i'm you're the honestly basically actually literally "
    "um uh er anyway obviously".split()
)


def _like_belongs(words: list[str], i: int) -> bool:
    """Whether ``words[i]``, "like", completes "what it's like" (not a dangling "it felt like")."""
    low = [w.lower() for w in words[:i]]
    return bool(low) and low[-1] in {"it's", "is", "was", "were"} and "what" in low


def trim_clause(words: list[str], max_words: int = 14) -> list[str] | None:
    """Shorten a clause to at most ``max_words`` at a natural break; None if it cannot be."""
    words = [w for w in words if w != ","] if len(words) > max_words else list(words)
    if len(words) > max_words:
        cut = None
        joint = None
        for i in range(4, min(len(words), max_words + 1)):
            low = words[i].lower()
            if low in {"and", "but", "so", "because", "while", "although"}:
                joint = i
            elif low in {"that", "which", "who", "when", "where", "if", "since", "until",
                         "after", "before", "with", "like"} and not (
                    low == "like" and _like_belongs(words, i)):
                cut = i  # not inside "what it's like", "it felt like"
        cut = joint or cut
        if cut is None:
            return None
        words = words[:cut]
    keep_preposition = any(w.lower() in {"what", "who", "which", "where"} for w in words)
    # someone spoken to, at the end: "I can't argue with a professional, Mark", "right away, doc"
    if len(words) > 3 and words[-2] == "," and (
            words[-1].lower() in _VOCATIVES
            or (words[-1][:1].isupper() and words[-1] != "I" and "'" not in words[-1])):
        words = words[:-2]
    while words and (words[-1] == "," or (words[-1].lower() in _DANGLING and not (
            keep_preposition and words[-1].lower() in _PREPOSITIONS))):
        if words[-1].lower() == "to" and len(words) > 2 and words[-2].lower() == "used":
            break  # "my wife used to" says a habit; without "to" it says "your wife used"
        words = words[:-1]
    return words or None


def join_words(words: list[str]) -> str:
    text = " ".join(words)
    text = re.sub(r"\s+([,.;!?])", r"\1", text)
    return text.strip(" ,")


def tidy(text: str) -> str:
    """Final spoken text: single spaces, sentence capitals, "I" capitalised, clean punctuation."""
    text = _SPACES_RE.sub(" ", text).strip()
    text = re.sub(r"\s+([,.;!?])", r"\1", text)
    text = re.sub(r",\s*([.!?])", r"\1", text)
    text = re.sub(r"([.!?])[.!?]+", r"\1", text)
    text = re.sub(r",,+", ",", text)
    # "I just I want her safe" comes back as "you you want": a pronoun never comes twice
    text = re.sub(r"\b(you|your|i|we|they|he|she)\s+\1\b", r"\1", text, flags=re.I)
    text = re.sub(r"\bi\b", "I", text)
    text = re.sub(r"\bi'(m|ve|d|ll)\b", r"I'\1", text)
    days = ("monday tuesday wednesday thursday friday saturday sunday january february march "
            "april june july august september october november december christmas easter")
    for day in days.split():
        text = re.sub(rf"\b{day}\b", day.capitalize(), text)
    parts = re.split(r"(?<=[.!?])\s+", text)
    parts = [p[:1].upper() + p[1:] for p in parts if p]
    text = " ".join(parts)
    if text and text[-1] not in ".!?":
        text += "."
    return text


def cap_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text
