"""The sender: delivers outbox rows with per-chat pacing, one retry layer, and a record of
every attempt on its row. One row's failure never holds up another chat's messages.

Rows are taken most urgent first and, within a chat, in order; at most one message per chat
is in flight, so a chat's messages arrive in the order they were queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from datetime import datetime, timedelta

from sqlmodel import Session
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.delivery.pacing import Pacer, SendLimits
from bot.delivery.transport import calling_raw
from bot.runtime import Runtime
from bot.services import alerts, deliveries
from bot.services.messages import Method
from storage import repository as repo
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

BATCH = 200
RAW_METHODS = ("sendMessage", "editMessageText", "editMessageReplyMarkup")
MAX_IN_FLIGHT = 32
IDLE_SECONDS = 5.0  # look again at least this often (retries fall due without a wake-up)
BRING_FORWARD_SECONDS = 3.0
UNREACHABLE_REASONS = ("chat not found", "user is deactivated", "peer_id_invalid")
EDIT_ALREADY_DONE = ("message is not modified", "message to edit not found", "can't be edited")


class Sender:
    """Delivers the outbox; `wake(chats)` after a commit that queued messages for them.

    A wake-up naming chats looks at those chats' queues only; a full look over every chat
    happens at start, when a retry or a paced message falls due, and every IDLE_SECONDS.
    While MAX_IN_FLIGHT deliveries are under way, chats with a message due wait their turn,
    most urgent message first.
    """

    def __init__(self, rt: Runtime, bot: Bot, limits: SendLimits | None = None) -> None:
        self._rt = rt
        self._bot = bot
        self._pacer = Pacer(limits or SendLimits())
        self._wake = asyncio.Event()
        self._full_look = True
        self._nudged: set[int] = set()
        self._next_full_look = 0.0
        self._busy_chats: set[int] = set()
        self._in_flight: set[asyncio.Task] = set()
        # chat -> (priority, id) of its next message, due but waiting for a free slot
        self._waiting: dict[int, tuple[int, int]] = {}
        self._stopping = False
        self._network_trouble = False
        self._next_bring_forward = 0.0
        calling_raw(*RAW_METHODS)  # rows go out as JSON (see `_call`)

    def wake(self, chats: set[int] | None = None) -> None:
        """Look at these chats' queued messages now (all chats when None)."""
        if chats is None:
            self._full_look = True
        else:
            self._nudged |= chats
        self._wake.set()

    def busy(self) -> bool:
        """Whether a delivery is under way."""
        return bool(self._in_flight)

    async def run(self) -> None:
        """Deliver until stopped."""
        while not self._stopping:
            self._wake.clear()
            now = time.monotonic()
            full, nudged = self._full_look or now >= self._next_full_look, self._nudged
            self._full_look, self._nudged = False, set()
            try:
                if full:
                    self._next_full_look = now + self._launch_due()
                elif nudged:
                    self._launch_chats(nudged)
            except Exception as exc:  # the loop must outlive any one bad moment
                log.error("sender cycle failed: %s", type(exc).__name__)
                self._next_full_look = now + IDLE_SECONDS
            delay = self._next_full_look - time.monotonic()
            if delay > 0 and not self._wake.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def stop(self, grace: float) -> None:
        """Start nothing new; let messages already in flight finish (up to `grace` seconds)."""
        self._stopping = True
        self._wake.set()
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=grace)

    def _launch_due(self) -> float:
        """Start every delivery that may go now; returns seconds until it is worth looking."""
        rt = self._rt
        with rt.session() as session:
            now = rt.clock.now()
            due = repo.outbox_due(session, now, BATCH)
            rows = [r for r in due if not r.attempts or deliveries.still_wanted(session, r)]
            # Due messages waiting for their chat are looked at when that chat's delivery ends.
            upcoming = repo.next_outbox_attempt(session, now) if len(due) < BATCH else None
        delay = IDLE_SECONDS
        if upcoming is not None:
            delay = min(delay, max((upcoming - rt.clock.now()).total_seconds(), 0.01))
        for row in rows:
            if len(self._in_flight) >= MAX_IN_FLIGHT:
                self._wait_for_slot(row)
            else:
                delay = min(delay, self._try_start(row))
        return delay

    def _launch_chats(self, chats: set[int]) -> None:
        """Start the next delivery of each of these chats and of the chats waiting for a
        slot, most urgent first, as far as slots and pacing allow."""
        rt, waits, heads = self._rt, [], {}
        with rt.session() as session:
            now = rt.clock.now()
            for chat_id in chats - self._busy_chats:
                self._waiting.pop(chat_id, None)
                row = self._due_head(session, chat_id, now, waits)
                if row is not None:
                    heads[chat_id] = row
                    self._wait_for_slot(row)
            for chat_id in sorted(self._waiting, key=self._waiting.__getitem__):
                if len(self._in_flight) >= MAX_IN_FLIGHT:
                    break
                del self._waiting[chat_id]
                row = heads.pop(chat_id, None) or self._due_head(session, chat_id, now, waits)
                if row is not None:
                    waits.append(self._try_start(row))
        waits = [w for w in waits if w > 0]
        if waits:
            self._next_full_look = min(self._next_full_look, time.monotonic() + min(waits))

    def _due_head(
        self, session: Session, chat_id: int, now: datetime, waits: list[float]
    ) -> OutboxMessage | None:
        """The chat's next message if it may be tried now; else None (and, for one waiting
        out a backoff, its wait in `waits`; for one retired as superseded, 0: the message
        behind it may go at once)."""
        row = repo.outbox_head(session, chat_id)
        if row is None:
            return None
        if row.next_attempt_at > now:
            waits.append((row.next_attempt_at - now).total_seconds())
            return None
        if row.attempts and not deliveries.still_wanted(session, row):
            waits.append(0.0)
            return None
        return row

    def _wait_for_slot(self, row: OutboxMessage) -> None:
        """The row's chat goes when a slot frees, in the order of its urgency."""
        if row.chat_id not in self._busy_chats:
            self._waiting[row.chat_id] = (row.priority, row.id)

    def _try_start(self, row: OutboxMessage) -> float:
        """Start the row's delivery unless its chat is busy or paced; returns the wait."""
        if row.chat_id in self._busy_chats:
            return IDLE_SECONDS  # its delivery finishing looks at the chat again
        wait = self._pacer.wait(row.chat_id, time.monotonic(), counts=row.method == Method.SEND)
        if wait == 0:
            self._start(row)
        return wait if wait > 0 else IDLE_SECONDS

    def _start(self, row: OutboxMessage) -> None:
        self._busy_chats.add(row.chat_id)
        self._waiting.pop(row.chat_id, None)
        if row.method == Method.SEND:
            self._pacer.sending(row.chat_id)
        task = asyncio.create_task(self._deliver(row))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _deliver(self, row: OutboxMessage) -> None:
        """Deliver the row, then the chat's next messages for as long as they may go at once:
        a busy chat (a staff chat getting alerts) goes on without waking the sender loop,
        which under load waits a whole turn of the event loop for each message."""
        chat_id = row.chat_id  # an outcome may move the row to another chat
        chat_empty = False
        try:
            while row is not None:
                await self._deliver_one(self._with_backlog(row), chat_id)
                row, chat_empty = self._next_in_chat(chat_id)
        finally:
            self._busy_chats.discard(chat_id)
            # The loop looks again at this chat unless it has nothing left to send, and in
            # any case when chats wait for the slot this frees or a full look is asked for.
            if not chat_empty or self._waiting or self._full_look:
                self.wake({chat_id})

    def _with_backlog(self, row: OutboxMessage) -> OutboxMessage:
        """A staff alert takes along the alerts queued behind it for its chat (see
        alerts.combine_backlog); if that cannot be done now, it goes alone."""
        if not alerts.may_carry_backlog(row):
            return row
        try:
            with self._rt.session() as session:
                return alerts.combine_backlog(session, self._rt.clock.now(), row)
        except Exception as exc:
            log.error("combining alerts for outbox %s failed: %s", row.id, type(exc).__name__)
            return row

    async def _deliver_one(self, row: OutboxMessage, chat_id: int) -> None:
        try:
            try:
                outcome = await self._attempt(row)
            finally:
                if row.method == Method.SEND:
                    self._pacer.sent(chat_id, time.monotonic())
            with self._rt.session() as session:
                # The row as it was sent: the outcome finds it in the session, unread again.
                repo.attach_outbox_row(session, row)
                outcome(session, self._rt.clock.now())
        except Exception as exc:
            log.error("recording delivery of outbox %s failed: %s", row.id, type(exc).__name__)

    def _next_in_chat(self, chat_id: int) -> tuple[OutboxMessage | None, bool]:
        """The chat's next message if it may go now and no chat waiting for a slot has a
        more urgent one; None leaves the chat to the sender loop. The flag says the chat has
        nothing that may go now or later (no need for the loop to look at it again)."""
        if self._stopping:
            return None, False
        waits: list[float] = []
        try:
            with self._rt.session() as session:
                row = self._due_head(session, chat_id, self._rt.clock.now(), waits)
        except Exception as exc:
            log.error("looking at chat's next message failed: %s", type(exc).__name__)
            return None, False
        if row is None:
            return None, not waits  # a backoff or a retired head: the loop looks again
        if self._waiting and min(self._waiting.values()) < (row.priority, row.id):
            return None, False
        counts = row.method == Method.SEND
        if self._pacer.wait(chat_id, time.monotonic(), counts=counts) > 0:
            return None, False
        if counts:
            self._pacer.sending(chat_id)
        return row, False

    async def _attempt(self, row: OutboxMessage):
        """Make the call; returns how to record its outcome (a function of session and time)."""
        rt, row_id = self._rt, row.id
        try:
            message_id = await self._call(row)
        except RetryAfter as exc:
            seconds = _seconds(exc.retry_after)
            self._pacer.hold(row.chat_id, time.monotonic() + seconds)
            log.info("telegram asked to wait %.0f s (outbox %s)", seconds, row_id)
            wait = timedelta(seconds=seconds)
            return lambda s, now: deliveries.retry_later(rt, s, now, row_id, "429", wait)
        except ChatMigrated as exc:
            new_id = exc.new_chat_id
            self._full_look = True  # its messages move to a chat not yet looked at
            return lambda s, now: deliveries.migrated(rt, s, now, row_id, new_id)
        except Forbidden as exc:
            error = exc.message
            return lambda s, now: deliveries.unreachable(rt, s, now, row_id, error)
        except BadRequest as exc:
            return self._bad_request(row, exc.message)
        except NetworkError as exc:  # timeouts and 5xx included; a timeout may have delivered
            self._network_trouble = True
            error = f"{repo.NETWORK_ERROR_PREFIX}{type(exc).__name__}: {exc.message}"
            return lambda s, now: deliveries.retry_later(rt, s, now, row_id, error)
        except TelegramError as exc:
            error = exc.message
            return lambda s, now: deliveries.refused(rt, s, now, row_id, error)
        log.debug("outbox %s: %s done", row_id, row.method)
        if self._network_trouble and time.monotonic() >= self._next_bring_forward:
            # Telegram answers again: what waits out a backoff goes now, not in a minute.
            # (Not more often than that: one chat failing alone keeps its own backoff.)
            self._network_trouble, self._full_look = False, True
            self._next_bring_forward = time.monotonic() + BRING_FORWARD_SECONDS
            return lambda s, now: deliveries.delivered_after_trouble(rt, s, now, row_id, message_id)
        return lambda s, now: deliveries.delivered(rt, s, now, row_id, message_id)

    def _bad_request(self, row: OutboxMessage, error: str):
        rt, row_id, lowered = self._rt, row.id, error.lower()
        if row.method != Method.SEND and any(reason in lowered for reason in EDIT_ALREADY_DONE):
            return lambda s, now: deliveries.delivered(rt, s, now, row_id, None)
        if any(reason in lowered for reason in UNREACHABLE_REASONS):
            return lambda s, now: deliveries.unreachable(rt, s, now, row_id, error)
        return lambda s, now: deliveries.refused(rt, s, now, row_id, error)

    async def _call(self, row: OutboxMessage) -> int | None:
        """Make the row's Bot API call. The raw call (`do_api_request`) raises the same errors
        as PTB's methods but skips turning the markup and the returned message into PTB
        objects: nothing here reads them, and under load that was a tenth of the bot's CPU."""
        params: dict = {"chat_id": row.chat_id}
        if row.markup:
            params["reply_markup"] = _inline_keyboard(row.markup)
        if row.method == Method.SEND:
            params.update(text=row.text, disable_notification=row.silent)
            message = await self._bot.do_api_request("sendMessage", params)
            return message["message_id"]
        params["message_id"] = row.edit_message_id
        if row.method == Method.EDIT:
            await self._bot.do_api_request("editMessageText", {**params, "text": row.text})
        else:  # BUTTONS, CLEAR
            await self._bot.do_api_request("editMessageReplyMarkup", params)
        return None


def _inline_keyboard(encoded: str) -> str:
    """A stored keyboard ([[label, data], ...] rows) as the Bot API's reply_markup JSON."""
    rows = json.loads(encoded)
    keyboard = [[{"text": label, "callback_data": data} for label, data in row] for row in rows]
    return json.dumps({"inline_keyboard": keyboard}, ensure_ascii=False)


def _seconds(retry_after) -> float:
    return retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else retry_after
