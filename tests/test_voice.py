"""The voice: real espeak-ng synthesis, and playback that stops when interrupted."""

from __future__ import annotations

import re
import time

import jiwer
import numpy as np
import pytest

from voice_companion.audio import load_file
from voice_companion.errors import VoiceError
from voice_companion.voice import Player, Speaker, Synthesizer, split_sentences

pytestmark = pytest.mark.slow


def norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def test_synthesised_speech_says_the_text(transcriber):
    text = "It sounds like today was heavy. What felt hardest?"
    speech = Synthesizer(rate=175, voice="en-us").synthesize(text)
    assert speech.rate == 22050 and speech.audio.size > speech.rate  # over a second of sound
    from voice_companion.audio import StreamResampler

    heard = transcriber.transcribe(StreamResampler(speech.rate)(speech.audio)).text
    assert jiwer.wer(norm(text), norm(heard)) <= 0.25, heard


def test_rate_changes_the_length_of_speech():
    synth = Synthesizer(rate=120)
    slow = synth.synthesize("I hear how tired you are tonight.").audio.size
    synth.rate = 240
    fast = synth.synthesize("I hear how tired you are tonight.").audio.size
    assert fast < 0.75 * slow


def test_unknown_voice_is_a_clear_error():
    with pytest.raises(VoiceError, match="No voice matches 'klingon-xx'"):
        Synthesizer(voice="klingon-xx")


def test_sentences_split_for_early_start():
    assert split_sentences("You're exhausted. What kept you up? I'm here.") == [
        "You're exhausted.", "What kept you up?", "I'm here."]


def test_playback_reaches_the_speaker_and_stops_when_interrupted(pulse_env, tmp_path):
    rec_path = tmp_path / "spk.wav"
    recorder = pulse_env.record_speaker(rec_path)
    time.sleep(0.5)

    class Voice:
        rate, volume = 170, 1.0

    speaker = Speaker(Synthesizer(rate=170), Player(None), Voice())
    reply = ("You have carried a lot this week. Your sister, the move, and the job. "
             "It sounds like you have barely had a moment for yourself. "
             "What would you want to say about that?")
    speaker.say(reply)
    deadline = time.monotonic() + 15
    while speaker.player.played_s < 0.9 and time.monotonic() < deadline:
        time.sleep(0.01)
    heard = speaker.interrupt()
    stopped_at = time.monotonic()
    assert not speaker.player.playing
    time.sleep(1.5)
    pulse_env.stop_recording(recorder)
    speaker.close()

    # only a prefix of the reply was spoken
    assert heard and reply.startswith(heard.rstrip("…").strip()[:20])
    assert len(heard) < len(reply) / 2
    audio = load_file(rec_path)
    level = np.abs(audio)
    assert level.max() > 0.05, "nothing reached the speaker"
    # the end of the recording (after the stop, plus a generous margin) is silent
    tail = audio[-int(16000 * 0.8):]
    assert float(np.abs(tail).max()) < 0.01, (stopped_at, float(np.abs(tail).max()))


def test_queued_sounds_play_back_to_back_through_one_stream(pulse_env, tmp_path):
    rec_path = tmp_path / "spk.wav"
    recorder = pulse_env.record_speaker(rec_path)
    time.sleep(0.5)
    rate = 22050
    t = np.arange(int(0.6 * rate)) / rate
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    player = Player(None)
    segments = [player.queue(tone, rate, 1.0, f"tone {i}") for i in range(3)]
    assert player.wait(timeout=10)
    player.close()
    time.sleep(0.8)
    pulse_env.stop_recording(recorder)
    assert all(s.finished for s in segments)
    assert all(s.started_at is not None for s in segments)
    # the later ones start when the one before ends: no stream to reopen between them (the
    # first is stamped when the stream pre-fills, which PulseAudio may hold a while)
    assert abs((segments[2].started_at - segments[1].started_at) - 0.6) < 0.2
    audio = load_file(rec_path)
    loud = np.abs(audio) > 0.05
    first, last = np.argmax(loud), loud.size - np.argmax(loud[::-1])
    # 1.8 s of tone with no gap inside it like the 0.3 s or more that reopening a stream cost
    # (a short underrun on a very busy machine is tolerated)
    span = loud[first:last]
    quiet = ~span[: span.size // 160 * 160].reshape(-1, 160).any(axis=1)
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(int), [0]]))))[::2]
    assert runs.size == 0 or runs.max() < 20, f"a gap of {runs.max() * 10} ms between sounds"
    # (the recorder may start late and miss the first moments, so only an upper bound is exact)
    assert 1.2 < (last - first) / 16000 < 1.95


def test_an_utterance_reports_when_it_started_and_what_was_heard():
    from voice_companion.voice import Segment, Utterance

    u = Utterance("First one. Second one here.")
    assert u.first_audio_at is None and u.heard() == ""
    a, b = Segment(np.zeros(100, np.float32), 100, "First one."), Segment(
        np.zeros(400, np.float32), 100, "Second one here.")
    u.segments = [a, b]
    a.started_at, a.pos = 12.5, 100
    a.done.set()
    b.started_at, b.pos = 13.5, 200
    assert u.first_audio_at == 12.5
    assert u.heard() == "First one. Second…"
