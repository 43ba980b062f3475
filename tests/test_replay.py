"""``voice-companion replay`` and ``chat`` end to end: real model, real fixtures, real files."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import jiwer
import pytest

from voice_companion.cli import main
from voice_companion.dialogue import ACTS
from voice_companion.fixtures import fixture_path, load_manifest

pytestmark = pytest.mark.slow
MANIFEST = {f.name: f for f in load_manifest()}


def norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def replay_json(capsys, *args: str, ok: bool = True) -> tuple[int, list[dict]]:
    code = main(["replay", "--json", *args])
    captured = capsys.readouterr()
    assert code == 0 or not ok, captured.err[-2000:]
    lines = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    return code, lines


def test_one_file_holding_a_conversation_gives_one_record_per_turn(capsys):
    fixture = MANIFEST["conversation_three_turns.flac"]
    code, records = replay_json(capsys, str(fixture_path(fixture.name)))
    assert code == 0
    assert [r["turn"] for r in records] == [1, 2, 3]
    heard = [norm(r["transcript"]) for r in records]
    assert jiwer.wer([norm(t.text) for t in fixture.turns], heard) <= 0.2, heard
    for record, turn in zip(records, fixture.turns, strict=True):
        assert record["audio"]["file"].endswith(fixture.name)
        # the turn is cut around the spoken words (pre-roll before, short wait after)
        assert record["audio"]["start_s"] <= turn.start_s <= record["audio"]["end_s"]
        assert record["audio"]["end_s"] == pytest.approx(turn.end_s, abs=0.3)
        assert set(record["acts"]) <= set(ACTS) and record["reply"]
        assert record["safety"] is None
        assert {"asr", "dialogue"} <= set(record["timings_ms"])
        assert set(record) >= {"turn", "transcript", "reply", "acts", "emotions", "safety",
                               "audio", "timings_ms"}


@pytest.mark.parametrize("name", [n for n, f in MANIFEST.items() if f.kind == "pause"])
def test_pauses_after_unfinished_words_do_not_cut_the_turn(capsys, name):
    code, records = replay_json(capsys, str(fixture_path(name)))
    assert code == 0
    assert len(records) == 1, [r["transcript"] for r in records]
    assert jiwer.wer(norm(MANIFEST[name].text), norm(records[0]["transcript"])) <= 0.3


def test_goodbye_ends_the_conversation_with_a_closing(capsys):
    code, records = replay_json(capsys, str(fixture_path("conversation_goodbye.flac")))
    assert code == 0 and records
    last = records[-1]
    assert "command" in last["acts"] and "goodbye" in norm(last["transcript"])


def test_bad_inputs_are_reported_and_the_rest_still_processed(capsys, tmp_path):
    good = fixture_path("turn_short_im_tired.flac")
    args = [str(fixture_path("not_audio.wav")), str(good), str(tmp_path / "missing.wav"),
            str(fixture_path("empty.wav")), str(tmp_path)]
    code, records = replay_json(capsys, *args, ok=False)
    assert code != 0
    errors = [r for r in records if "error" in r]
    turns = [r for r in records if "turn" in r]
    assert len(errors) == 4 and {e["file"] for e in errors} == set(args) - {str(good)}
    assert len(turns) == 1 and "tired" in turns[0]["transcript"].lower()


def test_no_traceback_for_a_bad_file_on_the_command_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "voice_companion", "replay", str(fixture_path("corrupt.mp3"))],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert "corrupt.mp3" in result.stderr and "Traceback" not in result.stderr


def test_saved_replies_say_the_reply(capsys, tmp_path, transcriber):
    from voice_companion.audio import load_file

    out = tmp_path / "replies"
    code, records = replay_json(capsys, str(fixture_path("speech_rough_day_work.flac")),
                                "--save-replies", str(out))
    assert code == 0 and len(records) == 1
    assert "tts" in records[0]["timings_ms"]
    wavs = sorted(out.glob("*.wav"))
    assert len(wavs) == 1
    heard = set(norm(transcriber.transcribe(load_file(wavs[0])).text).split())
    expected = [w for w in norm(records[0]["reply"]).split() if len(w) > 3]
    found = [w for w in expected if w in heard]
    assert len(found) >= 0.6 * len(expected), (records[0]["reply"], sorted(heard))


def test_chat_reads_one_turn_per_line_and_prints_json():
    result = subprocess.run(
        [sys.executable, "-m", "voice_companion", "chat", "--json", "--no-journal"],
        input="My boss ignores me at work.\n\nI feel invisible.\n",
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["turn"] for r in records] == [1, 2]
    assert "audio" not in records[0] and "asr" not in records[0]["timings_ms"]
    assert "your boss" in records[0]["reply"].lower() or "boss" in records[0]["reply"].lower()
