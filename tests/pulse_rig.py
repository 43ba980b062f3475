"""A private PulseAudio daemon with two null sinks: a virtual microphone and speaker.

Used by the end-to-end tests and by ``benchmarks/turn_taking.py``. Audio played into the ``mic``
sink is what the program captures (the default source is ``mic.monitor``); what the program plays
goes to the ``spk`` sink (the default sink), whose monitor can be recorded.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Pulse:
    """A private PulseAudio daemon with a virtual microphone sink and a virtual speaker sink."""

    env: dict[str, str]

    def run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(args, env=self.env, check=True, capture_output=True, **kw)

    @staticmethod
    def stop_recording(recorder: subprocess.Popen) -> None:
        """SIGINT lets parec write out what it has buffered (SIGTERM loses the tail)."""
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=10)

    def play_into_mic(self, wav: Path) -> subprocess.Popen:
        return subprocess.Popen(["paplay", "-d", "mic", str(wav)], env=self.env)

    def record_speaker(self, out: Path) -> subprocess.Popen:
        return subprocess.Popen(
            ["parec", "-d", "spk.monitor", "--latency-msec=20", "--file-format=wav", "--rate=16000",
             "--channels=1", "--format=s16le", str(out)],
            env=self.env,
        )


def pulse_missing_reason() -> str | None:
    for tool in ("pulseaudio", "pactl", "paplay", "parec"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install pulseaudio pulseaudio-utils)"
    return None


@contextmanager
def running_pulse(folder: Path) -> Iterator[Pulse]:
    """Start the daemon with its runtime files in ``folder``; stop it afterwards."""
    runtime = folder / "xdg"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), HOME=str(folder),
               PULSE_RUNTIME_PATH=str(runtime / "pulse"))
    subprocess.run(
        ["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n",
         "--load=module-native-protocol-unix",
         "--load=module-null-sink sink_name=mic", "--load=module-null-sink sink_name=spk"],
        env=env, check=True, capture_output=True,
    )
    p = Pulse(env)
    for _ in range(50):
        if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    p.run("pactl", "set-default-source", "mic.monitor")
    p.run("pactl", "set-default-sink", "spk")
    try:
        yield p
    finally:
        subprocess.run(["pulseaudio", "-k"], env=env, capture_output=True)
