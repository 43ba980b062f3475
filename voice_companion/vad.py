"""Voice activity detection: the Silero VAD model bundled with faster-whisper, run as a stream.

faster-whisper's :class:`~faster_whisper.vad.SileroVADModel` scores a whole array at once; a live
microphone needs one score per 32 ms frame as it arrives, with the model's recurrent state and
the 64-sample context carried from one frame to the next. :class:`StreamingVad` does exactly that
with the same ONNX session, so live audio and files are judged by the same model.
"""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import get_vad_model

FRAME = 512  # samples per VAD frame at 16 kHz (32 ms)
CONTEXT = 64
FRAME_S = FRAME / 16000


class StreamingVad:
    """Speech probability for each 512-sample frame of 16 kHz audio, keeping state between calls."""

    def __init__(self) -> None:
        self._session = get_vad_model().session
        self.reset()

    def reset(self) -> None:
        """Forget everything heard so far (start of a new stream)."""
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)

    def __call__(self, frame: np.ndarray) -> float:
        """The probability (0..1) that ``frame`` (exactly 512 samples) holds speech."""
        if frame.shape != (FRAME,):
            raise ValueError(f"VAD frames must be {FRAME} samples, got {frame.shape}")
        x = np.concatenate([self._context, frame.astype(np.float32, copy=False)])[None, :]
        out, self._h, self._c = self._session.run(None, {"input": x, "h": self._h, "c": self._c})
        self._context = x[0, -CONTEXT:].copy()
        return float(np.asarray(out).reshape(-1)[0])

    def probabilities(self, audio: np.ndarray) -> np.ndarray:
        """Score every whole frame of ``audio`` in turn (state carries on from earlier calls)."""
        n = audio.size // FRAME
        return np.array([self(audio[i * FRAME : (i + 1) * FRAME]) for i in range(n)])
