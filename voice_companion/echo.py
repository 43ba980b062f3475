"""Is this turn the companion's own voice coming back through the microphone?

The live loop ignores the microphone while the companion speaks and for a short tail after, but
its voice can still come back later: a long room echo, a speaker with a delay (Bluetooth), or a
recording of a reply played back. Comparing words is not enough, because Whisper hears short
replies differently each time ("Mm. Okay." comes back as "Mmkay"). This module compares the
sound itself: the turn's spectrum over time is slid along the spectrum of what the companion last
played, and a close match at any offset means the turn is an echo.

The features are log energies in 24 mel bands every 10 ms. A loudspeaker and a room change the
level and colour of a sound but keep the pattern of its syllables over time, so after removing
each band's mean the correlation of a real echo stays high (about 0.6 to 0.95 through
PulseAudio and a room) while a person's words, even the same words, stay well below.
"""

from __future__ import annotations

import numpy as np

RATE = 16000
_HOP = 160  # 10 ms
_WIN = 400  # 25 ms
_FFT = 512
_BANDS = 24
_MIN_FRAMES = 30  # compare at least 0.3 s of sound
DEFAULT_THRESHOLD = 0.7
TURN_HEAD_S = 8.0  # an echo starts the turn it makes: compare the turn's first seconds


def _mel_filters(bands: int = _BANDS, fft: int = _FFT, rate: int = RATE) -> np.ndarray:
    def mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(np.array(100.0)), mel(np.array(rate / 2 * 0.9)), bands + 2))
    bins = np.fft.rfftfreq(fft, 1.0 / rate)
    filters = np.zeros((bands, bins.size), np.float32)
    for b in range(bands):
        lo, mid, hi = edges[b], edges[b + 1], edges[b + 2]
        rise = (bins - lo) / max(mid - lo, 1e-6)
        fall = (hi - bins) / max(hi - mid, 1e-6)
        filters[b] = np.clip(np.minimum(rise, fall), 0.0, None)
    return filters


_FILTERS = _mel_filters()
_WINDOW = np.hanning(_WIN).astype(np.float32)


def features(audio: np.ndarray) -> np.ndarray:
    """Log mel-band energies, one row per 10 ms (``(frames, 24)``)."""
    audio = np.asarray(audio, np.float32)
    if audio.size < _WIN:
        return np.zeros((0, _BANDS), np.float32)
    frames = 1 + (audio.size - _WIN) // _HOP
    idx = np.arange(_WIN)[None, :] + _HOP * np.arange(frames)[:, None]
    spectrum = np.abs(np.fft.rfft(audio[idx] * _WINDOW, n=_FFT)).astype(np.float32) ** 2
    return np.log(spectrum @ _FILTERS.T + 1e-8).astype(np.float32)


def _floored(feats: np.ndarray) -> np.ndarray:
    """Energies below 40 dB under the loudest frame are raised to that floor, so silence and
    room tone (whose level means nothing) weigh the same in every recording."""
    if feats.shape[0] == 0:
        return feats
    return np.maximum(feats, feats.max() - np.log(10.0**4.0))


def similarity(turn: np.ndarray, played: np.ndarray) -> float:
    """The best correlation (-1..1) between the turn's sound and any stretch of ``played`` (or
    the other way round, when the turn is the shorter): both are 16 kHz mono float32."""
    return feature_similarity(features(turn), features(played))


def feature_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """:func:`similarity` on ready-made :func:`features`."""
    a, b = _floored(a), _floored(b)
    if min(a.shape[0], b.shape[0]) < _MIN_FRAMES:
        return 0.0
    short, long_ = (a, b) if a.shape[0] <= b.shape[0] else (b, a)
    short = short - short.mean(axis=0)
    n, m = short.shape[0], long_.shape[0]
    norm_short = float(np.sqrt((short**2).sum()))
    if norm_short < 1e-6:
        return 0.0
    # numerator for every offset k: sum over bands of the cross-correlation of short and long
    size = 1 << int(np.ceil(np.log2(n + m)))
    num = np.fft.irfft(
        np.conj(np.fft.rfft(short.T, size, axis=1))
        * np.fft.rfft(long_.T, size, axis=1),
        size,
        axis=1,
    ).sum(axis=0)[: m - n + 1]
    # the long window's own spread at each offset, from running sums over frames and bands
    c2 = np.concatenate([[0.0], np.cumsum(long_.astype(np.float64) ** 2, axis=0).sum(axis=1)])
    band_means = np.cumsum(long_, axis=0, dtype=np.float64)
    band_means = np.vstack([np.zeros((1, long_.shape[1])), band_means])
    s1 = band_means[n:] - band_means[:-n]  # per band window sums
    spread = (c2[n:] - c2[:-n]) - (s1**2).sum(axis=1) / n
    corr = num / (norm_short * np.sqrt(np.clip(spread, 1e-9, None)))
    return float(np.max(corr))


class EchoGuard:
    """Remembers what the companion last played and tells whether a turn is that sound again."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, keep: int = 3) -> None:
        self.threshold = threshold
        self._played: list[np.ndarray] = []  # features of the last ``keep`` sounds
        self.keep = keep

    def played(self, audio: np.ndarray) -> None:
        """Remember a sound the companion played (16 kHz mono), forgetting the oldest."""
        feats = features(audio)
        if feats.shape[0] >= _MIN_FRAMES:
            self._played = [*self._played, feats][-self.keep :]

    def score(self, turn: np.ndarray) -> float:
        """The best match between the start of the turn and any remembered sound."""
        if not self._played:
            return 0.0
        head = features(np.asarray(turn, np.float32)[: int(TURN_HEAD_S * RATE)])
        return max(feature_similarity(head, p) for p in self._played)

    def is_echo(self, turn: np.ndarray) -> bool:
        return self.score(turn) >= self.threshold


__all__ = ["DEFAULT_THRESHOLD", "EchoGuard", "feature_similarity", "features", "similarity"]
