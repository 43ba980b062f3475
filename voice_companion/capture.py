"""Microphone capture: small blocks of 16 kHz mono float32, from any input device.

A device that cannot record at 16 kHz is opened at its own rate and resampled. Blocks go from
PortAudio's audio thread into a queue; the conversation loop reads them at its own pace.
"""

from __future__ import annotations

import queue
import time

import numpy as np

from voice_companion.audio import SAMPLE_RATE, StreamResampler
from voice_companion.errors import AudioInputError

BLOCK_S = 0.032  # one VAD frame


class Microphone:
    """An open microphone. Use as a context manager; :meth:`read` returns 16 kHz audio."""

    def __init__(self, device: int | str | None = None) -> None:
        from voice_companion.devices import _sd

        sd = _sd()
        self.device = device
        self._queue: queue.Queue[tuple[np.ndarray, float]] = queue.Queue()
        self.overflows = 0
        self.arrived_at = 0.0  # monotonic time the last block returned by get() was captured
        rate = SAMPLE_RATE
        try:
            sd.check_input_settings(device=device, samplerate=SAMPLE_RATE, channels=1)
        except Exception:
            try:
                rate = int(sd.query_devices(device, "input")["default_samplerate"])
            except Exception as exc:
                raise AudioInputError(
                    f"The microphone cannot be used ({exc}).",
                    "Run 'voice-companion devices' and choose one with --input-device.",
                ) from exc
        self.native_rate = rate
        self._resample = StreamResampler(rate)

        def callback(indata, _frames, _time, status):  # audio thread: copy and go
            if status.input_overflow:
                self.overflows += 1
            self._queue.put((indata[:, 0].copy(), time.monotonic()))

        try:
            self._stream = sd.InputStream(
                samplerate=rate,
                channels=1,
                dtype="float32",
                device=device,
                blocksize=int(rate * BLOCK_S),
                callback=callback,
            )
        except Exception as exc:
            raise AudioInputError(
                f"The microphone could not be opened ({exc}).",
                "Check it is connected and not used by another program; "
                "'voice-companion devices --test-mic' shows whether it hears you.",
            ) from exc

    def __enter__(self) -> Microphone:
        self._stream.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._stream.stop(ignore_errors=True)
            self._stream.close(ignore_errors=True)
        except Exception:
            pass

    def get(self, timeout: float = 0.5) -> np.ndarray | None:
        """The next block (16 kHz), or ``None`` when nothing arrived within ``timeout``."""
        try:
            block, self.arrived_at = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        return self._resample(block)

    def read(self, seconds: float) -> np.ndarray:
        """Collect about ``seconds`` of 16 kHz audio."""
        need = int(seconds * SAMPLE_RATE)
        parts: list[np.ndarray] = []
        got = 0
        while got < need:
            block = self.get(timeout=max(1.0, seconds))
            if block is None:
                break
            parts.append(block)
            got += block.size
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def drain(self) -> None:
        """Throw away everything captured so far (e.g. the program's own voice)."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return
