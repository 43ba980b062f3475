"""The audio fixtures in ``audio_fixtures/``: where they are and what ``manifest.json`` says.

Tests use this to find a recording and to know what is in it: the words, where each turn starts
and ends, where the speaker pauses, which noise was mixed in, the file format, and what the
program should do with it. ``audio_fixtures/generate.py`` writes the manifest; this module only
reads and validates it. The fixtures live in the source tree, not in an installed package.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

Kind = Literal[
    "speech", "conversation", "silence", "noise", "breath", "broken", "format", "echo", "pause"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Turn(_Strict):
    """One stretch of speech, from its first sound to its last (in-turn pauses included)."""

    text: str
    start_s: float = Field(ge=0.0)
    end_s: float = Field(gt=0.0)
    speaker: Literal["user", "companion"] = "user"
    voice: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Turn:
        if self.end_s <= self.start_s:
            raise ValueError(f"turn ends ({self.end_s}) before it starts ({self.start_s})")
        return self


class Pause(_Strict):
    """Silence inserted inside a turn, right after ``after_word``."""

    after_word: str
    start_s: float = Field(ge=0.0)
    duration_s: float = Field(gt=0.0)

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


class Noise(_Strict):
    """Background sound mixed in (or, for noise-only fixtures, the whole content)."""

    description: str
    snr_db: float | None = None  # speech level over noise level, where there is speech
    level_dbfs: float | None = None  # RMS level of the noise itself


class AudioFormat(_Strict):
    """How the file is stored. ``sample_format`` is None for lossy codecs (mp3, vorbis)."""

    container: Literal["wav", "flac", "mp3", "ogg"]
    codec: str  # ffmpeg's name: pcm_s16le, pcm_s24le, pcm_f32le, flac, mp3, vorbis
    sample_rate: int = Field(gt=0)
    channels: int = Field(ge=1, le=8)
    sample_format: Literal["s16", "s24", "f32"] | None


class Fixture(_Strict):
    """One entry of ``audio_fixtures/manifest.json``."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Kind
    text: str  # every word the user says in the file, turns joined by spaces; "" for none
    turns: list[Turn] = Field(default_factory=list)
    pauses: list[Pause] = Field(default_factory=list)
    noise: Noise | None = None
    format: AudioFormat | None = None  # None for files that are not readable audio
    voice: str | None = None  # espeak-ng voice of the user turns
    rate: int | None = None  # espeak-ng words per minute
    pitch: int | None = None  # espeak-ng pitch, 0 to 99
    duration_s: float | None = None  # length of the readable audio
    expect: str  # what the program should do with this file

    @model_validator(mode="after")
    def _consistent(self) -> Fixture:
        for before, after in zip(self.turns, self.turns[1:], strict=False):
            if after.start_s < before.end_s:
                raise ValueError(f"{self.name}: turns overlap or are out of order")
        if self.duration_s is not None and self.turns and self.turns[-1].end_s > self.duration_s:
            raise ValueError(f"{self.name}: the last turn ends after the audio does")
        for pause in self.pauses:
            if not any(t.start_s < pause.start_s and pause.end_s < t.end_s for t in self.turns):
                raise ValueError(f"{self.name}: pause after {pause.after_word!r} is not in a turn")
        return self

    @property
    def path(self) -> Path:
        return fixtures_dir() / self.name

    @property
    def user_turns(self) -> list[Turn]:
        return [turn for turn in self.turns if turn.speaker == "user"]


_MANIFEST = TypeAdapter(list[Fixture])


def fixtures_dir() -> Path:
    """``audio_fixtures/`` at the root of the source tree."""
    return Path(__file__).resolve().parent.parent / "audio_fixtures"


def load_manifest(path: Path | None = None) -> list[Fixture]:
    """Read and validate the manifest (``audio_fixtures/manifest.json`` unless ``path``)."""
    if path is None:
        return list(_cached_manifest())
    return _MANIFEST.validate_python(json.loads(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def _cached_manifest() -> tuple[Fixture, ...]:
    return tuple(load_manifest(fixtures_dir() / "manifest.json"))


def get_fixture(name: str) -> Fixture:
    """The manifest entry for the file ``name``; KeyError if there is none."""
    for fixture in _cached_manifest():
        if fixture.name == name:
            return fixture
    raise KeyError(f"no audio fixture named {name!r} in {fixtures_dir() / 'manifest.json'}")


def fixtures_of_kind(kind: Kind) -> list[Fixture]:
    """Every fixture of one kind, in manifest order."""
    return [fixture for fixture in _cached_manifest() if fixture.kind == kind]


def fixture_path(name: str) -> Path:
    """The path of the fixture file ``name``; FileNotFoundError if it is not there."""
    path = fixtures_dir() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"audio fixture {name!r} not found in {fixtures_dir()}; "
            "run `python audio_fixtures/generate.py` to regenerate the fixtures"
        )
    return path
