"""The dispatcher: the database is the schedule. One loop closes, sends, reminds, escalates
and tidies whatever is due, in batches, then sleeps until the next due moment or a wake-up.

It runs at once when the bot starts, so whatever fell due while the bot was down is caught
up on straight away (sent if its window is open, closed as missed if not).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.runtime import Runtime
from bot.services import alerts, checkins, patients
from storage import repository as repo

log = logging.getLogger(__name__)

BATCH = 100
MIN_SLEEP_SECONDS = 0.2
INBOX_KEPT = timedelta(days=2)
OUTBOX_KEPT = timedelta(days=7)
# Purging scans the finished outbox (no index serves it): not on every wake-up.
PURGE_EVERY = timedelta(minutes=1)

Step = Callable[[Runtime, Session, datetime, int], int]


def _purge(rt: Runtime, session: Session, now: datetime, limit: int) -> int:
    inbox = repo.purge_handled_updates(session, now - INBOX_KEPT, limit)
    return inbox + repo.purge_old_outbox(session, now - OUTBOX_KEPT, limit)


STEPS: tuple[Step, ...] = (
    checkins.close_expired,
    checkins.send_due,
    checkins.remind_due,
    alerts.escalate_due,
    checkins.relay_held_back,
    patients.resume_due,
)


async def run_due_work(rt: Runtime, purge: bool = True) -> None:
    """Do everything due now, a batch per transaction; one failing step never stops the rest.

    With `purge`, old inbox and outbox rows are deleted too.
    """
    for step in (*STEPS, _purge) if purge else STEPS:
        try:
            while True:
                with rt.session() as session:
                    done = step(rt, session, rt.clock.now(), BATCH)
                if done < BATCH:
                    break
                await asyncio.sleep(0)  # let updates in between batches
        except Exception as exc:
            log.error("dispatcher step %s failed: %s", step.__name__, type(exc).__name__)


class Dispatcher:
    """Runs `run_due_work` at the next due moment, on a safety interval, and when woken."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._wake = asyncio.Event()
        self._last_purge: datetime | None = None

    def wake(self) -> None:
        """Look at the schedule now (an infusion was recorded)."""
        self._wake.set()

    async def run(self) -> None:
        """Loop until cancelled."""
        while True:
            self._wake.clear()
            await run_due_work(self._rt, purge=self._purge_due())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._sleep_seconds())

    def _purge_due(self) -> bool:
        """Whether this wake-up purges: at most once every PURGE_EVERY (on the injected clock)."""
        now = self._rt.clock.now()
        if (
            self._last_purge is not None
            and self._last_purge <= now < self._last_purge + PURGE_EVERY
        ):
            return False
        self._last_purge = now
        return True

    def _sleep_seconds(self) -> float:
        interval = self._rt.settings.dispatch_interval_seconds
        try:
            with self._rt.session() as session:
                moment = repo.next_wakeup(session)
        except Exception as exc:
            log.error("next wake-up unknown: %s", type(exc).__name__)
            return interval
        if moment is None:
            return interval
        seconds = (moment - self._rt.clock.now()).total_seconds()
        return min(max(seconds, MIN_SLEEP_SECONDS), interval)
