"""Updates of different chats run at once, those of one chat in order.

PTB's processor takes a slot of its semaphore before our per-chat lock would be reached, so a
busy chat could fill every slot; taking the chat's lock first keeps that chat to one slot
while the others go on.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.runtime import HANDLING_UPDATE, Handling, Runtime
from storage import repository as repo

MAX_CONCURRENT_UPDATES = 64


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Per-chat order, cross-chat concurrency, and the inbox mark once handled."""

    def __init__(self, rt: Runtime) -> None:
        super().__init__(max_concurrent_updates=MAX_CONCURRENT_UPDATES)
        self._rt = rt
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: defaultdict[int, int] = defaultdict(int)

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Handle the update in its chat's turn, then mark it handled in the inbox."""
        if not isinstance(update, Update):
            await super().process_update(update, coroutine)
            return
        chat = _chat_key(update)
        self._waiting[chat] += 1
        lock = self._locks.setdefault(chat, asyncio.Lock())
        handling = Handling(update.update_id)
        try:
            async with lock:
                token = HANDLING_UPDATE.set(handling)
                try:
                    await super().process_update(update, coroutine)
                finally:
                    HANDLING_UPDATE.reset(token)
        finally:
            self._waiting[chat] -= 1
            if not self._waiting[chat]:
                del self._waiting[chat], self._locks[chat]
        if not handling.marked:  # handlers that queued a message marked it already
            with self._rt.session() as session:
                repo.mark_handled(session, update.update_id, self._rt.clock.now(), "handled")

    def busy(self) -> bool:
        """Whether an update is being handled or waits for its chat's turn."""
        return bool(self._waiting)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handlers."""
        await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def _chat_key(update: Update) -> int:
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return 0
