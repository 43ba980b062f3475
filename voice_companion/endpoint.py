"""End-of-turn detection: when has the person finished speaking?

Two parts, both driven by *audio time* (seconds of audio fed so far), never the wall clock, so
a file, a live microphone and a scripted test timeline behave identically:

* :class:`Endpointer` — a small state machine over per-frame speech probabilities. It waits a
  short time after a finished thought and a longer one after unfinished words ("...and then I"),
  and ends a very long turn at its next natural pause.
* :class:`TurnSegmenter` — feeds audio through the VAD into a ring buffer (so the half second
  before speech is kept and first words are never clipped) and cuts it into :class:`Turn` s.

Whether the words so far are finished is told to the endpointer from outside (see
:meth:`Endpointer.set_unfinished`): the segmenter asks its ``hint`` callback, which transcribes
the turn so far, as soon as a pause begins.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from voice_companion.vad import FRAME, FRAME_S

RATE = 16000


@dataclass(frozen=True)
class EndpointConfig:
    """Timing of turn-taking, all in seconds of audio."""

    threshold: float = 0.5  # speech probability that counts as speech
    neg_threshold: float = 0.35  # below this it is silence; between, it keeps the current state
    start_s: float = 0.064  # speech needed before a turn starts (two VAD frames)
    short_wait_s: float = 0.5  # pause that ends a finished thought
    long_wait_s: float = 2.4  # pause allowed after unfinished words
    max_turn_s: float = 60.0  # after this long, end at the next natural pause
    natural_pause_s: float = 0.3  # what counts as a natural pause after max_turn_s
    min_speech_s: float = 0.3  # less speech than this is not a turn (a cough, a click)
    preroll_s: float = 0.5  # audio kept before detected speech
    hint_delay_s: float = 0.1  # how far into a pause to ask whether the words are finished


class Event(Enum):
    START = "start"  # speech began: a turn is open
    PAUSE = "pause"  # a pause began long enough to ask whether the words are finished
    RESUME = "resume"  # speech came back within the turn
    END = "end"  # the turn is over
    DISCARD = "discard"  # the "turn" held too little speech (breath, cough, click)


class _State(Enum):
    IDLE = 0
    SPEECH = 1
    PAUSE = 2


@dataclass
class Endpointer:
    """Decide, frame by frame, when a turn starts and ends.

    Feed :meth:`push` the time at the end of each frame and its speech probability. Times are
    seconds of audio, so tests can script a timeline exactly.
    """

    config: EndpointConfig = field(default_factory=EndpointConfig)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._state = _State.IDLE
        self._run = 0.0  # length of the current run of speech frames while idle
        self.turn_start = 0.0  # when the turn's speech began
        self.speech_end = 0.0  # when the latest speech ended (start of the current pause)
        self.speech_s = 0.0  # total speech in the turn
        self._unfinished: bool | None = None
        self._hint_asked = False

    @property
    def in_turn(self) -> bool:
        return self._state is not _State.IDLE

    @property
    def paused(self) -> bool:
        return self._state is _State.PAUSE

    def set_unfinished(self, unfinished: bool | None) -> None:
        """Tell whether the words up to the current pause are unfinished (``None``: unknown)."""
        self._unfinished = None if unfinished is None else bool(unfinished)

    def wait_s(self, now: float) -> float:
        """How long the current pause must last to end the turn."""
        cfg = self.config
        if now - self.turn_start >= cfg.max_turn_s:
            return cfg.natural_pause_s
        if self._unfinished is False:
            return cfg.short_wait_s
        return cfg.long_wait_s  # unfinished, or not yet known

    def push(self, now: float, prob: float) -> Event | None:
        """Advance to ``now`` (end of a frame) with that frame's speech probability."""
        cfg = self.config
        speech = prob >= cfg.threshold
        silence = prob < cfg.neg_threshold
        if self._state is _State.IDLE:
            self._run = self._run + FRAME_S if speech else 0.0
            if self._run >= cfg.start_s - 1e-9:
                self._state = _State.SPEECH
                self.turn_start = now - self._run
                self.speech_s = self._run
                self._run = 0.0
                self._unfinished = None
                return Event.START
            return None
        if self._state is _State.SPEECH:
            if silence:
                self._state = _State.PAUSE
                self.speech_end = now - FRAME_S
                self._hint_asked = False
                self._unfinished = None
                return self._after_pause_step(now)
            self.speech_s += FRAME_S
            return None
        # paused
        if speech:
            self._state = _State.SPEECH
            self.speech_s += FRAME_S
            self._unfinished = None
            return Event.RESUME
        return self._after_pause_step(now)

    def _after_pause_step(self, now: float) -> Event | None:
        cfg = self.config
        paused_for = now - self.speech_end
        if not self._hint_asked and paused_for >= cfg.hint_delay_s - 1e-9:
            self._hint_asked = True
            return Event.PAUSE
        if paused_for >= self.wait_s(now) - 1e-9:
            enough = self.speech_s >= cfg.min_speech_s - 1e-9
            self._state = _State.IDLE
            self._run = 0.0
            return Event.END if enough else Event.DISCARD
        return None


@dataclass
class Turn:
    """One stretch of the person's speech, cut at the end of their turn."""

    audio: np.ndarray  # 16 kHz mono float32, including the pre-roll
    start_s: float  # stream time where ``audio`` begins
    speech_start_s: float  # where speech was detected
    end_s: float  # where speech ended (start of the final pause)
    hint: Any = None  # the hint's result, when the hint pass already covered the whole turn


Hint = Callable[[np.ndarray], Any]
"""Transcribe the turn so far; returns a result (e.g. a transcript), or ``None`` when none is
available yet (a live loop transcribes in the background and calls :meth:`set_hint` later)."""


class TurnSegmenter:
    """Cut a stream of 16 kHz audio into turns, using a VAD and an :class:`Endpointer`.

    ``hint`` is called with the audio of the turn so far when a pause begins; it returns the
    transcript (used both to pick the wait, through ``unfinished``, and, if nothing more is said,
    as the final text) or ``None`` if it is still working (a live loop transcribes in the
    background and calls :meth:`set_hint` later).
    """

    def __init__(
        self,
        vad: Callable[[np.ndarray], float],
        config: EndpointConfig | None = None,
        hint: Hint | None = None,
        unfinished: Callable[[Any], bool] | None = None,
    ) -> None:
        self.config = config or EndpointConfig()
        self.endpointer = Endpointer(self.config)
        self._vad = vad
        self._hint = hint
        self._unfinished_fn = unfinished
        keep = math.ceil((self.config.preroll_s + self.config.start_s) / FRAME_S) + 1
        self._pre: deque[np.ndarray] = deque(maxlen=keep)
        self._turn: list[np.ndarray] = []
        self._turn_start = 0.0
        self._pending = np.zeros(0, dtype=np.float32)
        self._hint_result: Any = None
        self._hint_frames = -1  # frames in the turn when the hint's audio was taken
        self.frames = 0  # frames fed so far
        self.last_prob = 0.0

    @property
    def now(self) -> float:
        return self.frames * FRAME_S

    def reset(self) -> None:
        """Drop any turn in progress (used while the program itself is speaking)."""
        self.endpointer.reset()
        self._turn = []
        self._pre.clear()
        self._hint_result = None
        self._hint_frames = -1

    def turn_audio(self) -> np.ndarray:
        """The audio of the turn in progress so far."""
        return np.concatenate(self._turn) if self._turn else np.zeros(0, np.float32)

    def set_hint(self, result: Any, frames: int) -> None:
        """Report a transcript of the first ``frames`` frames of the current turn."""
        if frames != len(self._turn) and not self.endpointer.paused:
            return  # speech resumed after the hint was taken: it is stale
        self._hint_result = result
        self._hint_frames = frames
        if result is not None and self._unfinished_fn is not None:
            self.endpointer.set_unfinished(self._unfinished_fn(result))

    def feed(self, audio: np.ndarray) -> Iterator[tuple[Event, Turn | None]]:
        """Feed audio of any length; yields events, with the :class:`Turn` on :attr:`Event.END`."""
        if self._pending.size:
            audio = np.concatenate([self._pending, audio])
        n = audio.size // FRAME
        self._pending = audio[n * FRAME :].copy()
        for i in range(n):
            frame = audio[i * FRAME : (i + 1) * FRAME]
            yield from self._step(frame)

    def flush(self) -> Iterator[tuple[Event, Turn | None]]:
        """End of stream: close a turn in progress as if the person had stopped."""
        if not self.endpointer.in_turn:
            return
        silence = np.zeros(FRAME, dtype=np.float32)
        limit = int((self.config.long_wait_s + self.config.max_turn_s) / FRAME_S) + 2
        for _ in range(limit):
            for event, turn in self._step(silence, prob=0.0):
                yield event, turn
                if event in (Event.END, Event.DISCARD):
                    return

    def _step(self, frame: np.ndarray, prob: float | None = None):
        self.frames += 1
        self.last_prob = self._vad(frame) if prob is None else prob
        ep = self.endpointer
        was_in_turn = ep.in_turn
        if was_in_turn:
            self._turn.append(frame)
        else:
            self._pre.append(frame)
        event = ep.push(self.now, self.last_prob)
        if event is Event.START:
            self._turn = list(self._pre)
            self._turn_start = self.now - len(self._turn) * FRAME_S
            self._pre.clear()
            self._hint_result, self._hint_frames = None, -1
            yield event, None
        elif event is Event.RESUME:
            self._hint_result, self._hint_frames = None, -1
            yield event, None
        elif event is Event.PAUSE:
            yield event, None
            if self._hint is not None:
                frames = len(self._turn)
                result = self._hint(self.turn_audio())
                if result is not None:
                    self.set_hint(result, frames)
        elif event in (Event.END, Event.DISCARD):
            turn = None
            if event is Event.END:
                audio = self.turn_audio()
                # the hint covered the turn up to the final pause: nothing was said after it
                hint = self._hint_result if self._hint_frames >= 0 else None
                turn = Turn(
                    audio=audio,
                    start_s=self._turn_start,
                    speech_start_s=ep.turn_start,
                    end_s=ep.speech_end,
                    hint=hint,
                )
            self._turn = []
            self._hint_result, self._hint_frames = None, -1
            yield event, turn
