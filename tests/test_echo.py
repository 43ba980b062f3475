"""The companion's own voice, heard back through the microphone, is recognised by its sound."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from voice_companion.audio import load_file
from voice_companion.echo import EchoGuard, similarity
from voice_companion.fixtures import fixture_path, load_manifest

REPLY = "That sounds like a really hard day. What felt hardest?"


def espeak(text: str, tmp_path, voice: str = "en", rate: int = 175, pitch: int = 50):
    """The reply as the echo fixtures' companion voice said it (audio_fixtures/generate.py)."""
    path = tmp_path / "reply.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "-w",
                    str(path), text], check=True)
    return load_file(path)


def through_room(audio: np.ndarray, seed: int = 1) -> np.ndarray:
    """A small loudspeaker in a room: band-limited, delayed, a decaying reverb tail, quieter,
    over room noise."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(audio)
    freqs = np.fft.rfftfreq(audio.size, 1 / 16000)
    spectrum *= 1.0 / np.sqrt(1 + (250 / np.maximum(freqs, 1)) ** 4) / np.sqrt(
        1 + (freqs / 5000) ** 4)
    dry = np.fft.irfft(spectrum, audio.size)
    tail = rng.standard_normal(4000) * np.exp(-np.arange(4000) / 800) * 0.05
    tail[0] = 1.0
    wet = np.convolve(dry, tail)[: audio.size] * 0.4
    delayed = np.concatenate([np.zeros(800), wet])
    return (delayed + rng.standard_normal(delayed.size) * 0.002).astype(np.float32)


def test_the_echo_fixture_is_recognised_as_the_reply(tmp_path):
    reply = espeak(REPLY, tmp_path)
    guard = EchoGuard()
    guard.played(reply)
    assert guard.is_echo(load_file(fixture_path("echo_companion_reply.flac")))


def test_the_person_speaking_after_the_echo_is_not_an_echo(tmp_path):
    fixture = next(f for f in load_manifest() if f.name == "echo_reply_then_user.flac")
    audio = load_file(fixture_path(fixture.name))
    user = fixture.turns[-1]
    person = audio[int((user.start_s - 0.3) * 16000) :]
    guard = EchoGuard()
    guard.played(espeak(REPLY, tmp_path))
    assert guard.score(person) < guard.threshold


def test_the_same_words_in_another_voice_are_not_an_echo(tmp_path):
    reply = espeak(REPLY, tmp_path)
    other = espeak(REPLY, tmp_path, voice="en-us+f3", rate=150, pitch=60)
    assert similarity(other, reply) < 0.7


@pytest.mark.parametrize(
    "fixture",
    [f.name for f in load_manifest() if f.kind in ("speech", "pause", "noise", "breath")],
)
def test_no_speech_or_noise_fixture_is_taken_for_a_reply(fixture, tmp_path):
    guard = EchoGuard()
    guard.played(espeak(REPLY, tmp_path))
    guard.played(espeak("Mm. Okay.", tmp_path, voice="en-us", rate=165))
    guard.played(espeak("Take your time. I'm here.", tmp_path, voice="en-us", rate=165))
    assert guard.score(load_file(fixture_path(fixture))) < guard.threshold


def test_a_synthesised_reply_heard_through_a_room_is_an_echo_even_when_short():
    from voice_companion.voice import Synthesizer, _resample

    synth = Synthesizer()
    guard = EchoGuard(keep=2)
    for text in ("Mm. Okay.", "It sounds like the meeting stayed with you all day."):
        speech = synth.synthesize(text)
        played = _resample(speech.audio, speech.rate, 16000)
        guard.played(played)
        heard = np.concatenate([np.zeros(4000, np.float32), through_room(played),
                                np.zeros(8000, np.float32)])
        assert guard.is_echo(heard), (text, guard.score(heard))
    # the oldest sounds are forgotten
    guard.played(_resample(synth.synthesize("What felt hardest?").audio, speech.rate, 16000))
    first = _resample(synth.synthesize("Mm. Okay.").audio, speech.rate, 16000)
    assert guard.score(through_room(first)) < guard.threshold
