"""Ctrl-C and a polite kill stop the program cleanly, keeping every finished turn, even when a
shell started it in the background (which hands it SIGINT ignored)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from voice_companion.journal import Journal


def _start_chat(tmp_path: Path, ignore_sigint: bool) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1", VOICE_COMPANION_CONFIG_DIR=str(tmp_path / "cfg"))

    def background() -> None:  # what `cmd &` does in a non-interactive shell
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen(
        [sys.executable, "-m", "voice_companion", "chat", "--json",
         "--data-dir", str(tmp_path / "data")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env, preexec_fn=background if ignore_sigint else None,
    )


@pytest.mark.parametrize(
    ("sig", "ignore_sigint"),
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c-in-background", "sigterm"],
)
def test_a_stop_signal_ends_the_conversation_and_keeps_the_turn(tmp_path, sig, ignore_sigint):
    proc = _start_chat(tmp_path, ignore_sigint)
    try:
        proc.stdin.write("My sister didn't call me back and I feel forgotten.\n")
        proc.stdin.flush()  # stdin stays open: the program waits for more
        record = None
        for line in iter(proc.stdout.readline, ""):
            if line.startswith("{") and "transcript" in json.loads(line):
                record = json.loads(line)
                break
        assert record is not None, proc.stderr.read()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)  # ignored, it would never end
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    with Journal.open(tmp_path / "data") as journal:
        [turn] = journal.turns()
    assert turn.transcript == record["transcript"]
    assert turn.reply == record["reply"]
