"""How the journal writes times: local wall-clock time, ISO 8601, microseconds, no zone.

Stored times sort as text. An aware datetime is converted to local time first, so times from
``datetime.now()`` and ``datetime.now(timezone.utc)`` land on the same clock.
"""

from __future__ import annotations

from datetime import datetime


def local(dt: datetime | None) -> datetime:
    """``dt`` (or now) as a naive local datetime."""
    if dt is None:
        return datetime.now()
    if dt.tzinfo is not None:
        return dt.astimezone().replace(tzinfo=None)
    return dt


def to_db(dt: datetime | None) -> str:
    return local(dt).isoformat(timespec="microseconds")


def from_db(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
