"""A conversation killed with SIGKILL keeps every finished turn; two processes writing and
reading the same journal at once lose nothing."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

from voice_companion.journal import Journal

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from voice_companion.journal import Journal

    journal = Journal.open(Path(sys.argv[1]))
    sid = journal.start_session()
    print("session", sid, flush=True)
    i = 0
    while True:
        tid = journal.add_turn(
            sid,
            transcript=f"turn {i}: my interview is on Friday and I'm worried about money {i}",
            reply=f"reply {i}: it sounds like a lot is riding on it",
            acts=["complex_reflection"],
            emotions=[{"label": "nervousness", "score": 0.7}],
            safety=None,
        )
        print("turn", tid, i, flush=True)  # printed only once the turn is committed
        i += 1
    """
)


def test_kill_9_mid_conversation_loses_no_finished_turn(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    committed: dict[int, int] = {}
    try:
        first = proc.stdout.readline().split()
        assert first[0] == "session", proc.stderr.read()
        sid = int(first[1])
        while len(committed) < 60:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            _, tid, i = line.split()
            committed[int(tid)] = int(i)
        os.kill(proc.pid, signal.SIGKILL)  # in the middle of whatever it was doing
        # read through proc.stdout, not communicate(): communicate() reads the pipe itself and
        # misses lines readline() has already buffered here (under load it once saw 60 of the
        # 75 turns the writer had reported)
        rest = proc.stdout.read()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    for line in rest.splitlines():  # turns it reported before the kill landed
        parts = line.split()
        if len(parts) == 3:
            committed[int(parts[1])] = int(parts[2])
    assert proc.returncode == -signal.SIGKILL

    with Journal.open(data) as journal:
        stored = {t.id: t for t in journal.turns(sid)}
        for tid, i in committed.items():
            assert tid in stored, f"turn {tid} was reported committed but is missing"
            assert stored[tid].transcript.startswith(f"turn {i}:")
            assert stored[tid].reply.startswith(f"reply {i}:")
        # at most the turn in progress is lost (it may also have committed before printing)
        assert len(stored) - len(committed) in (0, 1)
        # and each stored turn came with its threads, in the same transaction
        with_threads = {t.turn_id for t in journal.threads(sid)}
        first_turn = min(stored)
        assert first_turn in with_threads
        assert journal._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _worker(
    data: str, name: str, turns: int, queue: multiprocessing.Queue, start: object
) -> None:
    journal = Journal.open(Path(data))
    sid = journal.start_session()
    start.wait()  # both processes write from the same moment
    ids = []
    seen_max = 0
    for i in range(turns):
        ids.append(
            journal.add_turn(
                sid,
                transcript=f"{name} turn {i}: I'm worried about my {name} project",
                reply=f"{name} reply {i}",
                acts=["simple_reflection"],
                emotions=[{"label": "nervousness", "score": 0.6}],
                safety=None,
            )
        )
        # read while the other process writes
        seen_max = max(seen_max, len(journal.turns()))
        journal.open_threads()
        journal.due_thread()
        journal.last_session_recap(before_session=sid)
    journal.end_session(sid)
    journal.close()
    queue.put((name, sid, ids, seen_max))


def test_two_processes_writing_and_reading_at_once_lose_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    start = ctx.Barrier(2)
    turns = 200
    procs = [
        ctx.Process(target=_worker, args=(str(data), name, turns, queue, start))
        for name in ("alpha", "beta")
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    with Journal.open(data) as journal:
        all_turns = {t.id: t for t in journal.turns()}
        assert len(all_turns) == 2 * turns
        for name, sid, ids, seen_max in results:
            assert len(set(ids)) == turns
            for i, tid in enumerate(ids):
                assert all_turns[tid].session_id == sid
                assert all_turns[tid].transcript.startswith(f"{name} turn {i}:")
            assert seen_max >= turns  # it saw at least its own turns while writing
            [worry] = [t for t in journal.threads(sid) if t.kind == "worry"]
            assert worry.text == f"your {name} project"
        (_, _, ids_a, _), (_, _, ids_b, _) = results
        assert min(ids_a) < max(ids_b) and min(ids_b) < max(ids_a)  # they really interleaved
        sessions = journal.sessions()
        assert [s.turns for s in sessions] == [turns, turns]
        assert all(s.ended_at is not None and s.ended_at > datetime(2000, 1, 1)
                   for s in sessions)
