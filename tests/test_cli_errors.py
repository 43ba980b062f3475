"""Every fault the person can fix gives one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from voice_companion.cli import main
from voice_companion.fixtures import fixture_path


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voice_companion", *args],
                          capture_output=True, text=True, timeout=120)


def test_missing_model_is_one_line_and_debug_shows_the_traceback(tmp_path):
    wav = str(fixture_path("turn_short_im_tired.flac"))
    plain = run_cli("replay", "--model", str(tmp_path / "nothing"), wav)
    assert plain.returncode == 2
    assert "model.bin" in plain.stderr and "Traceback" not in plain.stderr
    debug = run_cli("replay", "--debug", "--model", str(tmp_path / "nothing"), wav)
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_espeak_missing_says_how_to_install_it(monkeypatch, capsys):
    import pyttsx3

    def broken(*_a, **_k):
        raise OSError("libespeak-ng.so.1: cannot open shared object file")

    monkeypatch.setattr(pyttsx3, "init", broken)
    assert main(["chat", "--speak", "--no-journal"]) == 2
    err = capsys.readouterr().err
    assert "apt-get install espeak-ng" in err and "Traceback" not in err


def test_no_microphone_at_all(monkeypatch):
    import sounddevice as sd

    from voice_companion.devices import resolve_input
    from voice_companion.errors import AudioInputError

    speaker_only = [{"name": "Speakers", "max_input_channels": 0, "max_output_channels": 2,
                     "default_samplerate": 48000.0}]
    monkeypatch.setattr(sd, "query_devices", lambda *a, **k: speaker_only)
    with pytest.raises(AudioInputError, match="No microphone") as info:
        resolve_input(None)
    assert "pactl info" in info.value.fix


def test_a_damaged_journal_is_reported_and_left_alone(tmp_path, capsys):
    from voice_companion.journal import Journal

    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    db = Journal.path_in(data)
    db.write_bytes(b"this is not a database" * 100)
    before = db.read_bytes()
    assert main(["chat", "--data-dir", str(data)]) == 2
    err = capsys.readouterr().err
    assert str(db) in err and "Traceback" not in err
    assert db.read_bytes() == before
