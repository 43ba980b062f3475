"""One conversation, independent of where the words come from (microphone, file or keyboard).

:class:`Conversation` takes each finished user turn's text and decides what happens: a voice
command ("slower", "say that again", "goodbye"), an echo of the companion's own voice to ignore,
or a turn for the dialogue engine. It keeps the journal up to date, one transaction per finished
turn, so nothing said is lost if the program stops.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from voice_companion import commands
from voice_companion.commands import Command
from voice_companion.config import Settings
from voice_companion.dialogue import DialogueEngine, PastThread, Reply, create_engine
from voice_companion.dialogue.safety import SafetyDetector
from voice_companion.journal.threads import is_decline

RATE_STEP = 25
VOLUME_STEP = 0.15


@dataclass
class Outcome:
    """What to do after one user turn."""

    reply: Reply
    command: Command | None = None
    end: bool = False  # the person said goodbye
    turn_id: int | None = None  # the journal's id for this turn, if stored
    dialogue_ms: float = 0.0


@dataclass
class Conversation:
    """The state of one session: engine, journal, voice settings and what was said last."""

    settings: Settings
    journal: object  # voice_companion.journal.Journal or NullJournal
    engine: DialogueEngine | None = None
    session_id: int | None = None
    check_in: PastThread | None = None
    last_reply: Reply | None = None
    prompts_paused: bool = False
    silence_prompted: bool = False
    turns: int = 0
    history: list[tuple[str, str]] = field(default_factory=list)
    clock: Callable[[], datetime] = datetime.now  # a test may script the days
    _safety: SafetyDetector = field(default_factory=SafetyDetector)

    def start(self) -> Reply:
        """Open the session: pick at most one thread to check in on, and greet."""
        now = self.clock()
        self.check_in = self.journal.due_thread(now)
        memory = self.journal.open_threads(now)
        if self.engine is None:
            self.engine = create_engine(locale=self.settings.locale, memory=memory)
        self.session_id = self.journal.start_session(now)
        greeting = self.engine.greet(self.check_in)
        self.last_reply = greeting
        return greeting

    # -- turns -------------------------------------------------------------------------------

    def is_own_voice(self, text: str) -> bool:
        """True when ``text`` is the companion's last reply heard back through the microphone."""
        if self.last_reply is None:
            return False
        said, heard = _words(self.last_reply.text), _words(text)
        if not heard:
            return False
        if " ".join(heard) in " ".join(said):
            return len(heard) >= 2
        ratio = difflib.SequenceMatcher(None, said, heard).ratio()
        return ratio >= 0.7

    def handle(self, text: str, audio_wav: bytes | None = None) -> Outcome:
        """Answer one finished user turn (``audio_wav`` is stored only if the person chose so)."""
        assert self.engine is not None, "call start() first"
        self.silence_prompted = False
        self.prompts_paused = False
        # a turn that may be a crisis is never taken as a command ("I'm done", "goodbye forever")
        cmd = None if self._safety.check(text) else commands.recognise(text)
        if cmd is not None:
            return self._command(cmd)
        start = time.perf_counter()
        reply = self.engine.respond(text)
        elapsed = (time.perf_counter() - start) * 1000
        if self.check_in is not None:
            declined = is_decline(text)
            self.journal.resolve_thread(
                self.check_in.id, "declined" if declined else "answered", at=self.clock()
            )
            self.check_in = None
        turn_id = self.journal.add_turn(
            self.session_id,
            transcript=text,
            reply=reply.text,
            acts=reply.acts,
            emotions=reply.emotions,
            safety=reply.safety.category if reply.safety else None,
            at=self.clock(),
            audio_wav=audio_wav if self.settings.store_audio else None,
        )
        self.turns += 1
        self.last_reply = reply
        self.history.append((text, reply.text))
        return Outcome(reply=reply, turn_id=turn_id, dialogue_ms=elapsed)

    def reply_interrupted(self, turn_id: int | None, spoken: str) -> None:
        """The person cut the reply short: keep only what was actually spoken."""
        if turn_id is not None:
            self.journal.mark_interrupted(turn_id, spoken)
        if self.last_reply is not None:
            self.last_reply = self.last_reply.model_copy(update={"text": spoken})

    def silence(self) -> Reply | None:
        """A gentle prompt after a long silence: once per silence, never while paused."""
        if self.prompts_paused or self.silence_prompted or self.engine is None:
            return None
        self.silence_prompted = True
        return self.engine.silence_prompt()

    def close(self) -> Reply:
        """End the session with a closing summary."""
        assert self.engine is not None
        reply = self.engine.close()
        self.journal.end_session(self.session_id, self.clock())
        return reply

    # -- voice commands ------------------------------------------------------------------------

    def _command(self, cmd: Command) -> Outcome:
        s = self.settings
        saving = self.journal.saving
        text: str | None = None
        variant: str | None = None
        closing: Reply | None = None
        if cmd is Command.REPEAT:
            last = self.last_reply.text if self.last_reply is not None else None
            text = commands.command_reply(cmd, last_reply=last) if last is None else last
        elif cmd in (Command.SLOWER, Command.FASTER):
            rate = s.rate + (RATE_STEP if cmd is Command.FASTER else -RATE_STEP)
            variant = None if 80 <= rate <= 400 else "at_limit"
            s.rate = max(80, min(400, rate))
        elif cmd in (Command.LOUDER, Command.QUIETER):
            volume = s.volume + (VOLUME_STEP if cmd is Command.LOUDER else -VOLUME_STEP)
            at_limit = (cmd is Command.LOUDER and s.volume >= 1.0) or (
                cmd is Command.QUIETER and s.volume <= 0.1
            )
            variant = "at_limit" if at_limit else None
            s.volume = round(max(0.1, min(1.0, volume)), 2)
        elif cmd is Command.PAUSE:
            self.prompts_paused = True
        elif cmd is Command.GOODBYE:
            closing = self.close()
            text = closing.text
        elif cmd is Command.SUMMARY:
            closing = self.engine.summary()
            text = closing.text
        elif cmd is Command.DONT_SAVE:
            variant = None if saving else "no_journal"
            self._stop_saving()
        elif cmd is Command.FORGET_THAT:
            if not saving:
                variant = "no_journal"
            elif not self.journal.forget_last_turn(self.session_id):
                variant = "empty"
        elif cmd is Command.LAST_TIME:
            text = (self.journal.last_session_recap(self.session_id) or None) if saving else None
            variant = "empty" if saving else "no_journal"
        elif cmd is Command.READ_WEEK:
            since = self.clock() - timedelta(days=7)
            text = (self.journal.period_summary(since) or None) if saving else None
            variant = "empty" if saving else "no_journal"
        if text is None:
            text = commands.command_reply(cmd, variant=variant)
        acts = ["command", *[a for a in (closing.acts if closing else []) if a != "command"]]
        reply = Reply(text=text, acts=acts)
        if cmd is not Command.REPEAT:
            self.last_reply = reply
        return Outcome(reply=reply, command=cmd, end=cmd is Command.GOODBYE)

    def _stop_saving(self) -> None:
        from voice_companion.journal import NullJournal

        if self.session_id is not None and self.journal.saving:
            self.journal.forget_session(self.session_id)
        self.journal.close()
        self.journal = NullJournal()
        self.session_id = self.journal.start_session()


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())
