"""The private journal: every finished turn, threads worth following up, and forgetting.

>>> journal = Journal.open(settings.data_dir)       # or NullJournal() for --no-journal
>>> sid = journal.start_session()
>>> check_in = journal.due_thread()                  # at most one thread to follow up
>>> tid = journal.add_turn(sid, transcript=..., reply=..., acts=..., emotions=..., safety=None)
>>> journal.end_session(sid); journal.close()
"""

from __future__ import annotations

from voice_companion.journal.errors import JournalError
from voice_companion.journal.memory import JournalThread
from voice_companion.journal.null import NullJournal
from voice_companion.journal.store import Journal, SessionInfo, StoredTurn
from voice_companion.journal.threads import extract_threads, is_decline

__all__ = [
    "Journal",
    "JournalError",
    "JournalThread",
    "NullJournal",
    "SessionInfo",
    "StoredTurn",
    "extract_threads",
    "is_decline",
    "open_journal",
]


def open_journal(settings: object) -> Journal | NullJournal:
    """The journal the settings ask for: the real one, or a NullJournal when it is off."""
    if not getattr(settings, "journal", True):
        return NullJournal()
    return Journal.open(settings.data_dir)
