"""Settings: defaults, and one clear error naming the variable for each bad value."""

from zoneinfo import ZoneInfo

import pytest

from bot.config import DEFAULT_DATABASE_URL, ConfigError, load_settings
from bot.core.protocol import DEFAULT_PROTOCOL_PATH

TOKEN = "123456:" + "A" * 35


def test_defaults():
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert settings.database_url == DEFAULT_DATABASE_URL
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


def test_the_token_never_shows_in_repr():
    assert TOKEN not in repr(load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}))


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
    ],
)
def test_bad_values_name_the_variable(variable, value):
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, variable: value}
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert caught.value.variable == variable
    assert str(caught.value).startswith(variable)
