"""A timeline of what the live loop did and when, for benchmarks and debugging.

When ``VOICE_COMPANION_TIMELINE`` names a file, the live loop appends one JSON object per event
(``{"event": "turn_end", "t": 12.345, ...}``), with ``t`` on the process's monotonic clock and
``wall`` on the wall clock, so a benchmark can measure latency from the outside. Nothing the
person says is written unless the file is set; it is meant for test runs.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


class Timeline:
    """Appends events to a JSON Lines file; does nothing when no file is set."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        target = path if path is not None else os.environ.get("VOICE_COMPANION_TIMELINE")
        self._fh = Path(target).open("a", buffering=1) if target else None

    @property
    def enabled(self) -> bool:
        return self._fh is not None

    def log(self, event: str, t: float | None = None, **fields: Any) -> None:
        if self._fh is None:
            return
        record = {"event": event, "t": round(time.monotonic() if t is None else t, 4),
                  "wall": round(time.time(), 4), **fields}
        self._fh.write(json.dumps(record) + "\n")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
