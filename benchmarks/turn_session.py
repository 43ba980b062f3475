"""One running ``voice-companion talk`` driven through PulseAudio, and what it heard.

Used by ``benchmarks/turn_taking.py``. A :class:`Session` starts ``talk``, plays clips into its
microphone in real time, waits until the companion has finished answering (:meth:`Session.settle`)
and keeps, for every clip, the window of timeline events it caused (:class:`Play`).
:func:`heard_turns` pairs each ``turn_end`` of the timeline with what followed it.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from live_rig import LOUD, RATE, StampedRecorder, TalkProcess, locate
from pulse_rig import Pulse

from voice_companion.audio import load_file
from voice_companion.fixtures import Fixture

QUIET_S = 0.8  # speaker silence that ends a reply (gaps inside replies are ≤ 0.35 s)


@dataclass
class HeardTurn:
    """One ``turn_end`` of the timeline and what followed it."""

    index: int  # position of the turn_end in the timeline
    speech_end_t: float
    text: str
    decided_ms: float
    asr_ms: float
    ignored: str | None = None  # why the turn was dropped ("no words", "own voice")
    latency_ms: float | None = None  # from the reply_audio that answered it
    reply_t: float | None = None
    reply_no: int | None = None  # the live loop's turn number, as in the reply_audio event

    @property
    def answered(self) -> bool:
        return self.ignored is None


def heard_turns(events: Sequence[dict[str, Any]]) -> list[HeardTurn]:
    """Pair each turn_end with its ``ignored`` or ``reply_audio`` event."""
    turns: list[HeardTurn] = []
    for i, event in enumerate(events):
        name = event["event"]
        if name == "turn_end":
            turns.append(HeardTurn(i, event["speech_end_t"], event.get("text", ""),
                                   event["decided_ms"], event["asr_ms"]))
        elif name == "ignored" and turns and turns[-1].ignored is None:
            turns[-1].ignored = event.get("reason", "?")
        elif name == "reply_audio" and turns and turns[-1].reply_t is None:
            last = turns[-1]
            last.latency_ms, last.reply_t, last.reply_no = (event["latency_ms"], event["t"],
                                                            event.get("turn"))
    return turns


@dataclass
class Play:
    """One clip played into the microphone, and the timeline events it led to."""

    path: Path
    kind: str  # fixture kind, or "own_reply" / "help" for generated clips
    start_t: float  # monotonic time just before paplay started
    duration_s: float
    first_event: int
    last_event: int = -1
    file_t0: float | None = None  # when sample 0 of the clip was rendered into the microphone
    settled: bool = True
    fixture: Fixture | None = None
    talked_over: bool = False  # the companion was still speaking while the clip's words played

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def audio_end(self) -> float:
        return (self.file_t0 or self.start_t + 0.3) + self.duration_s

    @property
    def speech_start(self) -> float | None:
        """When the person's first word began in the microphone (outside measure)."""
        if self.file_t0 is None or self.fixture is None or not self.fixture.user_turns:
            return None
        return self.file_t0 + self.fixture.user_turns[0].start_s

    @property
    def speech_end(self) -> float | None:
        """When the person's last word ended in the microphone (outside measure)."""
        if self.file_t0 is None or self.fixture is None or not self.fixture.user_turns:
            return None
        return self.file_t0 + self.fixture.user_turns[-1].end_s

    def turns(self, all_turns: Sequence[HeardTurn]) -> list[HeardTurn]:
        """Turns decided while this clip played or settled whose speech ended inside the clip."""
        return [t for t in all_turns if self.first_event <= t.index < self.last_event
                and self.start_t <= t.speech_end_t <= self.audio_end + 0.3]


@dataclass
class Startup:
    """How long one start of ``talk`` took, from just before the process was created."""

    to_listening_s: float | None
    program_startup_s: float | None  # the program's own figure (inside Talk)
    to_greeting_s: float | None  # first sound of the greeting
    to_live_mic_s: float | None  # greeting over: the microphone is really listened to


@dataclass
class Interruption:
    """One clip played while the companion spoke, with ``--barge-in``."""

    clip: str
    confirmed_t: float | None
    stop_ms: float | None  # the program's own figure
    outside_stop_ms: float | None  # confirmation to the end of sound in spk.monitor
    onset_to_confirm_ms: float | None  # the interrupting speech reached the mic → confirmed
    sounding: bool  # the companion was audibly speaking just before the confirmation


@dataclass
class Session:
    """One running ``talk`` plus the recorders, and every clip played into it."""

    pulse: Pulse
    spk: StampedRecorder
    mic: StampedRecorder
    talk: TalkProcess
    plays: list[Play] = field(default_factory=list)
    startup: Startup | None = None
    hard_end: float = float("inf")  # monotonic time no wait may pass (the run's time limit)
    _player: subprocess.Popen | None = None

    def ready(self, timeout: float = 60.0) -> Startup:
        """Start ``talk``; wait for "listening" and for the greeting to be over."""
        since = time.monotonic()
        self.talk.start()
        # the monotonic clock, shared by every process (in some sandboxes a child's wall clock
        # is hours off its parent's)
        started = self.talk.started_t
        listening = self.talk.wait_event("listening", timeout=timeout)
        greeting = end = None
        if listening is not None:
            deadline = time.monotonic() + 30
            while greeting is None and time.monotonic() < deadline:
                greeting = self.spk.first_sound(since, self.spk.now())
                time.sleep(0.05)
            while self.spk.quiet_for() < QUIET_S and time.monotonic() < deadline:
                time.sleep(0.05)
            if greeting is not None:
                end = self.spk.sound_end(greeting, gap_s=QUIET_S, limit_s=30)
        self.startup = Startup(
            to_listening_s=listening["t"] - started if listening else None,
            program_startup_s=listening.get("startup_s") if listening else None,
            to_greeting_s=greeting - started if greeting else None,
            to_live_mic_s=end - started if end else None,
        )
        return self.startup

    def play(self, path: Path, kind: str, fixture: Fixture | None = None,
             settle: bool = True) -> Play:
        """Play a clip into the microphone; with ``settle``, wait until the companion is done."""
        if self._player is not None:
            self._player.wait(timeout=60)
        clip = load_file(path)
        play = Play(path, kind, time.monotonic(), clip.size / RATE,
                    len(self.talk.poll_events()), fixture=fixture)
        self._player = self.pulse.play_into_mic(path)
        self.plays.append(play)
        if settle:
            play.settled = self.settle(play.start_t + play.duration_s + 0.3)
            self.close_play(play)
        return play

    def close_play(self, play: Play) -> None:
        """End the play's window of events, find the clip in the microphone recording and
        check the companion was silent while it played (the microphone is ignored while it
        speaks, so a clip played over a reply was never heard)."""
        play.last_event = len(self.talk.poll_events())
        play.file_t0 = locate(self.mic, load_file(play.path), play.start_t - 0.1,
                              play.start_t + 2.0)
        begin, end = play.speech_start, play.speech_end
        if begin is None or end is None:
            begin, end = play.audio_end - play.duration_s, play.audio_end
        # sound before the clip's first turn was decided cannot be a reply to it (a reply to a
        # turn cut short at a pause is a cut-off, counted as such, not a clip spoken over)
        decided = [e["t"] for e in self.talk.events[play.first_event : play.last_event]
                   if e["event"] == "turn_end"]
        end = min([end, *decided])
        play.talked_over = end > begin and self.spk.first_sound(begin, end) is not None

    def reply_gaps(self) -> list[float]:
        """The longest silence inside each spoken reply (s), up to the next clip played."""
        starts = sorted(p.start_t for p in self.plays)
        gaps = []
        for turn in self.turns():
            if turn.reply_t is None:
                continue
            first = self.spk.first_sound(turn.reply_t - 0.3, turn.reply_t + 3.0)
            later = [t for t in starts if first is not None and t > first]
            if first is None or not later:
                continue
            audio, t0 = self.spk.segment(first, later[0])
            loud = np.flatnonzero(np.abs(audio) > LOUD)
            if loud.size > 1:
                gaps.append(float(np.diff(loud).max()) / RATE)
        return gaps

    def echo_delays(self) -> list[float]:
        """How late each reply reached the microphone (ms): the speaker → mic leak's delay."""
        delays = []
        for turn in self.turns():
            start = None if turn.reply_t is None else self.spk.first_sound(turn.reply_t - 0.3,
                                                                            turn.reply_t + 3.0)
            if start is None:
                continue
            clip, _ = self.spk.segment(start, start + 2.0)
            found = locate(self.mic, clip, start - 0.05, start + 1.5, min_corr=0.3)
            if found is not None:
                delays.append((found - start) * 1000)
        return delays

    def settle(self, not_before: float, timeout: float = 60.0) -> bool:
        """Wait until no turn is open, every answered turn has been spoken and all is quiet."""
        end = min(time.monotonic() + timeout, self.hard_end)
        while time.monotonic() < end and self.talk.alive:
            events = self.talk.poll_events()
            turns = heard_turns(events)
            pending = any(t.answered and t.reply_t is None for t in turns)
            player_done = self._player is None or self._player.poll() is not None
            if (time.monotonic() >= not_before and player_done and not _turn_open(events)
                    and not pending and self._reply_over(turns)):
                return True
            time.sleep(0.05)
        return False

    def _reply_over(self, turns: Sequence[HeardTurn]) -> bool:
        """The speaker has been quiet for QUIET_S, after the sound of the latest reply.

        The timeline says when a reply started before its sound reaches the recording, so a
        quiet recording alone does not prove the reply is over.
        """
        answered = [t for t in turns if t.reply_t is not None]
        caught_up = time.monotonic() - self.spk.now() < 0.3
        if not caught_up or self.spk.quiet_for() < QUIET_S:
            return False
        if not answered:
            return True
        reply_t = answered[-1].reply_t
        last, first = self.spk.last_sound(), self.spk.first_sound(reply_t - 0.3, reply_t + 3)
        if last is None or first is None or last < reply_t - 0.2:
            return False
        # a pause inside a long reply is not its end: it has lasted most of its expected length
        return last - first >= 0.6 * self._expected_s(answered[-1].reply_no)

    def _expected_s(self, reply_no: int | None) -> float:
        """About how long reply ``reply_no`` takes to say (espeak-ng, 165 words a minute)."""
        replies = self.talk.replies()  # the greeting first, then one per answered turn
        if reply_no is None or reply_no >= len(replies):
            return 0.0
        return len(replies[reply_no].split()) * 60 / 165

    def turns(self) -> list[HeardTurn]:
        return heard_turns(self.talk.poll_events())

    def interruption(self, play: Play, event: dict | None) -> Interruption:
        """Measure one barge-in from the timeline and the speaker recording."""
        if event is None:
            return Interruption(play.name, None, None, None, None, False)
        confirmed = event["confirmed_t"]
        sounding = self.spk.first_sound(confirmed - 0.15, confirmed) is not None
        end = self.spk.sound_end(confirmed - 0.15, gap_s=0.4, limit_s=4.0)
        outside = (end - confirmed) * 1000 if sounding and end is not None else None
        start = play.speech_start
        if start is None and play.file_t0 is not None:  # a generated clip: 0.3 s lead-in
            start = play.file_t0 + 0.3
        onset = (confirmed - start) * 1000 if start is not None else None
        return Interruption(play.name, confirmed, event.get("stop_ms"), outside, onset, sounding)


def _turn_open(events: Sequence[dict[str, Any]]) -> bool:
    for event in reversed(events):
        if event["event"] in ("turn_end", "discard"):
            return False
        if event["event"] == "speech_start":
            return time.monotonic() - event["t"] < 30.0  # a turn dropped silently is not open
    return False
