"""The durable inbox: every update is stored before Telegram is told it arrived.

Telegram drops an update once a later getUpdates call names a higher offset; this loop asks
for the next batch only after the current one is committed. Updates stored but not handled
(the bot stopped or crashed first) are handled first at the next start.

A batch is read as Telegram's JSON: PTB objects are built only for the updates that will be
handled. In a flood most are not, and building them took more time than storing them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram import Bot, Update
from telegram.constants import ChatType
from telegram.error import Conflict, EndPointNotFound, InvalidToken, NetworkError, TimedOut
from telegram.ext import Application

from bot.core.durations import backoff_seconds
from bot.delivery.flood import FloodGuard, FloodLimit
from bot.delivery.transport import calling_raw
from bot.runtime import Runtime
from bot.services import messages
from bot.services.messages import Purpose
from storage import repository as repo
from storage.models import THROTTLED

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 25
BATCH_LIMIT = 100  # Telegram's most updates per getUpdates
HELD_AT_MOST_SECONDS = 1.0
QUIET_CHECK_SECONDS = 0.005
# A successful poll is written down for `python -m bot health` at most this often.
POLL_RECORD_SECONDS = 15.0
# How long a long poll may take beyond its own timeout before it counts as timed out.
READ_TIMEOUT_BEYOND_POLL = 5.0

JSON = dict[str, Any]


@dataclass
class Received:
    """One update as Telegram sent it, and the ids the flood guard and the inbox need."""

    raw: JSON
    user_id: int | None
    chat_id: int | None
    is_press: bool
    private: bool  # in a private chat with the bot

    @property
    def update_id(self) -> int:
        return self.raw["update_id"]

    @classmethod
    def read(cls, raw: JSON, bot: Bot) -> Received:
        """Read the ids of a message, an edit or a button press from the JSON; PTB reads the
        rarer kinds of update."""
        for kind in ("message", "edited_message"):
            if kind in raw:
                item = raw[kind]
                chat = item["chat"]
                private = chat["type"] == ChatType.PRIVATE
                return cls(raw, item.get("from", {}).get("id"), chat["id"], False, private)
        press = raw.get("callback_query")
        if press is not None and "message" in press:
            chat = press["message"]["chat"]
            private = chat["type"] == ChatType.PRIVATE
            return cls(raw, press["from"]["id"], chat["id"], True, private)
        update = Update.de_json(raw, bot)
        user, chat = update.effective_user, update.effective_chat
        return cls(
            raw,
            user.id if user else None,
            chat.id if chat else None,
            update.callback_query is not None,
            chat is not None and chat.type == ChatType.PRIVATE,
        )


class Inbox:
    """Fetches updates with long polling, stores them, and hands them to the application."""

    def __init__(
        self,
        rt: Runtime,
        application: Application,
        poll_seconds: int,
        busy: Callable[[], bool],
    ) -> None:
        self._rt = rt
        self._app = application
        self._poll_seconds = poll_seconds
        self._busy = busy
        self._offset: int | None = None
        self._flood = FloodGuard(FloodLimit())
        # Updates to chats where someone is flooding wait until what Telegram holds is read
        # and the bot has handled and sent everything else (or HELD_AT_MOST_SECONDS): handled
        # first, they would make everyone else wait.
        self._held: list[JSON] = []  # read into PTB objects only when they are let go
        self._held_chats: set[int | None] = set()
        # Private chats where a flood started: told to slow down when the held updates are
        # let go (done while storing the flood, it made everyone else's updates wait).
        self._slowed: set[int] = set()
        self._backlog = False  # the last batch was full: Telegram holds more
        self._releasing: asyncio.Task | None = None
        self._poll_recorded_at = -POLL_RECORD_SECONDS
        calling_raw("getUpdates")  # updates are read as JSON (see the module docstring)

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
        try:
            await self._fetch_for_ever()
        finally:
            if self._releasing is not None:
                self._releasing.cancel()  # what it held stays in the inbox, unhandled

    async def _fetch_for_ever(self) -> None:
        failures = 0
        while True:
            try:
                updates = await self._fetch()
            except InvalidToken:
                raise
            except TimedOut:
                continue
            except (Conflict, NetworkError) as exc:
                failures += 1
                delay = backoff_seconds(failures)
                log.warning(
                    "cannot fetch updates (%s); retrying in %d s", type(exc).__name__, delay
                )
                await asyncio.sleep(delay)
                continue
            failures = 0
            self._record_poll()
            if updates:
                self._accept(updates)
            self._backlog = len(updates) == BATCH_LIMIT
            if (self._held or self._slowed) and not self._backlog and self._releasing is None:
                self._releasing = asyncio.create_task(self._release_held())

    async def _fetch(self) -> list[JSON]:
        """The next batch (long polling), as Telegram's JSON."""
        try:
            return await self._app.bot.do_api_request(
                "getUpdates",
                api_kwargs={
                    "offset": self._offset,
                    "limit": BATCH_LIMIT,
                    "timeout": 0 if self._backlog else self._poll_seconds,
                    "allowed_updates": Update.ALL_TYPES,
                },
                read_timeout=self._poll_seconds + READ_TIMEOUT_BEYOND_POLL,
            )
        except EndPointNotFound as exc:  # getUpdates exists: Telegram refused the token
            raise InvalidToken(exc.message) from exc

    def _record_poll(self) -> None:
        """Note the successful poll in the database, unless one was noted a moment ago."""
        now = time.monotonic()
        if now - self._poll_recorded_at < POLL_RECORD_SECONDS:
            return
        self._poll_recorded_at = now
        with self._rt.session() as session:
            repo.record_last_poll(session, self._rt.clock.now())

    def _accept(self, raw_updates: list[JSON]) -> None:
        """Store the batch in one transaction (floods already marked) and queue the rest."""
        now, bot = time.monotonic(), self._app.bot
        received = [Received.read(raw, bot) for raw in raw_updates]
        verdicts = {r.update_id: self._flood_verdict(r, now) for r in received}
        rows = [
            (r.update_id, r.chat_id, json.dumps(r.raw), _outcome(verdicts[r.update_id]))
            for r in received
        ]
        with self._rt.session() as session:
            fresh = set(repo.store_updates(session, rows, self._rt.clock.now()))
        for r in received:
            if r.update_id in fresh and verdicts[r.update_id] is None:
                self._flood_started(r)
        self._offset = received[-1].update_id + 1
        log.debug("stored %d updates (%d new), up to %d", len(rows), len(fresh), self._offset - 1)
        flooded = {r.chat_id for r in received if verdicts[r.update_id] is not True}
        for r in received:
            if r.update_id not in fresh or verdicts[r.update_id] is not True:
                continue
            if r.chat_id in flooded or r.chat_id in self._held_chats:
                self._held.append(r.raw)
                self._held_chats.add(r.chat_id)
            else:
                self._app.update_queue.put_nowait(Update.de_json(r.raw, bot))

    async def _release_held(self) -> None:
        """Queue the updates held back behind a flood, in order, once the bot is idle."""
        deadline, quiet_checks = time.monotonic() + HELD_AT_MOST_SECONDS, 0
        # Twice in a row: an update taken off the queue starts being handled a moment later.
        while quiet_checks < 2 and time.monotonic() < deadline:
            await asyncio.sleep(QUIET_CHECK_SECONDS)
            quiet_checks = 0 if self._busy() else quiet_checks + 1
        held, slowed = self._held, self._slowed
        self._held, self._held_chats, self._slowed, self._releasing = [], set(), set(), None
        for raw in held:
            self._app.update_queue.put_nowait(Update.de_json(raw, self._app.bot))
        if slowed:
            try:
                self._slow_down(slowed)
            except Exception as exc:  # a courtesy: never worth stopping the releases for
                log.error("telling a flood to slow down failed: %s", type(exc).__name__)

    def _flood_verdict(self, received: Received, now: float) -> bool | None:
        if received.is_press or received.user_id is None:
            return True
        return self._flood.admit(received.user_id, now)

    def _flood_started(self, received: Received) -> None:
        """The first message held back in a flood: its person is told to slow down later."""
        log.info("update %s starts a flood: stored, not answered", received.update_id)
        if received.private:
            self._slowed.add(received.chat_id)

    def _slow_down(self, chats: set[int]) -> None:
        """One "slow down" to each person whose flood started, instead of answers."""
        with self._rt.session() as session:
            now = self._rt.clock.now()
            for chat_id in chats:
                # Answers to the flood itself that have not gone out yet are not worth sending.
                repo.drop_pending_replies(session, chat_id, Purpose.REPLY, "flood")
                voice = self._rt.voice_of_user(session, chat_id)
                messages.send(session, now, chat_id, voice.say("slow_down"), Purpose.REPLY)


def _outcome(verdict: bool | None) -> str | None:
    return None if verdict is True else THROTTLED
