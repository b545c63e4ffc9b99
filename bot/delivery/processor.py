"""Updates of different chats run at once, those of one chat in order; floods are throttled.

PTB's processor takes a slot of its semaphore before our per-chat lock would be reached, so a
flood from one chat could fill every slot; taking the chat's lock first keeps that chat to
one slot while the others go on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import BaseUpdateProcessor

from bot import texts
from bot.runtime import HANDLING_UPDATE, Runtime
from bot.services import messages
from bot.services.messages import Purpose
from storage import repository as repo

log = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 64


@dataclass(frozen=True)
class FloodLimit:
    """More than `updates` from one person within `seconds` is a flood."""

    updates: int = 20
    seconds: float = 10.0


class FloodGuard:
    """Counts each person's updates in a sliding window."""

    def __init__(self, limit: FloodLimit) -> None:
        self._limit = limit
        self._seen: defaultdict[int, deque[float]] = defaultdict(deque)
        self._flooding: dict[int, int] = {}  # person -> updates held back in this flood

    def admit(self, user_id: int, now: float) -> bool | None:
        """True: handle it. False: hold it back. None: hold it back, first of a flood."""
        seen = self._seen[user_id]
        while seen and seen[0] <= now - self._limit.seconds:
            seen.popleft()
        seen.append(now)
        if len(seen) <= self._limit.updates:
            held = self._flooding.pop(user_id, None)
            if held:
                log.info("a flood ended: %d updates stored, not answered", held)
            return True
        first = user_id not in self._flooding
        self._flooding[user_id] = self._flooding.get(user_id, 0) + 1
        return None if first else False

    def forget_idle(self, now: float) -> None:
        """Drop the windows of people who went quiet (keeps memory flat)."""
        for user_id in [u for u, seen in self._seen.items() if seen[-1] <= now - 60]:
            del self._seen[user_id]


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Per-chat order, cross-chat concurrency, flood throttling, and the inbox mark."""

    def __init__(self, rt: Runtime, flood: FloodLimit | None = None) -> None:
        super().__init__(max_concurrent_updates=MAX_CONCURRENT_UPDATES)
        self._rt = rt
        self._flood = FloodGuard(flood or FloodLimit())
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: defaultdict[int, int] = defaultdict(int)
        self._last_sweep = time.monotonic()

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Handle the update in its chat's turn, unless its sender is flooding."""
        if not isinstance(update, Update):
            await super().process_update(update, coroutine)
            return
        verdict = self._admit(update)
        if verdict is not True:
            coroutine.close()  # type: ignore[attr-defined]
            self._hold_back(update, first=verdict is None)
            return
        chat = _chat_key(update)
        self._waiting[chat] += 1
        lock = self._locks.setdefault(chat, asyncio.Lock())
        try:
            async with lock:
                handling = HANDLING_UPDATE.set(update.update_id)
                try:
                    await super().process_update(update, coroutine)
                finally:
                    HANDLING_UPDATE.reset(handling)
        finally:
            self._waiting[chat] -= 1
            if not self._waiting[chat]:
                del self._waiting[chat], self._locks[chat]
        self._mark(update.update_id, "handled")

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handlers."""
        await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    def _admit(self, update: Update) -> bool | None:
        user = update.effective_user
        if user is None:
            return True
        now = time.monotonic()
        if now - self._last_sweep > 60:
            self._flood.forget_idle(now)
            self._last_sweep = now
        return self._flood.admit(user.id, now)

    def _hold_back(self, update: Update, first: bool) -> None:
        rt, chat = self._rt, update.effective_chat
        with rt.session() as session:
            now = rt.clock.now()
            repo.mark_handled(session, update.update_id, now, "throttled")
            if first and chat is not None and chat.type == ChatType.PRIVATE:
                # Answers to the flood itself that have not gone out yet are not worth sending.
                repo.drop_pending_replies(session, chat.id, Purpose.REPLY, "flood")
                messages.send(session, now, chat.id, texts.SLOW_DOWN, Purpose.REPLY)
                log.info(
                    "update %s starts a flood; what follows is stored, not answered",
                    update.update_id,
                )

    def _mark(self, update_id: int, outcome: str) -> None:
        with self._rt.session() as session:
            repo.mark_handled(session, update_id, self._rt.clock.now(), outcome)


def _chat_key(update: Update) -> int:
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return 0
