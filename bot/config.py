"""Settings from the environment (and a .env file), validated once at start.

`python -m bot` reads `.env` from the current directory, and a relative SQLite path in
DATABASE_URL is made absolute from the current directory here: both are found in the same
place whether the bot is installed in editable mode or not.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.protocol import DEFAULT_PROTOCOL_PATH
from storage.db import DatabaseUnusable, check_database_url, describe_database

TELEGRAM_API = "https://api.telegram.org/bot"
TELEGRAM_FILE_API = "https://api.telegram.org/file/bot"
DEFAULT_DATABASE_URL = "sqlite:///data/followup.sqlite"
_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,100}$")


class ConfigError(ValueError):
    """A missing or invalid setting, with the variable at fault."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        super().__init__(f"{variable}: {problem}")


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment."""

    bot_token: str
    base_url: str = TELEGRAM_API
    base_file_url: str = TELEGRAM_FILE_API
    database_url: str = DEFAULT_DATABASE_URL
    admin_ids: frozenset[int] = frozenset()
    staff_alert_chat_id: int | None = None
    clinic_timezone: ZoneInfo = ZoneInfo("UTC")
    protocol_file: Path = DEFAULT_PROTOCOL_PATH
    log_level: str = "INFO"
    library_log_level: str = "INFO"
    invite_valid_days: int = 7
    dispatch_interval_seconds: float = 30.0

    def __repr__(self) -> str:
        # Neither the token nor a database password appears in logs or tracebacks.
        database = describe_database(self.database_url)
        return f"Settings(database={database!r}, admins={len(self.admin_ids)})"


def load_settings(env: Mapping[str, str] | None = None, require_token: bool = True) -> Settings:
    """Read and validate the settings; raise ConfigError naming the first bad variable."""
    env = os.environ if env is None else env
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if require_token and not token:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN",
            "is not set; put the token from @BotFather in .env (see .env.example)",
        )
    if token and not _TOKEN.match(token):
        raise ConfigError("TELEGRAM_BOT_TOKEN", "does not look like a bot token (digits:letters)")
    return Settings(
        bot_token=token,
        base_url=_url(env, "TELEGRAM_BASE_URL", TELEGRAM_API),
        base_file_url=_url(env, "TELEGRAM_BASE_FILE_URL", TELEGRAM_FILE_API),
        database_url=_database_url(env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL),
        admin_ids=_admin_ids(env.get("ADMIN_TELEGRAM_IDS", "")),
        staff_alert_chat_id=_optional_int(env, "STAFF_ALERT_CHAT_ID"),
        clinic_timezone=_timezone(env.get("CLINIC_TIMEZONE", "").strip() or "UTC"),
        protocol_file=_protocol_file(env.get("PROTOCOL_FILE", "").strip()),
        log_level=_log_level("LOG_LEVEL", env.get("LOG_LEVEL", "").strip() or "INFO"),
        library_log_level=_log_level(
            "LIBRARY_LOG_LEVEL", env.get("LIBRARY_LOG_LEVEL", "").strip() or "INFO"
        ),
        invite_valid_days=_positive_int(env, "INVITE_VALID_DAYS", 7),
        dispatch_interval_seconds=_positive_int(env, "DISPATCH_INTERVAL_SECONDS", 30),
    )


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not value.startswith(("http://", "https://")):
        raise ConfigError(name, "must start with http:// or https://")
    return value


def _database_url(raw: str) -> str:
    try:
        return check_database_url(raw)
    except DatabaseUnusable as exc:
        raise ConfigError("DATABASE_URL", str(exc)) from None


def _admin_ids(raw: str) -> frozenset[int]:
    ids = set()
    for part in raw.replace(" ", "").split(","):
        if not part:
            continue
        if not part.isdigit():
            raise ConfigError("ADMIN_TELEGRAM_IDS", f"{part!r} is not a numeric Telegram user id")
        ids.add(int(part))
    return frozenset(ids)


def _optional_int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(name, f"{raw!r} is not a numeric chat id") from None


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = _optional_int(env, name)
    if value is None:
        return default
    if value <= 0:
        raise ConfigError(name, "must be a whole number above zero")
    return value


def _timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "CLINIC_TIMEZONE", f"{name!r} is not an IANA time zone like Europe/London"
        ) from None


def _protocol_file(raw: str) -> Path:
    if not raw:
        return DEFAULT_PROTOCOL_PATH
    path = Path(raw)
    if not path.is_file():
        raise ConfigError("PROTOCOL_FILE", f"{raw} is not a readable file")
    return path


def _log_level(variable: str, name: str) -> str:
    level = name.upper()
    if level not in logging.getLevelNamesMapping():
        raise ConfigError(variable, f"{name!r} is not a level like INFO or DEBUG")
    return level
