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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice_companion.errors import VoiceError

_ESPEAK = sys.platform.startswith("linux")
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
        self._lock = threading.Lock()
        self.rate = rate
        self.volume = volume
        if voice:
            self._engine.setProperty("voice", self._find_voice(voice))

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
        with self._lock:
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
                with contextlib.redirect_stdout(io.StringIO()):
                    self._engine.save_to_file(text, name)
                    self._engine.runAndWait()
                audio, rate = read_wav(Path(name))
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


class Player:
    """Plays audio through sounddevice; :meth:`stop` silences it at once.

    ``played_s`` tells how much of the current sound has actually gone out, so an interrupted
    reply can be recorded with only the part the person heard.
    """

    def __init__(self, device: int | str | None = None) -> None:
        self.device = device
        self._stream = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._done.set()
        self._stop = threading.Event()
        self._pos = 0
        self._data = np.zeros(0, np.float32)
        self._rate = 22050
        self.started_at: float | None = None

    @property
    def playing(self) -> bool:
        return not self._done.is_set()

    @property
    def played_s(self) -> float:
        return self._pos / self._rate

    def play(self, audio: np.ndarray, rate: int, volume: float = 1.0) -> None:
        """Start playing (returns at once); a sound already playing is stopped first."""
        import sounddevice as sd

        self.stop()
        self._stop.clear()
        self._done.clear()
        self._pos = 0
        self.started_at: float | None = None  # when the sound card first asked for samples
        self._data = (np.clip(audio * volume, -1.0, 1.0)).astype(np.float32)
        self._rate = rate
        out_rate = rate
        try:
            sd.check_output_settings(device=self.device, samplerate=rate, channels=1)
        except Exception:
            info = sd.query_devices(self.device, "output")
            out_rate = int(info["default_samplerate"])
            self._data = _resample(self._data, rate, out_rate)
            self._rate = out_rate

        def callback(outdata, frames, _time, _status):  # audio thread: keep it tiny
            if self.started_at is None:
                self.started_at = time.monotonic()
            if self._stop.is_set():
                outdata.fill(0)
                raise sd.CallbackStop
            chunk = self._data[self._pos : self._pos + frames]
            outdata[: chunk.size, 0] = chunk
            outdata[chunk.size :, 0] = 0
            self._pos += chunk.size
            if chunk.size < frames:
                raise sd.CallbackStop

        try:
            stream = sd.OutputStream(
                samplerate=out_rate,
                channels=1,
                dtype="float32",
                device=self.device,
                callback=callback,
                finished_callback=self._done.set,
                blocksize=512,
                latency="low",
            )
            with self._lock:
                self._stream = stream
            stream.start()
        except Exception as exc:
            self._done.set()
            raise VoiceError(
                f"Cannot play sound on the output device ({exc}).",
                "Check the speaker with: voice-companion devices (and --output-device).",
            ) from exc

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the sound has finished; ``False`` on timeout."""
        finished = self._done.wait(timeout)
        if finished:
            self._close()
        return finished

    def stop(self) -> None:
        """Stop at once. Safe to call from any thread, and when nothing is playing."""
        self._stop.set()  # the callback outputs silence from its next block on
        with self._lock:
            stream, self._stream = self._stream, None
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.abort(ignore_errors=True)
                with contextlib.suppress(Exception):
                    stream.close(ignore_errors=True)
        self._done.set()

    def _close(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close(ignore_errors=True)


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
        player.play(speech.audio, speech.rate, settings.volume)
        player.wait()


class Speaker:
    """Speaks replies sentence by sentence in a background thread, and can be interrupted.

    The first sentence starts playing as soon as it is synthesised; the next is synthesised while
    the first plays. :meth:`interrupt` stops playback at once and returns the words actually
    spoken. Earcons go through the same queue, so "speaking" covers them too (the microphone is
    ignored while the companion makes any sound).
    """

    def __init__(self, synth: Synthesizer, player: Player, settings) -> None:  # noqa: ANN001
        import queue

        self.synth = synth
        self.player = player
        self.settings = settings
        self._queue: queue.Queue = queue.Queue()
        self._busy = threading.Event()
        self._interrupt = threading.Event()
        self._lock = threading.Lock()
        self.spoken: list[str] = []  # sentences fully played for the current reply
        self.current = ""  # sentence playing now
        self._first_audio_at: float | None = None
        self._on_first = False
        self.finished_at: float = 0.0
        self.tts_ms: float = 0.0  # time to synthesise the first sentence
        self._thread = threading.Thread(target=self._run, name="speaker", daemon=True)
        self._thread.start()

    @property
    def speaking(self) -> bool:
        return self._busy.is_set()

    @property
    def first_audio_at(self) -> float | None:
        """When the sound card started playing the current reply (monotonic seconds)."""
        if self._first_audio_at is None and self._on_first:
            return self.player.started_at
        return self._first_audio_at

    def say(self, text: str) -> None:
        """Queue a reply to speak (returns at once)."""
        with self._lock:
            self._busy.set()
            self._interrupt.clear()
            self._first_audio_at, self._on_first = None, False
            self._queue.put(("text", text))

    def chime(self, audio: np.ndarray, rate: int) -> None:
        """Queue an earcon."""
        with self._lock:
            self._busy.set()
            self._queue.put(("chime", (audio, rate)))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until everything queued has been spoken."""
        import time

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
            played = self.player.played_s
            self.player.stop()
            heard = list(self.spoken)
            if self.current:
                words = self.current.split()
                total = max(self._current_len, 1e-6)
                k = int(len(words) * min(1.0, played / total))
                if k:
                    heard.append(" ".join(words[:k]) + "…")
        return " ".join(heard)

    def close(self) -> None:
        self.player.stop()
        self._queue.put(("quit", None))

    def _run(self) -> None:
        import time

        self._current_len = 0.0
        while True:
            kind, item = self._queue.get()
            if kind == "quit":
                return
            if kind == "chime":
                audio, rate = item
                if not self._interrupt.is_set():
                    self.player.play(audio, rate, 1.0)
                    self.player.wait()
            else:
                self._speak(item, time)
            if self._queue.empty():
                self.finished_at = time.monotonic()
                self._busy.clear()

    def _speak(self, text: str, time) -> None:  # noqa: ANN001
        self.spoken, self.current, self._first_audio_at = [], "", None
        start = time.perf_counter()
        sentences = split_sentences(text)
        for i, sentence in enumerate(sentences):
            if self._interrupt.is_set():
                return
            self.synth.rate = self.settings.rate
            speech = self.synth.synthesize(sentence)
            if i == 0:
                self.tts_ms = (time.perf_counter() - start) * 1000
            if self._interrupt.is_set():
                return
            self.current = sentence
            self._current_len = speech.audio.size / speech.rate
            self._on_first = i == 0
            self.player.play(speech.audio, speech.rate, self.settings.volume)
            self.player.wait()
            if i == 0:
                self._first_audio_at = self.player.started_at
                self._on_first = False
            if self._interrupt.is_set():
                return
            self.spoken.append(sentence)
            self.current = ""
