"""Did the person say a syllable after the last word Whisper wrote?

Before a pause Whisper sometimes drops a hanging last word and closes the sentence: "I honestly
don't know if..." comes out as "I honestly don't know." at probability 0.99, and the words alone
read as a finished thought. The audio still holds the "if". This looks for it: in the speech-band
energy (300-3000 Hz) of the turn so far, a dip at or after the end of Whisper's last word,
followed by a rise of at least ``RISE_DB`` to a peak as loud as the turn's speech, still rising
after the last word ended and before the speech did.

Measured on the 88 clips of ``benchmarks/unsure_endings.py`` (real speech, fixtures, espeak-ng)
replayed through the live path: it flags 3 of the 25 turns cut before a pause (the dropped "if",
"the" and "uh") and none of the 63 complete sentences; on real voices it caught 4 of 4 words
tiny.en dropped, and flagged 1 of 63 clean cuts. It depends on Whisper's word timing to within
about 20 ms, so it is one more reason to wait, never a reason to answer sooner.
"""

from __future__ import annotations

import numpy as np

RATE = 16000
BAND_HZ = (300.0, 3000.0)  # where the energy of voiced speech is
FRAME_S = 0.030  # analysis frames ...
HOP_S = 0.010  # ... every 10 ms
BACK_S = 0.12  # the dip may start this long before Whisper's last word ends (its timing is loose)
PEAK_AFTER_S = 0.02  # the new peak lies at least this long after the last word ends
RISE_DB = 8.0  # from the dip to the new peak
FLOOR_DB = -10.0  # the new peak is within this of the turn's loud level (95th percentile)
SPEECH_END_SLACK_S = 0.05  # the peak lies before the speech end, give or take
LOOK_BACK_S = 4.0  # only the end of the turn is analysed (the loud level too)


def _band_db(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frame times (centres, seconds) and the band energy of each frame in dB."""
    size, hop = int(FRAME_S * RATE), int(HOP_S * RATE)
    frames = (audio.size - size) // hop + 1
    if frames <= 0:
        return np.zeros(0), np.zeros(0)
    index = np.arange(frames)[:, None] * hop + np.arange(size)[None, :]
    spectrum = np.abs(np.fft.rfft(audio[index] * np.hanning(size)[None, :], axis=1)) ** 2
    freqs = np.fft.rfftfreq(size, 1 / RATE)
    band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    db = 10 * np.log10(spectrum[:, band].sum(axis=1) + 1e-10)
    return np.arange(frames) * HOP_S + FRAME_S / 2, db


def unwritten_syllable(audio: np.ndarray, last_word_end: float, speech_end: float) -> bool:
    """Whether a new syllable starts after ``last_word_end`` (Whisper's end of its last word)
    and before ``speech_end`` (where the VAD heard speech stop), both in seconds from the start
    of ``audio`` (16 kHz mono float32)."""
    if last_word_end <= 0 or speech_end <= last_word_end:
        return False
    start = max(0.0, speech_end - LOOK_BACK_S)
    clip = np.asarray(audio[int(start * RATE):], dtype=np.float32)
    times, db = _band_db(clip)
    if db.size < 3:
        return False
    times = times + start
    loud = float(np.percentile(db, 95))
    smooth = np.convolve(db, np.ones(3) / 3, mode="same")
    lowest = np.inf
    window = (times >= last_word_end - BACK_S) & (times <= speech_end + SPEECH_END_SLACK_S)
    for i in np.nonzero(window)[0]:
        lowest = min(lowest, smooth[i])
        if times[i] < last_word_end + PEAK_AFTER_S:
            continue
        # still rising (or at its peak) after the word ended: a new syllable, not the fading
        # end of one that straddles Whisper's word end ("listen|ing")
        rising = i > 0 and smooth[i] >= smooth[i - 1]
        if rising and smooth[i] - loud >= FLOOR_DB and smooth[i] - lowest >= RISE_DB:
            return True
    return False
