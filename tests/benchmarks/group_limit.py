"""Figure 6: alerts go to a staff group (20 messages a minute) while 200 check-ins fall due
and 40 of those patients have blocked the bot. Telegram's limits on, the bot's real
SendLimits. The 160 reachable patients should get their check-in at the dispatch rate
(about 160/30 s), not held up by the group's limit; and the staff notices about the 40
unreachable patients that reached the group are counted, once nothing more is waiting for
the group or 20 s have passed (same-kind notices are to be grouped).
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from bot.clock import SystemClock
from bot.delivery.pacing import SendLimits
from storage.models import OutboxMessage, OutboxStatus
from tests.benchmarks.common import (
    TELEGRAM_OVERALL_PER_SECOND,
    ThreadedFake,
    figure,
    ratio,
    require,
    seed_due,
    start_bot,
    until,
    wall,
)
from tests.utils.harness import ADMIN_ID, BotUnderTest

GROUP = -100_500
PATIENTS, BLOCKED = 200, 40
FIRST_USER = 60_000
LEAD_SECONDS = 3.0
BLOCK_BEFORE_DUE = 1.5
NOTICE_WAIT_SECONDS = 20.0  # enough for notices held back to be grouped, not for 40 at 20/min
TIME_TARGET = 1.2  # against 160 / 30 s


def group_rows(bot: BotUnderTest) -> tuple[int, int]:
    """Messages for the staff group still waiting in the outbox, and all ever queued."""
    with bot.session() as session:
        rows = session.exec(select(OutboxMessage.status).where(OutboxMessage.chat_id == GROUP))
        statuses = list(rows)
    return sum(1 for s in statuses if s == OutboxStatus.PENDING), len(statuses)


async def measure() -> list[str]:
    users = list(range(FIRST_USER, FIRST_USER + PATIENTS))
    blocked = users[:: PATIENTS // BLOCKED]
    reachable = [u for u in users if u not in set(blocked)]
    ideal = len(reachable) / TELEGRAM_OVERALL_PER_SECOND
    with ThreadedFake(enforce_limits=True) as fake, tempfile.TemporaryDirectory() as directory:
        fake.add_users([ADMIN_ID, *users])
        fake.call(fake.server.add_group, GROUP, "Staff")
        bot = await start_bot(
            fake,
            Path(directory),
            limits=SendLimits(),
            clock=SystemClock(),
            env={"STAFF_ALERT_CHAT_ID": str(GROUP)},
        )
        try:
            due = datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS)
            seed_due(bot.runtime, users, "evening", due)
            await asyncio.sleep(
                max(wall(due) - BLOCK_BEFORE_DUE - datetime.now(UTC).timestamp(), 0)
            )
            fake.call(lambda: [fake.server.block(u) for u in blocked])
            await require(
                lambda: fake.delivered(reachable) == len(reachable),
                3 * ideal + 30,
                "the reachable patients' check-ins",
            )
            firsts = fake.firsts(reachable)
            await until(lambda: group_rows(bot)[0] == 0, NOTICE_WAIT_SECONDS, interval=0.2)
            in_group = fake.call(fake.server.count_sends, GROUP)
            queued = group_rows(bot)[1]
        finally:
            await bot.stop()
    took = max(sent.wall for sent in firsts.values()) - wall(due)
    name = f"group limit ({PATIENTS} due, {BLOCKED} blocked, staff group, limits on)"
    return [
        figure(
            f"{name}: check-ins to the {len(reachable)} reachable patients",
            took,
            "s",
            ratio=ratio(took, ideal),
            reference=f"{ideal:.1f} s at 30 msg/s",
            target=f"<= {TIME_TARGET}x",
            ok=ratio(took, ideal) <= TIME_TARGET,
        ),
        figure(
            f"{name}: staff messages in the group about the {BLOCKED} unreachable patients",
            in_group,
            "",
            reference=f"{queued} queued for the group in all",
            target=f"same-kind notices grouped, fewer than {BLOCKED} queued",
            ok=queued < BLOCKED,
        ),
    ]


def run(quick: bool) -> list[str]:
    """Measure and return the figure lines (the same in quick mode)."""
    return asyncio.run(measure())
