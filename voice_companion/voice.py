"""The companion's voice: pyttsx3 (espeak-ng) synthesis to WAV, played through sounddevice.

pyttsx3's Linux driver plays through ``aplay`` and cannot be stopped, so each sentence is
synthesised to a WAV file with ``save_to_file`` and played by :class:`Player`, which can stop at
once (barge-in) and knows how much was actually heard.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
import threading
import time
import wave
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice_companion.errors import VoiceError

_ESPEAK = sys.platform.startswith("linux")
# pyttsx3.init() hands every caller the same engine, so every Synthesizer shares it: one lock
# for all of them, and each sets its own voice before it speaks.
_ENGINE_LOCK = threading.Lock()
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")


def split_sentences(text: str) -> list[str]:
    """Split a reply into sentences, so the first can be spoken while the rest is synthesised."""
    return [s.strip() for s in _SENTENCE.split(text.strip()) if s.strip()]


@dataclass
class Speech:
    """Synthesised audio for one piece of text."""

    text: str
    audio: np.ndarray  # mono float32
    rate: int


class Synthesizer:
    """Text to audio with pyttsx3 (espeak-ng on Linux). One instance per thread of use."""

    def __init__(self, rate: int = 165, volume: float = 1.0, voice: str | None = "en-us") -> None:
        try:
            import pyttsx3

            with contextlib.redirect_stdout(io.StringIO()):
                self._engine = pyttsx3.init()
        except Exception as exc:  # espeak-ng library missing, driver failure
            raise VoiceError(
                f"The speech synthesiser could not start ({exc}).",
                "Install espeak-ng: sudo apt-get install espeak-ng",
            ) from exc
        _silence_driver_prints()
        self.rate = rate
        self.volume = volume
        self._voice_id = self._find_voice(voice) if voice else None

    def _find_voice(self, wanted: str) -> str:
        voices = self._engine.getProperty("voices")
        low = wanted.lower()
        for v in voices:
            if low in (v.id.lower(), str(v.name).lower()):
                return v.id
        for v in voices:
            if low in v.id.lower() or low in str(v.name).lower():
                return v.id
        english = [v.id for v in voices if "en" in v.id.split("/")[-1][:2]][:8]
        raise VoiceError(
            f"No voice matches '{wanted}'.",
            f"Try one of: {', '.join(english)} (voice-companion doctor lists more).",
        )

    def voices(self) -> list[tuple[str, str]]:
        """(id, name) of every installed voice."""
        return [(v.id, str(v.name)) for v in self._engine.getProperty("voices")]

    def synthesize(self, text: str) -> Speech:
        """Synthesise ``text`` to audio (via a temporary WAV file)."""
        spoken = text
        with _ENGINE_LOCK:
            if self._voice_id is not None:
                self._engine.setProperty("voice", self._voice_id)
            # volume is applied at playback; the rate goes inline as an espeak-ng embedded command,
            # because pyttsx3's setProperty("rate") races with synthesis and is often ignored
            self._engine.setProperty("volume", 1.0)
            if _ESPEAK:
                text = f"\x01{int(self.rate)}S {text}"
            else:
                self._engine.setProperty("rate", int(self.rate))
            fd, name = tempfile.mkstemp(suffix=".wav", prefix="vc-")
            os.close(fd)
            try:
                for attempt in (1, 2):  # the driver once in a while leaves the file empty
                    with contextlib.redirect_stdout(io.StringIO()):
                        self._engine.save_to_file(text, name)
                        self._engine.runAndWait()
                    try:
                        audio, rate = read_wav(Path(name))
                        break
                    except (EOFError, wave.Error) as exc:
                        if attempt == 2:
                            raise VoiceError(
                                f"The speech synthesiser produced no audio ({exc or 'empty'}).",
                                "Check espeak-ng with: voice-companion doctor",
                            ) from exc
            finally:
                Path(name).unlink(missing_ok=True)
        return Speech(spoken, audio, rate)


def _silence_driver_prints() -> None:
    """pyttsx3's espeak driver prints "Audio saved to …" from its synthesis callback, which can
    land in the middle of JSON Lines output; give that module a print that does nothing."""
    try:
        from pyttsx3.drivers import espeak as driver
    except Exception:  # another platform's driver
        return
    driver.print = lambda *args, **kwargs: None


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV file as mono float32."""
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        channels = wav.getnchannels()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    audio = data.astype(np.float32) / 32768.0
    if channels > 1:
        audio = audio.reshape(-1, channels).mean(axis=1)
    return audio, rate


def write_wav(path: Path, audio: np.ndarray, rate: int) -> None:
    """Write mono float32 audio as a 16-bit PCM WAV file."""
    from voice_companion.audio import to_wav_bytes

    path.write_bytes(to_wav_bytes(audio, rate))


class Segment:
    """One sound queued on the :class:`Player`: how much has gone out, and when it began."""

    def __init__(self, audio: np.ndarray, rate: int, text: str = "") -> None:
        self.audio = audio
        self.rate = rate
        self.text = text
        self.pos = 0  # samples handed to the sound card
        self.started_at: float | None = None  # when its first sample reaches the speaker
        self.stopped = False
        self.done = threading.Event()

    @property
    def duration_s(self) -> float:
        return self.audio.size / self.rate

    @property
    def played_s(self) -> float:
        return self.pos / self.rate

    @property
    def finished(self) -> bool:
        """Played to the end (not stopped part-way)."""
        return self.done.is_set() and not self.stopped


class Player:
    """Plays queued sounds back to back through one sounddevice stream; :meth:`stop` silences it
    at once.

    One output stream stays open while sounds are queued, so the sentences of a reply follow
    each other without the gap that opening a new stream costs. ``played_s`` tells how much of
    the current sound has actually gone out, so an interrupted reply can be recorded with only
    the part the person heard.
    """

    PREFERRED_RATE = 22050  # espeak-ng's rate, and the earcons'

    def __init__(self, device: int | str | None = None) -> None:
        self.device = device
        self._stream = None
        self._stream_rate = self.PREFERRED_RATE
        self._lock = threading.Lock()
        self._segments: deque[Segment] = deque()
        self._current: Segment | None = None  # the last segment to start playing
        self._idle = threading.Event()
        self._idle.set()

    @property
    def playing(self) -> bool:
        return not self._idle.is_set()

    @property
    def played_s(self) -> float:
        seg = self._current
        return seg.played_s if seg is not None else 0.0

    @property
    def started_at(self) -> float | None:
        seg = self._current
        return seg.started_at if seg is not None else None

    def open(self) -> None:
        """Open the output stream now (it opens by itself on the first sound; opening it early,
        while the reply is still being worked out, takes the stream's start-up off the reply)."""
        import sounddevice as sd

        with self._lock:
            if self._stream is not None:
                return
            rate = self.PREFERRED_RATE
            try:
                sd.check_output_settings(device=self.device, samplerate=rate, channels=1)
            except Exception:
                try:
                    rate = int(sd.query_devices(self.device, "output")["default_samplerate"])
                except Exception as exc:
                    raise VoiceError(
                        f"Cannot play sound on the output device ({exc}).",
                        "Check the speaker with: voice-companion devices (and --output-device).",
                    ) from exc
            try:
                stream = sd.OutputStream(
                    samplerate=rate, channels=1, dtype="float32", device=self.device,
                    callback=self._callback, blocksize=512, latency=0.1,  # no dropouts under load
                )
                stream.start()
            except Exception as exc:
                raise VoiceError(
                    f"Cannot play sound on the output device ({exc}).",
                    "Check the speaker with: voice-companion devices (and --output-device).",
                ) from exc
            self._stream, self._stream_rate = stream, rate

    def queue(self, audio: np.ndarray, rate: int, volume: float = 1.0, text: str = "") -> Segment:
        """Queue a sound to play after those already queued (returns at once)."""
        self.open()
        data = np.clip(np.asarray(audio, np.float32) * volume, -1.0, 1.0).astype(np.float32)
        data = _resample(data, rate, self._stream_rate)
        seg = Segment(data, self._stream_rate, text)
        self._idle.clear()
        self._segments.append(seg)
        return seg

    def _callback(self, outdata, frames, time_info, _status) -> None:  # noqa: ANN001
        # The audio thread: no locks, no allocation beyond slicing. deque's append and popleft
        # are atomic, so the speaker thread can queue while this runs.
        out = outdata[:, 0]
        filled = 0
        while filled < frames:
            try:
                seg = self._segments[0]
            except IndexError:  # empty, or emptied by stop() meanwhile
                break
            if seg.started_at is None:
                seg.started_at = time.monotonic() + _output_delay(time_info)
                self._current = seg
            n = min(frames - filled, seg.audio.size - seg.pos)
            out[filled : filled + n] = seg.audio[seg.pos : seg.pos + n]
            seg.pos += n
            filled += n
            if seg.pos >= seg.audio.size:
                with contextlib.suppress(IndexError):
                    if self._segments[0] is seg:
                        self._segments.popleft()
                seg.done.set()
        out[filled:] = 0
        if not self._segments:
            self._idle.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every queued sound has gone out; ``False`` on timeout."""
        return self._idle.wait(timeout)

    def stop(self) -> None:
        """Stop at once and drop everything queued. Safe from any thread, and when idle."""
        dropped = list(self._segments)
        self._segments.clear()
        for seg in dropped:
            seg.stopped = True
            seg.done.set()
        self._idle.set()
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.abort(ignore_errors=True)
            with contextlib.suppress(Exception):
                stream.close(ignore_errors=True)

    def close(self) -> None:
        """Let what has gone out finish sounding, then close the stream (when idle)."""
        with self._lock:
            if self._segments or self._stream is None:
                return
            stream, self._stream = self._stream, None
        with contextlib.suppress(Exception):
            stream.stop(ignore_errors=True)  # plays out the buffers already handed over
        with contextlib.suppress(Exception):
            stream.close(ignore_errors=True)


def _output_delay(time_info) -> float:  # noqa: ANN001
    """Seconds until the block being filled reaches the speaker, as PortAudio reports it (0 when
    the host gives no times)."""
    try:
        delay = float(time_info.outputBufferDacTime - time_info.currentTime)
    except Exception:
        return 0.0
    return delay if 0.0 < delay < 0.5 else 0.0


def _resample(audio: np.ndarray, rate: int, new_rate: int) -> np.ndarray:
    if rate == new_rate or audio.size == 0:
        return audio
    n = int(round(audio.size * new_rate / rate))
    return np.interp(np.linspace(0, audio.size - 1, n), np.arange(audio.size), audio).astype(
        np.float32
    )


def speak_text(text: str, settings) -> None:  # noqa: ANN001 - Settings, imported lazily
    """Say ``text`` aloud with the person's voice settings and wait until it is done."""
    from voice_companion.devices import resolve_output

    synth = Synthesizer(settings.rate, settings.volume, settings.voice)
    player = Player(resolve_output(settings.output_device))
    for sentence in split_sentences(text):
        speech = synth.synthesize(sentence)
        player.queue(speech.audio, speech.rate, settings.volume, sentence)
    player.wait()
    player.close()


class Utterance:
    """A reply as the speaker says it: its sentences, as they are queued on the player."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.segments: list[Segment] = []

    @property
    def first_audio_at(self) -> float | None:
        """When its first sound reached the speaker (monotonic seconds), once it has."""
        return self.segments[0].started_at if self.segments else None

    def heard(self) -> str:
        """The words that actually went out: whole sentences, then the part of the one that was
        playing when it stopped."""
        heard: list[str] = []
        for seg in self.segments:
            if seg.finished:
                heard.append(seg.text)
            elif seg.pos > 0:
                words = seg.text.split()
                k = int(len(words) * min(1.0, seg.played_s / max(seg.duration_s, 1e-6)))
                if k:
                    heard.append(" ".join(words[:k]) + "…")
                break
            else:
                break
        return " ".join(heard)


class Speaker:
    """Speaks replies sentence by sentence in a background thread, and can be interrupted.

    The first sentence is queued on the player as soon as it is synthesised and the next ones are
    synthesised while it plays, all through one output stream. :meth:`interrupt` stops playback
    at once and returns the words actually spoken. Earcons go through the same queue, so
    "speaking" covers them too (the microphone is ignored while the companion makes any sound).
    ``played`` keeps the last reply's audio at 16 kHz, so the microphone can be checked against
    what the companion itself said.
    """

    def __init__(
        self,
        synth: Synthesizer,
        player: Player,
        settings,  # noqa: ANN001 - Settings, imported lazily
        on_played: Callable[[np.ndarray], None] | None = None,
    ) -> None:
        import queue

        self.on_played = on_played  # told each reply's audio (16 kHz) once it is queued
        self.synth = synth
        self.player = player
        self.settings = settings
        self._queue: queue.Queue = queue.Queue()
        self._busy = threading.Event()
        self._interrupt = threading.Event()
        self._lock = threading.Lock()
        self.current: Utterance | None = None  # the reply being spoken, or last spoken
        self.finished_at: float = 0.0
        self.tts_ms: float = 0.0  # time to synthesise the first sentence
        self.played: list[np.ndarray] = []  # the last reply's sentences as played, 16 kHz
        self._thread = threading.Thread(target=self._run, name="speaker", daemon=True)
        self._thread.start()

    @property
    def speaking(self) -> bool:
        return self._busy.is_set()

    @property
    def first_audio_at(self) -> float | None:
        """When the sound card started playing the current reply (monotonic seconds)."""
        utterance = self.current
        return utterance.first_audio_at if utterance is not None else None

    def say(self, text: str) -> Utterance:
        """Queue a reply to speak (returns at once)."""
        utterance = Utterance(text)
        with self._lock:
            self._busy.set()
            self._interrupt.clear()
            self.current = utterance
            self._queue.put(("text", utterance))
        return utterance

    def chime(self, audio: np.ndarray, rate: int) -> None:
        """Queue an earcon."""
        with self._lock:
            self._busy.set()
            self._queue.put(("chime", (audio, rate)))

    def prepare(self) -> None:
        """Open the output stream ahead of a reply (see :meth:`Player.open`)."""
        with contextlib.suppress(VoiceError):
            self.player.open()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until everything queued has been spoken."""
        end = None if timeout is None else time.monotonic() + timeout
        while self._busy.is_set():
            if end is not None and time.monotonic() > end:
                return False
            time.sleep(0.01)
        return True

    def interrupt(self) -> str:
        """Stop speaking now; returns the part of the current reply that was actually heard."""
        with self._lock:
            self._interrupt.set()
            while not self._queue.empty():
                try:
                    self._queue.get_nowait()
                except Exception:
                    break
            self.player.stop()
            utterance = self.current
        return utterance.heard() if utterance is not None else ""

    def close(self) -> None:
        self.player.stop()
        self._queue.put(("quit", None))

    def _run(self) -> None:
        while True:
            kind, item = self._queue.get()
            if kind == "quit":
                return
            if kind == "chime":
                audio, rate = item
                if not self._interrupt.is_set():
                    self._queue_sound(audio, rate, 1.0)
            else:
                self._speak(item)
            if self._queue.empty():
                # everything queued: let it play out, then close the stream until the next reply
                while not self.player.wait(0.05):
                    if self._interrupt.is_set() or not self._queue.empty():
                        break
                if self._queue.empty():
                    self.player.close()
                    self.finished_at = time.monotonic()
                    self._busy.clear()

    def _queue_sound(self, audio: np.ndarray, rate: int, volume: float, text: str = "") -> Segment:
        try:
            return self.player.queue(audio, rate, volume, text)
        except VoiceError:
            seg = Segment(audio, rate, text)
            seg.stopped = True
            seg.done.set()
            return seg

    def _speak(self, utterance: Utterance) -> None:
        start = time.perf_counter()
        self.played = []
        for i, sentence in enumerate(split_sentences(utterance.text)):
            if self._interrupt.is_set():
                return
            self.synth.rate = self.settings.rate
            speech = self.synth.synthesize(sentence)
            if i == 0:
                self.tts_ms = (time.perf_counter() - start) * 1000
            if self._interrupt.is_set():
                return
            utterance.segments.append(
                self._queue_sound(speech.audio, speech.rate, self.settings.volume, sentence)
            )
            self.played.append(_resample(speech.audio * self.settings.volume, speech.rate, 16000))
        if self.on_played is not None and self.played:
            self.on_played(np.concatenate(self.played))
