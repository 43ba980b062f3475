"""The figures of ``benchmarks/turn_taking.py``: each measured value, its target, pass or fail.

Every function reads finished :class:`~turn_session.Session` objects (timeline events, plays and
recordings) and returns :class:`Figure` rows plus the per-clip details behind them.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jiwer
import numpy as np
from rich.console import Console
from rich.table import Table
from turn_session import Interruption, Session, Startup

ECHO_FIXTURE = "echo_companion_reply.flac"
TARGETS = {
    "latency_median": 800.0, "latency_p95": 1200.0, "barge_in_ms": 150.0, "idle_cpu": 5.0,
    "startup_s": 3.0,
}
RECORDER_NOTE = "outside times ±20 ms (parec blocks)"


@dataclass
class Figure:
    key: str
    name: str
    value: str
    target: str
    passed: bool | None  # None: informational, or not measured
    n: int | None = None
    note: str = ""


def words(text: str) -> list[str]:
    text = text.lower().replace("’", "'")
    return [w.strip("'") for w in re.findall(r"[a-z0-9']+", text) if w.strip("'")]


def first_word(text: str) -> str:
    found = words(text)
    return found[0] if found else ""


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q))


def spread(values: Sequence[float], unit: str = "ms") -> str:
    if not values:
        return "not measured"
    return (f"median {pct(values, 50):.0f} {unit}, p95 {pct(values, 95):.0f} {unit} "
            f"(min {min(values):.0f}, max {max(values):.0f})")


# -- end of speech → first reply audio ----------------------------------------------------------

def latency_rows(session: Session) -> list[dict[str, Any]]:
    """One row per complete-turn play: the timeline's figures and the outside measure."""
    all_turns = session.turns()
    rows = []
    for play in session.plays:
        if play.kind != "speech" or play.fixture is None or play.talked_over:
            continue
        heard = [t for t in play.turns(all_turns) if t.answered]
        row: dict[str, Any] = {"fixture": play.name, "turns": len(heard),
                               "settled": play.settled, "text": [t.text for t in heard]}
        if len(heard) == 1 and heard[0].latency_ms is not None:
            t = heard[0]
            row.update(latency_ms=t.latency_ms, decided_ms=t.decided_ms, asr_ms=t.asr_ms)
            end = play.speech_end
            if end is not None:
                first = session.spk.first_sound(end, end + 15)
                if first is not None:
                    row["outside_ms"] = (first - end) * 1000
                    row["outside_minus_timeline_ms"] = row["outside_ms"] - t.latency_ms
                row["stamp_lag_ms"] = (t.speech_end_t - end) * 1000
        rows.append(row)
    return rows


def latency_figures(rows: Sequence[dict], label: str, key: str, min_n: int = 20) -> list[Figure]:
    lat = [r["latency_ms"] for r in rows if "latency_ms" in r]
    n = len(lat)
    notes = []
    if len(rows) - n:
        notes.append(f"{len(rows) - n} of {len(rows)} plays gave no single answered turn")
    if not rows:
        notes.append("no clips played: the run was out of time")
    elif n < min_n:
        notes.append(f"only {n} turns (≥ {min_n} wanted)")
    note = "; ".join(notes)
    figs = [
        Figure(f"{key}_median", f"End of speech → first reply audio, median ({label})",
               f"{pct(lat, 50):.0f} ms" if lat else "not measured", "≤ 800 ms",
               pct(lat, 50) <= TARGETS["latency_median"] if lat else None, n, note),
        Figure(f"{key}_p95", f"End of speech → first reply audio, p95 ({label})",
               f"{pct(lat, 95):.0f} ms" if lat else "not measured", "≤ 1,200 ms",
               pct(lat, 95) <= TARGETS["latency_p95"] if lat else None, n, note),
    ]
    return figs


def latency_breakdown(rows: Sequence[dict], key: str) -> list[Figure]:
    parts = (
        ("decided_ms", "end of speech → turn decided", ""),
        ("asr_ms", "Whisper time of the deciding pass", ""),
        ("outside_ms", "outside: speech end in mic → first sound from speaker", RECORDER_NOTE),
        ("outside_minus_timeline_ms", "outside − timeline latency", "output buffering"),
        ("stamp_lag_ms", "program's end-of-speech stamp − real end in mic", RECORDER_NOTE),
    )
    figs = []
    for part, what, note in parts:
        vals = [r[part] for r in rows if r.get(part) is not None]
        figs.append(Figure(f"{key}_{part}", f"  {what}", spread(vals), "—", None, len(vals),
                           note))
    return figs


# -- cut-offs, noise, own voice -----------------------------------------------------------------

def cutoff_figure(session: Session) -> tuple[Figure, list[dict]]:
    """Pause fixtures whose turn was ended at a pause (more than one turn, or ended early)."""
    all_turns = session.turns()
    rows = []
    for play in session.plays:
        if play.kind != "pause" or play.fixture is None or play.talked_over:
            continue
        heard = [t for t in play.turns(all_turns) if t.text.strip()]
        end = play.speech_end
        early = [t for t in heard if end is not None and t.speech_end_t < end - 0.5]
        missing_end = bool(heard) and words(play.fixture.text)[-1] not in words(heard[-1].text)
        cut = len(heard) > 1 or bool(early) or (end is None and missing_end)
        rows.append({"fixture": play.name, "turns_with_text": len(heard),
                     "ended_early": bool(early), "cut": cut, "texts": [t.text for t in heard],
                     "decided_ms": [t.decided_ms for t in heard]})
    cuts = sum(r["cut"] for r in rows)
    lost = [r["fixture"] for r in rows if r["turns_with_text"] == 0]
    note = "pauses of 0.5-2 s after unfinished words; cut = >1 turn, or a turn ending early"
    if lost:
        note += f"; no turn at all from {', '.join(lost)}"
    passed = (cuts == 0 and not lost) if rows else None
    return Figure("cutoffs", "Cut-offs on pause fixtures", f"{cuts} of {len(rows)}", "0",
                  passed, len(rows), note), rows


def noise_figure(session: Session) -> tuple[Figure, list[dict]]:
    all_turns = session.turns()
    rows = []
    for play in session.plays:
        if play.kind not in ("noise", "breath", "silence") or play.talked_over:
            continue
        heard = play.turns(all_turns)
        rows.append({"fixture": play.name, "answered": [t.text for t in heard if t.answered],
                     "dropped": [t.ignored for t in heard if not t.answered]})
    made = sum(len(r["answered"]) for r in rows)
    dropped = sum(len(r["dropped"]) for r in rows)
    note = f"{dropped} more reached Whisper and were dropped" if dropped else ""
    return Figure("noise_turns", "Turns from noise, breath, silence", str(made), "0",
                  made == 0 if rows else None, len(rows), note), rows


def own_voice_figures(sessions: Sequence[Session]) -> tuple[list[Figure], dict]:
    """Turns from the companion's own voice: leaked from the speaker (answered turns that
    no played clip explains) or its last reply replayed into the microphone."""
    leaked: list[str] = []
    delays: list[float] = []
    replayed: list[dict[str, Any]] = []
    echo_turns: list[str] = []
    utterances = 0
    for session in sessions:
        all_turns = session.turns()
        utterances += len(session.talk.replies())
        delays += session.echo_delays()
        played = {t.index for p in session.plays for t in p.turns(all_turns)}
        leaked += [t.text for t in all_turns if t.answered and t.index not in played]
        for play in session.plays:
            heard = play.turns(all_turns)
            if play.kind == "own_reply":
                replayed.append({"heard": [t.text for t in heard],
                                 "answered": [t.text for t in heard if t.answered],
                                 "dropped_as": [t.ignored for t in heard if not t.answered]})
            elif play.kind == "echo":
                echo_turns += [t.text for t in heard if t.answered]
    answered_replays = sum(bool(r["answered"]) for r in replayed)
    total = len(leaked) + answered_replays
    replay_note = "; ".join(f"heard {r['heard'] or '∅'}, dropped as {r['dropped_as'] or '-'}"
                            for r in replayed)
    figs = [
        Figure("own_voice_turns", "Turns from its own voice", str(total), "0", total == 0,
               utterances + len(replayed), "leaked from the speaker + replayed replies"),
        Figure("own_voice_leaks", "  its replies leaking from the speaker into the mic",
               str(len(leaked)), "0", not leaked, utterances,
               f"all {utterances} utterances leaked into the mic; measured delay "
               f"{spread(delays)}"),
        Figure("own_voice_replay", "  its last reply replayed into the mic after it ended",
               f"{answered_replays} of {len(replayed)} answered", "0",
               answered_replays == 0 if replayed else None, len(replayed), replay_note),
        Figure("echo_fixture_turns", f"  turns from {ECHO_FIXTURE} (played after a reply)",
               str(len(echo_turns)), "0 (info)", None, 1,
               "its voice, but words it did not say this session: only the last reply is "
               "recognised, so it is taken for a person"),
    ]
    return figs, {"leaked": leaked, "replayed": replayed, "echo_turns": echo_turns,
                  "leak_delay_ms": delays}


def reply_gap_figure(sessions: Sequence[Session]) -> Figure:
    """Silences inside replies: the microphone is ignored throughout, so a person who takes a
    long pause for the end of the reply and speaks is not heard."""
    gaps = [g * 1000 for s in sessions for g in s.reply_gaps()]
    long = sum(g >= 800 for g in gaps)
    return Figure("reply_gaps", "Longest silence inside each reply", spread(gaps), "—", None,
                  len(gaps), f"{long} of {len(gaps)} replies fell silent ≥ 0.8 s mid-reply "
                  "(the mic stays deaf)")


def spoken_over_figure(sessions: Sequence[Session]) -> Figure:
    """Clips played after 0.8 s of quiet that the companion spoke over all the same."""
    over = [p.name for s in sessions for p in s.plays
            if p.talked_over and p.kind not in ("help",)]
    return Figure("spoken_over", "  clips it spoke over after 0.8 s of quiet",
                  str(len(over)), "0 (info)", None, sum(len(s.plays) for s in sessions),
                  "the mic is ignored while it speaks, so these were lost; left out of the "
                  "figures and played again" + (f": {', '.join(over)}" if over else ""))


# -- first words --------------------------------------------------------------------------------

def first_word_figures(session: Session, baseline: dict[str, str]) -> tuple[list[Figure],
                                                                             list[dict]]:
    """First-word error rate of the live transcripts against plain faster-whisper on the file."""
    all_turns = session.turns()
    rows = []
    for play in session.plays:
        if play.kind != "speech" or play.fixture is None or play.talked_over:
            continue
        heard = [t.text for t in play.turns(all_turns) if t.text.strip()]
        rows.append({"fixture": play.name, "ref": play.fixture.text, "live": " ".join(heard),
                     "plain": baseline.get(play.name, "")})
    if not rows:
        return [Figure("first_words", "First-word WER live / plain", "not measured",
                       "live = plain", None)], rows
    ref = [first_word(r["ref"]) for r in rows]
    live = [first_word(r["live"]) for r in rows]
    plain = [first_word(r["plain"]) for r in rows]
    live_err = sum(a != b for a, b in zip(live, ref, strict=True)) / len(rows)
    base_err = sum(a != b for a, b in zip(plain, ref, strict=True)) / len(rows)
    wrong = sorted({f"{r['fixture']}: '{lv or '∅'}' for '{rf}'"
                    for r, lv, rf in zip(rows, live, ref, strict=True) if lv != rf})
    refs = [" ".join(words(r["ref"])) for r in rows]
    live_wer = jiwer.wer(refs, [" ".join(words(r["live"])) or "∅" for r in rows])
    plain_wer = jiwer.wer(refs, [" ".join(words(r["plain"])) or "∅" for r in rows])
    return [
        Figure("first_words", "First words clipped: first-word WER live / plain",
               f"{live_err:.3f} / {base_err:.3f}", "live = plain", live_err <= base_err,
               len(rows), "; ".join(wrong)),
        Figure("turn_wer", "  whole-turn WER live / plain (same clips)",
               f"{live_wer:.3f} / {plain_wer:.3f}", "—", None, len(rows),
               "live audio goes through PulseAudio resampling"),
    ], rows


# -- barge-in, idle, start-up -------------------------------------------------------------------

def barge_in_figures(results: Sequence[Interruption]) -> list[Figure]:
    inside = [r.stop_ms for r in results if r.stop_ms is not None]
    outside = [r.outside_stop_ms for r in results if r.outside_stop_ms is not None]
    onset = [r.onset_to_confirm_ms for r in results if r.onset_to_confirm_ms is not None]
    missed = sum(r.confirmed_t is None for r in results)
    gap = sum(r.confirmed_t is not None and not r.sounding for r in results)
    notes = [RECORDER_NOTE + "; ≤ 0: no sound after the confirmation"]
    if missed:
        notes.append(f"{missed} of {len(results)} clips did not interrupt")
    if gap:
        notes.append(f"{gap} confirmed in a silent gap (not timed outside)")
    worst = max(outside) if outside else None
    passed = (worst <= TARGETS["barge_in_ms"] and not missed) if worst is not None else None
    return [
        Figure("barge_in_stop", "Barge-in: speech confirmed → speaker silent (outside)",
               spread(outside), "≤ 150 ms (max)", passed, len(outside), "; ".join(notes)),
        Figure("barge_in_stop_ms", "  the program's stop_ms (the stop call itself)",
               spread(inside), "—", None, len(inside)),
        Figure("barge_in_confirm", "  interrupting speech reaches mic → confirmed",
               spread(onset), "—", None, len(onset), "includes the 0.25 s of speech required"),
    ]


def idle_figure(samples: Sequence[float], machine_busy: float | None) -> Figure:
    if not samples:
        return Figure("idle_cpu", "Idle CPU of talk", "not measured", "≤ 5% of one core", None)
    mean = float(np.mean(samples))
    busy = "" if machine_busy is None else f"; the whole machine was {machine_busy:.0f}% busy"
    return Figure("idle_cpu", "Idle CPU of talk (after the greeting)",
                  f"{mean:.2f}% (1-s samples: median {pct(samples, 50):.1f}%, "
                  f"p95 {pct(samples, 95):.1f}%)", "≤ 5% of one core",
                  mean <= TARGETS["idle_cpu"], len(samples),
                  f"{len(samples)} s of utime+stime from /proc/PID/stat{busy}")


def startup_figures(startups: Sequence[Startup]) -> list[Figure]:
    def pick(attr: str) -> list[float]:
        return [v for s in startups if (v := getattr(s, attr)) is not None]

    def secs(vals: Sequence[float]) -> str:
        if not vals:
            return "not measured"
        return f"median {statistics.median(vals):.2f} s (max {max(vals):.2f})"

    to_listen = pick("to_listening_s")
    med = statistics.median(to_listen) if to_listen else None
    return [
        Figure("startup_s", "Process start → \"listening\" event", secs(to_listen), "≤ 3 s",
               med <= TARGETS["startup_s"] if med is not None else None, len(to_listen),
               "monotonic clock just before Popen to the timeline's listening event"),
        Figure("startup_program", "  the program's own startup_s (inside Talk)",
               secs(pick("program_startup_s")), "—", None, len(pick("program_startup_s"))),
        Figure("startup_greeting", "  process start → greeting heard",
               secs(pick("to_greeting_s")), "—", None, len(pick("to_greeting_s"))),
        Figure("startup_live", "  process start → greeting over (mic really live)",
               secs(pick("to_live_mic_s")), "—", None, len(pick("to_live_mic_s")),
               "the microphone is ignored while the greeting plays"),
    ]


def session_health(name: str, session: Session, rc: int | None) -> Figure:
    err = session.talk.stderr()
    ok = rc == 0 and "Traceback" not in err
    last = err.strip().splitlines()[-1][:160] if err.strip() else "killed"
    return Figure(f"exit_{name}", f"  session {name}: exit status after Ctrl-C", str(rc),
                  "0, no traceback", ok, None, "" if ok else last)


def print_table(console: Console, figures: Sequence[Figure], title: str) -> None:
    table = Table(title=title)
    for col in ("Figure", "Measured", "Target", "Result", "n", "Notes"):
        table.add_column(col, overflow="fold")
    for f in figures:
        result = {True: "[green]pass[/]", False: "[red]FAIL[/]", None: "[dim]info[/]"}[f.passed]
        if f.value == "not measured":
            result = "[yellow]not measured[/]"
        table.add_row(f.name, f.value, f.target, result, "" if f.n is None else str(f.n), f.note)
    console.print(table)
