"""The pipeline on recorded audio: each file is a stream cut into turns like live audio.

file → decode (stream) → VAD + end-of-turn → Whisper → dialogue engine → (voice) → output
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from voice_companion.audio import stream_file
from voice_companion.config import Settings
from voice_companion.endpoint import EndpointConfig, Event, Turn, TurnSegmenter
from voice_companion.transcribe import Transcriber
from voice_companion.vad import StreamingVad


def endpoint_config(settings: Settings, live: bool) -> EndpointConfig:
    """Turn-taking timings from the settings; files need no early look at a pause."""
    return EndpointConfig(
        threshold=settings.vad_threshold,
        neg_threshold=max(0.05, settings.vad_threshold - 0.15),
        short_wait_s=settings.short_wait_s,
        long_wait_s=settings.long_wait_s,
        max_turn_s=settings.max_turn_s,
        min_speech_s=settings.min_speech_s,
        preroll_s=settings.preroll_s,
        hint_delay_s=0.1 if live else settings.short_wait_s,
    )


@dataclass
class HeardTurn:
    """A turn cut from a file, with what Whisper heard in it."""

    turn: Turn
    text: str
    asr_ms: float


def heard_turns(path: Path, transcriber: Transcriber, settings: Settings) -> Iterator[HeardTurn]:
    """Cut ``path`` into turns and transcribe each; turns with no words are dropped."""
    segmenter = TurnSegmenter(
        StreamingVad(),
        endpoint_config(settings, live=False),
        hint=transcriber.transcribe_so_far,  # at a pause: transcribe the turn so far
        unfinished=lambda result: result.unfinished,
    )

    def finished(events) -> Iterator[HeardTurn]:
        for event, turn in events:
            if event is not Event.END or turn is None:
                continue
            # the last pass over the whole turn decides the text: the pause's pass, when nothing
            # was said after it, or a new one
            result = turn.hint if turn.hint is not None else transcriber.transcribe(turn.audio)
            if result.text.strip():
                yield HeardTurn(turn, result.text.strip(), result.seconds * 1000)

    for chunk in stream_file(path):
        yield from finished(segmenter.feed(chunk))
    yield from finished(segmenter.flush())
