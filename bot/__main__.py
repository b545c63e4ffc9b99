"""python -m bot [run|check|health]: settings -> protocol -> database -> application -> run.

The `followup-bot` console script is the same entry point.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from dotenv import load_dotenv
from sqlalchemy import Engine
from telegram.error import InvalidToken

from bot.app import build_application
from bot.checkup import configuration_warnings
from bot.config import ConfigError, Settings, load_settings
from bot.core.protocol import Protocol, ProtocolError, load_protocol
from bot.delivery.lifecycle import RunningBot
from bot.health import Unhealthy, check_health
from bot.logs import configure_logging
from bot.summary import describe_protocol
from storage import repository as repo
from storage.db import (
    DatabaseUnusable,
    describe_database,
    existing_database,
    open_database,
    schema_state,
    session_scope,
)

log = logging.getLogger("bot")

DISTRIBUTION = "infusion-followup-bot"


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code (argparse exits itself for --help)."""
    args = parse_arguments(argv)
    # From the current directory, like a relative SQLite path: never from the package's.
    load_dotenv(dotenv_path=Path.cwd() / ".env")
    try:
        settings = load_settings(require_token=args.command == "run")
        if args.command == "health":
            return health(settings)
        protocol = load_protocol(settings.protocol_file)
    except (ConfigError, ProtocolError) as exc:
        return fail(str(exc))
    if args.command == "check":
        return check(settings, protocol, connect=args.connect, strict=args.strict)
    return run(settings, protocol)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """The command line: a subcommand (run by default) and its options."""
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Telegram bot that follows patients up after infusions. Settings come "
        "from the environment and from .env in the current directory (see .env.example).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", metavar="{run,check,health}")
    commands.add_parser("run", help="run the bot (the default)")
    check_parser = commands.add_parser(
        "check", help="validate the settings and protocol and print what the bot would do"
    )
    check_parser.add_argument(
        "--strict", action="store_true", help="exit 1 when there is any warning"
    )
    check_parser.add_argument("--connect", action="store_true", help="also connect to the database")
    commands.add_parser(
        "health", help="exit 0 if the database answers and the bot polled Telegram lately"
    )
    args = parser.parse_args(argv)
    args.command = args.command or "run"
    return args


def package_version() -> str:
    """The installed package's version."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "(not installed)"


def fail(problem: str) -> int:
    """Say what is wrong in one line on stderr; returns the exit code."""
    print(f"error: {problem}", file=sys.stderr)
    return 1


def check(settings: Settings, protocol: Protocol, *, connect: bool, strict: bool) -> int:
    """Print the configuration, the database's state with `connect`, the protocol and the
    warnings; with `strict`, any warning fails the check."""
    print(describe_settings(settings))
    staff_members = None
    if connect:
        try:
            print(f"  database state: {schema_state(settings.database_url)}")
        except DatabaseUnusable as exc:
            return fail(f"DATABASE_URL: {exc}")
        staff_members = active_staff_count(settings.database_url)
    print(describe_protocol(protocol))
    warnings = configuration_warnings(settings, protocol, staff_members)
    print(describe_warnings(warnings))
    if strict and warnings:
        return fail(f"{len(warnings)} warning(s), and --strict makes each one an error")
    return 0


def describe_warnings(warnings: list[str]) -> str:
    """What `check` prints under its "Warnings:" heading."""
    if not warnings:
        return "Warnings: none"
    return "\n".join(["Warnings:", *(f"  - {warning}" for warning in warnings)])


def active_staff_count(database_url: str) -> int | None:
    """How many active staff members the database knows; None before it has its tables."""
    try:
        with existing_database(database_url) as engine, session_scope(engine) as session:
            return len(repo.active_staff(session))
    except DatabaseUnusable:
        return None


def health(settings: Settings) -> int:
    """One line on whether the bot is healthy; exit 0 if it is."""
    try:
        print(check_health(settings.database_url, datetime.now(UTC)))
    except Unhealthy as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    return 0


def run(settings: Settings, protocol: Protocol) -> int:
    """Migrate the database and serve Telegram until SIGTERM or SIGINT."""
    configure_logging(settings.log_level, settings.bot_token, settings.library_log_level)
    try:
        engine = open_database(settings.database_url)
    except DatabaseUnusable as exc:
        return fail(f"DATABASE_URL: {exc}")
    log.info("database: %s", describe_database(settings.database_url))
    try:
        asyncio.run(serve(settings, protocol, engine))
    except InvalidToken:
        return fail("TELEGRAM_BOT_TOKEN was refused by Telegram")
    finally:
        engine.dispose()
    return 0


async def serve(settings: Settings, protocol: Protocol, engine: Engine) -> None:
    """Run the bot until a stop signal; pending updates are never dropped."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    running = RunningBot(build_application(settings, protocol, engine))
    try:
        # Reaching Telegram may take many tries: a stop signal ends the waiting too.
        if await unless_stopped(running.start(), stop):
            await running.until_stopped(stop)
    finally:
        log.info("stopping")
        await running.stop()


async def unless_stopped(work: Awaitable[None], stop: asyncio.Event) -> bool:
    """Await `work` unless `stop` is set first (then `work` is cancelled); True if it ended."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return False
    task.result()
    return True


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
            f"  database: {describe_database(settings.database_url)}",
            f"  admins: {len(settings.admin_ids)}",
            f"  alerts go to: {alerts_to}",
            f"  clinic time zone: {settings.clinic_timezone.key}",
            f"  protocol file: {settings.protocol_file}",
            f"  invites valid for: {settings.invite_valid_days} days",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
