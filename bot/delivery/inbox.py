"""The durable inbox: every update is stored before Telegram is told it arrived.

Telegram drops an update once a later getUpdates call names a higher offset; this loop asks
for the next batch only after the current one is committed. Updates stored but not handled
(the bot stopped or crashed first) are handled first at the next start.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from telegram import Update
from telegram.constants import ChatType
from telegram.error import Conflict, InvalidToken, NetworkError, TimedOut
from telegram.ext import Application

from bot import texts
from bot.delivery.flood import FloodGuard, FloodLimit
from bot.runtime import Runtime
from bot.services import messages
from bot.services.messages import Purpose
from storage import repository as repo

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 25
MAX_BACKOFF_SECONDS = 60


class Inbox:
    """Fetches updates with long polling, stores them, and hands them to the application."""

    def __init__(
        self,
        rt: Runtime,
        application: Application,
        poll_seconds: int,
    ) -> None:
        self._rt = rt
        self._app = application
        self._poll_seconds = poll_seconds
        self._offset: int | None = None
        self._flood = FloodGuard(FloodLimit())

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
        """Store the batch in one transaction (floods already marked) and queue the rest."""
        now = time.monotonic()
        verdicts = {u.update_id: self._flood_verdict(u, now) for u in updates}
        rows = [
            (u.update_id, _chat_id(u), json.dumps(u.to_dict()), _outcome(verdicts[u.update_id]))
            for u in updates
        ]
        with self._rt.session() as session:
            fresh = set(repo.store_updates(session, rows, self._rt.clock.now()))
            for update in updates:
                if update.update_id in fresh and verdicts[update.update_id] is None:
                    self._slow_down(session, update)
        self._offset = updates[-1].update_id + 1
        log.debug("stored %d updates (%d new), up to %d", len(rows), len(fresh), self._offset - 1)
        for update in updates:
            if update.update_id in fresh and verdicts[update.update_id] is True:
                self._app.update_queue.put_nowait(update)

    def _flood_verdict(self, update: Update, now: float) -> bool | None:
        user = update.effective_user
        if update.callback_query is not None or user is None:
            return True
        return self._flood.admit(user.id, now)

    def _slow_down(self, session, update: Update) -> None:
        """The first message held back in a flood: one "slow down" instead of answers."""
        chat = update.effective_chat
        log.info("update %s starts a flood; what follows is stored, not answered", update.update_id)
        if chat is None or chat.type != ChatType.PRIVATE:
            return
        now = self._rt.clock.now()
        # Answers to the flood itself that have not gone out yet are not worth sending.
        repo.drop_pending_replies(session, chat.id, Purpose.REPLY, "flood")
        messages.send(session, now, chat.id, texts.SLOW_DOWN, Purpose.REPLY)


def _outcome(verdict: bool | None) -> str | None:
    return None if verdict is True else "throttled"


def _chat_id(update: Update) -> int | None:
    return update.effective_chat.id if update.effective_chat is not None else None
