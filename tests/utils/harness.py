"""The real bot (PTB Application, SQLite file, bundled protocol) against the fake Bot API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select
from telegram.ext import Application

from bot.app import build_application
from bot.config import load_settings
from bot.core.protocol import DEFAULT_PROTOCOL_PATH, load_protocol
from bot.dispatcher import run_due_work
from bot.runtime import RUNTIME_KEY, Runtime
from storage.db import make_engine, migrate
from tests.fake_bot_api import FakeBotApi
from tests.utils.clock import FakeClock

ADMIN_ID = 9001
COORDINATOR_ID = 9002


@dataclass
class BotUnderTest:
    """A running bot whose clock the test moves; the dispatcher is run by the test."""

    application: Application
    clock: FakeClock
    server: FakeBotApi

    @property
    def runtime(self) -> Runtime:
        return self.application.bot_data[RUNTIME_KEY]

    def session(self) -> Session:
        return Session(self.runtime.engine, expire_on_commit=False)

    def all(self, model, *where):
        with self.session() as session:
            return list(session.exec(select(model).where(*where)))

    async def dispatch(self) -> None:
        """Do everything due at the fake clock's time, as the dispatcher job would."""
        await run_due_work(self.runtime, self.application.bot)

    async def stop(self) -> None:
        await self.application.updater.stop()
        await self.application.stop()
        await self.application.shutdown()
        self.runtime.engine.dispose()


async def start_bot(
    server: FakeBotApi,
    tmp_path: Path,
    env: dict[str, str] | None = None,
    protocol_path: Path = DEFAULT_PROTOCOL_PATH,
    clock: FakeClock | None = None,
) -> BotUnderTest:
    """Build the application as `python -m bot` does, start it polling the fake server."""
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": server.token,
            "TELEGRAM_BASE_URL": server.base_url,
            "TELEGRAM_BASE_FILE_URL": server.base_file_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite'}",
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
    await application.initialize()
    await application.start()
    await application.updater.start_polling(poll_interval=0, timeout=1)
    return BotUnderTest(application, clock, server)
