"""Turn-taking of the live loop, measured from the outside through PulseAudio (issue 4).

``voice-companion talk`` runs as a subprocess against a private PulseAudio daemon with two null
sinks (``tests/pulse_rig.py``): clips are played in real time into ``mic`` (the program's
microphone is ``mic.monitor``) and what the program says goes to ``spk``. The program writes its
timeline (``VOICE_COMPANION_TIMELINE``); the benchmark also records ``spk.monitor`` and
``mic.monitor`` on the same monotonic clock, so the program's own figures are checked against
when sound really reached the microphone and really left the speaker.

Three sessions, one long-running ``talk`` each, with data in a temporary folder and the silence
prompt moved to 10 minutes (so that it never speaks over a clip or the idle measurement):

A. ``--no-earcons``, with the companion's voice leaking into the microphone (laptop speakers, no
   headphones: the program plays into a PulseAudio combined sink feeding both ``spk`` and
   ``mic``): idle CPU, the complete-turn fixtures (twice in a full run), the pause fixtures, the
   noise / breath / silence fixtures, then the program's own last reply replayed into the
   microphone and ``echo_companion_reply.flac``. Each clip is played once the companion has
   been quiet for 0.8 s; a clip it spoke over after all (a longer pause inside a reply) is
   counted, left out of the figures and played again.
C. ``--barge-in``, no leak: "what can I say?" (espeak-ng; the spoken help is long), then speech
   fixtures and "what can I say?" again, each played while the reply before it is spoken.
B. Earcons on (the default), with the leak: a few complete turns, as time allows.

Each session's start gives one start-to-"listening" sample. Not covered: the 25-second
``turn_long_day_story.flac`` (its pauses are after complete sentences, not unfinished words).

    python benchmarks/turn_taking.py [--quick] [--json] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from live_rig import (  # noqa: E402
    RATE,
    StampedRecorder,
    TalkProcess,
    cpu_seconds,
    machine_ticks,
    write_wav16,
)
from pulse_rig import Pulse, pulse_missing_reason, running_pulse  # noqa: E402
from turn_figures import (  # noqa: E402
    ECHO_FIXTURE,
    Figure,
    barge_in_figures,
    cutoff_figure,
    first_word_figures,
    idle_figure,
    latency_breakdown,
    latency_figures,
    latency_rows,
    noise_figure,
    own_voice_figures,
    print_table,
    reply_gap_figure,
    session_health,
    spoken_over_figure,
    startup_figures,
)
from turn_session import HeardTurn, Interruption, Play, Session  # noqa: E402

from voice_companion.audio import load_file  # noqa: E402
from voice_companion.fixtures import Fixture, fixtures_of_kind, get_fixture  # noqa: E402

IDLE_S = 20.5
SILENCE_PROMPT_S = "600"
BUDGET_S = 880.0  # the run must end within 15 minutes: later clips are skipped near this
A_RESERVE_S = 95.0  # what A's last clips, C and B's start need at least
EARCON_TURN_S = 16.0  # one complete turn with its reply
HARD_S = 915.0  # no wait goes past this
Log = Callable[[str], None]


@dataclass
class Plan:
    """Which clips each session plays."""

    speech: list[Fixture]
    speech_passes: int
    pauses: list[Fixture]
    quiet: list[Fixture]
    earcon_turns: list[Fixture]
    interrupters: list[Fixture]


def make_plan(quick: bool) -> Plan:
    speech = fixtures_of_kind("speech")  # the nine speech_* and the two turn_short_*
    pauses = [f for f in fixtures_of_kind("pause") if f.name.startswith("pause_")]
    quiet = fixtures_of_kind("noise") + fixtures_of_kind("breath") + fixtures_of_kind("silence")
    long = [f for f in speech if not f.name.startswith("turn_short")]
    short = [f for f in speech if f.name.startswith("turn_short")]
    if quick:
        return Plan(long[0:5:2] + short, 1, pauses[::3], quiet[:2] + quiet[-3:-1], long[1:2],
                    long[5:6])
    return Plan(speech, 2, pauses, quiet, long[1:5], long[4:7])


# -- clips ------------------------------------------------------------------------------------

def baseline_transcripts(fixtures: Sequence[Fixture]) -> dict[str, str]:
    """Plain faster-whisper on each file (tiny.en, beam 5, vad_filter=True)."""
    from voice_companion.transcribe import Transcriber

    model = Transcriber("tiny.en").model
    result = {}
    for fx in fixtures:
        segments, _ = model.transcribe(str(fx.path), language="en", beam_size=5, vad_filter=True)
        result[fx.name] = " ".join(s.text.strip() for s in segments)
    return result


def record_reply(session: Session, turn: HeardTurn, out: Path) -> bool:
    """Cut the companion's spoken reply to ``turn`` out of the speaker recording."""
    if turn.reply_t is None:
        return False
    start = session.spk.first_sound(turn.reply_t - 0.3, turn.reply_t + 3.0)
    if start is None:
        return False
    end = session.spk.sound_end(start, gap_s=0.8, limit_s=40) or start
    audio, _ = session.spk.segment(start - 0.05, end + 0.1)
    write_wav16(out, audio, lead_s=0.5)
    return audio.size > RATE // 2


def espeak_clip(text: str, out: Path) -> Path:
    """A spoken phrase (espeak-ng, US voice) as 16 kHz mono WAV with a 0.3 s lead-in."""
    raw = out.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "165", "-w", str(raw), text], check=True,
                   capture_output=True)
    write_wav16(out, load_file(raw), lead_s=0.3)
    return out


@dataclass
class IdleCpu:
    samples: list[float]  # % of one core used by talk, one per second
    machine_busy: float | None  # % of all cores busy with anything, over the same window


def idle_cpu(pid: int, seconds: float) -> IdleCpu:
    """Per-second CPU use of ``pid`` in % of one core, over ``seconds``."""
    samples: list[float] = []
    busy0, total0 = machine_ticks()
    try:
        last_cpu, last_t = cpu_seconds(pid), time.monotonic()
        end = last_t + seconds
        while time.monotonic() < end:
            time.sleep(1.0)
            cpu, now = cpu_seconds(pid), time.monotonic()
            samples.append(100 * (cpu - last_cpu) / (now - last_t))
            last_cpu, last_t = cpu, now
    except (FileNotFoundError, ProcessLookupError):  # talk exited: the figure says so
        pass
    busy1, total1 = machine_ticks()
    machine = 100 * (busy1 - busy0) / (total1 - total0) if total1 > total0 else None
    return IdleCpu(samples, machine)


# -- sessions ---------------------------------------------------------------------------------

def main_session(session: Session, plan: Plan, folder: Path, deadline: float,
                 log: Log) -> IdleCpu:
    """Session A: idle CPU, complete turns, pauses, noise, own voice. Returns the CPU samples.

    Clips not started by ``deadline`` are skipped (and the figures say how many were played).
    """
    log(f"A: {started(session)}; idle CPU for {IDLE_S} s")
    cpu = idle_cpu(session.talk.pid, IDLE_S)
    order = [*plan.speech, *plan.pauses, *plan.quiet]
    order += plan.speech * (plan.speech_passes - 1)
    for i, fx in enumerate(order, 1):
        if time.monotonic() > deadline:
            log(f"A: out of time; {len(order) - i + 1} clips skipped")
            break
        play_fixture(session, fx, f"A: {i}/{len(order)}", log)
    answered = [t for t in session.turns() if t.answered and t.reply_t is not None]
    own = folder / "own_reply.wav"
    if answered and record_reply(session, answered[-1], own):
        session.play(own, "own_reply")
        log("A: its own last reply replayed into the mic")
    else:
        log("A: could not cut the last reply out of the recording")
    echo = get_fixture(ECHO_FIXTURE)
    session.play(echo.path, "echo", echo)
    log(f"A: {ECHO_FIXTURE} played")
    return cpu


def play_fixture(session: Session, fx: Fixture, label: str, log: Log) -> None:
    """Play a fixture once the companion is quiet; once more if it spoke over it after all."""
    for attempt in ("", " (again)"):
        play = session.play(fx.path, fx.kind, fx)
        log(f"{label} {fx.name}{attempt}{'' if play.settled else ' (did not settle)'}")
        if not play.talked_over:
            return
        log(f"{label} the companion was still speaking while {fx.name} played")


def earcon_session(session: Session, turns: Sequence[Fixture], deadline: float,
                   log: Log) -> None:
    """Session B: earcons on; a few complete turns while time allows."""
    log(f"B: {started(session)}")
    for fx in turns:
        if time.monotonic() + EARCON_TURN_S > deadline:
            log("B: out of time; the remaining earcon turns are skipped")
            return
        play_fixture(session, fx, "B:", log)


def barge_in_session(session: Session, plan: Plan, folder: Path, log: Log) -> list[Interruption]:
    """Session C: ``--barge-in``; each clip is played while the reply before it is spoken."""
    log(f"C: {started(session)}")
    help_clip = espeak_clip("What can I say?", folder / "what_can_i_say.wav")
    sequence: list[tuple[Path, Fixture | None]] = [(help_clip, None)]
    for fx in plan.interrupters:
        sequence += [(fx.path, fx), (help_clip, None)]
    confirmed: list[tuple[Play, dict | None]] = []
    for k, (path, fx) in enumerate(sequence):
        mark = len(session.talk.poll_events())
        play = session.play(path, fx.kind if fx else "help", fx, settle=False)
        if k > 0:
            event = session.talk.wait_event("interrupted", mark, timeout=play.duration_s + 4)
            confirmed.append((play, event))
            log(f"C: {path.name} {'interrupted' if event else 'did NOT interrupt'}")
        if k == len(sequence) - 1:
            break
        reply = session.talk.wait_event("reply_audio", mark, timeout=play.duration_s + 15)
        if reply is None:
            log("C: no reply came; the barge-in sequence stops here")
            break
        while time.monotonic() < reply["t"] + 0.2:  # well inside the reply's first words
            time.sleep(0.02)
    time.sleep(1.5)  # the recorders catch up with the last interruption
    for play, _ in confirmed:
        session.close_play(play)
    return [session.interruption(play, event) for play, event in confirmed]


def started(session: Session) -> str:
    """Start ``talk`` and wait for its greeting to end; say how long "listening" took."""
    wait = session.ready().to_listening_s
    return "no listening event" if wait is None else f"listening {wait:.2f} s after start"


def new_session(pulse: Pulse, spk: StampedRecorder, mic: StampedRecorder, folder: Path,
                hard_end: float, *args: str) -> Session:
    env = dict(pulse.env, VOICE_COMPANION_SILENCE_PROMPT_S=SILENCE_PROMPT_S)
    return Session(pulse, spk, mic, TalkProcess(env, folder, args), hard_end=hard_end)


@dataclass
class Results:
    sessions: tuple[Session, Session, Session]
    exit_codes: tuple[int | None, int | None, int | None]
    idle_cpu: IdleCpu
    interruptions: list[Interruption]


def run_sessions(plan: Plan, folder: Path, began: float, log: Log, keep: bool) -> Results:
    (folder / "pulse").mkdir(parents=True, exist_ok=True)
    with running_pulse(folder / "pulse") as pulse:
        spk = StampedRecorder(pulse.env, "spk.monitor")
        mic = StampedRecorder(pulse.env, "mic.monitor")
        try:
            if not (spk.wait_started() and mic.wait_started()):
                raise RuntimeError("parec did not start recording the PulseAudio monitors")
            # the companion's voice reaches the microphone too (module-loopback drifts from 30
            # to several hundred ms under load; a combined sink keeps the copies in step)
            pulse.run("pactl", "load-module", "module-combine-sink", "sink_name=both",
                      "slaves=spk,mic")
            hard_end = began + HARD_S
            pulse.run("pactl", "set-default-sink", "both")
            a = new_session(pulse, spk, mic, folder / "A", hard_end, "--no-earcons")
            try:
                cpu = main_session(a, plan, folder, began + BUDGET_S - A_RESERVE_S, log)
            finally:
                rc_a = a.talk.stop()
            pulse.run("pactl", "set-default-sink", "spk")
            c = new_session(pulse, spk, mic, folder / "C", hard_end, "--barge-in", "--no-earcons")
            try:
                interruptions = barge_in_session(c, plan, folder, log)
            finally:
                rc_c = c.talk.stop()
            pulse.run("pactl", "set-default-sink", "both")
            b = new_session(pulse, spk, mic, folder / "B", hard_end)
            try:
                earcon_session(b, plan.earcon_turns, began + BUDGET_S, log)
            finally:
                rc_b = b.talk.stop()
        finally:
            spk.close()
            mic.close()
            if keep:
                spk.save(folder / "spk.wav")
                mic.save(folder / "mic.wav")
    return Results((a, b, c), (rc_a, rc_b, rc_c), cpu, interruptions)


# -- report -----------------------------------------------------------------------------------

def figures_of(results: Results, baseline: dict[str, str]) -> tuple[list[Figure], dict]:
    a, b, c = results.sessions
    rows_a, rows_b = latency_rows(a), latency_rows(b)
    cut, cut_rows = cutoff_figure(a)
    noise, noise_rows = noise_figure(a)
    own, own_rows = own_voice_figures((a, b))
    first, first_rows = first_word_figures(a, baseline)
    startups = [s.startup for s in results.sessions if s.startup is not None]
    figures = [
        *latency_figures(rows_a, "no earcons", "latency"),
        *latency_breakdown(rows_a, "latency"),
        *latency_figures(rows_b, "earcons on", "latency_earcons"),
        cut, noise, *own, *first, reply_gap_figure((a, b)), spoken_over_figure((a, b)),
        *barge_in_figures(results.interruptions),
        idle_figure(results.idle_cpu.samples, results.idle_cpu.machine_busy),
        *startup_figures(startups),
        *(session_health(n, s, rc)
          for n, s, rc in zip("ABC", results.sessions, results.exit_codes, strict=True)),
    ]
    details = {"latency": rows_a, "latency_earcons": rows_b, "cutoffs": cut_rows,
               "noise": noise_rows, "own_voice": own_rows, "first_words": first_rows,
               "interruptions": [asdict(r) for r in results.interruptions],
               "idle_cpu": asdict(results.idle_cpu),
               "startups": [asdict(s) for s in startups]}
    return figures, details


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer clips (about 3 minutes)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", type=Path, help="keep timelines, logs and clips here")
    args = parser.parse_args()
    console = Console(stderr=args.json, width=170)
    reason = pulse_missing_reason()
    if reason:
        console.print(f"Turn-taking cannot be measured: {reason}.")
        return 2
    began = time.monotonic()

    def log(msg: str) -> None:
        console.print(f"[dim]{time.monotonic() - began:6.1f} s  {msg}[/]")

    plan = make_plan(args.quick)
    log("plain faster-whisper on the complete-turn fixtures (first-word baseline)")
    baseline = baseline_transcripts(plan.speech)
    cpu_before, sessions_began, ticks_before = os.times(), time.monotonic(), machine_ticks()
    with tempfile.TemporaryDirectory(prefix="turn-taking-") as tmp:
        results = run_sessions(plan, args.keep or Path(tmp), began, log, args.keep is not None)
        figures, details = figures_of(results, baseline)  # reads the logs in the folder
    elapsed = time.monotonic() - began
    own = os.times()
    own_cpu = (own.user + own.system - cpu_before.user - cpu_before.system) * 100 / (
        time.monotonic() - sessions_began)
    busy, total = (a - b for a, b in zip(machine_ticks(), ticks_before, strict=True))
    title = (f"Turn-taking of voice-companion talk: {'quick' if args.quick else 'full'} run, "
             f"{elapsed:.0f} s, tiny.en, {os.cpu_count()} cores {100 * busy / max(total, 1):.0f}% "
             f"busy overall (this benchmark: {own_cpu:.0f}% of one core)")
    print_table(console, figures, title)
    if args.json:
        print(json.dumps({"elapsed_s": round(elapsed, 1), "quick": args.quick,
                          "figures": [asdict(f) for f in figures], "details": details},
                         default=_jsonable))
    return 0 if all(f.passed is not False for f in figures) else 1


def _jsonable(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else str(value)


if __name__ == "__main__":
    raise SystemExit(main())
