"""Audio devices: find the microphone and speaker a person named, list them, test the mic."""

from __future__ import annotations

import time

import numpy as np

from voice_companion.errors import AudioInputError, VoiceError


def _sd():
    try:
        import sounddevice as sd
    except OSError as exc:  # PortAudio library missing
        raise AudioInputError(
            f"The audio library PortAudio is not installed ({exc}).",
            "Install it: sudo apt-get install libportaudio2",
        ) from exc
    return sd


def _resolve(spec: str | None, kind: str) -> int:
    sd = _sd()
    channels = "max_input_channels" if kind == "input" else "max_output_channels"
    devices = sd.query_devices()
    usable = [i for i, d in enumerate(devices) if d[channels] > 0]
    err = AudioInputError if kind == "input" else VoiceError
    what = "microphone (input device)" if kind == "input" else "speaker (output device)"
    if not usable:
        raise err(
            f"No {what} found.",
            "Connect one and check it is not muted or used by another program; "
            "on Linux check PulseAudio/PipeWire is running (pactl info).",
        )
    if spec is None or spec == "":
        default = sd.default.device[0 if kind == "input" else 1]
        return default if default is not None and default in usable else usable[0]
    if spec.strip().isdigit():
        index = int(spec)
        if index in usable:
            return index
        raise err(
            f"There is no {what} with index {index}.",
            "Run 'voice-companion devices' to see the numbers.",
        )
    matches = [i for i in usable if spec.lower() in devices[i]["name"].lower()]
    if not matches:
        raise err(
            f"No {what} matches '{spec}'.",
            "Run 'voice-companion devices' to list them, then use its name or number.",
        )
    return matches[0]


def resolve_input(spec: str | None) -> int:
    """The device index for ``spec`` (a name fragment or index; ``None`` = system default)."""
    return _resolve(spec, "input")


def resolve_output(spec: str | None) -> int:
    """The device index for ``spec`` (a name fragment or index; ``None`` = system default)."""
    return _resolve(spec, "output")


def list_devices() -> list[dict]:
    """Every device with its index, name, channels, rate and whether it is a default."""
    sd = _sd()
    default_in, default_out = sd.default.device
    rows = []
    for i, d in enumerate(sd.query_devices()):
        rows.append(
            {
                "index": i,
                "name": d["name"],
                "inputs": d["max_input_channels"],
                "outputs": d["max_output_channels"],
                "rate": int(d["default_samplerate"]),
                "default_input": i == default_in,
                "default_output": i == default_out,
            }
        )
    return rows


def input_levels(device: int | None, seconds: float = 5.0, step_s: float = 0.1):
    """Yield the microphone's level (RMS in dBFS) every ``step_s`` for ``seconds``."""
    from voice_companion.capture import Microphone

    with Microphone(device) as mic:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            block = mic.read(step_s)
            rms = float(np.sqrt(np.mean(block**2))) if block.size else 0.0
            yield 20 * np.log10(max(rms, 1e-6))
