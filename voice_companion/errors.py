"""Errors the person can act on.

Every failure the person can fix (a missing file, no microphone, no model) is raised as a
:class:`UserError` with one line saying what is wrong and one saying what to do. The command line
prints those two lines and exits non-zero; the traceback is shown only with ``--debug``.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the person can fix: ``what`` went wrong and ``fix`` says how to fix it."""

    exit_code = 2

    def __init__(self, what: str, fix: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.what} {self.fix}".strip()


class AudioInputError(UserError):
    """An audio file or device that cannot be read."""


class ModelError(UserError):
    """The speech recognition model cannot be found or loaded."""


class VoiceError(UserError):
    """The speech synthesiser or the speaker does not work."""


class ConfigError(UserError):
    """A setting has a value that is not allowed."""


class PromptsError(UserError):
    """A dialogue wording file in ``prompts/`` is missing or malformed."""
