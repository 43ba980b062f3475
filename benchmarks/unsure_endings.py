"""Does a pause end the turn? Whisper's doubt about the last words, short window against full.

Run ``python benchmarks/unsure_endings.py`` (about two minutes; ``--json`` for machine output;
``--variants 4`` also judges each clip three more times, shifted, louder or quieter, and passed
through 44.1 kHz and back with a little noise, as a microphone path would: about eight minutes).

At a pause the live loop transcribes the turn so far with a short encoder window and, when the
ending sounds unsure, may look again with Whisper's full 30 s window
(:meth:`~voice_companion.transcribe.Transcriber.transcribe_so_far`). A complete sentence judged
unfinished waits the long wait (slow); an unfinished one judged finished is cut off (worse).

Each clip is replayed through the live path first (the streaming VAD and the turn segmenter):
what is judged is the audio the loop has at the last pause, 0.1 s into it, as in a conversation.

Clips: complete sentences of real speech (``../shared/speech``, those under 20 s), the complete
speech fixtures, the ``pause_*`` fixtures cut where each pause after unfinished words begins,
and pairs spoken by espeak-ng in several voices here: words stopping mid-thought ("...but um",
"...and") beside a finished sentence. Each clip gets both passes once; then three rules are
scored on the same results: the short pass alone, the full pass deciding every doubtful ending
(min of the last word and the last two under 0.6; the rule before this benchmark), and the
companion's own rule.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice_companion.audio import load_file  # noqa: E402
from voice_companion.endpoint import Event, TurnSegmenter  # noqa: E402
from voice_companion.fixtures import fixture_path, load_manifest  # noqa: E402
from voice_companion.transcribe import Transcriber, Transcript  # noqa: E402
from voice_companion.vad import StreamingVad  # noqa: E402

SPEECH = ROOT.parent / "shared" / "speech"
VOICES = ("en-us", "en-gb-x-rp", "en-us+f3", "en-us-nyc", "en-us+f2", "en-gb", "en-us+m3")
# (stops mid-thought, a finished sentence with the same start)
PAIRS = (
    ("I wanted to tell him but um", "I wanted to tell him the truth."),
    ("So I was thinking that uh", "I was thinking about my dad today."),
    ("And then my boss said er", "My boss said I did a good job."),
    ("I just feel like um", "I just feel tired all the time."),
    ("The thing is uh", "The thing is, nobody listens."),
    ("I called my mom and", "I called my mom last night."),
    ("It was hard because", "It was a hard week."),
    ("I don't know if I", "I don't know what to do."),
    ("She told me that", "She told me she was leaving."),
    ("We went to the park and then", "We went to the park together."),
    ("My brother keeps saying that um", "My brother keeps asking for money."),
    ("I guess what I mean is uh", "I miss the way things used to be."),
)


def clips() -> list[tuple[str, str, np.ndarray]]:
    """(kind, name, audio): kind is "complete" or "unfinished"."""
    out = []
    index = SPEECH / "INDEX.tsv"
    if index.is_file():
        for row in csv.DictReader(index.open(), delimiter="\t"):
            path = SPEECH / row["source"] / row["file"]
            if path.is_file() and float(row["duration_s"]) < 20:
                out.append(("complete", f"{row['source']}/{row['file']}", load_file(path)))
    for fixture in load_manifest():
        if fixture.kind == "speech" or fixture.name.startswith("turn_short"):
            out.append(("complete", fixture.name, load_file(fixture_path(fixture.name))))
        elif fixture.name.startswith("pause_"):  # pauses after unfinished words
            audio = load_file(fixture_path(fixture.name))
            for pause in fixture.pauses:  # what the loop has 0.1 s into the pause
                cut = audio[: int((pause.start_s + 0.1) * 16000)]
                out.append(("unfinished", f"{fixture.name}@{pause.after_word}", cut))
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "x.wav"
        for i, pair in enumerate(PAIRS):
            for j, (kind, text) in enumerate(zip(("unfinished", "complete"), pair, strict=True)):
                voice = VOICES[(i + j) % len(VOICES)]
                subprocess.run(["espeak-ng", "-v", voice, "-s", str(140 + 10 * (i % 3)),
                                "-w", str(wav), text], check=True, capture_output=True)
                audio = load_file(wav)
                audio = np.concatenate([np.zeros(8000, np.float32), audio,
                                        np.zeros(1600, np.float32)])
                out.append((kind, f"{voice}: {text}", audio))
    return out


# (samples of silence put before the clip, gain) for each variant after the first
_VARIANTS = ((160, 0.8), (333, 1.2), (77, 0.6))


def variant(audio: np.ndarray, k: int) -> np.ndarray:
    """The clip itself (``k`` 0), or a copy shifted, scaled, taken through 44.1 kHz by linear
    interpolation and back, with noise at about -70 dBFS: the same words, other samples."""
    if k == 0:
        return audio
    shift, gain = _VARIANTS[(k - 1) % len(_VARIANTS)]
    x = np.concatenate([np.zeros(shift, np.float32), audio]) * gain
    t = np.arange(x.size) / 16000
    up_t = np.arange(0, t[-1], 1 / 44100)
    up = np.interp(up_t, t, x)
    down = np.interp(np.arange(0, up_t[-1], 1 / 16000), up_t, up)
    down += np.random.default_rng(k).normal(0, 3e-4, down.size)
    return down.astype(np.float32)


def at_last_pause(audio: np.ndarray) -> np.ndarray:
    """The turn audio the live loop hands Whisper at the clip's last pause (the clip itself if
    the segmenter heard no pause)."""
    hints: list[np.ndarray] = []
    segmenter = TurnSegmenter(StreamingVad(), hint=lambda turn: hints.append(turn) or None)
    padded = np.concatenate([audio, np.zeros(24000, np.float32)])
    for event, _ in segmenter.feed(padded):
        if event is Event.START:
            hints.clear()  # only the last turn's pauses count
    return hints[-1] if hints else audio


class _Replayed(Transcriber):
    """The companion's decision logic over passes already made (no model)."""

    def __init__(self, short: Transcript, full: Transcript) -> None:  # noqa: D107
        self.short_window = True
        self._short, self._full = short, full
        self.full_asked = False

    def transcribe(self, audio, vad_filter=True, full_window=False):  # noqa: ANN001, ANN201
        self.full_asked |= full_window
        return self._full if full_window else self._short


def rules(short: Transcript, full: Transcript, audio: np.ndarray
          ) -> dict[str, tuple[bool, bool]]:
    """Each rule's (unfinished?, second pass paid?) for one clip."""
    doubtful = bool(short.text) and min(short.last_word_prob, short.last_two_prob) < 0.6
    own = _Replayed(short, full)
    heard = own.transcribe_so_far(audio)
    return {
        "short pass alone": (short.unfinished, False),
        "full pass decides doubtful endings": (
            (full if doubtful else short).unfinished, doubtful),
        "the companion's rule": (heard.unfinished, own.full_asked),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--variants", type=int, default=1, choices=range(1, 5),
                        help="judge each clip this many ways (1: as it is)")
    args = parser.parse_args()
    console = Console(stderr=args.json, width=140)
    transcriber = Transcriber("tiny.en")
    results = []
    for kind, base, whole in clips():
        for k in range(args.variants):
            name = base if k == 0 else f"{base} (variant {k})"
            audio = at_last_pause(variant(whole, k))
            short = transcriber.transcribe(audio)
            full = transcriber.transcribe(audio, full_window=True)
            results.append((kind, name, short, full, audio))
            console.print(f"[dim]{kind:10s} {name[:50]:50s} short {short.last_word_prob:.2f}/"
                          f"{short.last_two_prob:.2f} '{short.text[-35:]}' | full "
                          f"{full.last_word_prob:.2f}/{full.last_two_prob:.2f} "
                          f"'{full.text[-35:]}'[/]")
    summary = {}
    for rule in rules(*results[0][2:]):
        held = [n for k, n, s, f, a in results if k == "complete" and rules(s, f, a)[rule][0]]
        cut = [n for k, n, s, f, a in results if k == "unfinished" and not rules(s, f, a)[rule][0]]
        second = sum(rules(s, f, a)[rule][1] for _, _, s, f, a in results)
        summary[rule] = {"complete_held": held, "unfinished_cut": cut, "second_passes": second}
    n_complete = sum(r[0] == "complete" for r in results)
    n_unfinished = len(results) - n_complete
    table = Table(title=f"Pauses judged by Whisper's doubt: {n_complete} complete, "
                        f"{n_unfinished} unfinished clips (tiny.en)")
    for col in ("rule", "complete held for the long wait", "unfinished cut off",
                "second passes"):
        table.add_column(col)
    for rule, s in summary.items():
        table.add_row(rule, f"{len(s['complete_held'])} of {n_complete}",
                      f"{len(s['unfinished_cut'])} of {n_unfinished}",
                      f"{s['second_passes']} of {len(results)}")
    console.print(table)
    for rule, s in summary.items():
        if s["unfinished_cut"]:
            console.print(f"{rule}: cut off {', '.join(s['unfinished_cut'])}")
    if args.json:
        print(json.dumps({"complete": n_complete, "unfinished": n_unfinished,
                          "rules": summary}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
