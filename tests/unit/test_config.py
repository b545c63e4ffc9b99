"""Settings: defaults, and one clear error naming the variable for each bad value."""

from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import ConfigError, load_settings
from bot.core.protocol import DEFAULT_PROTOCOL_PATH
from tests.utils.environment import CONFIGURATION_VARIABLES

TOKEN = "123456:" + "A" * 35


def test_defaults():
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert settings.database_url == f"sqlite:///{Path.cwd() / 'data' / 'followup.sqlite'}"
    assert settings.clinic_timezone == ZoneInfo("UTC")
    assert settings.protocol_file == DEFAULT_PROTOCOL_PATH
    assert settings.admin_ids == frozenset()
    assert settings.staff_alert_chat_id is None
    assert settings.invite_valid_days == 7


def test_values_are_read():
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "ADMIN_TELEGRAM_IDS": "11, 22,",
            "STAFF_ALERT_CHAT_ID": "-100123",
            "CLINIC_TIMEZONE": "Europe/London",
            "LOG_LEVEL": "debug",
            "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot",
        }
    )
    assert settings.admin_ids == {11, 22}
    assert settings.staff_alert_chat_id == -100123
    assert settings.clinic_timezone.key == "Europe/London"
    assert settings.log_level == "DEBUG"
    assert settings.base_url == "http://127.0.0.1:9/bot"


def test_the_token_and_the_database_password_never_show_in_repr():
    url = "postgresql+psycopg://bot:s3cret-password@db.example/followup"
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": url})
    assert TOKEN not in repr(settings) and "s3cret-password" not in repr(settings)


def test_a_relative_sqlite_path_is_resolved_from_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": "sqlite:///db/x.db"})
    assert settings.database_url == f"sqlite:///{tmp_path / 'db' / 'x.db'}"


class RecordingEnvironment(Mapping):
    """An environment that remembers which variables were asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values, self.asked = values, set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return self.values[name]

    def get(self, name, default=None):
        self.asked.add(name)
        return self.values.get(name, default)

    def __iter__(self):
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def test_env_example_lists_every_variable_the_bot_reads():
    env = RecordingEnvironment({"TELEGRAM_BOT_TOKEN": TOKEN})
    load_settings(env)
    assert env.asked and env.asked <= CONFIGURATION_VARIABLES


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", ""),
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("ADMIN_TELEGRAM_IDS", "12,abc"),
        ("STAFF_ALERT_CHAT_ID", "staff"),
        ("CLINIC_TIMEZONE", "Mars/Olympus"),
        ("PROTOCOL_FILE", "/nonexistent/protocol.toml"),
        ("LOG_LEVEL", "LOUD"),
        ("TELEGRAM_BASE_URL", "ftp://x"),
        ("INVITE_VALID_DAYS", "0"),
        ("DATABASE_URL", "garbage"),
        ("DATABASE_URL", "nosuchdatabase://host/name"),
        ("DATABASE_URL", "postgresql+pg8000://bot@localhost/followup"),
    ],
)
def test_bad_values_name_the_variable(variable, value):
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, variable: value}
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert caught.value.variable == variable
    assert str(caught.value).startswith(variable)


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("", "is a folder, not a database file"),
        ("a-file/followup.sqlite", "cannot make a folder for"),
        ("a-file/deeper/followup.sqlite", "a-file is a file"),
    ],
)
def test_a_sqlite_path_that_cannot_be_a_database_file_names_database_url(tmp_path, path, problem):
    (tmp_path / "a-file").write_text("not a folder")
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": f"sqlite:///{tmp_path / path}"}
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert caught.value.variable == "DATABASE_URL"
    assert problem in str(caught.value)


def test_a_missing_postgres_driver_says_which_extra_to_install():
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "DATABASE_URL": "postgresql+pg8000://bot@db/followup"}
    with pytest.raises(ConfigError, match=r"pip install 'infusion-followup-bot\[postgres\]'"):
        load_settings(env)
