"""Memory and speed of ``voice-companion replay`` on a one-hour recording.

Builds an hour of 16 kHz audio in a temporary folder (room tone with one of the project's speech
fixtures every few minutes, so the pipeline really transcribes turns), runs ``replay --json`` on
it in a child process and samples the child's resident memory. Target: about 500 MB at most.

    python benchmarks/long_file_memory.py [--minutes 60] [--every 300]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice_companion.audio import load_file  # noqa: E402
from voice_companion.fixtures import fixture_path  # noqa: E402

RATE = 16000
SPEECH = ["speech_rough_day_work.flac", "speech_nervous_interview.flac",
          "speech_lonely_partner.flac", "speech_tired_baby.flac"]


def build(path: Path, minutes: float, every_s: float) -> int:
    """Write the long file chunk by chunk; returns how many speech turns it holds."""
    rng = np.random.default_rng(7)
    clips = [load_file(fixture_path(name)) for name in SPEECH]
    total = int(minutes * 60)
    turns = 0
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        second = 0
        while second < total:
            block = rng.standard_normal(RATE * 10).astype(np.float32) * 0.001  # room tone
            if second % every_s < 10 and second + 10 <= total:
                clip = clips[turns % len(clips)]
                block[RATE : RATE + clip.size] += clip[: RATE * 9]
                turns += 1
            w.writeframes((np.clip(block, -1, 1) * 32767).astype("<i2").tobytes())
            second += 10
    return turns


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=300.0, help="seconds between turns")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hour.wav"
        expected = build(path, args.minutes, args.every)
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "voice_companion", "replay", "--json", str(path)],
            stdout=subprocess.PIPE, text=True,
        )
        peak = 0.0
        while child.poll() is None:
            peak = max(peak, rss_mb(child.pid))
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        records = [json.loads(line) for line in child.stdout.read().splitlines() if line]
    audio_s = args.minutes * 60
    print(f"audio: {audio_s / 60:.0f} min with {expected} spoken turns; "
          f"turns found: {sum('turn' in r for r in records)}")
    print(f"peak resident memory: {peak:.0f} MB (target about 500 MB at most) "
          f"{'pass' if peak <= 500 else 'FAIL'}")
    print(f"processing time: {seconds:.0f} s, real-time factor {seconds / audio_s:.3f}")
    return 0 if peak <= 500 and child.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
