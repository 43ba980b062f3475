"""Reading audio files: every format a person may have, broken files, and streaming."""

from __future__ import annotations

import tracemalloc
import wave
from pathlib import Path

import numpy as np
import pytest

from voice_companion.audio import load_file, stream_file
from voice_companion.errors import AudioInputError
from voice_companion.fixtures import fixture_path, load_manifest

MANIFEST = load_manifest()
FORMATS = [f for f in MANIFEST if f.kind == "format"]
BROKEN = [f for f in MANIFEST if f.kind == "broken" and f.name != "truncated_data.wav"]


@pytest.mark.parametrize("fixture", FORMATS, ids=lambda f: f.name)
def test_every_format_decodes_to_16k_mono_of_the_right_length(fixture):
    audio = load_file(fixture_path(fixture.name))
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.size / 16000 == pytest.approx(fixture.duration_s, abs=0.1)
    assert 0.01 < float(np.sqrt(np.mean(audio**2))) < 1.0  # real sound, not silence or garbage


@pytest.mark.parametrize("fixture", BROKEN, ids=lambda f: f.name)
def test_broken_files_give_one_clear_line(fixture):
    path = fixture_path(fixture.name)
    with pytest.raises(AudioInputError) as info:
        load_file(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    assert info.value.fix  # says what to do


def test_a_file_cut_short_keeps_what_is_there():
    fixture = next(f for f in MANIFEST if f.name == "truncated_data.wav")
    audio = load_file(fixture_path(fixture.name))
    assert 0.8 < audio.size / 16000 < 1.6


def test_missing_file_and_folder(tmp_path: Path):
    with pytest.raises(AudioInputError, match="no such file"):
        load_file(tmp_path / "nope.wav")
    with pytest.raises(AudioInputError, match="is a folder"):
        load_file(tmp_path)


def test_long_files_stream_in_small_chunks_with_bounded_memory(tmp_path: Path):
    # ten minutes of 48 kHz audio: decoding it whole would take ~115 MB as float32 at 48 kHz
    path = tmp_path / "long.wav"
    rate, seconds = 48000, 600
    rng = np.random.default_rng(1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        block = (rng.standard_normal(rate) * 3000).astype("<i2").tobytes()
        for _ in range(seconds):
            w.writeframes(block)
    tracemalloc.start()
    total, largest = 0, 0
    for chunk in stream_file(path, chunk_s=1.0):
        total += chunk.size
        largest = max(largest, chunk.size)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert total / 16000 == pytest.approx(seconds, abs=0.1)
    assert largest < 16000 * 2
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while streaming"
