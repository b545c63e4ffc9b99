"""The durable inbox: every update is stored before Telegram is told it arrived.

Telegram drops an update once a later getUpdates call names a higher offset; this loop asks
for the next batch only after the current one is committed. Updates stored but not handled
(the bot stopped or crashed first) are handled first at the next start.
"""

from __future__ import annotations

import asyncio
import json
import logging

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TimedOut
from telegram.ext import Application

from bot.runtime import Runtime
from storage import repository as repo

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 25
MAX_BACKOFF_SECONDS = 60


class Inbox:
    """Fetches updates with long polling, stores them, and hands them to the application."""

    def __init__(self, rt: Runtime, application: Application, poll_seconds: int) -> None:
        self._rt = rt
        self._app = application
        self._poll_seconds = poll_seconds
        self._offset: int | None = None

    async def replay_unhandled(self) -> int:
        """Queue the stored updates nobody handled; returns how many."""
        with self._rt.session() as session:
            rows = repo.unhandled_updates(session)
            last = repo.last_update_id(session)
        for row in rows:
            update = Update.de_json(json.loads(row.payload), self._app.bot)
            await self._app.update_queue.put(update)
        if last is not None:
            self._offset = last + 1
        if rows:
            log.info("handling %d updates received before the last stop", len(rows))
        return len(rows)

    async def run(self) -> None:
        """Fetch, store and queue updates until cancelled; InvalidToken ends it."""
        backoff = 1
        while True:
            try:
                updates = await self._app.bot.get_updates(
                    offset=self._offset,
                    timeout=self._poll_seconds,
                    allowed_updates=Update.ALL_TYPES,
                )
            except InvalidToken:
                raise
            except TimedOut:
                continue
            except (Conflict, NetworkError) as exc:
                log.warning(
                    "cannot fetch updates (%s); retrying in %d s", type(exc).__name__, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            backoff = 1
            if updates:
                self._accept(updates)

    def _accept(self, updates: list[Update]) -> None:
        rows = [(u.update_id, _chat_id(u), json.dumps(u.to_dict())) for u in updates]
        with self._rt.session() as session:
            fresh = set(repo.store_updates(session, rows, self._rt.clock.now()))
        self._offset = updates[-1].update_id + 1
        log.debug("stored %d updates (%d new), up to %d", len(rows), len(fresh), self._offset - 1)
        for update in updates:
            if update.update_id in fresh:
                self._app.update_queue.put_nowait(update)


def _chat_id(update: Update) -> int | None:
    return update.effective_chat.id if update.effective_chat is not None else None
