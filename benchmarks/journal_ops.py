"""Journal operations with 10,000 stored turns: p50 / p95 / max per operation, in milliseconds.

    python benchmarks/journal_ops.py [--turns 10000] [--repeat 200] [--dir FOLDER] [--json FILE]

The journal is filled through the public API (so threads and feelings are kept exactly as in a
real conversation) with the client turns of the AnnoMI counselling dialogues from
``../shared/annomi`` when they are there (replies are the therapists' turns), or with generated
sentences when they are not; it says which. A fifth of the turns are generated sentences full
of events, worries and people, so the threads table is larger than real talk would make it.
One session of 20 turns per day, going back in time. Then each
operation runs ``--repeat`` times on the full journal, with ``synchronous=FULL`` as in real use
(every finished turn is flushed to disk): ``add_turn``, ``due_thread``, ``open_threads``,
``forget_turn`` (with its write-ahead-log truncation), ``last_session_recap`` and, for
reference, ``mark_interrupted``, ``period_summary`` (a week) and opening the journal (which runs
``PRAGMA quick_check``). Target: every per-turn operation under 10 ms at p95.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice_companion.journal import Journal  # noqa: E402

ANNOMI = ROOT.parent / "shared" / "annomi" / "AnnoMI-full.csv"
TARGET_MS = 10.0
PER_TURN_OPS = ("add_turn", "due_thread", "open_threads", "forget_turn", "last_session_recap")
LABELS = ("sadness", "nervousness", "fear", "joy", "anger", "neutral", "relief", "grief",
          "disappointment", "gratitude")
# Turns rich in threads (events, worries, people), mixed in to stress the threads table.
TEMPLATES = [
    "My {event} is on {day} and I'm nervous about it.",
    "I'm worried about my {rel}'s {thing}.",
    "My {rel} {name} called again and we argued about {thing}.",
    "I feel invisible at work, nobody listens in meetings.",
    "Today was quiet, I went for a long walk.",
    "I'm seeing my {rel} {when}.",
    "I keep worrying about the {thing} this month.",
    "I have a {event} on the {nth}.",
    "Honestly I'm just tired of everything.",
]
SLOTS = {
    "event": ["interview", "exam", "dentist appointment", "presentation", "court date",
              "first day", "doctor's appointment", "flight", "date", "review"],
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "rel": ["sister", "brother", "dad", "mum", "partner", "friend", "boss", "son", "daughter"],
    "thing": ["health", "money", "rent", "job", "drinking", "school", "marriage", "visa"],
    "name": ["Sam", "Ana", "Jo", "Priya", "Tom", "Lee", "Maya", "Omar"],
    "when": ["tomorrow", "tonight", "this weekend", "next week", "on Friday"],
    "nth": ["3rd", "12th", "21st", "28th"],
}
THREAD_RICH_SHARE = 0.2


def synthetic(rng: random.Random) -> str:
    template = rng.choice(TEMPLATES)
    return template.format(**{k: rng.choice(v) for k, v in SLOTS.items()})


def load_dialogues() -> tuple[list[list[tuple[str, str]]], str]:
    """(client turn, therapist reply) pairs per AnnoMI conversation, or generated ones."""
    if not ANNOMI.exists():
        rng = random.Random(1)
        dialogues = [
            [(synthetic(rng), "It sounds like that matters to you.") for _ in range(15)]
            for _ in range(40)
        ]
        return dialogues, "generated sentences (../shared/annomi not found)"
    by_id: dict[str, list[tuple[str, str]]] = {}
    pending: dict[str, str] = {}
    with ANNOMI.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            tid, text = row["transcript_id"], row["utterance_text"].strip()
            if row["interlocutor"] == "client":
                pending[tid] = (pending.get(tid, "") + " " + text).strip()
            elif tid in pending:
                by_id.setdefault(tid, []).append((pending.pop(tid), text))
    dialogues = [pairs for pairs in by_id.values() if pairs]
    return dialogues, (
        f"AnnoMI client turns ({len(dialogues)} conversations, {ANNOMI}), "
        f"{THREAD_RICH_SHARE:.0%} replaced by generated thread-rich sentences"
    )


def fill(journal: Journal, turns: int, dialogues: list[list[tuple[str, str]]]) -> list[int]:
    rng = random.Random(7)
    now = datetime.now().replace(microsecond=0)
    per_session = 20
    sessions = turns // per_session + 1
    ids: list[int] = []
    flat = [pair for dialogue in dialogues for pair in dialogue]
    k = 0
    journal._conn.execute("PRAGMA synchronous = OFF")  # filling only; measured with FULL
    for s in range(sessions):
        start = now - timedelta(days=sessions - s, hours=rng.randint(0, 10))
        sid = journal.start_session(start)
        for i in range(min(per_session, turns - len(ids))):
            transcript, reply = flat[k % len(flat)]
            k += 1
            if rng.random() < THREAD_RICH_SHARE:
                transcript = synthetic(rng)
            ids.append(
                journal.add_turn(
                    sid, transcript=transcript, reply=reply, acts=["complex_reflection"],
                    emotions=[{"label": rng.choice(LABELS), "score": round(rng.random(), 2)}],
                    safety=None, at=start + timedelta(minutes=i),
                )
            )
        journal.end_session(sid, start + timedelta(minutes=per_session))
        if len(ids) >= turns:
            break
    journal._conn.execute("PRAGMA synchronous = FULL")
    journal._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return ids


def measure(fn: Callable[[int], object], repeat: int) -> list[float]:
    out = []
    for i in range(repeat):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--dir", type=Path, help="folder for the journal (default: a temp one)")
    parser.add_argument("--json", type=Path, help="also write the figures here as JSON")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="journal-bench-", dir=args.dir))
    data = folder / "data"
    try:
        dialogues, source = load_dialogues()
        journal = Journal.open(data)
        t0 = time.perf_counter()
        ids = fill(journal, args.turns, dialogues)
        fill_s = time.perf_counter() - t0
        conn = journal._conn
        threads = conn.execute("SELECT COUNT(*) FROM threads").fetchone()[0]
        open_count = conn.execute(
            "SELECT COUNT(*) FROM threads WHERE status = 'open'"
        ).fetchone()[0]
        sid = journal.start_session()
        rng = random.Random(3)
        victims = rng.sample(ids[: len(ids) // 2], args.repeat)
        transcripts = [t for d in dialogues for t, _ in d]
        added: list[int] = []

        def add(i: int) -> None:
            added.append(journal.add_turn(
                sid, transcript=transcripts[i % len(transcripts)], reply="I hear you.",
                acts=["simple_reflection"], emotions=[{"label": "sadness", "score": 0.7}],
                safety=None,
            ))

        results = {
            "add_turn": measure(add, args.repeat),
            "due_thread": measure(lambda i: journal.due_thread(), args.repeat),
            "open_threads": measure(lambda i: journal.open_threads(), args.repeat),
            "last_session_recap": measure(
                lambda i: journal.last_session_recap(before_session=sid), args.repeat),
            "mark_interrupted": measure(
                lambda i: journal.mark_interrupted(added[i], "I hear"), args.repeat),
            "forget_turn": measure(lambda i: journal.forget_turn(victims[i]), args.repeat),
            "period_summary (week)": measure(
                lambda i: journal.period_summary(datetime.now() - timedelta(days=7)),
                max(20, args.repeat // 10)),
        }
        size_mb = journal.path.stat().st_size / 1e6
        journal.close()
        results["Journal.open (quick_check)"] = measure(
            lambda i: Journal.open(data).close(), 10)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(f"journal with {len(ids):,} turns, {threads:,} threads ({open_count:,} open), "
          f"{size_mb:.1f} MB; filled in {fill_s:.1f} s from {source}")
    print(f"{'operation':<28}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'n':>6}  target")
    figures = {}
    for name, values in results.items():
        p50, p95 = statistics.median(values), percentile(values, 95)
        verdict = ""
        if name in PER_TURN_OPS:
            verdict = "ok (<10 ms)" if p95 < TARGET_MS else "OVER 10 ms"
        print(f"{name:<28}{p50:>9.2f}{p95:>9.2f}{max(values):>9.2f}{len(values):>6}  {verdict}")
        figures[name] = {"p50_ms": p50, "p95_ms": p95, "max_ms": max(values), "n": len(values)}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(
            {"turns": len(ids), "threads": threads, "source": source, "figures": figures},
            indent=2))
    over = [n for n in PER_TURN_OPS if figures[n]["p95_ms"] >= TARGET_MS]
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
