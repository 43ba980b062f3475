"""The live loop: microphone → end-of-turn → Whisper → dialogue engine → voice → speaker.

Read top to bottom, one turn is: a block of microphone audio arrives (:meth:`Talk._listen`),
the :class:`~voice_companion.endpoint.TurnSegmenter` finds where speech starts and, when a pause
begins, the turn so far is transcribed in the background (:meth:`Talk._on_pause`) so that its
text is ready by the time the pause is long enough to end the turn (:meth:`Talk._on_turn`). The
conversation decides the reply, the :class:`~voice_companion.voice.Speaker` says it sentence by
sentence, and the microphone is ignored while the companion speaks (unless ``--barge-in``).
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from voice_companion import earcons
from voice_companion.audio import to_wav_bytes
from voice_companion.capture import Microphone
from voice_companion.config import Settings
from voice_companion.devices import resolve_input, resolve_output
from voice_companion.dialogue import safety
from voice_companion.echo import EchoGuard
from voice_companion.endpoint import Event, Turn, TurnSegmenter
from voice_companion.output import Printer, TurnRecord
from voice_companion.replay import endpoint_config
from voice_companion.session import Conversation
from voice_companion.timeline import Timeline
from voice_companion.transcribe import Transcriber, resolve_model
from voice_companion.vad import FRAME, StreamingVad
from voice_companion.voice import Player, Speaker, Synthesizer

BARGE_IN_CONFIRM_S = 0.25  # speech needed while the companion talks before it stops


class Talk:
    """One live session. Construct, then :meth:`run` until goodbye or Ctrl-C."""

    def __init__(self, settings: Settings, printer: Printer) -> None:
        self.settings = settings
        self.printer = printer
        self.started = time.monotonic()
        # Whisper loads in the background while the greeting is prepared and starts playing;
        # the safety rules (about a second to compile) are left for later, while it plays
        resolve_model(settings.model)  # a missing model is a clear error before anything is said
        self.loading = ThreadPoolExecutor(max_workers=1, thread_name_prefix="load")
        self.whisper = self.loading.submit(
            Transcriber, settings.model, settings.compute_type, settings.cpu_threads,
            settings.beam_size, settings.no_speech_threshold, settings.log_prob_threshold,
            settings.short_window,
        )
        self.transcriber: Transcriber | None = None
        self.mic_device = resolve_input(settings.input_device)
        self.out_device = resolve_output(settings.output_device)
        self.synth = Synthesizer(settings.rate, settings.volume, settings.voice)
        self.echo = EchoGuard()
        self.speaker = Speaker(self.synth, Player(self.out_device), settings,
                               on_played=self.echo.played)
        self.segmenter = TurnSegmenter(
            StreamingVad(), endpoint_config(settings, live=True),
            unfinished=lambda result: result.unfinished,
        )
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="asr")
        self.echo_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="echo")
        self.hint: tuple[Future, int] | None = None  # background transcript at the last pause
        self.echo_check: tuple[Future, int] | None = None  # echo score at the last pause
        self.pause_frames = -1  # frames in the turn when the last pause began
        self.conversation: Conversation | None = None
        self.last_activity = time.monotonic()
        self.ignore_until = 0.0
        self.turn_no = 0
        self.reply_turn_id: int | None = None
        self.timeline = Timeline()
        self.awaiting_audio: tuple[int, float] | None = None  # (turn, when speech ended)
        self.arrived_at = 0.0
        self.startup_s = 0.0  # start → Whisper loaded, the greeting started, the microphone open
        self.live = False  # the microphone has been heard at least once outside the echo

    def _finish_loading(self) -> None:
        """Wait for Whisper (its errors, a broken model, surface here), then compile the safety
        rules in the background: the first turn, seconds away, finds them ready."""
        self.transcriber = self.whisper.result()
        self.startup_s = time.monotonic() - self.started
        self.loading.submit(safety.warm_up)
        self.loading.shutdown(wait=False)

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> int:
        from voice_companion.journal import open_journal

        s = self.settings
        self.conversation = Conversation(s, open_journal(s))
        try:
            with Microphone(self.mic_device) as mic:
                greeting = self.conversation.start()
                self._say(greeting.text)  # it plays while Whisper finishes loading
                self._finish_loading()
                # the loop now reads the microphone with Whisper ready (with --barge-in the
                # person can already speak over the greeting; without it, once it is over)
                self.timeline.log("listening", startup_s=round(self.startup_s, 3))
                self.printer.status(f"Listening (ready in {self.startup_s:.1f} s). "
                                    "Say 'what can I say?' for help; Ctrl-C to stop.")
                while True:
                    block = mic.get(timeout=0.2)
                    if block is None:
                        continue
                    self.arrived_at = mic.arrived_at
                    if self._listen(block):
                        break
                self.speaker.wait(timeout=60)
        except KeyboardInterrupt:
            self.speaker.interrupt()
            self.printer.status("Stopped. Everything you said is kept in your journal."
                                if s.journal else "Stopped.")
        finally:
            if self.conversation.session_id is not None:
                self.conversation.journal.end_session(self.conversation.session_id)
            self.conversation.journal.close()
            self.speaker.close()
            self.loading.shutdown(wait=False, cancel_futures=True)
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.echo_pool.shutdown(wait=False, cancel_futures=True)
            self.timeline.close()
        return 0

    def _listen(self, block: np.ndarray) -> bool:
        """Handle one block of microphone audio. Returns True when the session is over."""
        now = time.monotonic()
        self._report_reply_audio()
        speaking = self.speaker.speaking
        # the companion's own voice (and its earcons) must never become a turn: without barge-in,
        # audio captured while it spoke, or within the echo tail after, is dropped
        echo = speaking or self.arrived_at < self.speaker.finished_at + self.settings.echo_tail_s
        if echo and not self.settings.barge_in:
            self.segmenter.reset()
            self.last_activity = now
            return False
        if not self.live:  # the first audio the companion really listens to
            self.live = True
            self.timeline.log("mic_live", since_start_s=round(now - self.started, 3))
        for event, turn in self.segmenter.feed(block):
            if event is Event.START:
                self.last_activity = now
                self.timeline.log("speech_start", self._audio_time(self.segmenter.endpointer
                                                                    .turn_start))
            elif event is Event.PAUSE:
                self._on_pause()
            elif event is Event.RESUME:
                self._drop_queued_passes()  # they covered a pause that is over
            elif event is Event.DISCARD:
                self.timeline.log("discard")
            elif event is Event.END and turn is not None:
                if self._on_turn(turn):
                    return True
        self._check_hint()
        if speaking and self.settings.barge_in and self._barge_in_confirmed():
            confirmed = time.monotonic()
            spoken = self.speaker.interrupt()
            self.timeline.log("interrupted", confirmed_t=round(confirmed, 4),
                              stop_ms=round((time.monotonic() - confirmed) * 1000, 2))
            if self.conversation is not None:
                self.conversation.reply_interrupted(self.reply_turn_id, spoken)
            self.printer.status("(interrupted)")
        if self.segmenter.endpointer.in_turn or speaking:
            self.last_activity = now
        elif now - self.last_activity > self.settings.silence_prompt_s:
            self.last_activity = now
            prompt = self.conversation.silence() if self.conversation else None
            if prompt is not None:
                self.timeline.log("silence_prompt")
                self._say(prompt.text)
        return False

    def _audio_time(self, stream_s: float) -> float:
        """The monotonic time at which stream time ``stream_s`` reached the microphone."""
        return self.arrived_at - (self.segmenter.now - stream_s)

    def _report_reply_audio(self) -> None:
        if self.awaiting_audio is None:
            return
        started = self.speaker.first_audio_at
        if started is None:
            return
        turn, speech_end = self.awaiting_audio
        self.awaiting_audio = None
        self.timeline.log("reply_audio", started, turn=turn,
                          latency_ms=round((started - speech_end) * 1000, 1))

    def _barge_in_confirmed(self) -> bool:
        ep = self.segmenter.endpointer
        return ep.in_turn and not ep.paused and ep.speech_s >= BARGE_IN_CONFIRM_S

    # -- a pause: transcribe the turn so far in the background ---------------------------------

    def _on_pause(self) -> None:
        audio = self.segmenter.turn_audio()
        frames = audio.size // FRAME
        self.pause_frames = frames
        self._drop_queued_passes()  # so this pause's pass does not queue behind a stale one
        assert self.transcriber is not None, "models load before the loop listens"
        self.hint = (self.pool.submit(self.transcriber.transcribe_so_far, audio), frames)
        # in parallel: does the turn so far sound like something the companion played?
        self.echo_check = (self.echo_pool.submit(self.echo.score, audio), frames)

    def _drop_queued_passes(self) -> None:
        """Cancel passes for an earlier pause that have not started (one may still be running)."""
        for pending in (self.hint, self.echo_check):
            if pending is not None and pending[0].cancel():
                if pending is self.hint:
                    self.hint = None
                else:
                    self.echo_check = None

    def _check_hint(self) -> None:
        if self.hint is None or not self.hint[0].done():
            return
        future, frames = self.hint
        self.hint = None
        result = future.result()
        self.segmenter.set_hint(result, frames)
        self.timeline.log("hint", asr_ms=round(result.seconds * 1000, 1),
                          unfinished=result.unfinished, frames=frames, text=result.text,
                          last_word_prob=round(result.last_word_prob, 3),
                          last_two_prob=round(result.last_two_prob, 3),
                          before_last_prob=round(result.before_last_prob, 3),
                          paused=self.segmenter.endpointer.paused)

    # -- a finished turn --------------------------------------------------------------------

    def _on_turn(self, turn: Turn) -> bool:
        asr_ms = 0.0
        text = turn.hint.text if turn.hint is not None else None
        if turn.hint is not None:
            asr_ms = turn.hint.seconds * 1000
        if text is None and self.hint is not None:
            future, frames = self.hint
            self.hint = None
            if frames == self.pause_frames:  # it covers everything said before the final pause
                result = future.result()
                text, asr_ms = result.text, result.seconds * 1000
        if text is None:  # nothing ready yet: say "thinking" while Whisper works
            if self.settings.earcons:
                self.speaker.chime(earcons.earcon("thinking"), earcons.RATE)
            assert self.transcriber is not None
            result = self.transcriber.transcribe(turn.audio)
            text, asr_ms = result.text, result.seconds * 1000
        text = text.strip()
        assert self.conversation is not None
        speech_end = self._audio_time(turn.end_s)
        self.timeline.log("turn_end", speech_end_t=round(speech_end, 4),
                          decided_ms=round((time.monotonic() - speech_end) * 1000, 1),
                          asr_ms=round(asr_ms, 1), text=text)
        reason = self._not_a_turn(text, turn)
        if reason is not None:
            self.timeline.log("ignored", reason=reason)
            return False  # noise, breath, or the companion's own voice: not a turn
        wav = to_wav_bytes(turn.audio, 16000) if self.settings.store_audio else None
        outcome = self.conversation.handle(text, wav)
        self.turn_no += 1
        self.reply_turn_id = outcome.turn_id
        record = TurnRecord.build(
            self.turn_no, text, outcome.reply, {"asr": asr_ms, "dialogue": outcome.dialogue_ms}
        )
        self.printer.turn(record)
        self._say(outcome.reply.text, printed=True)
        self.awaiting_audio = (self.turn_no, speech_end)
        return outcome.end

    def _not_a_turn(self, text: str, turn: Turn) -> str | None:
        """Why this finished turn is not the person speaking, or ``None`` when it is."""
        if not text:
            return "no words"
        assert self.conversation is not None
        if self.conversation.is_own_voice(text):
            return "own voice"
        score = None
        if self.echo_check is not None:
            future, frames = self.echo_check
            self.echo_check = None
            if frames == self.pause_frames:
                score = future.result()
        if score is None:
            score = self.echo.score(turn.audio)
        if score >= self.echo.threshold:
            return f"own voice (sound match {score:.2f})"
        return None

    def _say(self, text: str, printed: bool = False) -> None:
        if not printed:
            self.printer.companion(text)
        self.speaker.say(text)
        if self.settings.earcons:
            self.speaker.chime(earcons.earcon("listening"), earcons.RATE)


def run_talk(settings: Settings, quiet: bool = False) -> int:
    """Start a live conversation with the microphone and speaker."""
    printer = Printer(quiet=quiet)
    printer.status("Loading the speech model…")
    return Talk(settings, printer).run()
