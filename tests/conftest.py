"""Shared test fixtures: the real Whisper model (loaded once) and a private PulseAudio daemon."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulse_rig import Pulse, pulse_missing_reason, running_pulse

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "audio_fixtures"


@pytest.fixture(scope="session")
def transcriber():
    """The real tiny.en model, loaded and warmed up once for the whole run."""
    from voice_companion.transcribe import Transcriber

    return Transcriber("tiny.en")


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the developer's own config or journal."""
    monkeypatch.setenv("VOICE_COMPANION_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("VOICE_COMPANION_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture()
def pulse(tmp_path: Path) -> Iterator[Pulse]:
    """Start PulseAudio with null sinks ``mic`` and ``spk``; defaults point the program at them."""
    reason = pulse_missing_reason()
    if reason:
        # scripts/setup installs PulseAudio, so a missing one is a broken setup, not a reason to
        # pass quietly; set VOICE_COMPANION_TESTS_WITHOUT_PULSE=1 to skip on purpose
        if os.environ.get("VOICE_COMPANION_TESTS_WITHOUT_PULSE") == "1":
            pytest.skip(reason)
        pytest.fail(f"{reason}; run ./scripts/setup")
    with running_pulse(tmp_path) as p:
        yield p


@pytest.fixture()
def pulse_env(pulse: Pulse, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pulse]:
    """Point this process's own audio (sounddevice) at the private PulseAudio daemon.

    PortAudio reads the sound server's location when it starts, so it is restarted after the
    environment changes, and again afterwards.
    """
    import sounddevice as sd

    for key in ("XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH", "HOME"):
        monkeypatch.setenv(key, pulse.env[key])
    sd._terminate()
    sd._initialize()
    yield pulse
    monkeypatch.undo()
    sd._terminate()
    sd._initialize()
