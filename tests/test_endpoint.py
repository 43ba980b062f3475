"""End-of-turn logic on scripted timelines: exact, fast, no audio, no clock."""

from __future__ import annotations

import numpy as np
import pytest

from voice_companion.endpoint import EndpointConfig, Endpointer, Event, TurnSegmenter
from voice_companion.vad import FRAME, FRAME_S

CFG = EndpointConfig(short_wait_s=0.5, long_wait_s=2.0, max_turn_s=10.0, min_speech_s=0.3)


def run(timeline: list[tuple[float, float]], unfinished: bool | None = False, cfg=CFG):
    """Feed (duration_s, probability) spans frame by frame; return [(event, time)]."""
    ep = Endpointer(cfg)
    events, t = [], 0.0
    for duration, prob in timeline:
        for _ in range(round(duration / FRAME_S)):
            t += FRAME_S
            event = ep.push(t, prob)
            if event is Event.PAUSE:
                ep.set_unfinished(unfinished)
            if event is not None:
                events.append((event, round(t, 3), ep.speech_end))
    return events


def end_time(events):
    ends = [(t, speech_end) for e, t, speech_end in events if e is Event.END]
    assert len(ends) == 1, events
    return ends[0]


def test_finished_thought_ends_after_short_wait():
    t, speech_end = end_time(run([(0.5, 0.0), (2.0, 0.9), (3.0, 0.0)]))
    assert speech_end == pytest.approx(2.5, abs=FRAME_S)
    assert t - speech_end == pytest.approx(0.5, abs=FRAME_S)


@pytest.mark.parametrize("pause", [0.5, 1.0, 1.5, 1.9])
def test_unfinished_words_wait_through_pauses(pause):
    timeline = [(0.3, 0.0), (1.5, 0.9), (pause, 0.0), (1.0, 0.9), (3.0, 0.0)]
    events = run(timeline, unfinished=True)
    kinds = [e for e, _, _ in events]
    assert kinds.count(Event.START) == 1 and kinds.count(Event.END) == 1
    assert Event.RESUME in kinds  # the pause did not end the turn


def test_unfinished_turn_ends_after_long_wait():
    t, speech_end = end_time(run([(1.0, 0.9), (4.0, 0.0)], unfinished=True))
    assert t - speech_end == pytest.approx(2.0, abs=FRAME_S)


def test_unknown_completeness_waits_long():
    t, speech_end = end_time(run([(1.0, 0.9), (4.0, 0.0)], unfinished=None))
    assert t - speech_end == pytest.approx(2.0, abs=FRAME_S)


def test_short_blip_is_discarded_not_a_turn():
    events = run([(0.5, 0.0), (0.1, 0.9), (3.0, 0.0)])
    kinds = [e for e, _, _ in events]
    assert Event.DISCARD in kinds and Event.END not in kinds


def test_silence_and_sub_threshold_noise_never_start_a_turn():
    assert run([(5.0, 0.0), (5.0, 0.3)]) == []


def test_long_monologue_ends_at_next_natural_pause_after_max_turn():
    timeline = [(11.0, 0.9), (0.35, 0.0), (2.0, 0.9), (3.0, 0.0)]
    events = run(timeline, unfinished=True)
    t, speech_end = [(t, s) for e, t, s in events if e is Event.END][0]
    assert speech_end == pytest.approx(11.0, abs=FRAME_S)
    assert t - speech_end == pytest.approx(CFG.natural_pause_s, abs=FRAME_S)


def test_flicker_between_thresholds_keeps_speech_going():
    # 0.4 is between neg_threshold (0.35) and threshold (0.5): neither starts nor ends speech
    events = run([(1.0, 0.9), (1.0, 0.4), (1.0, 0.9), (3.0, 0.0)])
    assert [e for e, _, _ in events].count(Event.PAUSE) == 1


class ScriptedVad:
    """A VAD that reads the 'probability' from the first sample of each frame."""

    def __call__(self, frame: np.ndarray) -> float:
        return float(frame[0])


def signal(spans: list[tuple[float, float]]) -> np.ndarray:
    return np.concatenate([np.full(round(d / FRAME_S) * FRAME, p, np.float32) for d, p in spans])


def test_segmenter_keeps_half_a_second_before_speech():
    seg = TurnSegmenter(ScriptedVad(), CFG, hint=lambda audio: "I'm tired.",
                        unfinished=lambda text: False)
    audio = signal([(2.0, 0.0), (1.0, 0.9), (2.0, 0.0)])
    turns = [turn for event, turn in seg.feed(audio) if event is Event.END]
    assert len(turns) == 1
    turn = turns[0]
    assert turn.speech_start_s - turn.start_s >= CFG.preroll_s
    assert turn.hint == "I'm tired."
    # the kept audio starts with silence (pre-roll) and holds the whole second of speech
    assert np.count_nonzero(turn.audio == np.float32(0.9)) == round(1.0 / FRAME_S) * FRAME


def test_segmenter_hint_decides_wait_and_stale_hints_are_dropped():
    calls = []

    def hint(audio):
        calls.append(audio.size)
        return "and then I" if len(calls) == 1 else "and then I left."

    seg = TurnSegmenter(ScriptedVad(), CFG, hint=hint,
                        unfinished=lambda text: text.endswith("I"))
    audio = signal([(0.5, 0.0), (1.0, 0.9), (1.2, 0.0), (1.0, 0.9), (2.0, 0.0)])
    ends = [turn for event, turn in seg.feed(audio) if event is Event.END]
    assert len(ends) == 1 and ends[0].hint == "and then I left."
    assert len(calls) == 2  # one look at each pause


def test_flush_closes_a_turn_at_end_of_stream():
    seg = TurnSegmenter(ScriptedVad(), CFG, hint=None)
    events = list(seg.feed(signal([(0.5, 0.0), (1.0, 0.9)])))
    assert [e for e, _ in events] == [Event.START]
    closing = list(seg.flush())
    assert closing[-1][0] is Event.END and closing[-1][1].hint is None


def test_a_numpy_boolean_from_a_model_still_counts_as_finished():
    ep = Endpointer(CFG)
    t = 0.0
    for _ in range(round(1.0 / FRAME_S)):
        t += FRAME_S
        ep.push(t, 0.9)
    ep.push(t + FRAME_S, 0.0)
    ep.set_unfinished(np.float64(0.9) < 0.5)  # np.False_, as a probability test gives
    assert ep.wait_s(t) == CFG.short_wait_s
