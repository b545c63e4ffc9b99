"""What every handler, service and background task shares: settings, protocol, database, clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock
from bot.config import Settings
from bot.core.protocol import Protocol
from storage import repository as repo
from storage.db import session_scope
from storage.repository import OUTBOX_TOUCHED

RUNTIME_KEY = "runtime"
# The update being handled in this task (set by bot.delivery.processor).
HANDLING_UPDATE: ContextVar[int | None] = ContextVar("handling_update", default=None)


def _nothing() -> None:
    return None


def _ignore(_chats: set[int]) -> None:
    return None


@dataclass
class Runtime:
    """The bot's long-lived parts, kept in `application.bot_data`."""

    settings: Settings
    protocol: Protocol
    engine: Engine
    clock: Clock
    # Set by the running bot (bot.delivery.lifecycle): wake the sender or the dispatcher now.
    wake_sender: Callable[[set[int]], None] = field(default=_ignore)
    wake_dispatcher: Callable[[], None] = field(default=_nothing)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One short transaction; messages it queued are sent as soon as it commits.

        A transaction that queues messages while an update is handled also marks that
        update handled, so that a crash can never make the bot act on it twice.
        """
        with session_scope(self.engine) as session:
            yield session
            chats = session.info.pop(OUTBOX_TOUCHED, None)
            update_id = HANDLING_UPDATE.get()
            if chats and update_id is not None:
                repo.mark_handled(session, update_id, self.clock.now(), "handled")
        if chats:
            self.wake_sender(chats)
