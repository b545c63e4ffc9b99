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
from bot.voice import Voice, voice
from storage import repository as repo
from storage.db import session_scope
from storage.repository import OUTBOX_TOUCHED

RUNTIME_KEY = "runtime"


@dataclass
class Handling:
    """The update this task is handling, and whether a transaction has marked it handled."""

    update_id: int
    marked: bool = False


# Set by bot.delivery.processor around each update's handlers.
HANDLING_UPDATE: ContextVar[Handling | None] = ContextVar("handling_update", default=None)


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

    def voice(self, language: str | None) -> Voice:
        """What a patient reads, in their language (None: the protocol's default)."""
        return voice(self.protocol, language)

    def voice_of_user(self, session: Session, user_id: int) -> Voice:
        """How to speak to this person: a patient in their language, anyone else in the
        protocol's default."""
        patient = repo.patient_by_telegram_id(session, user_id)
        return self.voice(patient.language if patient else None)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One short transaction; messages it queued are sent as soon as it commits.

        A transaction that queues messages while an update is handled also marks that
        update handled, so that a crash can never make the bot act on it twice.
        """
        with session_scope(self.engine) as session:
            yield session
            chats = session.info.pop(OUTBOX_TOUCHED, None)
            handling = HANDLING_UPDATE.get()
            if chats and handling is not None and not handling.marked:
                repo.mark_handled(session, handling.update_id, self.clock.now(), "handled")
                handling.marked = True
        if chats:
            self.wake_sender(chats)
