"""Load dialogue wording from ``prompts/`` and validate it against a pydantic model.

Wording is data: each ``prompts/NAME.toml`` file is parsed and checked against the model the
code expects, and any problem becomes a :class:`~voice_companion.errors.PromptsError` naming the
file, the key and what is wrong, so a typo in a wording file never surfaces as a traceback.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from voice_companion.errors import PromptsError

M = TypeVar("M", bound=BaseModel)


def prompts_dir() -> Path:
    """The folder of wording files (``VOICE_COMPANION_PROMPTS_DIR`` overrides it)."""
    override = os.environ.get("VOICE_COMPANION_PROMPTS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "prompts"


@cache
def _read(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise PromptsError(
            f"The wording file {path} is missing.",
            "Reinstall voice-companion or point VOICE_COMPANION_PROMPTS_DIR at a prompts folder.",
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise PromptsError(f"The wording file {path} is not valid TOML: {exc}.", "Fix it.") from exc


def load_prompts(name: str, model: type[M], folder: Path | None = None) -> M:
    """Read ``prompts/<name>.toml`` and validate it as ``model``."""
    path = (folder or prompts_dir()) / f"{name}.toml"
    data = _read(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(part) for part in err["loc"])
        raise PromptsError(
            f"The wording file {path} has a problem at '{key}': {err['msg']}.",
            "Fix that entry; every entry must match the shape the program expects.",
        ) from exc
