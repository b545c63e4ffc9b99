"""Figure 3: answer -> staff alert latency while check-ins are being dispatched.

200 check-ins fall due at once; the first 200 (quick: 50) of those patients answer "10" to
"pain right now" the moment the question reaches them (the protocol's urgent "Pain 9-10
after the infusion" rule), so the alerts come in while the dispatch is still going on.
Latency is from the tap to the staff alert reaching the fake, and to the patient's scripted
text. Reference: alerts answered one at a time on an otherwise idle bot.
Limits are off (NO_LIMITS, the fake not enforcing): one staff chat's 1 msg/s would otherwise
be all there is to see.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import SystemClock
from bot.delivery.pacing import NO_LIMITS
from tests.benchmarks.common import (
    FirstMatch,
    Sent,
    ThreadedFake,
    figure,
    ms,
    percentile,
    ratio,
    require,
    seed_due,
    staff_alert_for,
    start_bot,
)
from tests.fake_bot_api import BotMessage
from tests.utils.harness import ADMIN_ID

ALERTS_QUICK, ALERTS_FULL = 50, 200
ONE_BY_ONE_QUICK, ONE_BY_ONE_FULL = 10, 20
CHECK_INS = 200
IDLE_USERS, DISPATCHED_USERS = 40_000, 42_000
P99_TARGET_MS = 1000.0
PATIENT_TEXT = "clinic team will contact you today"  # the protocol's urgent text
PAIN_NOW = "How bad is your pain right now"
WAIT_SECONDS = 60.0


class Alerts:
    """Taps "10" on the pain question of chosen patients, and notes when their staff alert
    and their scripted text reach the fake (a listener on the fake's thread)."""

    def __init__(self, fake: ThreadedFake) -> None:
        self._fake = fake
        self._eager: set[int] = set()
        self.pressed: dict[int, float] = {}
        self.staff = FirstMatch(staff_alert_for)
        self.patient = FirstMatch(lambda s: s.chat_id if PATIENT_TEXT in s.text else None)

    def answer_on_arrival(self, users: list[int]) -> None:
        """These patients tap "10" as soon as their pain question arrives."""
        self._fake.call(self._eager.update, users)

    def tap(self, user_id: int, message_id: int) -> None:
        """Tap "10" now (on the fake's thread)."""
        self.pressed[user_id] = time.perf_counter()
        self._fake.server.user(user_id).press(message_id, button_text="10")

    def listener(self, message: BotMessage, sent: Sent) -> None:
        self.staff(message, sent)
        self.patient(message, sent)
        if sent.chat_id in self._eager and PAIN_NOW in sent.text:
            self._eager.discard(sent.chat_id)
            self._fake.loop.call_soon(self.tap, sent.chat_id, sent.message_id)

    def complete(self, users: list[int]) -> bool:
        return all(u in self.staff.at and u in self.patient.at for u in users)

    def latencies(self, users: list[int]) -> tuple[list[float], list[float]]:
        """Tap -> staff alert and tap -> scripted text, in seconds."""
        staff = [self.staff.at[u] - self.pressed[u] for u in users]
        patient = [self.patient.at[u] - self.pressed[u] for u in users]
        return staff, patient


async def one_by_one(fake: ThreadedFake, alerts: Alerts, users: list[int]) -> None:
    """Each patient answers after the previous alert has fully arrived."""
    questions = fake.firsts(users)
    for user in users:
        fake.soon(alerts.tap, user, questions[user].message_id)
        await require(lambda u=user: alerts.complete([u]), WAIT_SECONDS, "an alert")
        await asyncio.sleep(0.05)


async def measure(quick: bool) -> list[str]:
    count = ALERTS_QUICK if quick else ALERTS_FULL
    idle = list(range(IDLE_USERS, IDLE_USERS + (ONE_BY_ONE_QUICK if quick else ONE_BY_ONE_FULL)))
    dispatched = list(range(DISPATCHED_USERS, DISPATCHED_USERS + CHECK_INS))
    answering = dispatched[:count]
    with ThreadedFake() as fake, tempfile.TemporaryDirectory() as directory:
        alerts = Alerts(fake)
        fake.add_users([ADMIN_ID, *idle, *dispatched])
        fake.listen(alerts.listener)
        bot = await start_bot(fake, Path(directory), limits=NO_LIMITS, clock=SystemClock())
        try:
            seed_due(bot.runtime, idle, "evening", datetime.now(UTC))
            await require(lambda: fake.delivered(idle) == len(idle), WAIT_SECONDS, "questions")
            await one_by_one(fake, alerts, idle)
            alerts.answer_on_arrival(answering)
            seed_due(bot.runtime, dispatched, "evening", datetime.now(UTC) + timedelta(seconds=1))
            await require(lambda: alerts.complete(answering), WAIT_SECONDS, "every alert")
            await require(
                lambda: fake.delivered(dispatched) == CHECK_INS, WAIT_SECONDS, "the check-ins"
            )
            idle_staff, idle_patient = await fake.acall(alerts.latencies, idle)
            busy_staff, busy_patient = await fake.acall(alerts.latencies, answering)
        finally:
            await bot.stop()
    name = f"alert latency ({count} alerts while {CHECK_INS} check-ins are dispatched)"
    p50, p99 = ms(percentile(busy_staff, 50)), ms(percentile(busy_staff, 99))
    idle50, idle99 = ms(percentile(idle_staff, 50)), ms(percentile(idle_staff, 99))
    patient99, idle_patient99 = ms(percentile(busy_patient, 99)), ms(percentile(idle_patient, 99))
    alone = "one alert at a time on an idle bot"
    return [
        figure(
            f"{name}: p50 answer -> staff",
            p50,
            "ms",
            ratio=ratio(p50, idle50),
            reference=f"{idle50:.0f} ms, {alone}",
            target=f"p99 <= {P99_TARGET_MS:.0f} ms",
            ok=p99 <= P99_TARGET_MS,
        ),
        figure(
            f"{name}: p99 answer -> staff",
            p99,
            "ms",
            ratio=ratio(p99, idle99),
            reference=f"{idle99:.0f} ms, {alone}",
            target=f"<= {P99_TARGET_MS:.0f} ms",
            ok=p99 <= P99_TARGET_MS,
        ),
        figure(
            f"{name}: p99 answer -> patient's scripted text",
            patient99,
            "ms",
            ratio=ratio(patient99, idle_patient99),
            reference=f"{idle_patient99:.0f} ms, {alone}",
            target=f"<= {P99_TARGET_MS:.0f} ms",
            ok=patient99 <= P99_TARGET_MS,
        ),
    ]


def run(quick: bool) -> list[str]:
    """Measure and return the figure lines."""
    return asyncio.run(measure(quick))
