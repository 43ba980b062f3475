"""The spoken crisis set (benchmarks/spoken_crisis.py): real espeak-ng speech, real tiny.en."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import jiwer

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "spoken_crisis", ROOT / "benchmarks" / "spoken_crisis.py")
S = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("spoken_crisis", S)
_spec.loader.exec_module(S)

HELD_OUT = {"holdout", "holdout4", "holdout5", "holdout6"}


def _written() -> list[dict[str, str]]:
    with S.CRISIS.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_spoken_row_names_its_written_row_and_voice() -> None:
    written = _written()
    spoken = S.load_spoken()
    assert spoken, "benchmarks/data/crisis_spoken.csv is missing"
    for row in spoken:
        source = written[int(row["row"])]
        assert (row["split"], row["kind"], row["category"]) == (
            source["split"], source["kind"], source["category"]), row
        assert (row["voice"], int(row["rate"])) == S.voice_for(int(row["row"]))


def test_every_held_out_row_was_spoken() -> None:
    wanted = {i for i, r in enumerate(_written()) if r["split"] in HELD_OUT}
    have = {int(r["row"]) for r in S.load_spoken(HELD_OUT)}
    assert wanted == have


def test_speaking_and_hearing_a_row_gives_its_stored_transcript(transcriber, tmp_path: Path
                                                                ) -> None:
    """Regenerating a row gives (about) what the file holds: the script is what made it."""
    written = _written()
    spoken = [r for r in S.load_spoken(HELD_OUT) if r["text"]][:3]
    for row in spoken:
        voice, rate = S.voice_for(int(row["row"]))
        audio = S.speak(written[int(row["row"])]["text"], voice, rate, tmp_path)
        heard = transcriber.transcribe(audio).text
        assert jiwer.wer(row["text"].lower(), heard.lower()) <= 0.25, (row["text"], heard)


def test_merge_keeps_one_row_per_position_in_order(tmp_path: Path) -> None:
    fields = S.FIELDS
    a, b, out = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "out.csv"
    for path, rows in ((a, [3, 1]), (b, [2, 1])):
        with path.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            for n in rows:
                w.writerow({"row": n, "split": "s", "kind": "k", "category": "c",
                            "voice": "en-us", "rate": 145, "text": f"{path.stem}{n}"})
    assert S.merge([a, b], out) == 3
    with out.open(newline="") as fh:
        got = [(r["row"], r["text"]) for r in csv.DictReader(fh)]
    assert got == [("1", "b1"), ("2", "b2"), ("3", "a3")]
