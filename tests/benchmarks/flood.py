"""Figure 4: an emergency alert while a stranger floods the bot.

Patients are brought, through their evening check-in, to the side-effect checklist. In
each trial one of them ticks "Chest pain" (the protocol's emergency rule, which counts as
it is ticked): latency from that tap to the staff alert and to the patient's "call 112"
text. Reference trials have nothing else going on; in flood trials a new stranger sends 200
messages at once just before the tap. Telegram's limits on, the bot's real SendLimits.
Medians of the trials are compared. Reference and flood trials take turns, so that what
drifts during a run (the database growing, the machine's other work) weighs on both alike:
the few milliseconds compared are easily moved by that.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bot.clock import SystemClock
from bot.delivery.pacing import SendLimits
from tests.benchmarks.common import (
    FirstMatch,
    Sent,
    ThreadedFake,
    figure,
    median,
    ms,
    ratio,
    require,
    seed_due,
    staff_alert_for,
    start_bot,
)
from tests.fake_bot_api import BotMessage
from tests.utils.harness import ADMIN_ID

TRIALS_QUICK, TRIALS_FULL = 3, 9
FLOOD = 200
FIRST_USER, FIRST_STRANGER = 50_000, 59_000
TARGET = 1.5
PATIENT_TEXT = "Call 112 now"
CHECKLIST = "Tick all that apply"
CHEST_PAIN = "Chest pain"
SETTLE_SECONDS = 0.5  # "call 112" is each patient's 3rd message: within 3 in 3.2 s
BETWEEN_TRIALS = 1.2  # the staff chat gets one alert per trial: never held by its window
WAIT_SECONDS = 30.0


class Trials:
    """Taps, staff alerts and "call 112" texts, as the fake sees them."""

    def __init__(self, fake: ThreadedFake) -> None:
        self._fake = fake
        self.staff = FirstMatch(lambda s: staff_alert_for(s) if "EMERGENCY" in s.text else None)
        self.patient = FirstMatch(lambda s: s.chat_id if PATIENT_TEXT in s.text else None)
        self.checklist_ids: dict[int, int] = {}
        self.pressed: dict[int, float] = {}

    def listener(self, message: BotMessage, sent: Sent) -> None:
        self.staff(message, sent)
        self.patient(message, sent)
        if CHECKLIST in sent.text:
            self.checklist_ids.setdefault(sent.chat_id, sent.message_id)

    def tick(self, user_id: int, flood_from: int | None) -> None:
        """Optionally flood from a new stranger, then tick Chest pain (on the fake's thread)."""
        server = self._fake.server
        if flood_from is not None:
            stranger = server.add_user(flood_from, "Eve")
            for number in range(FLOOD):
                stranger.send_text(f"hello {number}")
        self.pressed[user_id] = time.perf_counter()
        server.user(user_id).press(self.checklist_ids[user_id], button_text=f"☐ {CHEST_PAIN}")

    def arrived(self, user_id: int) -> bool:
        return user_id in self.staff.at and user_id in self.patient.at


async def prepare(fake: ThreadedFake, trials: Trials, users: list[int]) -> None:
    """Answer pain and reach the checklist: each patient is one tap from an alert."""
    await require(lambda: fake.delivered(users) == len(users), WAIT_SECONDS, "the check-ins")
    for user, sent in fake.firsts(users).items():
        fake.soon(lambda u=user, m=sent.message_id: fake.server.user(u).press(m, button_text="3"))
    await require(
        lambda: all(u in trials.checklist_ids for u in users), WAIT_SECONDS, "the checklists"
    )
    await asyncio.sleep(SETTLE_SECONDS)


async def trial(fake: ThreadedFake, trials: Trials, user: int, flood_from: int | None):
    fake.soon(trials.tick, user, flood_from)
    await require(lambda: trials.arrived(user), WAIT_SECONDS, "the emergency alert")
    await asyncio.sleep(BETWEEN_TRIALS)
    return await fake.acall(
        lambda: (
            trials.staff.at[user] - trials.pressed[user],
            trials.patient.at[user] - trials.pressed[user],
        )
    )


async def measure(quick: bool) -> list[str]:
    count = TRIALS_QUICK if quick else TRIALS_FULL
    users = list(range(FIRST_USER, FIRST_USER + 2 * count))
    with ThreadedFake(enforce_limits=True) as fake, tempfile.TemporaryDirectory() as directory:
        trials = Trials(fake)
        fake.add_users([ADMIN_ID, *users])
        fake.listen(trials.listener)
        bot = await start_bot(fake, Path(directory), limits=SendLimits(), clock=SystemClock())
        try:
            seed_due(bot.runtime, users, "evening", datetime.now(UTC))
            await prepare(fake, trials, users)
            calm, flooded = [], []
            for number, (quiet, flooding) in enumerate(zip(users[::2], users[1::2], strict=True)):
                calm.append(await trial(fake, trials, quiet, None))
                flooded.append(await trial(fake, trials, flooding, FIRST_STRANGER + number))
        finally:
            await bot.stop()
    lines = []
    for index, what in enumerate(("staff alert", "patient's 'call 112' text")):
        value = ms(median(times[index] for times in flooded))
        reference = ms(median(times[index] for times in calm))
        lines.append(
            figure(
                f"flood ({FLOOD} messages from a stranger, limits on): answer -> {what}, "
                f"median of {count}",
                value,
                "ms",
                ratio=ratio(value, reference),
                reference=f"{reference:.0f} ms without the flood",
                target=f"<= {TARGET}x",
                ok=ratio(value, reference) <= TARGET,
            )
        )
    return lines


def run(quick: bool) -> list[str]:
    """Measure and return the figure lines."""
    return asyncio.run(measure(quick))
