"""What every handler and job shares: settings, protocol, database and clock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session
from telegram.ext import CallbackContext

from bot.clock import Clock
from bot.config import Settings
from bot.core.protocol import Protocol
from storage.db import session_scope

RUNTIME_KEY = "runtime"


@dataclass
class Runtime:
    """The bot's long-lived parts, kept in `application.bot_data`."""

    settings: Settings
    protocol: Protocol
    engine: Engine
    clock: Clock
    # Alert ids being delivered right now, so that a handler and the dispatcher never both
    # send the same alert (they share one event loop).
    alerts_in_flight: set[int] = field(default_factory=set)
    # The safety-interval run and a wake-up run must not interleave their sends.
    dispatch_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One short transaction."""
        with session_scope(self.engine) as session:
            yield session


def runtime_of(context: CallbackContext) -> Runtime:
    """The Runtime of the application running this callback."""
    return context.application.bot_data[RUNTIME_KEY]
