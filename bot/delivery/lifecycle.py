"""Start and stop the running bot: the application, then inbox, sender and dispatcher.

Stopping (SIGTERM) stops fetching first, lets in-flight handlers and sends finish, and leaves
whatever was fetched but not started in the inbox, where the next start picks it up.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging

from telegram.error import NetworkError
from telegram.ext import Application

from bot.core.durations import backoff_seconds
from bot.delivery.dispatcher import Dispatcher
from bot.delivery.inbox import LONG_POLL_SECONDS, Inbox
from bot.delivery.pacing import SendLimits
from bot.delivery.sender import Sender
from bot.runtime import RUNTIME_KEY, Runtime

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 6.0


class RunningBot:
    """The bot's background work around a PTB Application that has no Updater of its own."""

    def __init__(
        self,
        application: Application,
        limits: SendLimits | None = None,
        poll_seconds: int = LONG_POLL_SECONDS,
    ) -> None:
        self.application = application
        self.runtime: Runtime = application.bot_data[RUNTIME_KEY]
        self.sender = Sender(self.runtime, application.bot, limits)
        self.dispatcher = Dispatcher(self.runtime)
        self.inbox = Inbox(self.runtime, application, poll_seconds, self._busy)
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        """Connect, replay unhandled updates, then run inbox, sender and dispatcher, and
        then the application's post_init (menus: one Telegram call per staff member) while
        they run, so that the catch-up of what fell due while stopped does not wait for it."""
        self.runtime.wake_sender = self.sender.wake
        self.runtime.wake_dispatcher = self.dispatcher.wake
        await self._connect()
        await self.application.start()
        await self.inbox.replay_unhandled()
        _keep_start_up_objects_out_of_collections()
        self._tasks = [
            asyncio.create_task(self.sender.run(), name="sender"),
            asyncio.create_task(self.dispatcher.run(), name="dispatcher"),
            asyncio.create_task(self.inbox.run(), name="inbox"),
        ]
        if self.application.post_init is not None:  # as run_polling would
            await self.application.post_init(self.application)
        log.info("bot started as @%s", self.application.bot.username)

    async def _connect(self) -> None:
        """Initialize the application (it asks Telegram who the bot is), retrying with a
        capped backoff while Telegram cannot be reached; a refused token is raised."""
        failures = 0
        while True:
            try:
                await self.application.initialize()
                return
            except NetworkError as exc:  # TimedOut included; InvalidToken is not one
                failures += 1
                delay = backoff_seconds(failures)
                log.warning("cannot reach Telegram (%s); retrying in %d s", exc, delay)
            await asyncio.sleep(delay)

    def _busy(self) -> bool:
        """Whether updates are queued or being handled, or messages are being sent."""
        return (
            not self.application.update_queue.empty()
            or self.application.update_processor.busy()
            or self.sender.busy()
        )

    async def until_stopped(self, stop: asyncio.Event) -> None:
        """Return when `stop` is set or a background task ended (its error is raised)."""
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopper, *self._tasks], return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        for task in done:
            if task is not stopper and task.exception() is not None:
                raise task.exception()

    async def stop(self) -> None:
        """Stop fetching, finish what is in flight, and shut down (also after a failed start)."""
        sender, *others = self._tasks or [None]
        for task in reversed(others):  # the inbox first: nothing new comes in
            await _cancel(task)
        left = _drop_queued(self.application)
        if left:
            log.info("%d fetched updates left in the inbox for the next start", left)
        if self.application.running:
            await self.application.stop()
        await self.sender.stop(STOP_GRACE_SECONDS)
        if sender is not None:
            await _cancel(sender)
        await self.application.shutdown()
        # A start that failed (a refused token, a stop signal while Telegram was out of reach)
        # leaves the bot's connections open with the application never initialized: close them
        # (nothing to do once the application has shut down).
        await self.application.bot.shutdown()


def _keep_start_up_objects_out_of_collections() -> None:
    """What start-up built (modules, mappers, the protocol, PTB's objects) lives as long as
    the process: frozen, the garbage collector's full passes skip it. Each pass read all of
    it and held up every chat for 50-85 ms at a time."""
    gc.collect()
    gc.freeze()


async def _cancel(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def _drop_queued(application: Application) -> int:
    """Take updates that no handler started off the queue (they stay unhandled in the inbox)."""
    dropped = 0
    while not application.update_queue.empty():
        application.update_queue.get_nowait()
        application.update_queue.task_done()
        dropped += 1
    return dropped
