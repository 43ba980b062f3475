"""Find spoken date expressions ("on Friday", "tomorrow", "the 12th") and resolve them.

Every date is resolved relative to the moment it was *said*, not the moment it is read:
"tomorrow", said on a Thursday, is that Friday forever after. Only future (or same-day) dates are
recognised; past ones ("yesterday", "last Friday") are not events to follow up.

Rules, with ``d`` the day the words were said:

- "today", "tonight", "this morning/afternoon/evening": ``d``.
- "tomorrow" (optionally "... night"): ``d + 1``; "the day after tomorrow": ``d + 2``.
- "Friday", "on Friday", "this coming Friday": the next Friday after ``d`` (a week later when
  ``d`` is itself a Friday); "this Friday": the Friday of this week, ``d`` itself included;
  "next Friday": the Friday of next week (weeks start on Monday).
- "this weekend", "on/over/at the weekend": the Saturday of this week (``d`` if it is already the
  weekend); "next weekend": the Saturday of next week.
- "next week": the Monday of next week; "later this week": the Sunday of this week;
  "next month": the 1st of next month.
- "in two days", "in a couple of weeks", "in 3 days": ``d`` plus that many days or weeks.
- "on the 12th", "the 12th": the next 12th of a month, ``d`` included; "March 12",
  "12th of March": the next March 12, ``d`` included.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)
_ORDINAL_WORDS = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
    "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
    "eighteenth", "nineteenth", "twentieth", "twenty first", "twenty second", "twenty third",
    "twenty fourth", "twenty fifth", "twenty sixth", "twenty seventh", "twenty eighth",
    "twenty ninth", "thirtieth", "thirty first",
)
_ORDINALS = {word: n for n, word in enumerate(_ORDINAL_WORDS, start=1)}
_COUNTS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "a couple of": 2, "couple of": 2, "a couple": 2,
    "a few": 3, "few": 3,
}


def _alt(words: object) -> str:
    items = sorted(words, key=len, reverse=True)  # type: ignore[arg-type]
    return "|".join(re.escape(w).replace(r"\ ", r"[\s-]+") for w in items)


_WD = _alt(WEEKDAYS)
_MON = _alt(MONTHS)
_ORDW = _alt(_ORDINAL_WORDS)
_DIGIT_ORD = r"\d{1,2}(?:st|nd|rd|th)"
_PART = r"morning|afternoon|evening|night"
# A day-of-month after "on the" must not be the start of a noun phrase ("on the first day").
_NOT_NOUN = r"(?!\s+(?:day|time|try|date|one|thing|place|week|month|year|floor|round))"

DATE_RE = re.compile(
    rf"""\b(?:
      (?P<dayafter>the\s+day\s+after\s+tomorrow)
    | (?P<tomorrow>tomorrow)(?:\s+(?P<tpart>{_PART}))?
    | (?P<today>today|tonight|this\s+(?:{_PART}))
    | (?:(?P<wdmod>on|this\s+coming|this|next|coming)\s+)?(?P<weekday>{_WD})
        (?:\s+(?P<wpart>{_PART}))?
    | (?P<weekend>(?:this|next|on\s+the|over\s+the|at\s+the)\s+weekend)
    | (?P<span>next\s+week|later\s+this\s+week|next\s+month)
    | in\s+(?P<count>a\s+couple(?:\s+of)?|couple\s+of|a\s+few|few|an?|one|two|three|four|five
        |six|seven|eight|nine|ten|\d{{1,3}})\s+(?P<unit>days?|weeks?)
    | (?:on\s+)?(?P<month1>{_MON})\s+(?:the\s+)?(?P<dom1>{_DIGIT_ORD}|\d{{1,2}}|{_ORDW})
    | (?:on\s+)?(?:the\s+)?(?P<dom2>{_DIGIT_ORD}|{_ORDW})\s+of\s+(?P<month2>{_MON})
    | on\s+the\s+(?P<dom3>{_DIGIT_ORD}|{_ORDW}){_NOT_NOUN}
    | the\s+(?P<dom4>{_DIGIT_ORD}){_NOT_NOUN}
    )\b""",
    re.IGNORECASE | re.VERBOSE,
)

# "every Friday" (a habit), "last Friday" (the past): not upcoming events.
_HABIT_BEFORE = re.compile(r"\b(?:every|each|last|past|previous|that)\s*$", re.IGNORECASE)

@dataclass(frozen=True)
class DateMention:
    """A date expression found in a sentence: where it is, what it said, when it is."""

    start: int
    end: int
    words: str  # exactly as said
    day: date
    said_on: date
    kind: str  # "day" (tomorrow, Friday), "weekend", "span" (next week), "calendar" (the 12th)
    part: str | None = None  # "morning", "night", ... when said

    @property
    def due(self) -> datetime:
        return datetime.combine(self.day, time())

    def spoken(self) -> str:
        """Words that stay true whenever they are replayed: "tomorrow" becomes "on Friday"."""
        if self.kind == "weekend":
            return "on the weekend"
        if self.kind != "day":
            return _capitalise_names(self.words)
        when = calendar.day_name[self.day.weekday()]
        if (self.day - self.said_on).days > 6:
            when = f"{when} the {ordinal(self.day.day)}"
        return f"on {when} {self.part}" if self.part else f"on {when}"


def ordinal(n: int) -> str:
    """1 -> "1st", 12 -> "12th", 22 -> "22nd"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _capitalise_names(words: str) -> str:
    def cap(match: re.Match[str]) -> str:
        return match.group(0).capitalize()

    return re.sub(rf"\b(?:{_WD}|{_MON})\b", cap, words, flags=re.IGNORECASE)


def find_dates(text: str, said_on: date) -> list[DateMention]:
    """Every future or same-day date expression in ``text``, resolved from ``said_on``."""
    found: list[DateMention] = []
    for match in DATE_RE.finditer(text):
        if _HABIT_BEFORE.search(text, max(0, match.start() - 30), match.start()):
            continue
        resolved = _resolve(match, said_on)
        if resolved is None:
            continue
        day, kind, part = resolved
        found.append(
            DateMention(match.start(), match.end(), match.group(0), day, said_on, kind, part)
        )
    return found


def _resolve(m: re.Match[str], d: date) -> tuple[date, str, str | None] | None:
    g = {k: (v.lower() if v else None) for k, v in m.groupdict().items()}
    if g["dayafter"]:
        return d + timedelta(days=2), "day", None
    if g["tomorrow"]:
        return d + timedelta(days=1), "day", g["tpart"]
    if g["today"]:
        word = g["today"].split()[-1]
        part = "night" if word == "tonight" else (None if word == "today" else word)
        return d, "day", part
    if g["weekday"]:
        day = _weekday(d, WEEKDAYS.index(g["weekday"]), _squash(g["wdmod"]))
        return day, "day", g["wpart"]
    if g["weekend"]:
        saturday = d + timedelta(days=5 - d.weekday())
        if g["weekend"].startswith("next"):
            return saturday + timedelta(days=7), "weekend", None
        return (saturday if d.weekday() < 5 else d), "weekend", None
    if g["span"]:
        span = _squash(g["span"])
        monday_next = d + timedelta(days=7 - d.weekday())
        if span == "next week":
            return monday_next, "span", None
        if span == "later this week":
            return monday_next - timedelta(days=1), "span", None
        first = date(d.year + d.month // 12, d.month % 12 + 1, 1)
        return first, "span", None
    if g["count"]:
        count = _COUNTS.get(_squash(g["count"])) or int(g["count"])
        days = count * (7 if g["unit"].startswith("week") else 1)
        return d + timedelta(days=days), "day", None
    dom = g["dom1"] or g["dom2"] or g["dom3"] or g["dom4"]
    month_name = g["month1"] or g["month2"]
    day_num = _day_number(dom) if dom else None
    if day_num is None or not 1 <= day_num <= 31:
        return None
    if month_name:
        day = _next_month_day(d, MONTHS.index(month_name) + 1, day_num)
    else:
        day = _next_day_of_month(d, day_num)
    return (day, "calendar", None) if day else None


def _squash(words: str | None) -> str | None:
    return " ".join(words.split()) if words else None


def _weekday(d: date, target: int, modifier: str | None) -> date:
    ahead = (target - d.weekday()) % 7
    if modifier == "next":
        monday_next = d + timedelta(days=7 - d.weekday())
        return monday_next + timedelta(days=target)
    if modifier == "this":
        return d + timedelta(days=ahead)
    return d + timedelta(days=ahead or 7)


def _day_number(text: str) -> int | None:
    text = " ".join(text.replace("-", " ").split())
    if text in _ORDINALS:
        return _ORDINALS[text]
    digits = re.match(r"\d+", text)
    return int(digits.group(0)) if digits else None


def _next_day_of_month(d: date, day_num: int) -> date | None:
    year, month = d.year, d.month
    for _ in range(13):
        if day_num <= calendar.monthrange(year, month)[1]:
            candidate = date(year, month, day_num)
            if candidate >= d:
                return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _next_month_day(d: date, month: int, day_num: int) -> date | None:
    for year in (d.year, d.year + 1, d.year + 2, d.year + 3, d.year + 4):
        if day_num <= calendar.monthrange(year, month)[1]:
            candidate = date(year, month, day_num)
            if candidate >= d:
                return candidate
    return None
