"""Word error rate of the program's file pipeline against plain faster-whisper, per source.

For every verified file in ``../shared/speech``: the pipeline (stream decode → VAD → end-of-turn
→ per-turn Whisper, exactly as ``voice-companion replay``) and, with the same loaded model, plain
``WhisperModel.transcribe`` on the whole file (beam 5, ``vad_filter=True``). Both sides and the
references are normalised the same way (lower case, punctuation stripped, nothing expanded).

Target: the pipeline is never worse than the baseline by more than 0.01 absolute WER on any
source. Also reports the real-time factor (processing time / audio duration) of each.

    python benchmarks/asr_wer.py [--speech ../shared/speech] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
import time
from pathlib import Path

import jiwer
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice_companion.audio import load_file  # noqa: E402
from voice_companion.config import load_settings  # noqa: E402
from voice_companion.replay import heard_turns  # noqa: E402
from voice_companion.transcribe import Transcriber  # noqa: E402

TOLERANCE = 0.01


def normalise(text: str) -> str:
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(w.strip("'") for w in text.split() if w.strip("'"))


def references(speech: Path) -> dict[str, list[tuple[Path, str]]]:
    by_source: dict[str, list[tuple[Path, str]]] = {}
    for tsv in sorted(speech.glob("*/transcripts.tsv")):
        with tsv.open(newline="") as fh:
            for row in csv.reader(fh, delimiter="\t"):
                if len(row) >= 2 and row[0] and not row[0].startswith("#"):
                    by_source.setdefault(tsv.parent.name, []).append((tsv.parent / row[0], row[1]))
    return by_source


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speech", type=Path, default=ROOT.parent / "shared" / "speech")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    console = Console(stderr=args.json, width=140)
    if not args.speech.is_dir():
        console.print(f"No shared speech at {args.speech}: nothing to measure.")
        return 0
    settings = load_settings(journal=False)
    transcriber = Transcriber(settings.model, settings.compute_type, settings.cpu_threads,
                              settings.beam_size, short_window=settings.short_window)
    model = transcriber.model
    rows = []
    for source, items in references(args.speech).items():
        refs, pipe_hyps, base_hyps = [], [], []
        pipe_s = base_s = audio_s = 0.0
        for path, ref in items:
            audio_s += load_file(path).size / 16000
            start = time.perf_counter()
            pipe = " ".join(h.text for h in heard_turns(path, transcriber, settings))
            pipe_s += time.perf_counter() - start
            start = time.perf_counter()
            segments, _ = model.transcribe(str(path), language="en", beam_size=5,
                                           vad_filter=True)
            base = " ".join(s.text.strip() for s in segments)
            base_s += time.perf_counter() - start
            refs.append(normalise(ref))
            pipe_hyps.append(normalise(pipe))
            base_hyps.append(normalise(base))
            if normalise(pipe) != normalise(base):
                console.print(f"[dim]{path.name}: pipeline '{pipe}' | plain '{base}'[/]")
        wer_pipe = jiwer.wer(refs, pipe_hyps)
        wer_base = jiwer.wer(refs, base_hyps)
        rows.append({
            "source": source, "files": len(items), "audio_s": round(audio_s, 1),
            "wer_pipeline": round(wer_pipe, 3), "wer_plain": round(wer_base, 3),
            "delta": round(wer_pipe - wer_base, 3),
            "rtf_pipeline": round(pipe_s / audio_s, 3), "rtf_plain": round(base_s / audio_s, 3),
            "pass": wer_pipe <= wer_base + TOLERANCE,
        })
    table = Table(title="ASR word error rate: pipeline vs plain faster-whisper (tiny.en, int8)")
    for col in ("source", "files", "audio s", "WER pipeline", "WER plain", "Δ", "RTF pipeline",
                "RTF plain", "≤ +0.01"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["source"], str(r["files"]), f"{r['audio_s']}", f"{r['wer_pipeline']:.3f}",
                      f"{r['wer_plain']:.3f}", f"{r['delta']:+.3f}", f"{r['rtf_pipeline']:.3f}",
                      f"{r['rtf_plain']:.3f}", "pass" if r["pass"] else "FAIL")
    console.print(table)
    console.print(f"median RTF pipeline {statistics.median(r['rtf_pipeline'] for r in rows):.3f}, "
                  f"plain {statistics.median(r['rtf_plain'] for r in rows):.3f}")
    if args.json:
        print(json.dumps(rows))
    return 0 if all(r["pass"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
