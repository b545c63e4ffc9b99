"""Figure 2: 1,000 check-ins due at the same second, Telegram's limits on (the fake answers
429 past them) and the bot's real SendLimits: delivered per second against Telegram's 30,
429s, check-ins lost, and p99 lateness (arrival at the fake minus due time) against the
lateness an ideal 30 msg/s sender would have."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import SystemClock
from bot.delivery.pacing import SendLimits
from tests.benchmarks.common import (
    TELEGRAM_OVERALL_PER_SECOND,
    ThreadedFake,
    figure,
    percentile,
    ratio,
    seed_due,
    start_bot,
    until,
    wall,
)

FIRST_USER = 30_000
PATIENTS_QUICK, PATIENTS_FULL = 200, 1000
RATE_TARGET = 0.9
LATENESS_TARGET = 1 / RATE_TARGET  # the same target, seen from the last message's side
SETTLE_SECONDS = 0.5


def lead_seconds(patients: int) -> float:
    """Time to seed the patients before their check-ins fall due."""
    return 1.0 + patients * 0.004


async def measure(quick: bool) -> list[str]:
    patients = PATIENTS_QUICK if quick else PATIENTS_FULL
    chats = list(range(FIRST_USER, FIRST_USER + patients))
    ideal = patients / TELEGRAM_OVERALL_PER_SECOND
    with ThreadedFake(enforce_limits=True) as fake, tempfile.TemporaryDirectory() as directory:
        fake.add_users(chats)
        bot = await start_bot(fake, Path(directory), limits=SendLimits(), clock=SystemClock())
        try:
            due = datetime.now(UTC) + timedelta(seconds=lead_seconds(patients))
            seed_due(bot.runtime, chats, "evening", due)
            await until(lambda: fake.delivered(chats) >= patients, 2 * ideal + 30, interval=0.05)
            await asyncio.sleep(SETTLE_SECONDS)  # a late duplicate or 429 would show now
            firsts = fake.firsts(chats)
            refused = fake.call(lambda: len(fake.server.rate_limited))
        finally:
            await bot.stop()
    lateness = [sent.wall - wall(due) for sent in firsts.values()]
    delivered = len(lateness)
    rate = delivered / max(lateness) if lateness else 0.0
    p99 = percentile(lateness, 99)
    ideal_p99 = 0.99 * ideal
    name = f"dispatch ({patients} check-ins due at once, limits on)"
    return [
        figure(
            f"{name}: delivered per second",
            rate,
            "msg/s",
            ratio=rate / TELEGRAM_OVERALL_PER_SECOND,
            reference=f"Telegram's {TELEGRAM_OVERALL_PER_SECOND} msg/s",
            target=f">= {RATE_TARGET}",
            ok=rate / TELEGRAM_OVERALL_PER_SECOND >= RATE_TARGET,
        ),
        figure(f"{name}: 429 answers", refused, "", target="0", ok=refused == 0),
        figure(
            f"{name}: check-ins lost",
            patients - delivered,
            "",
            target="0",
            ok=delivered == patients,
        ),
        figure(
            f"{name}: p99 lateness",
            p99,
            "s",
            ratio=ratio(p99, ideal_p99),
            reference=f"{ideal_p99:.1f} s at exactly 30 msg/s",
            target=f"<= {LATENESS_TARGET:.2f}x the 30 msg/s lateness",
            ok=ratio(p99, ideal_p99) <= LATENESS_TARGET,
        ),
    ]


def run(quick: bool) -> list[str]:
    """Measure and return the figure lines."""
    return asyncio.run(measure(quick))
