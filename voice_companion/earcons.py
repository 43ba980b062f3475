"""Earcons: short, soft sounds that say what the companion is doing without words.

``listening`` (a rising pair of notes) means "your turn, I'm listening"; ``thinking`` (one low
soft note) means "I heard you, a reply is coming"; ``goodbye`` (a falling pair) ends a session.
They are generated, not recorded, so they need no files.
"""

from __future__ import annotations

import numpy as np

RATE = 22050

_NOTES: dict[str, list[tuple[float, float]]] = {  # (frequency Hz, seconds)
    "listening": [(660.0, 0.07), (880.0, 0.09)],
    "thinking": [(520.0, 0.09)],
    "ready": [(523.0, 0.08), (659.0, 0.08), (784.0, 0.1)],
    "goodbye": [(784.0, 0.08), (523.0, 0.12)],
}
NAMES = tuple(_NOTES)


def earcon(name: str, volume: float = 0.25) -> np.ndarray:
    """The earcon ``name`` as mono float32 at :data:`RATE`."""
    parts = []
    for freq, dur in _NOTES[name]:
        t = np.arange(int(dur * RATE)) / RATE
        env = np.minimum(1.0, np.minimum(t / 0.01, (dur - t) / 0.03))  # soft attack and release
        tone = np.sin(2 * np.pi * freq * t) + 0.2 * np.sin(4 * np.pi * freq * t)
        parts.append((volume * env * tone / 1.2).astype(np.float32))
        parts.append(np.zeros(int(0.015 * RATE), np.float32))
    return np.concatenate(parts)
