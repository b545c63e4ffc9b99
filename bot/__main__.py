"""python -m bot [run|check]: settings -> protocol -> database -> application -> run."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from dotenv import load_dotenv
from sqlalchemy.engine import make_url
from telegram.error import InvalidToken

from bot.app import build_application
from bot.config import ConfigError, Settings, load_settings
from bot.core.protocol import Protocol, ProtocolError, load_protocol
from bot.delivery.lifecycle import RunningBot
from bot.logs import configure_logging
from bot.summary import describe_protocol
from storage.db import make_engine, migrate

log = logging.getLogger("bot")

USAGE = "usage: python -m bot [run|check]"


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "run"
    if command not in ("run", "check") or len(argv) > 1:
        print(USAGE, file=sys.stderr)
        return 2
    load_dotenv()
    try:
        settings = load_settings(require_token=command == "run")
        protocol = load_protocol(settings.protocol_file)
    except (ConfigError, ProtocolError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if command == "check":
        print(describe_settings(settings))
        print(describe_protocol(protocol))
        return 0
    return run(settings, protocol)


def run(settings: Settings, protocol: Protocol) -> int:
    """Migrate the database and serve Telegram until SIGTERM or SIGINT."""
    configure_logging(settings.log_level, settings.bot_token, settings.library_log_level)
    engine = make_engine(settings.database_url)
    migrate(engine)
    try:
        asyncio.run(serve(settings, protocol, engine))
    except InvalidToken:
        print("error: TELEGRAM_BOT_TOKEN was refused by Telegram", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


async def serve(settings: Settings, protocol: Protocol, engine) -> None:
    """Run the bot until a stop signal; pending updates are never dropped."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    running = RunningBot(build_application(settings, protocol, engine))
    await running.start()
    try:
        await running.until_stopped(stop)
    finally:
        log.info("stopping")
        await running.stop()


def describe_settings(settings: Settings) -> str:
    """What `check` prints about the configuration (never the token)."""
    alerts_to = (
        f"staff group {settings.staff_alert_chat_id}"
        if settings.staff_alert_chat_id is not None
        else "each admin and staff member privately"
    )
    return "\n".join(
        [
            "Configuration OK",
            f"  token: {'set' if settings.bot_token else 'not set (needed to run)'}",
            f"  Bot API: {settings.base_url}",
            f"  database: {_redact_url(settings.database_url)}",
            f"  admins: {len(settings.admin_ids)}",
            f"  alerts go to: {alerts_to}",
            f"  clinic time zone: {settings.clinic_timezone.key}",
            f"  protocol file: {settings.protocol_file}",
            f"  invites valid for: {settings.invite_valid_days} days",
        ]
    )


def _redact_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
