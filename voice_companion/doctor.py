"""``voice-companion doctor``: check each thing the companion needs, with a one-line fix."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console

from voice_companion.config import Settings
from voice_companion.errors import UserError


@dataclass
class Check:
    name: str
    essential: bool
    run: Callable[[], str]  # returns a detail line, raises UserError (or anything) on failure


def _model(settings: Settings) -> str:
    from voice_companion.transcribe import resolve_model

    _, how = resolve_model(settings.model)
    return how


def _espeak(settings: Settings) -> str:
    from voice_companion.voice import Synthesizer

    if shutil.which("espeak-ng") is None and shutil.which("espeak") is None:
        raise UserError("espeak-ng is not installed.", "sudo apt-get install espeak-ng")
    speech = Synthesizer(settings.rate, settings.volume, settings.voice).synthesize("Hello.")
    if speech.audio.size == 0:
        raise UserError(
            "espeak-ng produced no sound.", "sudo apt-get install --reinstall espeak-ng"
        )
    return f"voice works ({speech.audio.size / speech.rate:.1f} s test phrase)"


def _portaudio(_settings: Settings) -> str:
    from voice_companion.devices import _sd

    return f"PortAudio {_sd().get_portaudio_version()[1]}"


def _input(settings: Settings) -> str:
    from voice_companion.devices import _sd, resolve_input

    index = resolve_input(settings.input_device)
    return str(_sd().query_devices(index, "input")["name"])


def _output(settings: Settings) -> str:
    from voice_companion.devices import _sd, resolve_output

    index = resolve_output(settings.output_device)
    return str(_sd().query_devices(index, "output")["name"])


def _data(settings: Settings) -> str:
    folder = settings.data_dir
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not os.access(folder, os.W_OK):
        raise UserError(f"The data folder {folder} is not writable.",
                        f"Fix its permissions: chmod 700 {folder}")
    return str(folder)


def run_doctor(settings: Settings) -> int:
    """Print one line per check; non-zero exit when something essential is missing."""
    checks = [
        Check("speech model", True, lambda: _model(settings)),
        Check("espeak-ng voice", True, lambda: _espeak(settings)),
        Check("PortAudio", True, lambda: _portaudio(settings)),
        Check("microphone", False, lambda: _input(settings)),
        Check("speaker", False, lambda: _output(settings)),
        Check("data folder", True, lambda: _data(settings)),
    ]
    console = Console(highlight=False)
    failed_essential = False
    for check in checks:
        try:
            detail = check.run()
            console.print(f"[green]ok[/]    {check.name}: {detail}")
        except UserError as exc:
            failed_essential |= check.essential
            tag = "[red]FAIL[/]" if check.essential else "[yellow]warn[/]"
            console.print(f"{tag}  {check.name}: {exc.what}  → {exc.fix}")
        except Exception as exc:
            failed_essential |= check.essential
            tag = "[red]FAIL[/]" if check.essential else "[yellow]warn[/]"
            console.print(f"{tag}  {check.name}: {exc}")
    return 1 if failed_essential else 0
