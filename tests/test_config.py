"""Settings precedence and clear messages for invalid values."""

from __future__ import annotations

import pytest

from voice_companion.cli import main
from voice_companion.config import config_dir, load_settings
from voice_companion.errors import ConfigError


def write_config(text: str) -> None:
    config_dir().mkdir(parents=True, exist_ok=True)
    (config_dir() / "config.toml").write_text(text)


def test_defaults_then_file_then_environment_then_flags(monkeypatch):
    assert load_settings().rate == 165
    write_config("rate = 150\nlocale = 'UK'\n")
    assert load_settings().rate == 150 and load_settings().locale == "UK"
    monkeypatch.setenv("VOICE_COMPANION_RATE", "160")
    assert load_settings().rate == 160 and load_settings().locale == "UK"
    assert load_settings(rate=200, locale=None).rate == 200  # None means "flag not given"


@pytest.mark.parametrize(
    ("given", "key", "hint"),
    [
        ({"rate": 5}, "rate", "greater than or equal to 80"),
        ({"volume": 3.0}, "volume", "less than or equal to 1"),
        ({"locale": "XX"}, "locale", "'US'"),
    ],
)
def test_invalid_values_name_key_value_and_what_is_allowed(given, key, hint):
    with pytest.raises(ConfigError) as info:
        load_settings(**given)
    message = str(info.value)
    assert f"'{key}'" in message and repr(next(iter(given.values()))) in message
    assert hint in message


def test_unknown_key_and_broken_file_in_config_toml():
    write_config("speed = 3\n")
    with pytest.raises(ConfigError, match="Unknown setting 'speed'"):
        load_settings()
    write_config("rate = = 3\n")
    with pytest.raises(ConfigError, match="config.toml"):
        load_settings()


def test_invalid_flag_gives_a_line_not_a_traceback(capsys):
    assert main(["chat", "--rate", "9999", "--no-journal"]) == 2
    err = capsys.readouterr().err
    assert "rate" in err and "9999" in err and "Traceback" not in err
