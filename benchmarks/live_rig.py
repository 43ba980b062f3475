"""Drive ``voice-companion talk`` from the outside, through a private PulseAudio daemon.

Used by ``benchmarks/turn_taking.py``. Three pieces, all on the system's monotonic clock (the
same clock the live loop writes in its timeline, ``VOICE_COMPANION_TIMELINE``):

* :class:`StampedRecorder` records a PulseAudio source (``spk.monitor``: what the program says;
  ``mic.monitor``: what its microphone hears) and knows when each sample was rendered, so sound
  onsets and ends can be compared with the timeline's events.
* :class:`TalkProcess` runs ``talk`` as a subprocess and tails its timeline.
* :func:`cpu_seconds` reads a process's user + system CPU time from ``/proc``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RATE = 16000
LOUD = 10 ** (-50 / 20)  # a sample above -50 dBFS counts as sound
TICKS = os.sysconf("SC_CLK_TCK")


def wait_or_kill(proc: subprocess.Popen, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``proc`` to end, else kill it; True if it ended."""
    try:
        proc.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False


class StampedRecorder:
    """Record one PulseAudio source with ``parec`` and map sample indices to monotonic time.

    The null sinks render on the system clock, so ``time(i) = offset + i / RATE``; the offset is
    the smallest ``arrival - samples_so_far / RATE`` seen, i.e. the least delayed delivery.
    """

    def __init__(self, env: dict[str, str], source: str) -> None:
        self.source = source
        self._proc = subprocess.Popen(
            ["parec", "-d", source, "--latency-msec=20", f"--rate={RATE}", "--channels=1",
             "--format=s16le", "--raw"],
            stdout=subprocess.PIPE, env=env,
        )
        self._lock = threading.Lock()
        self._parts: list[np.ndarray] = []
        self._joined = np.zeros(0, np.float32)
        self._n = 0
        self._offset = float("inf")
        self._last_loud = -1  # index of the last sample above LOUD
        self._thread = threading.Thread(target=self._read, name=f"rec-{source}", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        odd = b""
        while True:
            data = os.read(fd, 65536)
            if not data:
                return
            stamp = time.monotonic()
            data, odd = odd + data, b""
            if len(data) % 2:
                data, odd = data[:-1], data[-1:]
            x = np.frombuffer(data, "<i2").astype(np.float32) / 32768.0
            loud = np.flatnonzero(np.abs(x) > LOUD)
            with self._lock:
                self._parts.append(x)
                self._n += x.size
                self._offset = min(self._offset, stamp - self._n / RATE)
                if loud.size:
                    self._last_loud = self._n - x.size + int(loud[-1])

    def wait_started(self, timeout: float = 10.0) -> bool:
        """``parec`` takes a moment to connect; wait until samples flow."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if self._n >= RATE // 10:
                    return True
            time.sleep(0.05)
        return False

    def time_at(self, index: int) -> float:
        return self._offset + index / RATE

    def index_at(self, t: float) -> int:
        return int(round((t - self._offset) * RATE))

    def now(self) -> float:
        """Monotonic time of the newest sample received."""
        with self._lock:
            return self.time_at(self._n)

    def last_sound(self) -> float | None:
        """Time of the last sound received so far."""
        with self._lock:
            return self.time_at(self._last_loud) if self._last_loud >= 0 else None

    def quiet_for(self) -> float:
        """Seconds since the last sound (the whole recording when there was none)."""
        with self._lock:
            return (self._n - max(self._last_loud, 0)) / RATE

    def audio(self) -> np.ndarray:
        """Everything recorded so far, as one float32 array."""
        with self._lock:
            if self._parts:
                self._joined = np.concatenate([self._joined, *self._parts])
                self._parts = []
            return self._joined

    def segment(self, t0: float, t1: float) -> tuple[np.ndarray, float]:
        """Samples between two monotonic times, and the time of the first one returned."""
        audio = self.audio()
        i0 = max(0, self.index_at(t0))
        i1 = min(audio.size, max(i0, self.index_at(t1)))
        return audio[i0:i1], self.time_at(i0)

    def first_sound(self, t0: float, t1: float) -> float | None:
        """Time of the first sound between ``t0`` and ``t1``."""
        seg, start = self.segment(t0, t1)
        loud = np.flatnonzero(np.abs(seg) > LOUD)
        return start + loud[0] / RATE if loud.size else None

    def sound_end(self, t0: float, gap_s: float, limit_s: float = 5.0) -> float | None:
        """End of the sound running at or after ``t0``: the last sound before ``gap_s`` of quiet.

        ``None`` when nothing sounds within ``limit_s`` of ``t0``.
        """
        seg, start = self.segment(t0, t0 + limit_s)
        loud = np.flatnonzero(np.abs(seg) > LOUD)
        if not loud.size:
            return None
        gaps = np.flatnonzero(np.diff(loud) > gap_s * RATE)
        last = loud[gaps[0]] if gaps.size else loud[-1]
        return start + (last + 1) / RATE

    def save(self, path: Path) -> None:
        """Write the whole recording as 16-bit WAV (for looking at a run afterwards)."""
        write_wav16(path, self.audio())

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            wait_or_kill(self._proc, 5)
        self._thread.join(timeout=2)


def write_wav16(path: Path, audio: np.ndarray, lead_s: float = 0.0) -> None:
    """Write 16 kHz mono float audio as 16-bit WAV, after ``lead_s`` of silence."""
    data = np.concatenate([np.zeros(int(lead_s * RATE), np.float32), audio])
    pcm = (np.clip(data, -1, 1) * 32767).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm)


def locate(recorder: StampedRecorder, clip: np.ndarray, t0: float, t1: float,
           min_corr: float = 0.5) -> float | None:
    """When sample 0 of ``clip`` (16 kHz) was rendered, searching the recording in [t0, t1].

    Cross-correlation on the first 4 s of the clip; ``None`` when the match is poor.
    """
    template = clip[: 4 * RATE].astype(np.float64)
    seg, start = recorder.segment(t0, t1 + template.size / RATE)
    if seg.size < template.size or not np.any(template):
        return None
    n = 1 << int(np.ceil(np.log2(seg.size + template.size)))
    corr = np.fft.irfft(np.fft.rfft(seg, n) * np.conj(np.fft.rfft(template, n)), n)
    corr = corr[: seg.size - template.size + 1]
    lag = int(np.argmax(np.abs(corr)))
    window = seg[lag : lag + template.size].astype(np.float64)
    score = abs(corr[lag]) / (np.linalg.norm(window) * np.linalg.norm(template) + 1e-12)
    return start + lag / RATE if score >= min_corr else None


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot, from ``/proc/stat``."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15)


@dataclass
class TalkProcess:
    """``voice-companion talk`` as a subprocess, with its timeline and printed conversation."""

    env: dict[str, str]
    folder: Path
    args: Sequence[str] = ()
    events: list[dict[str, Any]] = field(default_factory=list)
    started_t: float = 0.0  # monotonic time just before the process was created

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.timeline = self.folder / "timeline.jsonl"
        # the program appends to its timeline: a kept folder from an earlier run must not mix in
        self.timeline.unlink(missing_ok=True)
        self.stdout_path = self.folder / "stdout.txt"
        self.stderr_path = self.folder / "stderr.txt"
        self._pos = 0
        self._proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = dict(self.env, PYTHONUNBUFFERED="1", PYTHONFAULTHANDLER="1",
                   VOICE_COMPANION_TIMELINE=str(self.timeline),
                   VOICE_COMPANION_CONFIG_DIR=str(self.folder / "config"))
        cmd = [sys.executable, "-m", "voice_companion", "talk",
               "--data-dir", str(self.folder / "data"), *self.args]
        with self.stdout_path.open("w") as out, self.stderr_path.open("w") as err:
            self.started_t = time.monotonic()
            self._proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def poll_events(self) -> list[dict[str, Any]]:
        """Read the timeline lines written since the last call; returns every event so far."""
        if not self.timeline.exists():
            return self.events
        with self.timeline.open() as fh:
            fh.seek(self._pos)
            chunk = fh.read()
        complete = chunk[: chunk.rfind("\n") + 1]
        self._pos += len(complete.encode())
        self.events.extend(json.loads(line) for line in complete.splitlines() if line.strip())
        return self.events

    def wait_event(self, name: str, after: int = 0, timeout: float = 30.0) -> dict | None:
        """The first event ``name`` at index ``after`` or later, waiting up to ``timeout``."""
        end = time.monotonic() + timeout
        while True:
            for event in self.poll_events()[after:]:
                if event["event"] == name:
                    return event
            if time.monotonic() > end or not self.alive:
                return None
            time.sleep(0.03)

    def replies(self) -> list[str]:
        """Every reply the companion printed (greeting included)."""
        lines = self.stdout_path.read_text(errors="replace").splitlines()
        return [line.split(":", 1)[1].strip() for line in lines if line.startswith("Companion:")]

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self, timeout: float = 30.0) -> int | None:
        """Ctrl-C, as a person would; returns the exit status (``None`` if it had to be killed)."""
        if self._proc is None:
            return None
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                # PYTHONFAULTHANDLER is set: SIGABRT writes every thread's stack to stderr.txt
                self._proc.send_signal(signal.SIGABRT)
                wait_or_kill(self._proc, 10)
                return None
        self.poll_events()
        return self._proc.returncode
