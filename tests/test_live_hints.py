"""The live loop's background passes at pauses: a stale pass never delays the current one."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from voice_companion.live import Talk
from voice_companion.vad import FRAME


class _Segmenter:
    def __init__(self) -> None:
        self.frames = 10

    def turn_audio(self) -> np.ndarray:
        return np.zeros(self.frames * FRAME, np.float32)


class _Slow:
    """A transcriber (or echo scorer) whose first call blocks until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls: list[int] = []

    def __call__(self, audio: np.ndarray) -> int:
        if not self.calls:
            self.calls.append(-1)
            self.release.wait(5)
            return -1
        self.calls.append(audio.size // FRAME)
        return audio.size // FRAME


def _talk() -> tuple[Talk, _Slow, _Slow]:
    talk = Talk.__new__(Talk)  # only the pause-handling state, no models or devices
    asr, echo = _Slow(), _Slow()
    talk.segmenter = _Segmenter()
    talk.transcriber = type("T", (), {"transcribe_so_far": staticmethod(asr)})()
    talk.echo = type("E", (), {"score": staticmethod(echo)})()
    talk.pool = ThreadPoolExecutor(max_workers=1)
    talk.echo_pool = ThreadPoolExecutor(max_workers=1)
    talk.hint = talk.echo_check = None
    talk.pause_frames = -1
    return talk, asr, echo


def test_a_new_pause_drops_the_queued_pass_of_an_earlier_pause():
    talk, asr, echo = _talk()
    talk._on_pause()  # pause 1: its pass starts and is still running
    talk.segmenter.frames = 20
    talk._on_pause()  # pause 2: queued behind pause 1
    stale = talk.hint[0]
    talk.segmenter.frames = 30
    talk._on_pause()  # the final pause: pause 2's pass must not run before it
    assert stale.cancelled()
    asr.release.set()
    echo.release.set()
    assert talk.hint[0].result(5) == 30 and talk.hint[1] == 30
    assert talk.echo_check[0].result(5) == 30
    assert asr.calls == [-1, 30] and echo.calls == [-1, 30]  # pause 2 never transcribed
    talk.pool.shutdown()
    talk.echo_pool.shutdown()


def test_speech_resuming_drops_a_pass_that_has_not_started():
    talk, asr, echo = _talk()
    talk._on_pause()
    talk.segmenter.frames = 20
    talk._on_pause()
    queued = talk.hint[0]
    talk._drop_queued_passes()  # what the loop does on Event.RESUME
    assert queued.cancelled() and talk.hint is None and talk.echo_check is None
    asr.release.set()
    echo.release.set()
    talk.pool.shutdown()
    talk.echo_pool.shutdown()
    assert asr.calls == [-1]
