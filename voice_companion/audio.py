"""Reading audio: any file a person may have, decoded as a stream of 16 kHz mono float32.

Decoding uses PyAV (the library faster-whisper's ``decode_audio`` is built on), so WAV, FLAC,
MP3 and OGG at any sample rate, mono or stereo, 16/24/32-bit or float all work. Files are read
chunk by chunk, so a one-hour recording never sits in memory whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from voice_companion.errors import AudioInputError

SAMPLE_RATE = 16000
SUPPORTED = "WAV, FLAC, MP3 or OGG"


def check_audio_path(path: Path) -> None:
    """Raise a clear :class:`AudioInputError` for a path that cannot be an audio file."""
    if not path.exists():
        raise AudioInputError(f"{path}: no such file.", "Check the path and the file name.")
    if path.is_dir():
        raise AudioInputError(
            f"{path} is a folder, not an audio file.",
            f"Give the audio files inside it instead, for example {path}/*.wav.",
        )
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except PermissionError as exc:
        raise AudioInputError(f"{path}: permission denied.", "Make the file readable.") from exc
    if size == 0:
        raise AudioInputError(f"{path} is empty (0 bytes).", "Record or copy the file again.")


def _unreadable(path: Path, detail: str) -> AudioInputError:
    return AudioInputError(
        f"{path} could not be read as audio ({detail}).",
        f"Give a {SUPPORTED} file; if it is one, it may be damaged: try re-exporting it.",
    )


def stream_file(path: str | Path, chunk_s: float = 1.0) -> Iterator[np.ndarray]:
    """Yield the file's audio as 16 kHz mono float32 chunks of about ``chunk_s`` seconds.

    Damaged frames in the middle of a file are skipped; a file with no decodable audio at all
    raises :class:`AudioInputError`.
    """
    path = Path(path)
    check_audio_path(path)
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise _unreadable(path, _reason(exc)) from exc
    with container:
        if not container.streams.audio:
            raise _unreadable(path, "it has no audio track")
        resampler = av.audio.resampler.AudioResampler(
            format="flt", layout="mono", rate=SAMPLE_RATE
        )
        target = max(1, int(chunk_s * SAMPLE_RATE))
        pending: list[np.ndarray] = []
        pending_len = 0
        produced = 0
        for frame in _frames(container, path):
            for out in resampler.resample(frame):
                samples = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                pending.append(samples)
                pending_len += samples.size
                if pending_len >= target:
                    chunk = np.concatenate(pending)
                    pending, pending_len = [], 0
                    produced += chunk.size
                    yield chunk
        for out in resampler.resample(None):
            pending.append(out.to_ndarray().reshape(-1).astype(np.float32, copy=False))
        if pending:
            chunk = np.concatenate(pending)
            produced += chunk.size
            if chunk.size:
                yield chunk
    if produced == 0:
        raise _unreadable(path, "no audio could be decoded")


def _frames(container: av.container.InputContainer, path: Path) -> Iterator[av.AudioFrame]:
    stream = container.streams.audio[0]
    decoded_any = False
    try:
        for packet in container.demux(stream):
            try:
                for frame in packet.decode():
                    decoded_any = True
                    yield frame
            except av.error.InvalidDataError:
                continue  # a damaged frame: skip it, keep the rest
    except av.error.FFmpegError as exc:
        if not decoded_any:
            raise _unreadable(path, _reason(exc)) from exc
        # A file cut short: keep everything decoded before the damage.


def load_file(path: str | Path) -> np.ndarray:
    """The whole file as one 16 kHz mono float32 array (for short files and tests)."""
    chunks = list(stream_file(path, chunk_s=30.0))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.split(":")[-1].strip().rstrip(".") or type(exc).__name__


class StreamResampler:
    """Convert live audio blocks at ``rate`` Hz (mono float32) to 16 kHz, block by block."""

    def __init__(self, rate: int) -> None:
        self.rate = int(rate)
        self._resampler = av.audio.resampler.AudioResampler(
            format="flt", layout="mono", rate=SAMPLE_RATE
        )
        self._pts = 0

    def __call__(self, block: np.ndarray) -> np.ndarray:
        if self.rate == SAMPLE_RATE:
            return block.astype(np.float32, copy=False)
        data = np.ascontiguousarray(block.reshape(1, -1), dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(data, format="flt", layout="mono")
        frame.sample_rate = self.rate
        frame.pts = self._pts
        self._pts += data.shape[1]
        outs = [o.to_ndarray().reshape(-1) for o in self._resampler.resample(frame)]
        return np.concatenate(outs).astype(np.float32) if outs else np.zeros(0, np.float32)


def to_wav_bytes(audio: np.ndarray, rate: int) -> bytes:
    """Encode mono float32 audio as 16-bit PCM WAV bytes."""
    import io
    import wave

    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
    return buf.getvalue()
