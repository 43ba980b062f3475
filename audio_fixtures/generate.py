#!/usr/bin/env python3
"""Regenerate every audio fixture in this folder and ``manifest.json``.

Usage::

    python audio_fixtures/generate.py            # rewrite audio_fixtures/ in place
    python audio_fixtures/generate.py --out DIR  # write somewhere else (to compare two runs)

Speech comes from the ``espeak-ng`` binary (``-v voice -s rate -p pitch -w out.wav``) and is
resampled with ``sox``; noise, silence, breaths and the "radio" are made with numpy from fixed
seeds; MP3 and Ogg Vorbis are encoded with ``ffmpeg`` in bit-exact mode. Every turn and pause time
in the manifest is measured from the generated samples, not guessed. The same tool versions give
byte-identical files on every run.

Every fixture that is not about the file format is 16 kHz mono 16-bit FLAC (lossless, about half
the size of WAV), so that the whole folder stays under 4 MB.
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
SR = 16000
SPEECH_DBFS = -26.0  # RMS of the voiced parts of every spoken segment
LEAD_S = 0.5  # silence before the first word (the program keeps 0.5 s of pre-roll)
TRAIL_S = 1.0  # silence after the last word of a single-turn fixture
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg"}

# The companion's own voice: what pyttsx3 gets from espeak-ng with no voice set, at the
# program's default rate of 175 words per minute.
COMPANION = ("en", 175, 50)

_work_dir: Path | None = None
_synth_cache: dict[tuple[str, str, int, int, int], np.ndarray] = {}


# ----------------------------------------------------------------------------------------------
# Low-level helpers


def _tmp() -> Path:
    if _work_dir is None:
        raise RuntimeError("generate() sets up the scratch folder")
    return _work_dir


def seed_for(name: str) -> int:
    """A fixed seed per fixture, so that adding a fixture changes no other file."""
    return zlib.crc32(name.encode("utf-8"))


def db(value: float) -> float:
    return float(10.0 ** (value / 20.0))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def active_rms(x: np.ndarray, sr: int = SR) -> float:
    """RMS of the 20 ms frames within 30 dB of the loudest one (the voiced part of speech)."""
    frame = max(1, int(0.02 * sr))
    n = len(x) // frame
    if n == 0:
        return rms(x)
    frames = np.sqrt(np.mean(np.square(x[: n * frame].reshape(n, frame)), axis=1))
    keep = frames > frames.max() * db(-30.0)
    return float(np.sqrt(np.mean(np.square(frames[keep]))))


def trim(x: np.ndarray, sr: int) -> np.ndarray:
    """Cut espeak's leading and trailing silence, keeping 10 ms around the speech."""
    loud = np.flatnonzero(np.abs(x) > 0.003 * np.abs(x).max())
    margin = int(0.01 * sr)
    return x[max(0, loud[0] - margin) : min(len(x), loud[-1] + margin + 1)]


def synth(text: str, voice: str, rate: int, pitch: int, sr: int = SR) -> np.ndarray:
    """Speak ``text`` with espeak-ng, resample to ``sr`` and return it trimmed and levelled."""
    key = (text, voice, rate, pitch, sr)
    if key not in _synth_cache:
        raw, out = _tmp() / "espeak.wav", _tmp() / "resampled.wav"
        cmd = ["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "-w", str(raw), text]
        subprocess.run(cmd, check=True, capture_output=True)
        # float output: no dither, so the result is the same on every run
        cmd = ["sox", "-q", str(raw), "-e", "floating-point", "-b", "32", str(out)]
        subprocess.run([*cmd, "rate", "-v", str(sr)], check=True, capture_output=True)
        audio, got = sf.read(out, dtype="float64")
        assert got == sr, (got, sr)
        audio = trim(audio, sr)
        _synth_cache[key] = audio * (db(SPEECH_DBFS) / active_rms(audio, sr))
    return _synth_cache[key].copy()


def fft_filter(x: np.ndarray, gain: Callable[[np.ndarray], np.ndarray], sr: int = SR) -> np.ndarray:
    """Filter ``x`` in the frequency domain; ``gain`` maps frequencies in Hz to amplitude gains."""
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1.0 / sr)
    return np.fft.irfft(spectrum * gain(freqs), len(x))


def band(lo: float, hi: float, order: int = 4) -> Callable[[np.ndarray], np.ndarray]:
    """A smooth band-pass magnitude response (Butterworth-like skirts)."""

    def gain(f: np.ndarray) -> np.ndarray:
        f = np.maximum(f, 1e-3)
        high = 1.0 / np.sqrt(1.0 + (lo / f) ** (2 * order)) if lo > 0 else 1.0
        low = 1.0 / np.sqrt(1.0 + (f / hi) ** (2 * order)) if hi > 0 else 1.0
        return high * low

    return gain


def coloured_noise(n: int, rng: np.random.Generator, exponent: float) -> np.ndarray:
    """Unit-RMS noise with power falling as 1/f**exponent (1: pink, 2: brown), above 20 Hz."""
    white = rng.standard_normal(n)

    def gain(f: np.ndarray) -> np.ndarray:
        return np.where(f < 20.0, 0.0, 1.0 / np.maximum(f, 20.0) ** (exponent / 2.0))

    noise = fft_filter(white, gain)
    return noise / rms(noise)


def hum(n: int, rng: np.random.Generator, mains: float = 50.0) -> np.ndarray:
    """Unit-RMS mains hum: the fundamental and odd-heavy harmonics with a slow wobble."""
    t = np.arange(n) / SR
    out = np.zeros(n)
    for k, amp in ((1, 1.0), (2, 0.35), (3, 0.5), (4, 0.1), (5, 0.25), (7, 0.12)):
        out += amp * np.sin(2 * np.pi * mains * k * t + rng.uniform(0, 2 * np.pi))
    out *= 1.0 + 0.05 * np.sin(2 * np.pi * 0.3 * t)
    return out / rms(out)


def room_tone(n: int, rng: np.random.Generator, level_dbfs: float = -68.0) -> np.ndarray:
    """Very quiet room: pink noise with a trace of 50 Hz hum."""
    return coloured_noise(n, rng, 1.0) * db(level_dbfs) + hum(n, rng) * db(level_dbfs - 12.0)


def envelope(n: int, attack: float, release: float) -> np.ndarray:
    """A raised-cosine attack then a raised-cosine release, ``attack + release`` = 1 (fractions)."""
    a = max(1, int(n * attack))
    r = max(1, n - a)
    up = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, a))
    down = 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, r))
    return np.concatenate([up, down])


def quantise(x: np.ndarray, sample_format: str) -> np.ndarray:
    if sample_format == "s16":
        return np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2")
    if sample_format == "s24":
        return np.clip(np.round(x * 8388607.0), -8388608, 8388607).astype("<i4")
    if sample_format == "f32":
        return x.astype("<f4")
    raise ValueError(sample_format)


def wav_bytes(x: np.ndarray, sr: int, sample_format: str, claim_frames: int | None = None) -> bytes:
    """A plain RIFF/WAVE file (no PEAK chunk, no timestamps): s16, s24 or f32 samples.

    ``claim_frames`` writes a header for that many frames whatever the data holds (truncation).
    """
    frames = x.reshape(len(x), -1)
    channels = frames.shape[1]
    q = quantise(frames, sample_format)
    if sample_format == "s24":
        data = q.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        data = q.tobytes()
    width = {"s16": 2, "s24": 3, "f32": 4}[sample_format]
    tag = 3 if sample_format == "f32" else 1
    claimed = len(data) if claim_frames is None else claim_frames * channels * width
    fmt = struct.pack(
        "<HHIIHH", tag, channels, sr, sr * channels * width, channels * width, 8 * width
    )
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if tag == 3:  # non-PCM WAVE files carry a fact chunk with the frame count
        chunks = b"fmt " + struct.pack("<I", len(fmt) + 2) + fmt + b"\0\0"
        chunks += b"fact" + struct.pack("<II", 4, claimed // (channels * width))
    chunks += b"data" + struct.pack("<I", claimed) + data
    riff_size = 4 + len(chunks) + (claimed - len(data))
    return b"RIFF" + struct.pack("<I", riff_size) + b"WAVE" + chunks


# ----------------------------------------------------------------------------------------------
# Building a fixture


@dataclass
class Part:
    """A stretch of speech in one turn, followed by ``pause_after`` seconds of inserted silence."""

    text: str
    pause_after: float = 0.0
    say: str | None = None  # what espeak is given, when punctuation should differ from ``text``


@dataclass
class Track:
    """Audio laid out in time, remembering where each turn and in-turn pause lies."""

    sr: int = SR
    pieces: list[np.ndarray] = field(default_factory=list)
    length: int = 0
    turns: list[dict[str, Any]] = field(default_factory=list)
    pauses: list[dict[str, Any]] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)  # sample ranges of speech

    def silence(self, seconds: float) -> None:
        n = round(seconds * self.sr)
        self.pieces.append(np.zeros(n))
        self.length += n

    def turn(
        self,
        parts: Sequence[Part | str],
        voice: str,
        rate: int,
        pitch: int,
        speaker: str = "user",
        gain_db: float = 0.0,
    ) -> None:
        """One turn; the pause after the last part is not part of the turn."""
        parts = [Part(p) if isinstance(p, str) else p for p in parts]
        start = self.length
        for i, part in enumerate(parts):
            audio = synth(part.say or part.text, voice, rate, pitch, self.sr) * db(gain_db)
            self.spans.append((self.length, self.length + len(audio)))
            self.pieces.append(audio)
            self.length += len(audio)
            if i < len(parts) - 1 and part.pause_after > 0:
                gap = round(part.pause_after * self.sr)
                self.pauses.append(
                    {
                        "after_word": part.text.split()[-1].strip(",.;:!?"),
                        "start_s": self.seconds(self.length),
                        "duration_s": round(gap / self.sr, 3),
                    }
                )
                self.silence(gap / self.sr)
        self.turns.append(
            {
                "text": " ".join(p.text for p in parts),
                "start_s": self.seconds(start),
                "end_s": self.seconds(self.length),
                "speaker": speaker,
                "voice": voice,
            }
        )

    def seconds(self, samples: int) -> float:
        return round(samples / self.sr, 3)

    def audio(self) -> np.ndarray:
        return np.concatenate(self.pieces) if self.pieces else np.zeros(0)

    def speech_rms(self, audio: np.ndarray) -> float:
        voiced = np.concatenate([audio[a:b] for a, b in self.spans])
        return active_rms(voiced, self.sr)


PCM16 = {"container": "flac", "codec": "flac", "sample_rate": SR, "channels": 1,
         "sample_format": "s16"}  # fmt: skip


@dataclass
class Generator:
    out: Path
    entries: list[dict[str, Any]] = field(default_factory=list)

    # -- writing --------------------------------------------------------------------------

    def write_flac(self, name: str, audio: np.ndarray, sr: int = SR) -> None:
        peak = float(np.abs(audio).max()) if audio.size else 0.0
        if peak > 0.98:
            raise ValueError(f"{name} would clip (peak {peak:.2f})")
        sf.write(self.out / name, quantise(audio, "s16"), sr, format="FLAC", subtype="PCM_16")

    def add(
        self,
        name: str,
        kind: str,
        expect: str,
        track: Track | None = None,
        *,
        audio: np.ndarray | None = None,
        noise: dict[str, Any] | None = None,
        fmt: dict[str, Any] | None = None,
        voice: str | None = None,
        rate: int | None = None,
        pitch: int | None = None,
        duration_s: float | None = None,
    ) -> None:
        turns = track.turns if track else []
        user = [t for t in turns if t["speaker"] == "user"]
        self.entries.append(
            {
                "name": name,
                "kind": kind,
                "text": " ".join(t["text"] for t in user),
                "turns": turns,
                "pauses": track.pauses if track else [],
                "noise": noise,
                "format": fmt,
                "voice": voice,
                "rate": rate,
                "pitch": pitch,
                "duration_s": duration_s,
                "expect": expect,
            }
        )
        if audio is not None:
            self.write_flac(name, audio)
            self.entries[-1]["duration_s"] = round(len(audio) / SR, 3)
            self.entries[-1]["format"] = fmt or PCM16

    def spoken(
        self,
        name: str,
        kind: str,
        expect: str,
        parts: Sequence[Part | str],
        voice: str,
        rate: int,
        pitch: int,
        *,
        noise: str | None = None,
        snr_db: float | None = None,
        trail: float = TRAIL_S,
        gain_db: float = 0.0,
        noise_floor_dbfs: float | None = None,
    ) -> None:
        """A single-turn fixture, optionally with noise mixed in at ``snr_db``."""
        track = Track()
        track.silence(LEAD_S)
        track.turn(parts, voice, rate, pitch, gain_db=gain_db)
        track.silence(trail)
        audio = track.audio()
        info = None
        if noise is not None:
            audio, info = self.mix(name, audio, track, noise, snr_db, noise_floor_dbfs)
        self.add(name, kind, expect, track, audio=audio, noise=info, voice=voice, rate=rate,
                 pitch=pitch)  # fmt: skip

    def mix(
        self,
        name: str,
        audio: np.ndarray,
        track: Track,
        noise: str,
        snr_db: float | None,
        level_dbfs: float | None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Add room noise to the whole file: at ``snr_db`` below the speech, or at a level."""
        rng = np.random.default_rng(seed_for(name))
        n = len(audio)
        makers: dict[str, tuple[str, Callable[[], np.ndarray]]] = {
            "pink": ("pink noise (busy room, ventilation)", lambda: coloured_noise(n, rng, 1.0)),
            "brown": ("brown noise (traffic rumble, fan)", lambda: coloured_noise(n, rng, 2.0)),
            "hum": (
                "60 Hz mains hum with pink noise",
                lambda: 0.8 * hum(n, rng, 60.0) + 0.6 * coloured_noise(n, rng, 1.0),
            ),
            "room": ("very quiet room tone", lambda: coloured_noise(n, rng, 1.0)),
        }
        description, make = makers[noise]
        bed = make()
        bed /= rms(bed)
        if snr_db is not None:
            level = track.speech_rms(audio) / db(snr_db)
        else:
            assert level_dbfs is not None
            level = db(level_dbfs)
        bed *= level
        snr = 20 * np.log10(track.speech_rms(audio) / rms(bed))
        info = {
            "description": description,
            "snr_db": round(float(snr), 1),
            "level_dbfs": round(float(20 * np.log10(rms(bed))), 1),
        }
        return audio + bed, info

    # -- the fixture sets -----------------------------------------------------------------

    def speech_set(self) -> None:
        one = "one user turn; the transcript should match the text"
        clean = [
            ("speech_rough_day_work.flac", "en-us", 160, 50,
             "I had a really rough day at work. My boss ignored me in the meeting again."),
            ("speech_nervous_interview.flac", "en-gb-x-rp", 140, 40,
             "I'm nervous about my job interview on Friday. What if I freeze up again?"),
            ("speech_lonely_partner.flac", "en-us+f3", 140, 60,
             "I feel lonely even when my partner is home."),
            ("speech_good_day_painting.flac", "en-us-nyc", 180, 55,
             "It was actually a good day. I finally finished the painting I started months ago."),
            ("speech_tired_baby.flac", "en-us+f2", 140, 65,
             "I'm so tired. The baby was up all night and I still had to go to work."),
        ]  # fmt: skip
        for name, voice, rate, pitch, text in clean:
            self.spoken(name, "speech", one, [text], voice, rate, pitch)
        noisy = [
            ("speech_angry_friend_pink_noise.flac", "en-us+m1", 170, 40, "pink", 20.0,
             "I'm angry at my friend. She cancelled on me for the third time this month."),
            ("speech_calm_walk_brown_noise.flac", "en+m7", 190, 35, "brown", 15.0,
             "I went for a long walk by the river, and for the first time in weeks I felt calm."),
            ("speech_worried_dad_hum.flac", "en-us+m2", 150, 40, "hum", 18.0,
             "My dad is sick again, and I keep worrying that I should be doing more for him."),
        ]  # fmt: skip
        for name, voice, rate, pitch, kind, snr, text in noisy:
            expect = f"{one}, despite the background noise ({snr:g} dB SNR)"
            self.spoken(name, "speech", expect, [text], voice, rate, pitch, noise=kind,
                        snr_db=snr)  # fmt: skip
        self.spoken(
            "speech_quiet_miss_dog.flac", "speech",
            f"{one}; the voice is quiet (about -44 dBFS, far from the microphone) over a "
            "faint room tone",
            ["I miss my dog. It's been a year since she died, and today it hit me again."],
            "en-us+m4", 145, 45, noise="room", gain_db=-20.0, noise_floor_dbfs=-68.0,
        )  # fmt: skip

    def conversation_set(self) -> None:
        convs = [
            ("conversation_three_turns.flac", "en-us+f2", 155, 55,
             ["Hi. I wanted to talk about my week.",
              "Mostly it's my brother. We had a big fight on Sunday.",
              "I think I said things I didn't mean, and now he won't answer my calls."],
             "three user turns, one after each 3 s silence, each answered in order"),
            ("conversation_goodbye.flac", "en-gb-x-rp", 150, 48,
             ["I'm feeling a bit better than yesterday.",
              "Talking about it helped, I think.",
              "That's all for today, goodbye."],
             "three user turns; the last one ends the session with a goodbye"),
        ]  # fmt: skip
        for name, voice, rate, pitch, texts, expect in convs:
            track = Track()
            track.silence(LEAD_S)
            for i, text in enumerate(texts):
                if i:
                    track.silence(3.0)
                track.turn([text], voice, rate, pitch)
            track.silence(2.0)
            self.add(name, "conversation", expect, track, audio=track.audio(), voice=voice,
                     rate=rate, pitch=pitch)  # fmt: skip

    def pause_set(self) -> None:
        rule = "one user turn: the pause follows unfinished words, so it must not end the turn"

        def unfinished(words: str, pause: float) -> Part:
            # a trailing comma gives espeak's continuing (not final) intonation
            return Part(words, pause, f"{words},")

        cases = [
            ("pause_0500ms_because.flac", "en-us", 150, 50,
             [unfinished("I couldn't sleep last night because", 0.5),
              Part("I kept thinking about what she said.")], rule),
            ("pause_1000ms_and_then_i.flac", "en-gb-x-rp", 145, 45,
             [unfinished("I went to see my mother and then I", 1.0),
              Part("realised she didn't recognise me.")], rule),
            ("pause_1500ms_but_um.flac", "en-us+f3", 150, 60,
             [unfinished("I wanted to call my sister, but um", 1.5),
              Part("I didn't know what to say.")], rule),
            ("pause_2000ms_and.flac", "en-us-nyc", 160, 50,
             [unfinished("I tried to explain it to him and", 2.0),
              Part("he just walked away.")],
             f"{rule}; 2.0 s equals the default long_wait_s, so this is the edge case"),
            ("pause_multi_so_today_i.flac", "en-us+f2", 140, 62,
             [unfinished("So today I", 0.8), unfinished("um", 1.2),
              Part("I don't know. I just felt empty.")],
             "one user turn with two pauses (0.8 s after 'I', 1.2 s after 'um')"),
            ("pause_0700ms_so.flac", "en-gb", 155, 50,
             [unfinished("I finally called my brother, so", 0.7),
              Part("we're talking again.")], rule),
            ("pause_0900ms_uh.flac", "en-us+m3", 150, 45,
             [unfinished("My manager wants me to, uh", 0.9),
              Part("take on another project.")], rule),
            ("pause_1000ms_the.flac", "en-gb-scotland", 150, 48,
             [unfinished("When I got home the", 1.0),
              Part("house was completely quiet.")], rule),
            ("pause_1200ms_that.flac", "en-029", 145, 55,
             [unfinished("I keep thinking that", 1.2),
              Part("maybe I said the wrong thing.")], rule),
            ("pause_1300ms_if.flac", "en-us+f2", 150, 60,
             [unfinished("I honestly don't know if", 1.3),
              Part("I want to stay in this job.")], rule),
            ("pause_1700ms_with.flac", "en-gb-x-gbclan", 150, 50,
             [unfinished("I had a long talk with", 1.7),
              Part("my best friend last night.")], rule),
            ("pause_1800ms_like.flac", "en-us-nyc", 155, 52,
             [unfinished("It just felt like", 1.8),
              Part("nobody was really listening.")], rule),
        ]  # fmt: skip
        for name, voice, rate, pitch, parts, expect in cases:
            self.spoken(name, "pause", expect, parts, voice, rate, pitch)

        self.spoken("turn_short_im_tired.flac", "speech",
                    "one short user turn, ended after the short wait (a finished thought)",
                    ["I'm tired."], "en-us+m3", 150, 45)  # fmt: skip
        self.spoken("turn_short_no_not_really.flac", "speech",
                    "one short user turn, ended after the short wait (a finished thought)",
                    ["No, not really."], "en-us+f3", 150, 58)  # fmt: skip
        long_parts = [
            Part("Today started badly. I overslept and missed my train, so I was late for the "
                 "team meeting.", 0.35),
            Part("Nobody said anything, but I could feel them looking at me.", 0.3),
            Part("Things got a little better in the afternoon.", 0.45),
            Part("My colleague Sam asked how I was doing, and I actually told her the truth.",
                 0.25),
            Part("She just listened, and that helped more than I expected.", 0.4),
            Part("On my way home, I bought some flowers for the kitchen table."),
        ]  # fmt: skip
        self.spoken(
            "turn_long_day_story.flac",
            "pause",
            "one long user turn (about 25 s) with short natural pauses between "
            "sentences; none of them ends the turn",
            long_parts,
            "en-us+m3",
            150,
            50,
        )

    def quiet_set(self) -> None:
        none = "no user turn"
        zeros = np.zeros(4 * SR)
        self.add("silence_digital_zero.flac", "silence", f"{none}: pure digital silence",
                 audio=zeros, noise=None)  # fmt: skip

        name = "silence_room_tone.flac"
        rng = np.random.default_rng(seed_for(name))
        tone = room_tone(4 * SR, rng)
        self.add(
            name,
            "silence",
            f"{none}: very quiet room tone",
            audio=tone,
            noise={
                "description": "very quiet room tone (pink noise and faint hum)",
                "snr_db": None,
                "level_dbfs": round(20 * np.log10(rms(tone)), 1),
            },
        )

        for name, description, seconds, make in (
            ("noise_pink.flac", "steady pink noise (fan, ventilation)", 3, self._pink),
            ("noise_keyboard_typing.flac", "keyboard-like clicks in typing bursts", 5,
             self._keyboard),
            ("noise_door_thumps.flac", "two loud door-slam-like thumps with a rattle", 4,
             self._thumps),
            ("noise_mains_hum.flac", "50 Hz mains hum with harmonics", 3, self._hum),
            ("noise_radio_music.flac",
             "a distant radio: band-passed music-like tones (chords, melody, bass) and hiss", 5,
             self._radio),
        ):  # fmt: skip
            rng = np.random.default_rng(seed_for(name))
            audio = make(seconds * SR, rng)
            self.add(name, "noise", f"{none}: noise only, nothing is said", audio=audio,
                     noise={"description": description, "snr_db": None,
                            "level_dbfs": round(20 * np.log10(rms(audio)), 1)})  # fmt: skip

        for name, description, seconds, make in (
            ("breath_calm.flac", "two calm breaths in and out (shaped filtered noise)", 5,
             self._breaths),
            ("breath_sigh.flac", "one deep breath in and a long sigh out (shaped filtered noise)",
             4, self._sigh),
        ):  # fmt: skip
            rng = np.random.default_rng(seed_for(name))
            audio = make(seconds * SR, rng)
            self.add(name, "breath", f"{none}: breathing only, nothing is said", audio=audio,
                     noise={"description": description, "snr_db": None,
                            "level_dbfs": round(20 * np.log10(rms(audio)), 1)})  # fmt: skip

    def format_set(self) -> None:
        text = "I'm feeling better."
        voice, rate, pitch = "en-us", 160, 50
        expect = f"one user turn reading '{text}', whatever the file format"
        variants = [
            ("format_wav_s16_16k_mono.wav", "wav", "pcm_s16le", 16000, 1, "s16"),
            ("format_wav_s24_44k1_stereo.wav", "wav", "pcm_s24le", 44100, 2, "s24"),
            ("format_wav_f32_48k_mono.wav", "wav", "pcm_f32le", 48000, 1, "f32"),
            ("format_wav_s16_8k_mono.wav", "wav", "pcm_s16le", 8000, 1, "s16"),
            ("format_flac_s16_22k05_mono.flac", "flac", "flac", 22050, 1, "s16"),
            ("format_mp3_44k1_stereo.mp3", "mp3", "mp3", 44100, 2, None),
            ("format_ogg_vorbis_48k_mono.ogg", "ogg", "vorbis", 48000, 1, None),
        ]
        for name, container, codec, sr, channels, sample_format in variants:
            track = Track(sr=sr)
            track.silence(0.2)
            track.turn([text], voice, rate, pitch)
            track.silence(0.3)
            audio = track.audio()
            if channels == 2:  # a real stereo pair: the right channel a little quieter
                audio = np.stack([audio, 0.8 * audio], axis=1)
            path = self.out / name
            if container == "wav":
                assert sample_format is not None
                path.write_bytes(wav_bytes(audio, sr, sample_format))
            elif container == "flac":
                sf.write(path, quantise(audio, "s16"), sr, format="FLAC", subtype="PCM_16")
            else:
                source = _tmp() / "source.wav"
                source.write_bytes(wav_bytes(audio, sr, "f32"))
                codec_args = (
                    ["-c:a", "libmp3lame", "-b:a", "64k"]
                    if codec == "mp3"
                    else ["-c:a", "libvorbis", "-q:a", "2"]
                )
                subprocess.run(
                    ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                     "-i", str(source), "-map_metadata", "-1", "-fflags", "+bitexact",
                     "-flags:a", "+bitexact", *codec_args, str(path)],
                    check=True,
                )  # fmt: skip
            fmt = {"container": container, "codec": codec, "sample_rate": sr,
                   "channels": channels, "sample_format": sample_format}  # fmt: skip
            self.add(name, "format", expect, track, fmt=fmt, voice=voice, rate=rate,
                     pitch=pitch, duration_s=round(len(audio) / sr, 3))  # fmt: skip

    def broken_set(self) -> None:
        (self.out / "empty.wav").write_bytes(b"")
        self.add("empty.wav", "broken", "clear error: the file is empty (0 bytes); no crash")

        sentence = "I just want to talk about my day."
        track = Track()
        track.silence(0.3)
        track.turn([sentence], "en-us", 160, 50)
        track.silence(0.5)
        audio = track.audio()
        full = len(audio)
        kept = int(full * 0.4)
        data = wav_bytes(audio[:kept], SR, "s16", claim_frames=full)
        (self.out / "truncated_data.wav").write_bytes(data)
        self.add(
            "truncated_data.wav", "broken",
            f"the header promises {full / SR:.2f} s but only the first {kept / SR:.2f} s of "
            f"audio is there (the start of {sentence!r}): read what is there or give a clear "
            "error; no crash or hang",
            fmt={"container": "wav", "codec": "pcm_s16le", "sample_rate": SR, "channels": 1,
                 "sample_format": "s16"},
            voice="en-us", rate=160, pitch=50, duration_s=round(kept / SR, 3),
        )  # fmt: skip

        header = wav_bytes(audio, SR, "s16")[:30]  # stops inside the fmt chunk
        (self.out / "truncated_header.wav").write_bytes(header)
        self.add(
            "truncated_header.wav",
            "broken",
            "clear error: the file stops in the middle of its WAV header (30 bytes)",
        )

        (self.out / "not_audio.wav").write_text(
            "This is not audio. It is a plain text file with a .wav name,\n"
            "used to check that the program reports a clear error instead of crashing.\n",
            encoding="utf-8",
        )
        self.add("not_audio.wav", "broken", "clear error: a text file with a .wav name")

        rng = np.random.default_rng(seed_for("corrupt.mp3"))
        (self.out / "corrupt.mp3").write_bytes(rng.bytes(8192))
        self.add(
            "corrupt.mp3",
            "broken",
            "clear error: 8 KiB of random bytes with an .mp3 name; no crash or hang",
        )

    def echo_set(self) -> None:
        voice, rate, pitch = COMPANION
        reply = "That sounds like a really hard day. What felt hardest?"
        name = "echo_companion_reply.flac"
        track = Track()
        track.silence(LEAD_S)
        track.turn([reply], voice, rate, pitch, speaker="companion")
        track.silence(TRAIL_S)
        audio, info = self.through_room(name, track)
        self.add(
            name,
            "echo",
            "no user turn: only the companion's own reply, played by the speaker and "
            "picked up by the microphone; the program must not answer its own voice",
            track,
            audio=audio,
            noise=info,
            voice=voice,
            rate=rate,
            pitch=pitch,
        )

        name = "echo_reply_then_user.flac"
        track = Track()
        track.silence(LEAD_S)
        track.turn([reply], voice, rate, pitch, speaker="companion")
        track.silence(1.0)
        track.turn(["The meeting, I think. No one was listening to me."], "en-us+f3", 140, 58)
        track.silence(TRAIL_S)
        audio, info = self.through_room(name, track, user=track.spans[-1])
        self.add(
            name,
            "echo",
            "one user turn, the second voice only; the first voice is the companion's "
            "own reply picked up by the microphone and must not be answered",
            track,
            audio=audio,
            noise=info,
            voice="en-us+f3",
            rate=140,
            pitch=58,
        )

    def through_room(
        self, name: str, track: Track, user: tuple[int, int] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """The companion's speech as a laptop microphone hears it from the laptop speaker:
        band-limited, with a short room reverb, over a quiet room tone. The ``user`` span
        is left dry."""
        rng = np.random.default_rng(seed_for(name))
        audio = track.audio()
        dry_user = np.zeros_like(audio)
        if user:
            dry_user[user[0] : user[1]] = audio[user[0] : user[1]]
            audio = audio - dry_user
        speaker = fft_filter(audio, band(200.0, 6000.0, 2))
        ir_len = int(0.35 * SR)
        t = np.arange(ir_len) / SR
        ir = rng.standard_normal(ir_len) * np.exp(-6.9 * t / 0.3) * 0.01  # RT60 about 0.3 s
        ir[0] = 1.0
        wet = np.convolve(speaker, ir)[: len(audio)]
        wet *= db(-6.0) * track.speech_rms(audio) / max(track.speech_rms(wet), 1e-9)
        floor = room_tone(len(audio), rng, -62.0)
        info = {"description": "companion voice through speaker and room (band-limited, "
                "reverb) over quiet room tone", "snr_db": None,
                "level_dbfs": round(20 * np.log10(rms(floor)), 1)}  # fmt: skip
        return wet + dry_user + floor, info

    # -- noise makers (unit-less: each returns audio at its final level) ------------------

    @staticmethod
    def _pink(n: int, rng: np.random.Generator) -> np.ndarray:
        return coloured_noise(n, rng, 1.0) * db(-36.0)

    @staticmethod
    def _hum(n: int, rng: np.random.Generator) -> np.ndarray:
        return hum(n, rng, 50.0) * db(-34.0) + room_tone(n, rng)

    @staticmethod
    def _keyboard(n: int, rng: np.random.Generator) -> np.ndarray:
        out = room_tone(n, rng)
        t = int(0.3 * SR)
        while t < n - SR // 4:
            for _ in range(int(rng.integers(4, 12))):  # a burst of typing
                for offset, level in ((0, 1.0), (int(rng.uniform(0.05, 0.1) * SR), 0.5)):
                    length = int(0.012 * SR)
                    click = rng.standard_normal(length) * np.exp(-np.arange(length) / 40.0)
                    click = fft_filter(click, band(1500.0, 7000.0, 2))
                    start = t + offset
                    if start + length < n:
                        out[start : start + length] += click * level * rng.uniform(0.1, 0.2)
                t += int(rng.uniform(0.11, 0.28) * SR)
            t += int(rng.uniform(0.4, 0.9) * SR)  # thinking between words
        return out

    @staticmethod
    def _thumps(n: int, rng: np.random.Generator) -> np.ndarray:
        out = room_tone(n, rng)
        for at, level in ((0.8, 0.7), (3.1, 0.45)):
            start = int(at * SR)
            length = int(0.6 * SR)
            t = np.arange(length) / SR
            body = np.sin(2 * np.pi * 55.0 * t) * np.exp(-t / 0.09)
            thud = fft_filter(rng.standard_normal(length), band(0.0, 220.0, 3)) * np.exp(-t / 0.06)
            thud /= np.abs(thud).max()
            rattle = fft_filter(rng.standard_normal(length), band(900.0, 4000.0, 2))
            rattle *= np.exp(-np.maximum(t - 0.02, 0) / 0.05) * (t > 0.02) * 0.15
            out[start : start + length] += level * (0.7 * body + 0.5 * thud + rattle)
        return out

    @staticmethod
    def _radio(n: int, rng: np.random.Generator) -> np.ndarray:
        t = np.arange(n) / SR
        beat = 0.5  # 120 beats a minute
        chords = [(60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62)]  # C Am F G (MIDI)
        melody = [72, 74, 76, 79, 76, 74, 72, 71, 69, 71, 72, 74]
        out = np.zeros(n)

        def tone(note: int, start: float, length: float, amp: float) -> None:
            a, b = int(start * SR), min(n, int((start + length) * SR))
            if a >= n:
                return
            f = 440.0 * 2 ** ((note - 69) / 12)
            tt = t[a:b] - start
            wave = sum(np.sin(2 * np.pi * f * k * tt) / k for k in (1, 2, 3, 4))
            out[a:b] += amp * wave * envelope(b - a, 0.05, 0.95)

        for bar in range(int(t[-1] / (4 * beat)) + 1):
            chord = chords[bar % len(chords)]
            for note in chord:
                tone(note, bar * 4 * beat, 4 * beat, 0.12)
            tone(chord[0] - 24, bar * 4 * beat, 2 * beat, 0.25)
            tone(chord[0] - 24, bar * 4 * beat + 2 * beat, 2 * beat, 0.25)
        for i, note in enumerate(melody * 2):
            tone(note, i * beat, 0.9 * beat, 0.2)
        radio = fft_filter(out, band(300.0, 3000.0, 4))
        radio = radio / rms(radio) + 0.15 * fft_filter(rng.standard_normal(n), band(2000, 6000))
        return radio / rms(radio) * db(-30.0)

    @staticmethod
    def _breath(rng: np.random.Generator, seconds: float, lo: float, hi: float,
                attack: float) -> np.ndarray:  # fmt: skip
        length = int(seconds * SR)
        noise = fft_filter(rng.standard_normal(length), band(lo, hi, 2))
        return noise / rms(noise) * envelope(length, attack, 1.0 - attack)

    def _breaths(self, n: int, rng: np.random.Generator) -> np.ndarray:
        out = room_tone(n, rng)
        t = int(0.4 * SR)
        while t < n - int(1.6 * SR):
            inhale = self._breath(rng, rng.uniform(0.8, 1.0), 700.0, 4500.0, 0.6) * db(-36.0)
            out[t : t + len(inhale)] += inhale
            t += len(inhale) + int(0.15 * SR)
            exhale = self._breath(rng, rng.uniform(0.8, 1.0), 300.0, 2500.0, 0.3) * db(-38.0)
            if t + len(exhale) > n:
                break
            out[t : t + len(exhale)] += exhale
            t += len(exhale) + int(rng.uniform(0.3, 0.5) * SR)
        return out

    def _sigh(self, n: int, rng: np.random.Generator) -> np.ndarray:
        out = room_tone(n, rng)
        t = int(0.3 * SR)
        inhale = self._breath(rng, 1.1, 700.0, 4500.0, 0.7) * db(-34.0)
        out[t : t + len(inhale)] += inhale
        t += len(inhale) + int(0.3 * SR)
        exhale = self._breath(rng, 1.8, 250.0, 2000.0, 0.15) * db(-30.0)
        out[t : t + len(exhale)] += exhale
        return out

    # -- everything -------------------------------------------------------------------------

    def run(self) -> None:
        self.speech_set()
        self.conversation_set()
        self.pause_set()
        self.quiet_set()
        self.format_set()
        self.broken_set()
        self.echo_set()


def generate(out: Path = HERE) -> list[dict[str, Any]]:
    """Write every fixture and ``manifest.json`` into ``out``; return the manifest entries."""
    global _work_dir
    for tool in ("espeak-ng", "sox", "ffmpeg"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed to generate the fixtures; install it first")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fixtures-") as tmp:
        _work_dir = Path(tmp)
        try:
            gen = Generator(out)
            gen.run()
        finally:
            _work_dir = None
            _synth_cache.clear()
    names = {entry["name"] for entry in gen.entries}
    assert len(names) == len(gen.entries), "duplicate fixture names"
    for stale in out.iterdir():
        if stale.suffix in AUDIO_SUFFIXES and stale.name not in names:
            stale.unlink()
    manifest = json.dumps(gen.entries, indent=2, ensure_ascii=False) + "\n"
    (out / "manifest.json").write_text(manifest, encoding="utf-8")
    return gen.entries


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write (default: here)")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    entries = generate(args.out)
    size = sum((args.out / e["name"]).stat().st_size for e in entries)
    print(
        f"wrote {len(entries)} fixtures and manifest.json to {args.out} "
        f"({size / 1e6:.2f} MB) in {time.perf_counter() - began:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
