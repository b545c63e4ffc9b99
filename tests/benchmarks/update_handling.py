"""Figure 1: answers handled per second end to end, and the tap-to-next-question p99.

50 simulated patients tap an answer the moment each question reaches the fake (on the fake's
thread), through several check-ins (rounds: each round's first questions are sent by the
dispatcher when the fake clock reaches the step's due time). An answer counts when the
message that follows it (the next question, or the thank-you) reaches the fake.

Reference: a bare PTB Application (concurrent updates, no database) against the same fake
that, on each tap, answers the callback query, edits the tapped message and sends the next
question with buttons, for the same number of questions per patient and round. It makes the
same three calls per tap as the bot, with PTB's own HTTP client (httpx). Printed beside it:
the same bare Application on the bot's HTTP client (bot.delivery.transport, aiohttp), so
that what the bot's HTTP client saves does not hide what its database work costs; and both
with 5 patients instead of 50. Patients who tap the instant a question arrives keep any bot
saturated, so tap -> next question is about patients / throughput (Little's law): with 50,
150 ms would take over 330 answers/s; with 5, it shows the latency of the work itself. So
50 patients are also measured answering at once the way people do, each reading a question
for 0.5-1.5 s before tapping, against the bare bot at the same pace.

The fake's limits are off and the bot paces with NO_LIMITS (button presses are never held
back by the flood guard, so the simulated patients' speed is no problem).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes

from bot.app import CONNECTIONS
from bot.core.schedule import plan_infusion
from bot.delivery.pacing import NO_LIMITS
from bot.delivery.transport import AiohttpRequest
from tests.benchmarks.common import (
    UTC_ZONE,
    Sent,
    ThreadedFake,
    figure,
    ms,
    percentile,
    ratio,
    require,
    seed_patients,
    start_bot,
)
from tests.fake_bot_api import BotMessage
from tests.utils.checkins import NONE_BOX

PATIENTS = 50
FEW_PATIENTS = 5
FIRST_USER = 20_000
ROUNDS_QUICK = ("baseline", "evening")
ROUNDS_FULL = ("baseline", "evening", "next_day", "day_3", "week_1")
ROUND_TIMEOUT = 90.0
# A person reads a question before tapping: each paced patient taps this long after it came.
READING_SECONDS = (0.5, 1.5)
PACE_SEED = 20261126
THROUGHPUT_TARGET = 0.7
P99_TARGET_MS = 150.0
FOOTER = "Feeling very unwell? Call emergency services now; don't wait for this chat."
THANKS = f"Thank you, your answers are saved.\n\n{FOOTER}"


@dataclass
class Round:
    """What one round of answering took."""

    answers: int
    seconds: float


@dataclass
class Outcome:
    """All rounds of one bot."""

    patients: int
    rounds: list[Round] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    @property
    def answers(self) -> int:
        return sum(r.answers for r in self.rounds)

    @property
    def per_second(self) -> float:
        return self.answers / sum(r.seconds for r in self.rounds)

    @property
    def p99_ms(self) -> float:
        return ms(percentile(self.latencies, 99))

    def per_patient(self) -> list[int]:
        """Questions each patient answered in each round."""
        return [r.answers // self.patients for r in self.rounds]


Reading = Callable[[], float] | None  # seconds before a patient taps; None: at once


def human_pace() -> Reading:
    """Reading times drawn from READING_SECONDS, the same sequence in every run."""
    draw = random.Random(PACE_SEED)
    return lambda: draw.uniform(*READING_SECONDS)


class Patients:
    """Simulated patients on the fake's thread: each taps an answer as soon as a question
    (a message with buttons) arrives, or after reading it (`reading`); a message without
    buttons ends their check-in."""

    def __init__(self, fake: ThreadedFake, chats: list[int], reading: Reading = None) -> None:
        self._fake = fake
        self._chats = set(chats)
        self._reading = reading
        self._tapped: dict[int, float] = {}
        self._first_tap: float | None = None
        self._last_reply = 0.0
        self._answers = 0
        self.latencies: list[float] = []
        self.finished = 0  # check-ins finished, over all rounds

    def on_message(self, message: BotMessage, sent: Sent) -> None:
        if sent.chat_id not in self._chats:
            return
        tapped = self._tapped.pop(sent.chat_id, None)
        if tapped is not None:
            self.latencies.append(sent.at - tapped)
            self._answers += 1
            self._last_reply = sent.at
        if sent.has_buttons and self._reading is None:
            self._fake.loop.call_soon(self._tap, message, calm_answer(message))
        elif sent.has_buttons:
            self._fake.loop.call_later(self._reading(), self._tap, message, calm_answer(message))
        else:
            self.finished += 1

    def _tap(self, message: BotMessage, labels: tuple[str, ...]) -> None:
        now = time.perf_counter()
        if self._first_tap is None:
            self._first_tap = now
        self._tapped[message.chat_id] = now
        patient = self._fake.server.user(message.chat_id)
        for label in labels:  # a checklist: its "None of these" box, then Done
            patient.press(message, button_text=label)

    def end_round(self) -> Round:
        """The round just finished: its answers and its time from first tap to last reply."""
        done = Round(self._answers, self._last_reply - (self._first_tap or self._last_reply))
        self._first_tap, self._answers = None, 0
        return done


def calm_answer(message: BotMessage) -> tuple[str, ...]:
    """A patient doing well: no alert rule fires and the follow-up does not end early
    (pain 5 at baseline and 3 after, mood 5, middle choices, no side effects, "No"), and
    every check-in sent from its summary. Returns the buttons to tap, in order."""
    buttons = [(label, data) for label, data in message.buttons if data and data[:2] != "b:"]
    send = [label for label, data in buttons if data.startswith("f:")]
    if send:
        return (send[0],)
    done = [label for label, data in buttons if data.startswith("d:")]
    if done:
        return (NONE_BOX, done[0])
    labels = [label for label, _ in buttons]
    if "No" in labels:
        return ("No",)
    if not all(label.isdigit() for label in labels):
        return (labels[len(labels) // 2],)
    text = (message.text or "").lower()
    return ("3" if "pain" in text and not text.startswith("before your infusion") else "5",)


async def measure_bot(
    directory: Path, steps: tuple[str, ...], count: int, reading: Reading = None
) -> Outcome:
    chats = list(range(FIRST_USER, FIRST_USER + count))
    outcome = Outcome(count)
    with ThreadedFake() as fake:
        fake.add_users(chats)
        patients = Patients(fake, chats, reading)
        fake.listen(patients.on_message)
        bot = await start_bot(fake, directory, limits=NO_LIMITS)
        try:
            rt, start = bot.runtime, bot.clock.now()
            seed_patients(rt, chats, started_at=start, recorded_at=start)
            due = {p.step_id: p.due_at for p in plan_infusion(rt.protocol, start, start, UTC_ZONE)}
            for index, step in enumerate(steps):
                bot.clock.set(due[step])
                rt.wake_dispatcher()
                await require(
                    lambda n=index + 1: patients.finished >= n * count,
                    ROUND_TIMEOUT,
                    f"every patient to finish the {step} check-in",
                )
                outcome.rounds.append(await fake.acall(patients.end_round))
            outcome.latencies = await fake.acall(lambda: list(patients.latencies))
        finally:
            await bot.stop()
    return outcome


def question(round_no: int, number: int, total: int) -> str:
    return (
        f"Check-in {round_no + 1} · question {number + 1} of {total}\n\n"
        f"How bad is your pain right now? 0 = no pain, 10 = worst imaginable.\n\n{FOOTER}"
    )


def scale(round_no: int, number: int) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(str(i), callback_data=f"{round_no}:{number}:{i}") for i in range(11)
    ]
    return InlineKeyboardMarkup([buttons[:6], buttons[6:]])


def bare_application(fake: ThreadedFake, per_round: list[int], bots_client: bool) -> Application:
    """The least a PTB bot can do per tap: answer it, edit the message, send the next one;
    with PTB's HTTP client, or with the bot's (`bots_client`)."""

    async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        round_no, number, choice = (int(part) for part in query.data.split(":"))
        total = per_round[round_no]
        await query.answer("Saved")
        answered = f"{question(round_no, number, total)}\n\n✓ Your answer: {choice}"
        await query.edit_message_text(answered)
        chat_id = query.message.chat.id
        if number + 1 < total:
            text, markup = question(round_no, number + 1, total), scale(round_no, number + 1)
            await context.bot.send_message(chat_id, text, reply_markup=markup)
        else:
            await context.bot.send_message(chat_id, THANKS)

    builder = fake.server.application_builder().concurrent_updates(True)
    if bots_client:
        builder.request(AiohttpRequest(CONNECTIONS)).get_updates_request(AiohttpRequest(1))
    application = builder.build()
    application.add_handler(CallbackQueryHandler(on_tap))
    return application


async def measure_bare_ptb(
    per_round: list[int], count: int, bots_client: bool, reading: Reading = None
) -> Outcome:
    chats = list(range(FIRST_USER, FIRST_USER + count))
    outcome = Outcome(count)
    with ThreadedFake() as fake:
        fake.add_users(chats)
        patients = Patients(fake, chats, reading)
        fake.listen(patients.on_message)
        application = bare_application(fake, per_round, bots_client)
        await application.initialize()
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=timedelta(seconds=1))
        try:
            for round_no, total in enumerate(per_round):
                first = question(round_no, 0, total)
                await asyncio.gather(
                    *(
                        application.bot.send_message(chat, first, reply_markup=scale(round_no, 0))
                        for chat in chats
                    )
                )
                await require(
                    lambda n=round_no + 1: patients.finished >= n * count,
                    ROUND_TIMEOUT,
                    f"every patient to finish bare round {round_no + 1}",
                )
                outcome.rounds.append(await fake.acall(patients.end_round))
            outcome.latencies = await fake.acall(lambda: list(patients.latencies))
        finally:
            await application.updater.stop()
            await application.stop()
            await application.shutdown()
    return outcome


async def measure(quick: bool) -> list[str]:
    steps = ROUNDS_QUICK if quick else ROUNDS_FULL
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as directory:
        bot = await measure_bot(Path(directory), steps, PATIENTS)
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as directory:
        calm_bot = await measure_bot(Path(directory), steps, FEW_PATIENTS)
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as directory:
        paced_bot = await measure_bot(Path(directory), ROUNDS_QUICK, PATIENTS, human_pace())
    bare = await measure_bare_ptb(bot.per_patient(), PATIENTS, bots_client=False)
    bare_aiohttp = await measure_bare_ptb(bot.per_patient(), PATIENTS, bots_client=True)
    calm_bare = await measure_bare_ptb(calm_bot.per_patient(), FEW_PATIENTS, bots_client=False)
    paced_bare = await measure_bare_ptb(
        paced_bot.per_patient(), PATIENTS, bots_client=False, reading=human_pace()
    )
    floor_ms = ms(PATIENTS / bot.per_second)
    label = f"{PATIENTS} patients, {bot.answers} answers in {len(steps)} check-ins"
    throughput = ratio(bot.per_second, bare.per_second)
    same_client = ratio(bot.per_second, bare_aiohttp.per_second)
    return [
        figure(
            f"update handling: answers stored per second ({label})",
            bot.per_second,
            "answers/s",
            ratio=throughput,
            reference=f"bare PTB {bare.per_second:.0f} answers/s",
            target=f">= {THROUGHPUT_TARGET} of bare PTB",
            ok=throughput >= THROUGHPUT_TARGET,
        ),
        figure(
            "update handling: p99 tap -> next question",
            bot.p99_ms,
            "ms",
            ratio=ratio(bot.p99_ms, bare.p99_ms),
            reference=(
                f"bare PTB p99 {bare.p99_ms:.0f} ms; at {bot.per_second:.0f} answers/s, "
                f"{PATIENTS} patients who tap at once wait {floor_ms:.0f} ms on average "
                "in any order of work (Little's law)"
            ),
            target=f"<= {P99_TARGET_MS:.0f} ms",
            ok=bot.p99_ms <= P99_TARGET_MS,
        ),
        figure(
            f"update handling: p99 tap -> next question, {PATIENTS} patients answering at once "
            f"at a reader's pace (each taps {READING_SECONDS[0]}-{READING_SECONDS[1]} s after "
            f"the question arrives; {paced_bot.answers} answers)",
            paced_bot.p99_ms,
            "ms",
            ratio=ratio(paced_bot.p99_ms, paced_bare.p99_ms),
            reference=f"bare PTB p99 {paced_bare.p99_ms:.0f} ms at the same pace",
            target=f"<= {P99_TARGET_MS:.0f} ms",
            ok=paced_bot.p99_ms <= P99_TARGET_MS,
        ),
        figure(
            "update handling: answers stored per second, against bare PTB on the bot's HTTP "
            "client (aiohttp)",
            bot.per_second,
            "answers/s",
            ratio=same_client,
            reference=(
                f"bare PTB on aiohttp {bare_aiohttp.per_second:.0f} answers/s, "
                f"p99 {bare_aiohttp.p99_ms:.0f} ms"
            ),
            target=None,  # the reference is bare PTB on its own client, above
            ok=None,
        ),
        figure(
            f"update handling: p99 tap -> next question with {FEW_PATIENTS} patients "
            f"({calm_bot.per_second:.0f} answers/s)",
            calm_bot.p99_ms,
            "ms",
            ratio=ratio(calm_bot.p99_ms, calm_bare.p99_ms),
            reference=(
                f"bare PTB p99 {calm_bare.p99_ms:.0f} ms at {calm_bare.per_second:.0f} answers/s"
            ),
            target=f"<= {P99_TARGET_MS:.0f} ms",
            ok=calm_bot.p99_ms <= P99_TARGET_MS,
        ),
    ]


def run(quick: bool) -> list[str]:
    """Measure and return the figure lines."""
    return asyncio.run(measure(quick))
