"""The real bot (PTB Application, SQLite file, bundled protocol) against the fake Bot API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select
from telegram.ext import Application, CommandHandler

from bot.app import build_application
from bot.config import load_settings
from bot.core.protocol import load_protocol
from bot.delivery.dispatcher import run_due_work
from bot.delivery.lifecycle import RunningBot
from bot.delivery.pacing import NO_LIMITS, SendLimits
from bot.runtime import Runtime
from storage import repository as repo
from storage.db import make_engine, migrate
from tests.fake_bot_api import FakeBotApi
from tests.utils.clock import FakeClock
from tests.utils.databases import database_url
from tests.utils.protocols import approved_protocol

ADMIN_ID = 9001
COORDINATOR_ID = 9002


@dataclass
class BotUnderTest:
    """A running bot whose clock the test moves; the test runs the dispatcher when it does."""

    running: RunningBot
    clock: FakeClock
    server: FakeBotApi

    @property
    def application(self) -> Application:
        return self.running.application

    @property
    def runtime(self) -> Runtime:
        return self.running.runtime

    def session(self) -> Session:
        return Session(self.runtime.engine, expire_on_commit=False)

    def all(self, model, *where):
        with self.session() as session:
            # In id order: PostgreSQL, unlike SQLite, returns rows in no particular order.
            key = model.__table__.primary_key.columns
            return list(session.exec(select(model).where(*where).order_by(*key)))

    def commands(self) -> set[str]:
        """Every command the application registers a handler for."""
        return {
            name
            for handlers in self.application.handlers.values()
            for handler in handlers
            if isinstance(handler, CommandHandler)
            for name in handler.commands
        }

    async def dispatch(self) -> None:
        """Do everything due at the fake clock's time, as the dispatcher loop would."""
        await run_due_work(self.runtime)

    async def stop(self) -> None:
        await self.running.stop()
        self.runtime.engine.dispose()


async def start_bot(
    server: FakeBotApi,
    tmp_path: Path,
    env: dict[str, str] | None = None,
    protocol_path: Path | None = None,
    clock: FakeClock | None = None,
    limits: SendLimits = NO_LIMITS,
) -> BotUnderTest:
    """Build and start the bot as `python -m bot` does, polling the fake server.

    Telegram's send limits are off unless `limits` says otherwise (pacing has its own tests,
    against the fake's enforced limits), so that tests run at the speed of the code. The
    protocol is the bundled one, approved and with its contacts set, unless given.
    """
    protocol_path = protocol_path or approved_protocol(tmp_path)
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": server.token,
            "TELEGRAM_BASE_URL": server.base_url,
            "TELEGRAM_BASE_FILE_URL": server.base_file_url,
            "DATABASE_URL": database_url(tmp_path / "bot.sqlite"),
            "ADMIN_TELEGRAM_IDS": str(ADMIN_ID),
            "CLINIC_TIMEZONE": "Europe/London",
            "DISPATCH_INTERVAL_SECONDS": "3600",
            **(env or {}),
        }
    )
    engine = make_engine(settings.database_url)
    migrate(engine)
    clock = clock or FakeClock()
    application = build_application(settings, load_protocol(protocol_path), engine, clock)
    running = RunningBot(application, limits, poll_seconds=1)
    await running.start()
    return BotUnderTest(running, clock, server)


def add_coordinator(bot: BotUnderTest, user_id: int = COORDINATOR_ID, name: str = "Cleo"):
    """A second coordinator, staff in the database, their chat open in the fake."""
    person = bot.server.add_user(user_id, name, started=True)
    with bot.session() as session:
        repo.add_staff_member(
            session, user_id=user_id, role="coordinator", name=name, now=bot.clock.now()
        )
        session.commit()
    return person
