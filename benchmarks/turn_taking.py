"""Turn-taking of the live loop, measured from the outside through PulseAudio (issue 4).

``voice-companion talk`` runs as a subprocess against a private PulseAudio daemon with two null
sinks (``tests/pulse_rig.py``): fixtures are played in real time into ``mic`` (the program's
microphone is ``mic.monitor``), and what the program says goes to ``spk``. The program writes its
timeline (``VOICE_COMPANION_TIMELINE``); the benchmark also records ``spk.monitor`` and
``mic.monitor`` on the same monotonic clock, so the program's own figures are checked against
when sound really reached the microphone and really left the speaker.

Sessions (one long-running ``talk`` each, data in a temporary folder, silence prompts moved to
10 minutes so that they never speak over a fixture or the idle measurement):

A. ``--no-earcons`` with a PulseAudio loopback from the speaker into the microphone, so every
   reply really leaks back into the microphone (laptop speakers, no headphones): idle CPU, then
   the complete-turn fixtures twice (latency, first words), the pause fixtures (cut-offs), the
   noise / breath / silence fixtures, the program's own last reply replayed into the microphone
   and ``echo_companion_reply.flac``.
B. default earcons, same loopback: a few complete turns (latency with earcons, more own voice).
C. ``--barge-in``, no loopback: "what can I say?" (a long spoken help) and speech fixtures played
   while the companion speaks, each interrupting the reply before it.
Each session's start gives one start-to-"listening" sample.

    python benchmarks/turn_taking.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from live_rig import RATE, StampedRecorder, TalkProcess, cpu_seconds, locate  # noqa: E402
from pulse_rig import Pulse, pulse_missing_reason, running_pulse  # noqa: E402

from voice_companion.audio import load_file  # noqa: E402
from voice_companion.fixtures import Fixture, fixtures_of_kind, get_fixture  # noqa: E402

QUIET_S = 1.0  # speaker silence that means the companion has finished a reply
IDLE_S = 20.5
SILENCE_PROMPT_S = "600"
BUDGET_S = 560.0  # the earcons session is shortened when the run gets close to 10 minutes
ECHO_FIXTURE = "echo_companion_reply.flac"
TARGETS = {
    "latency_median": 800.0, "latency_p95": 1200.0, "cutoffs": 0, "noise_turns": 0,
    "own_voice_turns": 0, "barge_in_ms": 150.0, "idle_cpu": 5.0, "startup_s": 3.0,
}


# -- what was heard -------------------------------------------------------------------------

@dataclass
class HeardTurn:
    """One ``turn_end`` of the timeline and what followed it."""

    index: int  # position of the turn_end in the timeline
    speech_end_t: float
    text: str
    decided_ms: float
    asr_ms: float
    ignored: str | None = None  # why the turn was dropped ("no words", "own voice")
    latency_ms: float | None = None  # from the reply_audio that answered it
    reply_t: float | None = None

    @property
    def answered(self) -> bool:
        return self.ignored is None


def heard_turns(events: Sequence[dict[str, Any]]) -> list[HeardTurn]:
    """Pair each turn_end with its ``ignored`` or ``reply_audio`` event."""
    turns: list[HeardTurn] = []
    for i, event in enumerate(events):
        name = event["event"]
        if name == "turn_end":
            turns.append(HeardTurn(i, event["speech_end_t"], event.get("text", ""),
                                   event["decided_ms"], event["asr_ms"]))
        elif name == "ignored" and turns and turns[-1].ignored is None:
            turns[-1].ignored = event.get("reason", "?")
        elif name == "reply_audio" and turns and turns[-1].reply_t is None:
            turns[-1].latency_ms, turns[-1].reply_t = event["latency_ms"], event["t"]
    return turns


@dataclass
class Play:
    """One clip played into the microphone, and the timeline events it led to."""

    path: Path
    kind: str  # fixture kind, or "own_reply" / "help" for generated clips
    start_t: float  # monotonic time just before paplay started
    duration_s: float
    first_event: int
    last_event: int = -1
    file_t0: float | None = None  # when sample 0 of the clip was rendered into the microphone
    settled: bool = True
    fixture: Fixture | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def audio_end(self) -> float:
        return (self.file_t0 or self.start_t + 0.3) + self.duration_s

    @property
    def speech_end(self) -> float | None:
        """When the person's last word ended in the microphone (outside measure)."""
        if self.file_t0 is None or self.fixture is None or not self.fixture.user_turns:
            return None
        return self.file_t0 + self.fixture.user_turns[-1].end_s

    def turns(self, all_turns: Sequence[HeardTurn]) -> list[HeardTurn]:
        """Turns decided while this clip played or settled whose speech ended inside the clip."""
        return [t for t in all_turns if self.first_event <= t.index < self.last_event
                and self.start_t <= t.speech_end_t <= self.audio_end + 0.3]


# -- a session --------------------------------------------------------------------------------

@dataclass
class Startup:
    to_listening_s: float | None
    program_startup_s: float | None
    to_greeting_s: float | None  # first sound of the greeting
    to_live_mic_s: float | None  # greeting over: the microphone is really listened to


@dataclass
class Session:
    """One running ``talk`` plus the recorders, and every clip played into it."""

    pulse: Pulse
    spk: StampedRecorder
    mic: StampedRecorder
    talk: TalkProcess
    plays: list[Play] = field(default_factory=list)
    startup: Startup | None = None
    _player: subprocess.Popen | None = None

    def ready(self, timeout: float = 60.0) -> Startup:
        """Start ``talk``; wait for "listening" and for the greeting to be over."""
        self.talk.start()
        started = self.talk.started_wall
        listening = self.talk.wait_event("listening", timeout=timeout)
        since = time.monotonic()
        greeting = end = None
        if listening is not None:
            deadline = time.monotonic() + 30
            while greeting is None and time.monotonic() < deadline:
                greeting = self.spk.first_sound(since, self.spk.now())
                time.sleep(0.05)
            while self.spk.quiet_for() < QUIET_S and time.monotonic() < deadline:
                time.sleep(0.05)
            if greeting is not None:
                end = self.spk.sound_end(greeting, gap_s=QUIET_S, limit_s=30)
        to_mono = time.time() - time.monotonic()  # wall = monotonic + to_mono
        self.startup = Startup(
            to_listening_s=listening["wall"] - started if listening else None,
            program_startup_s=listening.get("startup_s") if listening else None,
            to_greeting_s=greeting + to_mono - started if greeting else None,
            to_live_mic_s=end + to_mono - started if end else None,
        )
        return self.startup

    def play(self, path: Path, kind: str, fixture: Fixture | None = None,
             settle: bool = True) -> Play:
        """Play a clip into the microphone; with ``settle``, wait until the companion is done."""
        if self._player is not None:
            self._player.wait(timeout=60)
        clip = load_file(path)
        play = Play(path, kind, time.monotonic(), clip.size / RATE,
                    len(self.talk.poll_events()), fixture=fixture)
        self._player = self.pulse.play_into_mic(path)
        self.plays.append(play)
        if settle:
            play.settled = self.settle(play.start_t + play.duration_s + 0.3)
            self.close_play(play)
        return play

    def close_play(self, play: Play) -> None:
        """End the play's window of events and find the clip in the microphone recording."""
        play.last_event = len(self.talk.poll_events())
        play.file_t0 = locate(self.mic, load_file(play.path), play.start_t - 0.1,
                              play.start_t + 2.0)

    def settle(self, not_before: float, timeout: float = 45.0) -> bool:
        """Wait until no turn is open, every answered turn has been spoken and all is quiet."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.talk.alive:
            events = self.talk.poll_events()
            open_turn = _turn_open(events)
            pending = any(t.answered and t.reply_t is None for t in heard_turns(events))
            player_done = self._player is None or self._player.poll() is not None
            if (time.monotonic() >= not_before and player_done and not open_turn
                    and not pending and self.spk.quiet_for() >= QUIET_S):
                return True
            time.sleep(0.05)
        return False

    def turns(self) -> list[HeardTurn]:
        return heard_turns(self.talk.poll_events())


def _turn_open(events: Sequence[dict[str, Any]]) -> bool:
    for event in reversed(events):
        if event["event"] in ("turn_end", "discard"):
            return False
        if event["event"] == "speech_start":
            return time.monotonic() - event["t"] < 30.0  # a turn dropped silently is not open
    return False


# -- the measurements -----------------------------------------------------------------------

def words(text: str) -> list[str]:
    text = text.lower().replace("’", "'")
    return [w.strip("'") for w in re.findall(r"[a-z0-9']+", text) if w.strip("'")]


def first_word(text: str) -> str:
    found = words(text)
    return found[0] if found else ""


def baseline_first_words(fixtures: Sequence[Fixture]) -> dict[str, str]:
    """First word of plain faster-whisper on each file (tiny.en, beam 5, vad_filter=True)."""
    from voice_companion.transcribe import Transcriber

    model = Transcriber("tiny.en").model
    result = {}
    for fx in fixtures:
        segments, _ = model.transcribe(str(fx.path), language="en", beam_size=5, vad_filter=True)
        result[fx.name] = first_word(" ".join(s.text for s in segments))
    return result


def idle_cpu(pid: int, seconds: float) -> list[float]:
    """Per-second CPU use of ``pid`` in % of one core, over ``seconds``."""
    samples = []
    last_cpu, last_t = cpu_seconds(pid), time.monotonic()
    end = last_t + seconds
    while time.monotonic() < end:
        time.sleep(1.0)
        cpu, now = cpu_seconds(pid), time.monotonic()
        samples.append(100 * (cpu - last_cpu) / (now - last_t))
        last_cpu, last_t = cpu, now
    return samples


def write_wav16(path: Path, audio: np.ndarray, lead_s: float = 0.5) -> None:
    """Write 16 kHz mono audio as 16-bit WAV, after ``lead_s`` of silence."""
    data = np.concatenate([np.zeros(int(lead_s * RATE), np.float32), audio])
    pcm = (np.clip(data, -1, 1) * 32767).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm)


def record_last_reply(session: Session, turn: HeardTurn, out: Path) -> bool:
    """Cut the companion's reply to ``turn`` out of the speaker recording, as a WAV file."""
    if turn.reply_t is None:
        return False
    start = session.spk.first_sound(turn.reply_t - 0.3, turn.reply_t + 3.0)
    if start is None:
        return False
    end = session.spk.sound_end(start, gap_s=0.8, limit_s=40)
    audio, _ = session.spk.segment(start - 0.05, (end or start) + 0.1)
    write_wav16(out, audio)
    return audio.size > RATE // 2


def espeak_clip(text: str, out: Path) -> Path:
    """A spoken phrase (espeak-ng, US voice), resampled to 16 kHz mono WAV."""
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "165", "-w", str(raw), text], check=True,
                   capture_output=True)
    write_wav16(out, load_file(raw), lead_s=0.3)
    return out


# -- sessions ---------------------------------------------------------------------------------

@dataclass
class Plan:
    speech: list[Fixture]
    speech_passes: int
    pauses: list[Fixture]
    quiet: list[Fixture]
    earcon_turns: list[Fixture]
    interrupters: list[Fixture]


def make_plan(quick: bool) -> Plan:
    speech = fixtures_of_kind("speech")
    pauses = [f for f in fixtures_of_kind("pause") if f.name.startswith("pause_")]
    quiet = fixtures_of_kind("noise") + fixtures_of_kind("breath") + fixtures_of_kind("silence")
    long_speech = [f for f in speech if not f.name.startswith("turn_short")]
    if quick:
        short = [f for f in speech if f.name.startswith("turn_short")]
        return Plan(long_speech[0:5:2] + short, 1, pauses[::3], quiet[:2] + quiet[-3:-1],
                    long_speech[1:2], long_speech[5:6])
    return Plan(speech, 2, pauses, quiet, long_speech[1:5], long_speech[4:7])


def new_session(pulse: Pulse, spk: StampedRecorder, mic: StampedRecorder, folder: Path,
                *args: str) -> Session:
    env = dict(pulse.env, VOICE_COMPANION_SILENCE_PROMPT_S=SILENCE_PROMPT_S)
    return Session(pulse, spk, mic, TalkProcess(env, folder, args))


def run_main_session(session: Session, plan: Plan, folder: Path, log: Callable) -> dict:
    """Session A: idle CPU, complete turns, pauses, noise, own voice."""
    session.ready()
    log(f"A: listening after {session.startup.to_listening_s}s; idle CPU for {IDLE_S}s")
    cpu = idle_cpu(session.talk.pid, IDLE_S)
    order = [*plan.speech, *plan.pauses, *plan.quiet]
    if plan.speech_passes > 1:
        order += plan.speech * (plan.speech_passes - 1)
    for i, fx in enumerate(order, 1):
        play = session.play(fx.path, fx.kind, fx)
        log(f"A: {i}/{len(order)} {fx.name} settled={play.settled}")
    answered = [t for t in session.turns() if t.answered and t.reply_t is not None]
    own = folder / "own_reply.wav"
    own_play = None
    if answered and record_last_reply(session, answered[-1], own):
        own_play = session.play(own, "own_reply")
        log(f"A: replayed own reply, settled={own_play.settled}")
    echo = get_fixture(ECHO_FIXTURE)
    session.play(echo.path, "echo", echo)
    log("A: echo fixture played")
    return {"idle_cpu": cpu, "own_reply_played": own_play is not None}


def run_earcon_session(session: Session, turns: Sequence[Fixture], deadline: float,
                       log: Callable) -> None:
    """Session B: earcons on (the default); a few complete turns while time allows."""
    session.ready()
    log(f"B: listening after {session.startup.to_listening_s}s")
    for fx in turns:
        if time.monotonic() > deadline:
            log("B: out of time; skipping the remaining earcon turns")
            break
        play = session.play(fx.path, fx.kind, fx)
        log(f"B: {fx.name} settled={play.settled}")


@dataclass
class Interruption:
    clip: str
    confirmed_t: float | None
    stop_ms: float | None  # the program's own figure
    outside_stop_ms: float | None  # confirmation to the end of sound in spk.monitor
    onset_to_confirm_ms: float | None  # the interrupting speech reached the mic → confirmed
    sounding: bool  # the companion was audibly speaking when the speech was confirmed


def run_barge_in_session(session: Session, plan: Plan, folder: Path,
                         log: Callable) -> list[Interruption]:
    """Session C: ``--barge-in``; each clip is played while the reply before it is spoken."""
    session.ready()
    log(f"C: listening after {session.startup.to_listening_s}s")
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
            log(f"C: {path.name} interrupted={event is not None}")
        if k == len(sequence) - 1:
            break
        reply = session.talk.wait_event("reply_audio", mark, timeout=play.duration_s + 15)
        if reply is None:
            log("C: no reply came; stopping the barge-in sequence")
            break
        while time.monotonic() < reply["t"] + 0.2:
            time.sleep(0.02)
    time.sleep(1.5)  # let the recorders catch up with the last interruption
    for play, _ in confirmed:
        session.close_play(play)
    return [measure_interruption(session, play, event) for play, event in confirmed]


def measure_interruption(session: Session, play: Play, event: dict | None) -> Interruption:
    if event is None:
        return Interruption(play.name, None, None, None, None, False)
    confirmed = event["confirmed_t"]
    sounding = session.spk.first_sound(confirmed - 0.15, confirmed) is not None
    end = session.spk.sound_end(confirmed - 0.15, gap_s=0.4, limit_s=4.0)
    outside = (end - confirmed) * 1000 if sounding and end is not None else None
    onset = None
    if play.file_t0 is not None:
        start = play.fixture.user_turns[0].start_s if play.fixture else 0.3
        onset = (confirmed - (play.file_t0 + start)) * 1000
    return Interruption(play.name, confirmed, event.get("stop_ms"), outside, onset, sounding)


# -- figures ----------------------------------------------------------------------------------

@dataclass
class Figure:
    key: str
    name: str
    value: str
    target: str
    passed: bool | None  # None: not measured / informational
    n: int | None = None
    note: str = ""
    data: Any = None


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q))


def spread(values: Sequence[float], unit: str = "ms") -> str:
    if not values:
        return "not measured"
    return (f"median {pct(values, 50):.0f} {unit}, p95 {pct(values, 95):.0f} {unit} "
            f"(min {min(values):.0f}, max {max(values):.0f})")


def latency_figures(session: Session, label: str, key: str,
                    min_n: int) -> tuple[list[Figure], list[dict]]:
    """Latency, its breakdown and the outside check over the complete-turn plays."""
    all_turns = session.turns()
    rows = []
    for play in session.plays:
        if play.kind != "speech" or play.fixture is None:
            continue
        heard = [t for t in play.turns(all_turns) if t.answered]
        row = {"fixture": play.name, "turns": len(heard), "settled": play.settled}
        if len(heard) == 1 and heard[0].latency_ms is not None:
            t = heard[0]
            outside = None
            if play.speech_end is not None:
                first = session.spk.first_sound(play.speech_end, play.speech_end + 15)
                outside = (first - play.speech_end) * 1000 if first else None
            row.update(latency_ms=t.latency_ms, decided_ms=t.decided_ms, asr_ms=t.asr_ms,
                       outside_ms=outside, text=t.text,
                       stamp_lag_ms=(t.speech_end_t - play.speech_end) * 1000
                       if play.speech_end else None)
        rows.append(row)
    lat = [r["latency_ms"] for r in rows if "latency_ms" in r]
    n = len(lat)
    missing = len(rows) - n
    notes = [f"{missing} of {len(rows)} plays gave no single answered turn"] if missing else []
    if n < min_n:
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
    for part, what in (("decided_ms", "end of speech → turn decided"),
                       ("asr_ms", "Whisper time of the deciding pass"),
                       ("outside_ms", "outside: speech end in mic → first sound in speaker"),
                       ("stamp_lag_ms", "program's end-of-speech stamp − real end in mic")):
        vals = [r[part] for r in rows if r.get(part) is not None]
        figs.append(Figure(f"{key}_{part}", f"  breakdown: {what}", spread(vals), "—", None,
                           len(vals)))
    return figs, rows


def cutoff_figure(session: Session) -> tuple[Figure, list[dict]]:
    """Pause fixtures whose turn was ended at a pause (more than one turn, or ended early)."""
    all_turns = session.turns()
    rows = []
    for play in session.plays:
        if play.kind != "pause" or play.fixture is None:
            continue
        heard = [t for t in play.turns(all_turns) if t.text.strip()]
        early = [t for t in heard if play.speech_end is not None
                 and t.speech_end_t < play.speech_end - 0.5]
        last_word = words(play.fixture.text)[-1]
        missing_end = bool(heard) and last_word not in words(heard[-1].text)
        cut = len(heard) > 1 or bool(early) or (play.speech_end is None and missing_end)
        rows.append({"fixture": play.name, "turns_with_text": len(heard), "ended_early":
                     bool(early), "cut": cut, "texts": [t.text for t in heard],
                     "decided_ms": [t.decided_ms for t in heard]})
    cuts = sum(r["cut"] for r in rows)
    lost = [r["fixture"] for r in rows if r["turns_with_text"] == 0]
    note = "pauses of 0.5-2 s after unfinished words"
    if lost:
        note += f"; no turn at all from {', '.join(lost)}"
    return Figure("cutoffs", "Cut-offs on pause fixtures", f"{cuts} of {len(rows)}", "0",
                  cuts == 0 and not lost if rows else None, len(rows), note), rows


def noise_figure(session: Session) -> tuple[Figure, list[dict]]:
    all_turns = session.turns()
    rows = []
    for play in session.plays:
        if play.kind not in ("noise", "breath", "silence"):
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
    """Answered turns that no played person's clip explains, or that replay its own reply."""
    false_turns, heard_own, echo_rows, replies = [], 0, [], 0
    for session in sessions:
        all_turns = session.turns()
        replies += len(session.talk.replies())
        person = {t.index for p in session.plays if p.kind not in ("own_reply", "echo")
                  for t in p.turns(all_turns)}
        for play in session.plays:
            if play.kind == "echo":
                echo_rows += [t.text for t in play.turns(all_turns) if t.answered]
        echo_idx = {t.index for p in session.plays if p.kind == "echo"
                    for t in p.turns(all_turns)}
        for t in all_turns:
            if t.ignored == "own voice":
                heard_own += 1
            if t.answered and t.index not in person and t.index not in echo_idx:
                false_turns.append(t.text)
    own_played = sum(p.kind == "own_reply" for s in sessions for p in s.plays)
    figs = [
        Figure("own_voice_turns", "Turns from its own voice (speaker → mic loopback)",
               str(len(false_turns)), "0", not false_turns, replies,
               f"{replies} replies leaked into the mic; its own last reply replayed "
               f"{own_played}×; {heard_own} heard and dropped as own voice"),
        Figure("echo_fixture_turns", f"Turns from {ECHO_FIXTURE} (played after a reply)",
               str(len(echo_rows)), "0", not echo_rows, 1,
               "companion-voice words it did not say this session: only its own last reply "
               "is recognised, so this reads as a person"),
    ]
    return figs, {"false_turns": false_turns, "echo_turns": echo_rows}


def first_word_figure(session: Session, baseline: dict[str, str]) -> tuple[Figure, list[dict]]:
    all_turns = session.turns()
    rows = []
    for play in session.plays:
        if play.kind != "speech" or play.fixture is None:
            continue
        heard = [t for t in play.turns(all_turns) if t.text.strip()]
        ref = first_word(play.fixture.text)
        live = first_word(heard[0].text) if heard else ""
        rows.append({"fixture": play.name, "ref": ref, "live": live,
                     "plain": baseline.get(play.name, "")})
    if not rows:
        return Figure("first_words", "First-word WER, live vs plain", "not measured", "equal",
                      None), rows
    live_err = sum(r["live"] != r["ref"] for r in rows) / len(rows)
    base_err = sum(r["plain"] != r["ref"] for r in rows) / len(rows)
    wrong = sorted({f"{r['fixture']}: {r['live'] or '∅'}≠{r['ref']}" for r in rows
                    if r["live"] != r["ref"]})
    return Figure("first_words", "First words clipped: first-word WER live / plain",
                  f"{live_err:.3f} / {base_err:.3f}", "live = plain", live_err <= base_err,
                  len(rows), "; ".join(wrong)), rows


def barge_in_figures(results: Sequence[Interruption]) -> list[Figure]:
    inside = [r.stop_ms for r in results if r.stop_ms is not None]
    outside = [r.outside_stop_ms for r in results if r.outside_stop_ms is not None]
    onset = [r.onset_to_confirm_ms for r in results if r.onset_to_confirm_ms is not None]
    missed = sum(r.confirmed_t is None for r in results)
    quiet = sum(r.confirmed_t is not None and not r.sounding for r in results)
    worst = max(outside) if outside else None
    note = f"{missed} of {len(results)} clips did not interrupt" if missed else ""
    if quiet:
        note += f"{'; ' if note else ''}{quiet} confirmed in a silent gap (not timed outside)"
    return [
        Figure("barge_in_stop", "Barge-in: confirmed → sound stops in speaker (outside)",
               spread(outside), "≤ 150 ms (max)",
               (worst <= TARGETS["barge_in_ms"] and not missed) if worst is not None else None,
               len(outside), note),
        Figure("barge_in_stop_ms", "  barge-in: the program's stop_ms (stop call only)",
               spread(inside), "≤ 150 ms", (max(inside) <= 150) if inside else None, len(inside)),
        Figure("barge_in_confirm", "  barge-in: interrupting speech reaches mic → confirmed",
               spread(onset), "—", None, len(onset), "includes the 0.25 s of speech required"),
    ]


def idle_figure(samples: Sequence[float]) -> Figure:
    if not samples:
        return Figure("idle_cpu", "Idle CPU of talk", "not measured", "≤ 5% of one core", None)
    mean = float(np.mean(samples))
    return Figure("idle_cpu", "Idle CPU of talk (after the greeting)",
                  f"{mean:.2f}% (p95 of 1-s samples {pct(samples, 95):.2f}%)",
                  "≤ 5% of one core", mean <= TARGETS["idle_cpu"], len(samples),
                  f"{len(samples)} s sampled from /proc/PID/stat")


def startup_figures(startups: Sequence[Startup]) -> list[Figure]:
    to_listen = [s.to_listening_s for s in startups if s.to_listening_s is not None]
    prog = [s.program_startup_s for s in startups if s.program_startup_s is not None]
    live = [s.to_live_mic_s for s in startups if s.to_live_mic_s is not None]
    greet = [s.to_greeting_s for s in startups if s.to_greeting_s is not None]

    def secs(vals: Sequence[float]) -> str:
        if not vals:
            return "not measured"
        return f"median {statistics.median(vals):.2f} s (max {max(vals):.2f})"

    med = statistics.median(to_listen) if to_listen else None
    return [
        Figure("startup_s", "Process start → \"listening\" event", secs(to_listen), "≤ 3 s",
               med <= TARGETS["startup_s"] if med is not None else None, len(to_listen),
               "wall clock before Popen to the timeline's listening event"),
        Figure("startup_program", "  the program's own startup_s (inside Talk)", secs(prog), "—",
               None, len(prog)),
        Figure("startup_greeting", "  process start → greeting heard", secs(greet), "—", None,
               len(greet)),
        Figure("startup_live", "  process start → greeting over (mic really live)", secs(live),
               "—", None, len(live), "the microphone is ignored while the greeting plays"),
    ]


def session_health(name: str, session: Session, rc: int | None) -> Figure:
    err = session.talk.stderr()
    ok = rc == 0 and "Traceback" not in err
    tail = "" if ok else err.strip().splitlines()[-1][:160] if err.strip() else "killed"
    return Figure(f"exit_{name}", f"  session {name}: exit status", str(rc), "0, no traceback",
                  ok, None, tail)


# -- report ---------------------------------------------------------------------------------

def print_table(console: Console, figures: Sequence[Figure], title: str) -> None:
    table = Table(title=title, show_lines=False)
    for col in ("Figure", "Measured", "Target", "Result", "n", "Notes"):
        table.add_column(col, overflow="fold")
    for f in figures:
        result = {True: "[green]pass[/]", False: "[red]FAIL[/]", None: "[dim]info[/]"}[f.passed]
        if f.value == "not measured":
            result = "[yellow]not measured[/]"
        table.add_row(f.name, f.value, f.target, result, "" if f.n is None else str(f.n), f.note)
    console.print(table)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer turns (about 3 minutes)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", type=Path, help="keep timelines and logs in this folder")
    args = parser.parse_args()
    console = Console(stderr=args.json, width=160)
    reason = pulse_missing_reason()
    if reason:
        console.print(f"Cannot measure turn-taking: {reason}.")
        return 2
    began = time.monotonic()

    def log(msg: str) -> None:
        console.print(f"[dim]{time.monotonic() - began:6.1f}s {msg}[/]")

    plan = make_plan(args.quick)
    log("plain faster-whisper baseline for first words")
    baseline = baseline_first_words(plan.speech)
    with tempfile.TemporaryDirectory(prefix="turn-taking-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        figures, details = run_all(plan, baseline, folder, began, log)
    elapsed = time.monotonic() - began
    title = (f"Turn-taking of voice-companion talk ({'quick' if args.quick else 'full'} run, "
             f"{elapsed:.0f} s, tiny.en, {_cores()} cores)")
    print_table(console, figures, title)
    if args.json:
        print(json.dumps({"elapsed_s": round(elapsed, 1), "quick": args.quick,
                          "figures": [asdict(f) for f in figures], "details": details},
                         default=_jsonable))
    return 0 if all(f.passed is not False for f in figures) else 1


def run_all(plan: Plan, baseline: dict[str, str], folder: Path, began: float,
            log: Callable) -> tuple[list[Figure], dict]:
    (folder / "pulse").mkdir(exist_ok=True)
    with running_pulse(folder / "pulse") as pulse:
        spk = StampedRecorder(pulse.env, "spk.monitor")
        mic = StampedRecorder(pulse.env, "mic.monitor")
        if not (spk.wait_started() and mic.wait_started()):
            raise SystemExit("parec did not start recording the PulseAudio monitors")
        loop = pulse.run("pactl", "load-module", "module-loopback", "source=spk.monitor",
                         "sink=mic", "latency_msec=30").stdout.decode().strip()
        try:
            a = new_session(pulse, spk, mic, folder / "A", "--no-earcons")
            try:
                extra = run_main_session(a, plan, folder, log)
            finally:
                rc_a = a.talk.stop()
            b = new_session(pulse, spk, mic, folder / "B")
            try:
                run_earcon_session(b, plan.earcon_turns, began + BUDGET_S - 90, log)
            finally:
                rc_b = b.talk.stop()
            pulse.run("pactl", "unload-module", loop)
            c = new_session(pulse, spk, mic, folder / "C", "--barge-in", "--no-earcons")
            try:
                interruptions = run_barge_in_session(c, plan, folder, log)
            finally:
                rc_c = c.talk.stop()
        finally:
            spk.close()
            mic.close()
    return collect(plan, baseline, (a, b, c), (rc_a, rc_b, rc_c), extra, interruptions)


def collect(plan: Plan, baseline: dict[str, str], sessions: Sequence[Session],
            rcs: Sequence[int | None], extra: dict, interruptions: Sequence[Interruption],
            ) -> tuple[list[Figure], dict]:
    a, b, c = sessions
    lat, lat_rows = latency_figures(a, "no earcons", "latency", 20)
    lat_b, lat_rows_b = latency_figures(b, "earcons on", "latency_earcons", 20)
    cut, cut_rows = cutoff_figure(a)
    noise, noise_rows = noise_figure(a)
    own, own_rows = own_voice_figures((a, b))
    first, first_rows = first_word_figure(a, baseline)
    figures = [*lat, lat_b[0], lat_b[1], cut, noise, *own, first,
               *barge_in_figures(interruptions), idle_figure(extra["idle_cpu"]),
               *startup_figures([s.startup for s in sessions if s.startup is not None])]
    figures += [session_health(n, s, rc) for n, s, rc in zip("ABC", sessions, rcs, strict=True)]
    details = {"latency": lat_rows, "latency_earcons": lat_rows_b, "cutoffs": cut_rows,
               "noise": noise_rows, "own_voice": own_rows, "first_words": first_rows,
               "interruptions": [asdict(r) for r in interruptions],
               "idle_cpu_samples": extra["idle_cpu"],
               "startups": [asdict(s.startup) for s in sessions if s.startup is not None]}
    return figures, details


def _cores() -> int:
    import os

    return os.cpu_count() or 0


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


if __name__ == "__main__":
    raise SystemExit(main())
