"""python -m bot [run|check]: settings -> protocol -> database -> application -> run."""

from __future__ import annotations

import logging
import sys

from dotenv import load_dotenv
from sqlalchemy.engine import make_url
from telegram import Update

from bot.app import build_application
from bot.config import ConfigError, Settings, load_settings
from bot.core.protocol import Protocol, ProtocolError, load_protocol
from bot.summary import describe_protocol
from storage.db import make_engine, migrate

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
    """Migrate the database and poll Telegram until stopped."""
    configure_logging(settings.log_level)
    engine = make_engine(settings.database_url)
    migrate(engine)
    application = build_application(settings, protocol, engine)
    # Pending updates are kept: answers given while the bot was down still count.
    application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    return 0


def configure_logging(level: str) -> None:
    """Plain logs on stderr; httpx is silenced because it logs URLs with the bot token."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


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
