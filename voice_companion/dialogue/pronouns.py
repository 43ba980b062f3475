"""Turning the person's words around: "I was hurt by my sister" -> "you were hurt by your sister".

First person becomes second person (with the verb "to be" agreeing), and words addressed to the
companion ("you think I'm crazy") become first person ("I think you're crazy").
"""

from __future__ import annotations

from voice_companion.dialogue.text import TOKEN_RE, join_words

_FIRST = {
    "me": "you", "my": "your", "mine": "yours", "myself": "yourself",
    "i'm": "you're", "i've": "you've", "i'd": "you'd", "i'll": "you'll",
    "we": "you", "us": "you", "our": "your", "ours": "yours", "ourselves": "yourselves",
    "we're": "you're", "we've": "you've", "we'd": "you'd", "we'll": "you'll",
}
_SECOND = {
    "your": "my", "yours": "mine", "yourself": "myself", "yourselves": "ourselves",
    "you're": "I'm", "you've": "I've", "you'd": "I'd", "you'll": "I'll",
}
_AFTER_I = {"am": "are", "was": "were", "wasn't": "weren't"}
_AFTER_YOU = {"are": "am", "were": "was", "weren't": "wasn't", "aren't": "am not"}
_SUBJECT_BEFORE = frozenset(
    "and but so that if when because then or think know guess feel hope wish said mean what "
    "how where whether while until unless since as thought felt believe suppose, maybe "
    "cause do did does can could will would should might must".split()
) | {","}
_VERBISH_AFTER = frozenset(
    "are were have had do did don't didn't doesn't can can't could couldn't will won't would "
    "wouldn't should might must always never just really seem seemed think thought know knew "
    "said say get got feel felt make made want wanted need needed see saw like love hate "
    "understand hear heard care tell told keep kept go went".split()
)


def _you(prev: str | None, nxt: str | None) -> str:
    """"you" said to the companion: "I" as a subject, "me" as an object."""
    if prev is None or prev in _SUBJECT_BEFORE:
        return "I"
    if nxt in _VERBISH_AFTER:
        return "I"
    return "me"


# "you" after these is the generic "you" of a person describing a situation ("it's when you're
# at the pub", "if you lose your job"), not the companion: it stays "you" to the end of the clause
_GENERIC_BEFORE = frozenset("if when whenever once unless until before after said says".split())
# "you" said to someone else in reported speech ("I told him you never listen")
_REPORTING = frozenset("told tell tells telling asked ask asks said yelled shouted".split())
_GENERIC_YOU = frozenset({"you", "you're", "you've", "you'd", "you'll"})
_GENERIC_KEEP = _GENERIC_YOU | {"your", "yours", "yourself", "are", "were", "weren't", "aren't"}
_CLAUSE_END = frozenset({",", ".", ";", "!", "?"})


def swap_words(words: list[str]) -> list[str]:
    """Swap first and second person in a list of words (punctuation tokens allowed)."""
    out: list[str] = []
    lowers = [w.lower() for w in words]
    subject_at = -10  # where "I" last became "you"
    generic = False  # inside a clause about a generic "you"
    i = 0
    while i < len(words):
        low = lowers[i]
        nxt = lowers[i + 1] if i + 1 < len(words) else None
        prev = lowers[i - 1] if i > 0 else None
        if low in _CLAUSE_END:
            generic = False
        elif low in _GENERIC_YOU and (prev in _GENERIC_BEFORE or (
                i >= 2 and _REPORTING & set(lowers[max(0, i - 3):i - 1]))):
            generic = True  # "if you lose your job"; "I told my boss you don't get it"
        if generic and low in _GENERIC_KEEP:
            out.append(words[i])
        elif low in ("i", "i'm", "i've", "i'd", "i'll"):
            out.append("you" if low == "i" else _FIRST[low])
            subject_at = len(out) - 1
            if low != "i":
                i += 1
                continue
            if nxt in _AFTER_I:
                out.append(_AFTER_I[nxt])
                i += 2
                continue
        elif low in ("am", "was") and nxt == "i":
            out.extend(["are" if low == "am" else "were", "you"])
            i += 2
            continue
        elif low == "am":
            out.append("are")
        elif low in ("was", "wasn't") and len(out) - subject_at <= 2:
            out.append("were" if low == "was" else "weren't")
        elif low in ("are", "were") and nxt == "you":
            out.extend(["am" if low == "are" else "was", "I"])
            i += 2
            continue
        elif low == "me" and prev in {"of", "for"} and subject_at >= 0:
            out.append("yourself")  # "I'm proud of me" -> "you're proud of yourself"
        elif low in _FIRST:
            out.append(_FIRST[low])
        elif low == "you":
            pronoun = _you(prev, nxt)
            out.append(pronoun)
            if pronoun == "I" and nxt in _AFTER_YOU:
                out.append(_AFTER_YOU[nxt])
                i += 2
                continue
        elif low in _SECOND:
            out.append(_SECOND[low])
        else:
            out.append(words[i])
        i += 1
    return out


def swap_text(text: str) -> str:
    """Swap pronouns in a piece of text, keeping its punctuation."""
    return join_words(swap_words(TOKEN_RE.findall(text)))


_THIRD_IRREGULAR = {
    "am": "is", "are": "is", "'m": "is", "have": "has", "do": "does", "don't": "doesn't",
    "go": "goes", "were": "was", "weren't": "wasn't", "aren't": "isn't",
    "you're": "is", "you've": "has", "you'd": "would", "you'll": "will",
}
_UNCHANGED = frozenset(
    "can can't could couldn't will won't would wouldn't might must may shall should was "
    "wasn't did didn't had hadn't knew went said told thought felt got made saw came took gave "
    "found left kept lost ran sat stood wrote heard meant put let set cut hurt hit quit read "
    "began became brought bought caught taught fought slept spent sent built held met paid sold "
    "understood won wore broke chose spoke woke drove rode ate fell forgot grew threw drew swore "
    "tore hid led fed fled shot lit lent bent wept swept crept".split()
)


def third_person(words: list[str]) -> list[str] | None:
    """Make a "you ..." verb phrase fit "part of you ...": ["want", "to", "go"] -> "wants to go".

    Takes the words after the subject. Returns None when the first word does not look like a
    verb that can be conjugated safely.
    """
    if not words:
        return None
    first = words[0].lower()
    rest = list(words[1:])
    if first in _THIRD_IRREGULAR:
        return [_THIRD_IRREGULAR[first], *rest]
    if first in _UNCHANGED or first.endswith("ed"):
        return [first, *rest]
    if not first.isalpha() or len(first) < 2 or first.endswith("ing") or first.endswith("s"):
        return None
    if first.endswith(("sh", "ch", "x", "z", "o")):
        return [first + "es", *rest]
    if first.endswith("y") and first[-2] not in "aeiou":
        return [first[:-1] + "ies", *rest]
    return [first + "s", *rest]
