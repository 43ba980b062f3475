"""The ``voice-companion`` command line: talk, replay, chat, devices, doctor, journal."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from voice_companion import __version__
from voice_companion.config import Settings, load_settings
from voice_companion.errors import UserError


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--debug", action="store_true", help="show full tracebacks")
    p.add_argument("--model", help="Whisper model folder or name (default tiny.en, offline)")
    p.add_argument("--locale", help="which crisis help lines to offer: US, UK, IE, CA, AU, NZ")
    p.add_argument("--no-journal", dest="journal", action="store_const", const=False,
                   help="keep nothing of this session")
    p.add_argument("--data-dir", type=Path, help="where the journal is kept")


def _add_voice(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rate", type=int, help="speaking rate, words per minute (80-400)")
    p.add_argument("--volume", type=float, help="speaking volume, 0 to 1")
    p.add_argument("--voice", help="voice id or name (espeak-ng), e.g. en-us")
    p.add_argument("--output-device", help="speaker name or index (see: devices)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voice-companion",
        description="An offline companion you talk to, out loud, to reflect on your day.",
    )
    parser.add_argument("--version", action="version", version=f"voice-companion {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    talk = sub.add_parser("talk", help="talk out loud (microphone and speaker)")
    _add_common(talk)
    _add_voice(talk)
    talk.add_argument("--input-device", help="microphone name or index (see: devices)")
    talk.add_argument("--quiet", action="store_true", help="do not print the conversation")
    talk.add_argument("--no-earcons", dest="earcons", action="store_const", const=False,
                      help="no listening/thinking sounds")
    talk.add_argument("--barge-in", dest="barge_in", action="store_const", const=True,
                      help="let me interrupt the companion (use headphones or echo cancelling)")
    talk.add_argument("--store-audio", dest="store_audio", action="store_const", const=True,
                      help="also keep each turn's audio in the journal (off by default)")

    replay = sub.add_parser("replay", help="run the pipeline on recorded audio files")
    _add_common(replay)
    _add_voice(replay)
    replay.add_argument("files", nargs="+", type=Path, help="WAV, FLAC, MP3 or OGG files")
    replay.add_argument("--json", action="store_true", help="print JSON Lines")
    replay.add_argument("--speak", action="store_true", help="play the replies")
    replay.add_argument("--save-replies", type=Path, metavar="DIR",
                        help="write each spoken reply as a WAV file in DIR")
    replay.add_argument("--journal", dest="journal", action="store_const", const=True,
                        help="store these turns in the journal (off by default for files)")

    chat = sub.add_parser("chat", help="type instead of talking")
    _add_common(chat)
    _add_voice(chat)
    chat.add_argument("--json", action="store_true", help="print JSON Lines")
    chat.add_argument("--speak", action="store_true", help="speak the replies")

    devices = sub.add_parser("devices", help="list microphones and speakers")
    devices.add_argument("--test-mic", action="store_true", help="show the microphone level")
    devices.add_argument("--input-device", help="microphone to test")
    devices.add_argument("--seconds", type=float, default=5.0)
    devices.add_argument("--debug", action="store_true")

    doctor = sub.add_parser("doctor", help="check that everything needed is installed")
    _add_common(doctor)
    doctor.add_argument("--input-device")
    doctor.add_argument("--output-device")

    from voice_companion.journal.cli import add_journal_parser

    add_journal_parser(sub)
    return parser


SETTING_FLAGS = ("model", "locale", "journal", "data_dir", "rate", "volume", "voice",
                 "output_device", "input_device", "earcons", "barge_in", "store_audio")


def settings_from(args: argparse.Namespace) -> Settings:
    given = {k: getattr(args, k, None) for k in SETTING_FLAGS}
    return load_settings(**given)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_on_signals() -> None:
    """Ctrl-C (SIGINT) and a polite kill (SIGTERM) both stop the program the careful way: the
    conversation is closed and everything said is kept. A shell that starts a program in the
    background hands it SIGINT ignored, and Python then leaves it ignored, so both are set here
    (only the main thread may set them: :func:`main` called from elsewhere leaves them alone)."""
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _stop)
    except ValueError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    debug = getattr(args, "debug", False) or os.environ.get("VOICE_COMPANION_DEBUG") == "1"
    _stop_on_signals()
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING)
    try:
        if args.command == "journal":
            from voice_companion.journal.cli import run_journal

            return run_journal(args, settings_from(args))
        settings = settings_from(args)
        handler = {
            "talk": cmd_talk,
            "replay": cmd_replay,
            "chat": cmd_chat,
            "devices": cmd_devices,
            "doctor": cmd_doctor,
        }[args.command]
        return handler(args, settings)
    except UserError as exc:
        if debug:
            traceback.print_exc()
        print(f"voice-companion: {exc.what}", file=sys.stderr)
        if exc.fix:
            print(f"  → {exc.fix}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so plainly, keep the traceback for --debug
        if debug:
            traceback.print_exc()
        print(f"voice-companion: unexpected error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("  → Run again with --debug for details, and please report it.", file=sys.stderr)
        return 1


def _journal(settings: Settings):
    from voice_companion.journal import open_journal

    return open_journal(settings)


# -- replay ---------------------------------------------------------------------------------


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from voice_companion.dialogue import Reply
    from voice_companion.errors import AudioInputError
    from voice_companion.output import AudioSpan, Printer, TurnRecord
    from voice_companion.replay import heard_turns
    from voice_companion.session import Conversation
    from voice_companion.transcribe import Transcriber

    if args.journal is None:
        settings.journal = False
    printer = Printer(json_lines=args.json)
    voice = _ReplyVoice(settings, args.speak, args.save_replies)
    transcriber = Transcriber(settings.model, settings.compute_type, settings.cpu_threads,
                              settings.beam_size, settings.no_speech_threshold,
                              settings.log_prob_threshold, settings.short_window)
    failures = 0
    for path in args.files:
        journal = _journal(settings)
        conversation = Conversation(settings, journal)
        try:
            conversation.start()
            n = 0
            for heard in heard_turns(path, transcriber, settings):
                n += 1
                outcome = conversation.handle(heard.text)
                reply: Reply = outcome.reply
                tts_ms = voice.say(reply.text, f"{path.stem}_turn{n:02d}")
                timings = {"asr": heard.asr_ms, "dialogue": outcome.dialogue_ms}
                if tts_ms is not None:
                    timings["tts"] = tts_ms
                span = AudioSpan(file=str(path), start_s=round(heard.turn.start_s, 2),
                                 end_s=round(heard.turn.end_s, 2))
                printer.turn(TurnRecord.build(n, heard.text, reply, timings, span))
                if outcome.end:
                    break
            if n == 0:
                printer.status(f"{path}: no speech heard.")
        except AudioInputError as exc:
            failures += 1
            printer.error(str(exc), str(path))
        finally:
            journal.close()
    return 1 if failures else 0


class _ReplyVoice:
    """Speaks and/or saves replies for ``replay`` and ``chat``."""

    def __init__(self, settings: Settings, speak: bool, save_dir: Path | None) -> None:
        self.settings, self.speak, self.save_dir = settings, speak, save_dir
        self.synth = self.player = None
        if speak or save_dir:
            from voice_companion.voice import Synthesizer

            self.synth = Synthesizer(settings.rate, settings.volume, settings.voice)
        if speak:
            from voice_companion.devices import resolve_output
            from voice_companion.voice import Player

            self.player = Player(resolve_output(settings.output_device))
        if save_dir:
            save_dir.mkdir(parents=True, exist_ok=True)

    def say(self, text: str, name: str) -> float | None:
        if self.synth is None:
            return None
        import numpy as np

        from voice_companion.voice import split_sentences, write_wav

        start = time.perf_counter()
        first_ms, parts, rate = None, [], 22050
        self.synth.rate = self.settings.rate
        for sentence in split_sentences(text):
            speech = self.synth.synthesize(sentence)
            rate = speech.rate
            if first_ms is None:
                first_ms = (time.perf_counter() - start) * 1000
            if self.player is not None:
                self.player.queue(speech.audio, speech.rate, self.settings.volume, sentence)
            parts.append(speech.audio)
        if self.player is not None:
            self.player.wait()
            self.player.close()
        if self.save_dir is not None and parts:
            write_wav(self.save_dir / f"{name}.wav", np.concatenate(parts) * self.settings.volume,
                      rate)
        return first_ms


# -- chat -----------------------------------------------------------------------------------


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from voice_companion.output import Printer, TurnRecord
    from voice_companion.session import Conversation

    printer = Printer(json_lines=args.json)
    voice = _ReplyVoice(settings, args.speak, None)
    journal = _journal(settings)
    conversation = Conversation(settings, journal)
    interactive = sys.stdin.isatty() and not args.json
    try:
        greeting = conversation.start()
        printer.companion(greeting.text)
        voice.say(greeting.text, "greeting")
        n, ended = 0, False
        while True:
            try:
                line = input("You: ") if interactive else sys.stdin.readline()
            except EOFError:
                break
            if not interactive and line == "":
                break
            text = line.strip()
            if not text:
                continue
            n += 1
            outcome = conversation.handle(text)
            tts_ms = voice.say(outcome.reply.text, f"turn{n:02d}")
            timings = {"dialogue": outcome.dialogue_ms}
            if tts_ms is not None:
                timings["tts"] = tts_ms
            record = TurnRecord.build(n, text, outcome.reply, timings)
            if interactive:
                printer.companion(record.reply)
            else:
                printer.turn(record)
            if outcome.end:
                ended = True
                break
        if not ended and conversation.session_id is not None:
            conversation.journal.end_session(conversation.session_id)
    except KeyboardInterrupt:
        printer.status("Stopped. Everything you said so far is kept.")
    finally:
        conversation.journal.close()
    return 0


# -- talk, devices, doctor ------------------------------------------------------------------


def cmd_talk(args: argparse.Namespace, settings: Settings) -> int:
    from voice_companion.live import run_talk

    return run_talk(settings, quiet=bool(args.quiet))


def cmd_devices(args: argparse.Namespace, settings: Settings) -> int:
    from rich.console import Console
    from rich.table import Table

    from voice_companion.devices import input_levels, list_devices, resolve_input

    console = Console()
    if args.test_mic:
        device = resolve_input(args.input_device)
        console.print("Speak now: the bar shows how loud the microphone hears you.")
        for level in input_levels(device, args.seconds):
            width = int(max(0.0, min(60.0, (level + 60.0))))
            console.print(f"{level:6.1f} dBFS |" + "#" * width, highlight=False)
        return 0
    table = Table(title="Audio devices (* = default)")
    for col in ("#", "name", "in", "out", "rate", "default"):
        table.add_column(col)
    for d in list_devices():
        mark = " ".join(
            m for m, on in (("input", d["default_input"]), ("output", d["default_output"])) if on
        )
        table.add_row(str(d["index"]), d["name"], str(d["inputs"]), str(d["outputs"]),
                      str(d["rate"]), f"* {mark}" if mark else "")
    console.print(table)
    return 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from voice_companion.doctor import run_doctor

    return run_doctor(settings)
