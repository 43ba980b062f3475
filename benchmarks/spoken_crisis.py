"""Speak the labelled crisis set aloud and write down what tiny.en hears.

Run ``python benchmarks/spoken_crisis.py --splits train6,train7 --beam 1 --out FILE`` (about half
a second a row; ``--shard 0/2`` and ``--shard 1/2`` split the work between two processes, and
``--merge`` puts their files together into ``benchmarks/data/crisis_spoken.csv``).

The companion never reads typed text in a conversation: it reads what Whisper heard. The written
speech-recognition style rows of ``benchmarks/data/crisis_utterances.csv`` imitate that, but a
real mishearing is different ("I won't be around" heard as "I want to be around", "pills" as
"bills"). Each row is spoken by espeak-ng (voices and rates vary from row to row, chosen by the
row's position, so the file is the same on every run), padded with half a second of silence on
either side, and transcribed by the companion's own :class:`~voice_companion.transcribe.Transcriber`
(tiny.en, the live loop's short window). The output keeps the source row's position in
``crisis_utterances.csv`` (``row``), its split, kind and category, the voice, and what was heard.

espeak-ng's voice is harder for tiny.en than most people's, so these transcripts are harsher than
a typical conversation: a stress test, not a sample of real users. ``fit_safety_head.py`` fits on
the transcripts of the training splits' danger rows (their safe rows are spoken too, and scored,
but fitting on them lowered recall); ``dialogue_eval.py`` scores the held-out ones. The file
holds every row of the held-out and training splits: held-out rows with Whisper's beam of 5, as
the live loop hears, and training rows with a beam of 1, for speed (regenerate them with the
splits and beam of the rows you change, then ``--merge``).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice_companion.audio import load_file  # noqa: E402

CRISIS = ROOT / "benchmarks" / "data" / "crisis_utterances.csv"
SPOKEN = ROOT / "benchmarks" / "data" / "crisis_spoken.csv"
VOICES = ("en-us", "en-gb-x-rp", "en-us+f3", "en-us-nyc", "en-us+f2", "en-gb", "en-us+m3",
          "en-gb-scotland", "en-us+f4", "en-029")
RATES = (145, 160, 175)
FIELDS = ("row", "split", "kind", "category", "voice", "rate", "text")
PAD_S = 0.5


def voice_for(row: int) -> tuple[str, int]:
    """The espeak-ng voice and words per minute for the row at position ``row``."""
    return VOICES[row % len(VOICES)], RATES[(row // len(VOICES)) % len(RATES)]


def speak(text: str, voice: str, rate: int, folder: Path) -> np.ndarray:
    """``text`` spoken by espeak-ng: 16 kHz mono float32 with silence either side."""
    wav = folder / "row.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(wav), text],
                   check=True, capture_output=True)
    pad = np.zeros(int(PAD_S * 16000), np.float32)
    return np.concatenate([pad, load_file(wav), pad])


def rows_for(splits: set[str], kinds: set[str] | None, shard: tuple[int, int]
             ) -> list[tuple[int, dict[str, str]]]:
    """(position, row) of the rows in ``splits`` (and of ``kinds``, when given) that fall to
    ``shard`` (index, count)."""
    with CRISIS.open(newline="") as fh:
        rows = list(enumerate(csv.DictReader(fh)))
    index, count = shard
    return [(i, r) for i, r in rows if r["split"] in splits and i % count == index
            and (kinds is None or r["kind"] in kinds)]


def transcribe_rows(splits: set[str], kinds: set[str] | None, beam: int,
                    shard: tuple[int, int], threads: int, out: Path) -> int:
    """Speak and transcribe the rows; write them to ``out``. Returns how many."""
    from rich.progress import track

    from voice_companion.transcribe import Transcriber

    transcriber = Transcriber("tiny.en", cpu_threads=threads, beam_size=beam)
    todo = rows_for(splits, kinds, shard)
    with tempfile.TemporaryDirectory() as tmp, out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        for position, row in track(todo, description=f"shard {shard[0]}/{shard[1]}"):
            voice, rate = voice_for(position)
            heard = transcriber.transcribe(speak(row["text"], voice, rate, Path(tmp))).text
            writer.writerow({"row": position, "split": row["split"], "kind": row["kind"],
                             "category": row["category"], "voice": voice, "rate": rate,
                             "text": heard})
    return len(todo)


def merge(parts: list[Path], out: Path) -> int:
    """Put shard files together, in row order, into ``out``. Returns the row count."""
    rows: dict[int, dict[str, str]] = {}
    for part in [*parts, out]:
        if part.is_file():
            with part.open(newline="") as fh:
                rows.update((int(r["row"]), r) for r in csv.DictReader(fh))
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows[k] for k in sorted(rows))
    return len(rows)


def load_spoken(splits: set[str] | None = None) -> list[dict[str, str]]:
    """The rows of ``crisis_spoken.csv`` (only those of ``splits`` when given)."""
    if not SPOKEN.is_file():
        return []
    with SPOKEN.open(newline="") as fh:
        return [r for r in csv.DictReader(fh) if splits is None or r["split"] in splits]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", help="comma-separated splits to speak")
    parser.add_argument("--kinds", help="comma-separated kinds (default: all)")
    parser.add_argument("--beam", type=int, default=5, help="Whisper beam size (live: 5)")
    parser.add_argument("--shard", default="0/1", help="INDEX/COUNT: this process's share")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, help="where to write this shard")
    parser.add_argument("--merge", nargs="*", type=Path,
                        help="shard files to merge into benchmarks/data/crisis_spoken.csv")
    args = parser.parse_args()
    if args.merge is not None:
        print(f"{merge(args.merge, SPOKEN)} rows in {SPOKEN}")
        return 0
    if not (args.splits and args.out):
        parser.error("--splits and --out are needed (or --merge)")
    index, count = (int(x) for x in args.shard.split("/"))
    kinds = set(args.kinds.split(",")) if args.kinds else None
    done = transcribe_rows(set(args.splits.split(",")), kinds, args.beam, (index, count),
                           args.threads, args.out)
    print(f"{done} rows written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
