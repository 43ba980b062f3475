"""The journal's error: a database that cannot be opened, read or written."""

from __future__ import annotations

from voice_companion.errors import UserError


class JournalError(UserError):
    """The journal file is newer, damaged, locked or missing something; nothing was overwritten."""
