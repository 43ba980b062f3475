"""The syllable after Whisper's last word: real fixtures, the real model."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FIXTURES

from voice_companion.audio import load_file
from voice_companion.fixtures import load_manifest
from voice_companion.trailing import RATE, unwritten_syllable
from voice_companion.transcribe import PAUSE_TAIL_S

MANIFEST = {f.name: f for f in load_manifest()}


def before_pause(name: str) -> tuple[np.ndarray, float]:
    """What the live loop has at the fixture's first pause: the audio up to 0.128 s into it,
    and where the speech stopped."""
    pause = MANIFEST[name].pauses[0]
    audio = load_file(FIXTURES / name)
    return audio[: int((pause.start_s + PAUSE_TAIL_S) * RATE)], pause.start_s


def test_the_dropped_if_is_heard_after_the_last_written_word(transcriber) -> None:
    # "I honestly don't know if" + a pause: Whisper writes "I honestly don't know." (p 0.99)
    audio, speech_end = before_pause("pause_1300ms_if.flac")
    heard = transcriber.transcribe(audio)
    assert heard.text.rstrip(".").lower().endswith("know")  # the "if" is not written
    assert unwritten_syllable(audio, heard.last_word_end, speech_end)
    so_far = transcriber.transcribe_so_far(audio)
    assert so_far.trailing_syllable and so_far.unfinished


@pytest.mark.parametrize(
    "name", sorted(n for n, f in MANIFEST.items() if f.kind == "speech" and not f.pauses)
)
def test_a_finished_sentence_has_no_syllable_after_its_last_word(transcriber, name) -> None:
    audio = load_file(FIXTURES / name)
    heard = transcriber.transcribe_so_far(audio, speech_end_s=MANIFEST[name].turns[-1].end_s)
    assert heard.text
    assert not heard.trailing_syllable, heard.text


def test_silence_or_no_timing_is_never_a_syllable() -> None:
    quiet = np.zeros(RATE * 2, np.float32)
    assert not unwritten_syllable(quiet, 1.0, 1.5)
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(RATE * 2) / RATE)).astype(np.float32)
    assert not unwritten_syllable(tone, -1.0, 1.5)  # no last word
    assert not unwritten_syllable(tone, 1.6, 1.5)  # the last word ends after the speech


@pytest.mark.parametrize("name", sorted(n for n, f in MANIFEST.items() if f.kind == "pause"))
def test_the_end_of_a_finished_turn_is_not_taken_for_a_new_syllable(transcriber, name) -> None:
    # "...nobody was really listening.": Whisper ends "listening" before its last syllable
    # does, and the fading "-ing" must not read as a word it dropped.
    end = MANIFEST[name].turns[-1].end_s
    audio = load_file(FIXTURES / name)[: int((end + PAUSE_TAIL_S) * RATE)]
    heard = transcriber.transcribe_so_far(audio, speech_end_s=end)
    assert not heard.trailing_syllable, heard.text
