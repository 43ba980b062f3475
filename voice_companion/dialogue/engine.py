"""The reflective listener: offline, rule-based, never judging and never fixing.

Every turn goes first through the safety net; a hit steps out of reflective listening and gives
real help. Otherwise the reply is normally one reflection (complex ones preferred), sometimes an
affirmation of a real effort, and at most one open question, kept rare enough that reflections
outnumber questions more than two to one. Summaries gather the threads every six substantive
turns and at the close. Wording comes from ``prompts/engine.toml``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from voice_companion.dialogue.analysis import Analyser, Turn
from voice_companion.dialogue.base import PastThread, Reply, Safety
from voice_companion.dialogue.extract import Extractor
from voice_companion.dialogue.feelings import Lexicon
from voice_companion.dialogue.hard_turns import HardTurnReader
from voice_companion.dialogue.memory import ConversationMemory, spoken_thread
from voice_companion.dialogue.questions import question_pools
from voice_companion.dialogue.reflect import Candidate, candidates, continuation
from voice_companion.dialogue.safety import SafetyDetector, crisis_reply
from voice_companion.dialogue.summary import gather, join_items
from voice_companion.dialogue.templates import Pick, TemplateBook
from voice_companion.dialogue.text import tidy
from voice_companion.dialogue.wording import engine_wording, feelings_wording
from voice_companion.prompts import prompts_dir

log = logging.getLogger(__name__)

SUMMARY_EVERY = 6  # substantive turns between automatic summaries
QUESTION_RATIO = 2.5  # reflections per question the engine keeps to
COMPLEX_TARGET = 0.7  # share of reflections that should be complex
# After the help lines: a gentle check-in on each of the next replies, then on every third one
# (every reply, for the rest of a long talk, would turn care into nagging).
CHECK_IN_CLOSE = 3
CHECK_IN_EVERY = 3
_SPECIAL = frozenset({"sarcasm", "swearing", "wondering", "advice", "ramble", "question"})
_OPEN_STARTS = ("what", "how", "where", "when", "who", "which", "tell")


@lru_cache(maxsize=4)
def _analyser(folder: Path) -> Analyser:
    vocab = engine_wording().vocab
    return Analyser(Lexicon(feelings_wording()), Extractor(vocab), HardTurnReader(vocab))


class _Draft:
    """A reply being put together: its pieces, their acts and templates."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, str | None, str]] = []
        self.extra_acts: list[str] = []
        self.named: list[str] = []
        self.kind = "reply"

    def add(self, pick: Pick | None, act: str | None) -> bool:
        if pick is None:
            return False
        self.parts.append((pick.text, act, pick.template_id))
        return True

    @property
    def acts(self) -> list[str]:
        acts = [act for _, act, _ in self.parts if act] + self.extra_acts
        return list(dict.fromkeys(acts))

    def has(self, prefix: str) -> bool:
        return any(act and act.endswith(prefix) for act in self.acts)

    def drop_questions(self) -> None:
        self.parts = [p for p in self.parts if not (p[1] or "").endswith("question")]

    @property
    def text(self) -> str:
        return tidy(" ".join(text for text, _, _ in self.parts))


class ReflectiveEngine:
    """One conversation's listener (see :class:`~voice_companion.dialogue.base.DialogueEngine`)."""

    def __init__(self, locale: str = "US", memory: list[PastThread] | None = None, *,
                 seed: int | None = None) -> None:
        self.locale = locale
        self.threads = list(memory or [])
        wording = engine_wording()
        self.book = TemplateBook(wording.pools(), wording.vocab.banned, seed)
        self.analyser = _analyser(prompts_dir())
        self.feel_only = frozenset(feelings_wording().feel_only)
        self.detector = SafetyDetector()
        self.memory = ConversationMemory()
        self.turn = 0  # replies given so far
        self.said: set[str] = set()
        self.reflections = self.complex = self.questions = 0
        self.crisis = False
        self.crisis_replies = 0
        self.crisis_at = -1  # the reply that last gave the help lines
        self.named: list[str] = []
        self.last_question = self.last_affirm = self.last_link = -10
        self.substantive = self.summary_at = 0
        self.last_kind = ""
        self.last_template_ids: list[str] = []
        self._exclude: set[str] = set()
        self.minimal_run = 0  # "yeah", "okay" in a row

    # ------------------------------------------------------------------ the protocol

    def greet(self, check_in: PastThread | None = None) -> Reply:
        draft = _Draft()
        if check_in is not None and check_in.text.strip():
            thread = spoken_thread(check_in.text)
            pool = check_in.kind
            if pool == "event":
                due = check_in.due
                pool = "event_future" if due is not None and _after_now(due) else "event_past"
            draft.add(self.book.pick(f"greeting.{pool}", {"thread": thread}, self.turn,
                                     stale_ok=True), "greeting")
            self.memory.opening_topic = thread
        if not draft.parts:
            draft.add(self.book.pick("greeting.plain", {}, self.turn, stale_ok=True), "greeting")
        if "?" in draft.text:
            draft.extra_acts.append("open_question")
        return self._finish(draft, [], kind="greeting")

    def respond(self, text: str) -> Reply:
        try:
            return self._respond(text)
        except Exception:  # never let one odd turn end the conversation
            log.exception("the dialogue engine failed on a turn; answering plainly")
            draft = _Draft()
            draft.add(self.book.pick("closing.fallback", {}, self.turn, stale_ok=True), None)
            return self._finish(draft, [])

    def silence_prompt(self) -> Reply:
        draft = _Draft()
        draft.add(self.book.pick("silence.prompts", {}, self.turn, stale_ok=True),
                  "silence_prompt")
        return self._finish(draft, [], kind="silence")

    def summary(self) -> Reply:
        draft = _Draft()
        body = gather(self.memory, self.book, self.turn, "summary")
        if body is None:
            draft.add(self.book.pick("summary.empty", {}, self.turn, stale_ok=True), None)
        else:
            for pick in body.picks:
                draft.add(pick, "summary")
            draft.add(self.book.pick("summary.end", {}, self.turn, stale_ok=True), "summary")
        self.summary_at = self.substantive
        return self._finish(draft, [], kind="summary")

    def close(self) -> Reply:
        draft = _Draft()
        body = gather(self.memory, self.book, self.turn, "closing", min_threads=1)
        if body is None:
            draft.add(self.book.pick("closing.empty", {}, self.turn, stale_ok=True), "closing")
        else:
            for pick in body.picks:
                draft.add(pick, "summary")
        if self.crisis:
            draft.add(self.book.pick("closing.after_crisis", {}, self.turn, stale_ok=True), None)
        if body is not None:
            draft.add(self.book.pick("closing.end", {}, self.turn, stale_ok=True), "closing")
        return self._finish(draft, [], kind="closing")

    # ------------------------------------------------------------------ one turn

    def _respond(self, text: str) -> Reply:
        safety = self._check_safety(text)
        turn = self.analyser.analyse(text, self.named)
        if safety is not None:
            first = not self.crisis
            self.crisis = True
            self.crisis_replies += 1
            self.crisis_at = self.turn
            spoken = crisis_reply(safety.category, self.locale, first, self.crisis_replies - 2)
            ids: list[str] = []
            if spoken in self.said:  # help lines again, but never the very same words twice
                pick = self.book.pick("hard.crisis_check_in", {}, self.turn, stale_ok=True)
                spoken, ids = f"{pick.text} {spoken}", [pick.template_id]
            return self._commit(Reply(text=spoken, acts=["safety"], emotions=turn.emotions,
                                      safety=safety), ids, kind="safety")
        if "empty" in turn.flags:
            return self.silence_prompt()
        if "goodbye" in turn.flags and not turn.feel:
            return self.close()
        self.minimal_run = self.minimal_run + 1 if "minimal" in turn.flags else 0
        draft = self._compose(turn)
        if turn.substantive:
            self.memory.add(turn, self.turn)
            self.substantive += 1
        return self._finish(draft, turn.emotions, kind=draft.kind)

    def _check_safety(self, text: str) -> Safety | None:
        try:
            return self.detector.check(text if isinstance(text, str) else str(text or ""))
        except Exception:
            log.exception("the safety detector failed on a turn")
            return None

    def _compose(self, turn: Turn) -> _Draft:
        for _ in range(4):
            draft = self._draft(turn)
            if draft.text not in self.said and draft.parts:
                break
            self._exclude.update(tid for _, _, tid in draft.parts)
        else:
            draft.add(self.book.pick("hard.encourager", {}, self.turn, stale_ok=True), None)
        self._exclude = set()
        since = self.turn - self.crisis_at
        if self.crisis and (since <= CHECK_IN_CLOSE or since % CHECK_IN_EVERY == 0):
            self._add_check_in(draft, statement_only="dont_know" in turn.flags)
        return draft

    def _pick(self, pool: str, values: dict[str, str] | None = None,
              stale_ok: bool = False) -> Pick | None:
        return self.book.pick(pool, values or {}, self.turn, self._exclude, stale_ok)

    def _draft(self, turn: Turn) -> _Draft:
        flags = turn.flags
        draft = _Draft()
        has_content = bool(turn.feel or turn.inference or turn.people or turn.events
                           or turn.worries or turn.hard.cry or turn.hard.wondering
                           or turn.judgement)
        if turn.correction and (turn.correction.chosen or turn.correction.rejected):
            self._correction(draft, turn)
        elif "feedback" in flags:
            # each reply owns the miss and asks what was missed
            if draft.add(self._pick("hard.feedback", stale_ok=True), "complex_reflection"):
                draft.extra_acts.append("open_question")
        elif "real_person" in flags:
            draft.add(self._pick("hard.real_person", stale_ok=True), None)
            if has_content and "wondering" not in flags:
                self._reflect(draft, turn)
            else:
                self._question(draft, [("questions.real_person", {})], force=True)
        elif flags & {"greeting", "how_are_you"} and not has_content:
            pool = "hard.how_are_you" if "how_are_you" in flags else "hard.greeting_reply"
            draft.add(self._pick(pool, stale_ok=True), None)
            self._question(draft, [("questions.opening", {})], force=True)
        elif "thanks" in flags and not has_content:
            draft.add(self._pick("hard.thanks", stale_ok=True), None)
        elif "clarify" in flags:
            draft.add(self._pick("reflections_complex.clarify", stale_ok=True), None)
            self._question(draft, [("questions.correction", {})], force=True)
        elif "unclear" in flags and not has_content:
            draft.add(self._pick("hard.unclear", stale_ok=True), None)
        elif "off_topic" in flags and not has_content:
            draft.add(self._pick("hard.off_topic", stale_ok=True), None)
            self._question(draft, [("questions.opening", {})], force=True)
        elif "advice" in flags:
            topic = advice_topic(turn)
            last = self.memory.last_topic()
            if topic is None and last and (last in self.memory.people or last in
                                           self.memory.events):
                topic = f"things with {last}" if last in self.memory.people else last
            pool = "reflections_complex." + ("advice_wish" if topic else "advice_plain")
            if not draft.add(self._pick(pool, {"topic": topic or ""}), "complex_reflection"):
                draft.add(self._pick("reflections_complex.advice_plain", stale_ok=True),
                          "complex_reflection")
            self._question(draft, [("questions.handback", {})], force=True)
        elif "dont_know" in flags and not turn.feel:
            draft.add(self._pick("reflections_complex.dont_know", stale_ok=True),
                      "simple_reflection")  # no question: not knowing needs room, not pressure
        elif flags & {"minimal"} or not turn.substantive or (
                "question" in flags and not (has_content or turn.clause)):
            self._minimal(draft)
        elif self._summary_due(turn):
            body = gather(self.memory, self.book, self.turn, "summary", turn.clause)
            if body is not None:
                for pick in body.picks:
                    draft.add(pick, "summary")
                draft.add(self._pick("summary.end", stale_ok=True), "summary")
                draft.kind = "summary"
                self.summary_at = self.substantive + 1
            else:
                self._standard(draft, turn)
        else:
            self._standard(draft, turn)
        return draft

    def _plain_before_affirmation(self, draft: _Draft, clause: str) -> None:
        """Before an affirmation, a neutral-news reflection is said plainly: "You've been
        practising every day. You didn't give up on it.", not "...caught your attention. You
        didn't give up on it." (the affirmation is the meaning added)."""
        neutral = ("reflections_complex.content_neutral", "reflections_complex.content_habit",
                   "reflections_complex.content_intention")
        for i, (_, _, tid) in enumerate(draft.parts):
            if tid and tid.rsplit(".", 1)[0] in neutral:
                plain = self._pick("reflections.content", {"clause": clause})
                if plain is not None:
                    draft.parts[i] = (plain.text, "simple_reflection", plain.template_id)
                return

    def _standard(self, draft: _Draft, turn: Turn) -> None:
        self._reflect(draft, turn)
        if (turn.effort or turn.value) and self.turn - self.last_affirm >= 3 and not self.crisis:
            if turn.effort and turn.effort.lower() in draft.text.lower():
                pick = self._pick("affirmations.effort_after")
            elif turn.effort:
                pick = self._pick("affirmations.effort", {"effort": turn.effort})
            else:
                pick = self._pick("affirmations.value", {"value": turn.value or ""})
            if pick is not None and _overlaps(pick.text, draft.text):
                pick = None
            if pick is not None and turn.clause:
                self._plain_before_affirmation(draft, turn.clause)
            added = draft.add(pick, "affirmation")
            if added:
                return
        if "ramble" not in turn.flags:
            self._question(draft, question_pools(turn))

    def _reflect(self, draft: _Draft, turn: Turn) -> None:
        options = candidates(turn, self.memory, self.threads, self.turn, self.last_link)
        items = [*turn.people, *turn.events, *turn.topics][:3]
        if "ramble" in turn.flags and len(items) >= 2:
            feel = turn.feel.reflect if turn.feel else ""
            options.insert(0, Candidate("reflections_complex.ramble_feel" if feel else
                                        "reflections_complex.ramble_plain",
                                        {"items": join_items(items), "feel": feel}, True, 6.0))
        if not options:
            if self.last_kind != "encourager":  # nothing to reflect: make room first
                draft.add(self._pick("hard.encourager", stale_ok=True), None)
                draft.kind = "encourager"
                return
            options = continuation(self.memory)
        self._choose_reflection(draft, options)

    def _choose_reflection(self, draft: _Draft, options: list[Candidate]) -> None:
        want_complex = self.complex < COMPLEX_TARGET * max(1, self.reflections)
        jitter = self.book.rng.random

        def rank(c: Candidate) -> tuple[bool, bool, float]:
            return (c.weight >= 1.5, c.complex == want_complex or c.weight >= 3.0,
                    c.weight + jitter() * 0.6)

        for stale_ok in (False, True):
            for option in sorted(options, key=rank, reverse=True):
                exclude = self._exclude | self._stating(option)
                pick = self.book.pick(option.pool, option.values, self.turn, exclude, stale_ok)
                if pick is None:
                    continue
                act = "complex_reflection" if option.complex else "simple_reflection"
                draft.add(pick, act)
                draft.named.extend(n for n in option.named if n)
                if option.link is not None:
                    self.memory.linked.add(option.link)
                    self.last_link = self.turn
                if option.thread is not None:
                    self.memory.used_threads.add(option.thread)
                return
            options = options + continuation(self.memory)

    def _stating(self, option: Candidate) -> set[str]:
        """Templates of ``option`` that must not be used because they would state one of its
        feelings as a fact about the person: "I feel small" is never "You're small"."""
        for name, value in option.values.items():
            if name.startswith("feel") and value:
                words = value.lower().split()
                phrases = {" ".join(words[i:i + n]) for n in (1, 2, 3)
                           for i in range(len(words) - n + 1)}
                if phrases & self.feel_only:  # "small", "a failure", "not good enough"
                    return self.book.stating(option.pool)
        return set()

    def _minimal(self, draft: _Draft) -> None:
        """"Yeah.", "Okay.": make room first, then carry on from what they said before."""
        run = self.minimal_run
        feeling = self.memory.last_feeling()
        if not self.memory.records and self.memory.opening_topic is None:
            draft.add(self._pick("hard.encourager", stale_ok=True), None)
            self._question(draft, [("questions.opening", {})], force=run >= 2)
            draft.kind = "encourager"
        elif run >= 3 or (run == 2 and feeling):
            options = continuation(self.memory)
            if run == 2:
                options = [o for o in options if "feel" in o.values]
            self._choose_reflection(draft, options)
            self._question(draft, [("questions.general", {})])
        else:
            draft.add(self._pick("hard.encourager", stale_ok=True), None)
            if run == 2:
                self._question(draft, [("questions.general", {})])
            draft.kind = "encourager"

    def _correction(self, draft: _Draft, turn: Turn) -> None:
        fix = turn.correction
        assert fix is not None
        memory = self.memory
        if fix.rejected:
            memory.banned.add(fix.rejected)
        if fix.chosen:
            memory.banned.discard(fix.chosen)
            if fix.chosen_label:
                memory.preferred[fix.chosen_label] = fix.chosen
            values = {"feel_x": fix.rejected or "", "feel_y": fix.chosen}
            pool = "correction" if fix.rejected else "correction_only"
            if fix.rejected and fix.rejected not in self.named:
                pool = "distinction"  # "I'm not angry, I'm hurt": our word was not "angry"
            draft.add(self._pick(f"reflections_complex.{pool}", values, stale_ok=True),
                      "simple_reflection")
            draft.named.append(fix.chosen)
            clause = turn.clause_nf
            if clause and fix.rejected and fix.rejected not in clause:
                draft.add(self._pick("reflections_complex.feeling_content",
                                     {"feel": fix.chosen, "clause": clause}),
                          "complex_reflection")
        elif fix.rejected not in self.named:  # "I'm not angry." when nobody said so
            self._standard(draft, turn)
        else:
            draft.add(self._pick("reflections_complex.correction_rejected",
                                 {"feel_x": fix.rejected or ""}, stale_ok=True),
                      "simple_reflection")
            self._question(draft, [("questions.correction", {})], force=True)

    def _question(self, draft: _Draft, pools: list[tuple[str, dict[str, str]]],
                  force: bool = False) -> None:
        if not force:
            coming = self.reflections + (1 if draft.has("reflection") else 0)
            if self.turn - self.last_question < 2 or coming < QUESTION_RATIO * (
                    self.questions + 1):
                return
        for pool, values in [*pools, ("questions.general", {})]:
            if draft.add(self._pick(pool, values), "open_question"):
                return
        if force:
            draft.add(self._pick("questions.general", stale_ok=True), "open_question")

    def _add_check_in(self, draft: _Draft, statement_only: bool = False) -> None:
        pick = self._pick("hard.crisis_check_in")
        tried: set[str] = set()
        while statement_only and pick is not None and "?" in pick.text and len(tried) < 8:
            tried.add(pick.template_id)
            pick = self.book.pick("hard.crisis_check_in", {}, self.turn, self._exclude | tried)
        if pick is None or (statement_only and "?" in pick.text):
            return
        if "?" in pick.text:
            draft.drop_questions()
            asked = pick.text.split("?")[0].split(".")[-1].strip().lower()
            act = "open_question" if asked.startswith(_OPEN_STARTS) else "closed_question"
        else:
            act = None
        draft.parts = [p for p in draft.parts if p[1] != "affirmation"]
        draft.add(pick, act)

    def _summary_due(self, turn: Turn) -> bool:
        if (self.crisis or turn.flags & (_SPECIAL | {"dismissive", "dont_know"}) or turn.parts
                or turn.sides or turn.effort):
            return False  # not over a turn that needs its own answer ("Whatever.")
        return self.substantive + 1 - self.summary_at >= SUMMARY_EVERY

    # ------------------------------------------------------------------ bookkeeping

    def _finish(self, draft: _Draft, emotions: list, kind: str = "reply") -> Reply:
        text = draft.text
        tried: set[str] = {tid for _, _, tid in draft.parts}
        while (not text or text in self.said) and len(tried) < 12:
            extra = self.book.pick("hard.encourager", {}, self.turn, tried, stale_ok=True)
            if extra is None:
                break
            tried.add(extra.template_id)
            draft.parts.insert(0, (extra.text, None, extra.template_id))
            text = draft.text
            if text in self.said:
                draft.parts.pop(0)
        reply = Reply(text=text, acts=draft.acts, emotions=emotions)
        return self._commit(reply, [tid for _, _, tid in draft.parts], kind, draft.named)

    def _commit(self, reply: Reply, template_ids: list[str], kind: str,
                named: list[str] | None = None) -> Reply:
        self.book.commit(template_ids, self.turn)
        self.last_template_ids = template_ids
        for act in reply.acts:
            if act.endswith("reflection"):
                self.reflections += 1
                self.complex += act == "complex_reflection"
            elif act.endswith("question"):
                self.questions += 1
                self.last_question = self.turn
            elif act == "affirmation":
                self.last_affirm = self.turn
        self.said.add(reply.text)
        self.named = list(named or [])
        self.last_kind = kind
        self.turn += 1
        return reply


def _overlaps(new: str, said: str) -> bool:
    """Whether ``new`` repeats a three-word run of ``said`` (apart from the effort itself)."""
    def grams(text: str) -> set[tuple[str, ...]]:
        words = text.lower().replace(".", " ").replace(",", " ").split()
        return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}

    shared = grams(new) & grams(said)
    return any(not ({"you", "your"} & set(g)) for g in shared) if shared else False


def advice_topic(turn: Turn) -> str | None:
    """What the person wants direction about: an event or subject, or things with a person."""
    if turn.events:
        return turn.events[0]
    if turn.topics:
        return turn.topics[0]
    if turn.people:
        return f"things with {turn.people[0]}"
    return None


def _after_now(moment: datetime) -> bool:
    now = datetime.now(moment.tzinfo) if moment.tzinfo else datetime.now()
    return moment > now
