"""Settings: defaults < ``config.toml`` in the user's config folder < ``VOICE_COMPANION_*``
environment variables < command-line flags.

An invalid value anywhere becomes a :class:`~voice_companion.errors.ConfigError` naming the key,
the value given and what is allowed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from voice_companion.errors import ConfigError

APP_NAME = "voice-companion"


def config_dir() -> Path:
    """The folder holding ``config.toml`` (``VOICE_COMPANION_CONFIG_DIR`` overrides it)."""
    override = os.environ.get("VOICE_COMPANION_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))


def default_data_dir() -> Path:
    """The private folder where the journal lives."""
    return Path(platformdirs.user_data_dir(APP_NAME))


class Settings(BaseSettings):
    """Everything a person can set. Each field documents what it does and what it allows."""

    model_config = SettingsConfigDict(
        env_prefix="VOICE_COMPANION_", extra="forbid", validate_default=True
    )

    # Speech recognition
    model: str = Field("tiny.en", description="model folder path or faster-whisper model name")
    compute_type: str = Field("int8", description="CTranslate2 compute type on the CPU")
    cpu_threads: int = Field(2, ge=1, le=64, description="threads for speech recognition")
    beam_size: int = Field(5, ge=1, le=10, description="beam search width")
    no_speech_threshold: float = Field(0.6, ge=0.0, le=1.0)
    log_prob_threshold: float = Field(-1.0, le=0.0)
    short_window: bool = Field(
        True, description="fit Whisper's window to the turn (about twice as fast); false: 30 s"
    )

    # Audio devices
    input_device: str | None = Field(None, description="microphone name or index")
    output_device: str | None = Field(None, description="speaker name or index")

    # Voice
    rate: int = Field(165, ge=80, le=400, description="speaking rate in words per minute")
    volume: float = Field(1.0, ge=0.0, le=1.0, description="speaking volume, 0 to 1")
    voice: str | None = Field("en-us", description="espeak-ng / pyttsx3 voice id or name")
    earcons: bool = Field(True, description="short sounds for listening and thinking")

    # Turn-taking
    vad_threshold: float = Field(0.5, gt=0.0, lt=1.0)
    preroll_s: float = Field(0.5, ge=0.5, le=2.0, description="audio kept before speech starts")
    short_wait_s: float = Field(0.6, ge=0.2, le=3.0, description="pause ending a finished thought")
    long_wait_s: float = Field(2.4, ge=0.5, le=6.0, description="pause after unfinished words")
    max_turn_s: float = Field(60.0, ge=5.0, le=600.0, description="longest turn before cutting")
    min_speech_s: float = Field(0.3, ge=0.05, le=3.0, description="least speech making a turn")
    echo_tail_s: float = Field(0.3, ge=0.0, le=3.0, description="mic ignored after speaking")
    barge_in: bool = Field(False, description="let the person interrupt (headphones or AEC)")
    silence_prompt_s: float = Field(20.0, ge=5.0, le=600.0)

    # Dialogue, privacy
    locale: Literal["US", "UK", "IE", "CA", "AU", "NZ", "OTHER"] = Field(
        "US", description="which crisis help lines to offer"
    )
    journal: bool = Field(True, description="keep a private journal of conversations")
    store_audio: bool = Field(False, description="also keep each turn's audio in the journal")
    data_dir: Path = Field(default_factory=default_data_dir)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_dir() / "config.toml")
        return (init_settings, env_settings, toml)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, with ``overrides`` (command-line flags; ``None`` means not given)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise ConfigError(*_describe(exc)) from exc
    except (OSError, ValueError) as exc:  # unreadable or malformed config.toml
        path = config_dir() / "config.toml"
        raise ConfigError(
            f"Cannot read the settings file {path}: {exc}.",
            "Fix the file (it is TOML: key = value) or remove it to use the defaults.",
        ) from exc


def _describe(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    key = ".".join(str(part) for part in err["loc"]) or "settings"
    value = err.get("input")
    if err["type"] == "extra_forbidden":
        allowed = ", ".join(sorted(Settings.model_fields))
        return (f"Unknown setting '{key}'.", f"Known settings are: {allowed}.")
    field = Settings.model_fields.get(key)
    allowed = err["msg"]
    if field is not None and field.description:
        allowed = f"{err['msg']} ({key}: {field.description})"
    return (
        f"Invalid value {value!r} for setting '{key}'.",
        f"Allowed: {allowed}. Set it in {config_dir() / 'config.toml'}, the environment "
        f"variable VOICE_COMPANION_{key.upper()}, or the command line.",
    )
