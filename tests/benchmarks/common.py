"""What the benchmarks share: the fake Bot API on its own thread with a time stamp on every
message, the real bot in-process, patients seeded through the repository, and the figure line.

Times come from the fake's side: `Sent.at` is `time.perf_counter()` when the bot's message
reached the fake (the same clock in every thread), `Sent.wall` is `time.time()` for comparing
with due times. Simulated people act on the fake's loop, so the bot's loop is never blocked
by the benchmark while it is being measured; blocking `ThreadedFake.call` is for set-up only.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import build_application
from bot.clock import Clock
from bot.config import load_settings
from bot.core.protocol import DEFAULT_PROTOCOL_PATH, load_protocol
from bot.core.schedule import plan_infusion
from bot.delivery.lifecycle import RunningBot
from bot.delivery.pacing import SendLimits
from bot.runtime import Runtime
from storage import repository as repo
from storage.db import make_engine, migrate
from storage.models import PatientStatus
from tests.fake_bot_api import BotMessage, FakeBotApi
from tests.fake_bot_api.world import Chat
from tests.utils.clock import FakeClock
from tests.utils.harness import ADMIN_ID, BotUnderTest

UTC_ZONE = ZoneInfo("UTC")
TELEGRAM_OVERALL_PER_SECOND = 30
_QUIET_HOURS = re.compile(r'^(\s*(?:start|end)\s*=\s*)"\d{2}:\d{2}"', re.M)
_PATIENT_REF = re.compile(r"Patient: (MRN\d+)")

# -- figures -------------------------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile, interpolated between the two nearest ranks (nan when empty)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Iterable[float]) -> float:
    """The 50th percentile."""
    return percentile(values, 50)


def number(value: float) -> str:
    """A figure with as many digits as are worth reading."""
    if value is None or math.isnan(value):
        return "n/a"
    if value == int(value):
        return str(int(value))
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def figure(
    name: str,
    value: float,
    unit: str,
    *,
    target: str | None,
    ok: bool | None,
    ratio: float | None = None,
    reference: str | None = None,
) -> str:
    """One output line: `name: value unit (ratio vs reference = X; target ...; PASS/MISS)`;
    a figure printed to explain another has no target (None) and says so."""
    ratio_text = "n/a" if ratio is None or math.isnan(ratio) else f"{ratio:.2f}"
    about = f", reference = {reference}" if reference else ""
    status = "PASS" if ok else "MISS"
    if target is None or ok is None:
        target, status = "none", "for information"
    unit_text = f" {unit}" if unit else ""
    return (
        f"{name}: {number(value)}{unit_text} "
        f"(ratio vs reference = {ratio_text}{about}; target {target}; {status})"
    )


def count(value: int) -> str:
    """1000 -> 1k, 1000000 -> 1M."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= size and value % size == 0:
            return f"{value // size}{suffix}"
    return str(value)


def ratio(value: float, reference: float) -> float:
    """value / reference, nan when the reference is zero or unknown."""
    if not reference or math.isnan(reference) or math.isnan(value):
        return math.nan
    return value / reference


def ms(seconds: float) -> float:
    """Seconds to milliseconds."""
    return seconds * 1000


# -- the fake Bot API on its own thread ------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """A message the bot sent, as the fake saw it arrive."""

    chat_id: int
    message_id: int
    at: float  # time.perf_counter()
    wall: float  # time.time()
    text: str
    has_buttons: bool


Listener = Callable[[BotMessage, Sent], None]


class TimedFakeBotApi(FakeBotApi):
    """The project's fake, noting when each bot message arrived and telling listeners at once."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sent: list[Sent] = []
        self.first_sent: dict[int, Sent] = {}
        self.listeners: list[Listener] = []
        self.first_get_updates: float | None = None

    def add_bot_message(self, chat: Chat, text: str | None, **extra: Any) -> BotMessage:
        message = super().add_bot_message(chat, text, **extra)
        sent = Sent(
            chat.id,
            message.message_id,
            time.perf_counter(),
            time.time(),
            text or "",
            bool(message.buttons),
        )
        self.sent.append(sent)
        self.first_sent.setdefault(chat.id, sent)
        for listener in self.listeners:
            listener(message, sent)
        return message

    async def take_updates(self, *args: Any, **kwargs: Any) -> list:
        if self.first_get_updates is None:
            self.first_get_updates = time.perf_counter()
        return await super().take_updates(*args, **kwargs)


class ThreadedFake:
    """A TimedFakeBotApi serving from its own thread (start_in_thread), for a bot on this loop."""

    def __init__(self, enforce_limits: bool = False) -> None:
        self.server = TimedFakeBotApi(enforce_limits=enforce_limits)
        self.handle = self.server.start_in_thread()
        self.loop: asyncio.AbstractEventLoop = self.handle.call(asyncio.get_running_loop)

    def __enter__(self) -> ThreadedFake:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.handle.stop()

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `fn` on the fake's loop and wait for it (blocks this thread: set-up only)."""
        return self.handle.call(fn, *args, **kwargs)

    async def acall(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `fn` on the fake's loop and await its result without blocking this loop."""

        async def run() -> Any:
            result = fn(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), self.loop))

    def soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run `fn` on the fake's loop as soon as it can; do not wait."""
        self.loop.call_soon_threadsafe(fn, *args)

    def listen(self, listener: Listener) -> None:
        """Call `listener(message, sent)` on the fake's thread for every bot message."""
        self.call(self.server.listeners.append, listener)

    def add_users(self, user_ids: Iterable[int], started: bool = True) -> None:
        """Register people whose chats with the bot are open."""
        ids = list(user_ids)
        self.call(lambda: [self.server.add_user(i, f"P{i}", started=started) for i in ids])

    def delivered(self, chat_ids: Iterable[int]) -> int:
        """How many of these chats got at least one message (safe to read from any thread)."""
        first = self.server.first_sent
        return sum(1 for chat_id in chat_ids if chat_id in first)

    def firsts(self, chat_ids: Iterable[int]) -> dict[int, Sent]:
        """The first message of each chat that got one."""
        ids = list(chat_ids)
        return self.call(
            lambda: {i: self.server.first_sent[i] for i in ids if i in self.server.first_sent}
        )

    def press_at(self, moments: list[tuple[float, int, int, str]]) -> dict[int, float]:
        """Schedule presses (perf_counter moment, user id, message id, button label) on the
        fake's loop; returns a dict filled with each user's press time as the presses happen."""
        pressed: dict[int, float] = {}

        def press(user_id: int, message_id: int, label: str) -> None:
            pressed[user_id] = time.perf_counter()
            self.server.user(user_id).press(message_id, button_text=label)

        def schedule() -> None:
            now = time.perf_counter()
            for moment, user_id, message_id, label in moments:
                self.loop.call_later(max(moment - now, 0), press, user_id, message_id, label)

        self.soon(schedule)
        return pressed


class FirstMatch:
    """Per key, when the first bot message with that key arrived (a listener on the fake).

    `key` gives a message's key, None, or a list of keys (a message about several people).
    """

    def __init__(self, key: Callable[[Sent], object | None]) -> None:
        self._key = key
        self.at: dict[object, float] = {}

    def __call__(self, message: BotMessage, sent: Sent) -> None:
        found = self._key(sent)
        for key in found if isinstance(found, list) else [found]:
            if key is not None and key not in self.at:
                self.at[key] = sent.at


def staff_alert_for(sent: Sent, staff_chat: int = ADMIN_ID) -> list[int]:
    """The user ids of the patients `sent` alerts staff about (one message may carry the
    alerts that queued for the staff chat), else none."""
    if sent.chat_id != staff_chat or " alert" not in sent.text:
        return []
    return [int(ref[3:]) for ref in _PATIENT_REF.findall(sent.text)]


async def until(condition: Callable[[], bool], timeout: float, interval: float = 0.01) -> bool:
    """Poll `condition` without blocking the loop; False if it is still false after `timeout`."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(interval)
    return True


async def require(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Like `until`, but a benchmark cannot go on without it: raise after `timeout`."""
    if not await until(condition, timeout):
        raise RuntimeError(f"gave up after {timeout:.0f} s waiting for {what}")


# -- the bot -----------------------------------------------------------------------------


def daytime_protocol(directory: Path) -> Path:
    """The bundled protocol with quiet hours off, so that due times never move to 08:00."""
    text = DEFAULT_PROTOCOL_PATH.read_text(encoding="utf-8")
    path = directory / "protocol_without_quiet_hours.toml"
    path.write_text(_QUIET_HOURS.sub(lambda m: f'{m.group(1)}"00:00"', text), encoding="utf-8")
    return path


def bot_settings(server: FakeBotApi, directory: Path, env: dict[str, str] | None = None):
    """The settings the test harness uses, with the database in `directory`."""
    return load_settings(
        {
            "TELEGRAM_BOT_TOKEN": server.token,
            "TELEGRAM_BASE_URL": server.base_url,
            "TELEGRAM_BASE_FILE_URL": server.base_file_url,
            "DATABASE_URL": f"sqlite:///{directory / 'bot.sqlite'}",
            "ADMIN_TELEGRAM_IDS": str(ADMIN_ID),
            "CLINIC_TIMEZONE": "Europe/London",
            "DISPATCH_INTERVAL_SECONDS": "3600",
            **(env or {}),
        }
    )


async def start_bot(
    fake: ThreadedFake,
    directory: Path,
    *,
    limits: SendLimits,
    clock: Clock | None = None,
    env: dict[str, str] | None = None,
) -> BotUnderTest:
    """The real bot in-process, as tests.utils.harness.start_bot builds it, polling the fake.

    The protocol is the bundled one without quiet hours.
    """
    settings = bot_settings(fake.server, directory, env)
    engine = make_engine(settings.database_url)
    migrate(engine)
    clock = clock or FakeClock()
    protocol = load_protocol(daytime_protocol(directory))
    application = build_application(settings, protocol, engine, clock)
    running = RunningBot(application, limits, poll_seconds=1)
    await running.start()
    return BotUnderTest(running, clock, fake.server)


# -- patients ----------------------------------------------------------------------------


def ref_of(user_id: int) -> str:
    """The clinic reference of the patient with this Telegram id."""
    return f"MRN{user_id}"


def step_offset(rt: Runtime, step_id: str) -> timedelta:
    """How long after the infusion start a step is due (no quiet hours, UTC)."""
    start = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    planned = {p.step_id: p for p in plan_infusion(rt.protocol, start, start, UTC_ZONE)}
    return planned[step_id].due_at - start


def seed_patients(
    rt: Runtime,
    user_ids: Iterable[int],
    *,
    started_at: datetime,
    recorded_at: datetime,
    steps: Iterable[str] | None = None,
) -> None:
    """Active, consented patients MRN<user id> with an infusion each, written through the
    repository and the schedule's own planning; only `steps` are kept when given."""
    wanted = set(steps) if steps is not None else None
    planned = [
        (p.step_id, p.due_at, p.closes_at, p.remind_at)
        for p in plan_infusion(rt.protocol, started_at, recorded_at, UTC_ZONE)
        if wanted is None or p.step_id in wanted
    ]
    with rt.session() as session:
        for user_id in user_ids:
            patient = repo.create_patient(
                session,
                clinic_ref=ref_of(user_id),
                display_name=None,
                timezone="UTC",
                enrolled_by=ADMIN_ID,
                now=recorded_at,
            )
            patient.telegram_user_id = patient.chat_id = user_id
            patient.status = PatientStatus.ACTIVE
            patient.consent_at = recorded_at
            patient.consent_version = rt.protocol.version
            repo.record_infusion(
                session,
                patient=patient,
                started_at=started_at,
                recorded_at=recorded_at,
                dose=None,
                recorded_by=ADMIN_ID,
                protocol_version=rt.protocol.version,
                planned=planned,
            )


def seed_due(rt: Runtime, user_ids: Iterable[int], step_id: str, due: datetime) -> None:
    """Patients whose check-in `step_id` (and no other) falls due at `due`; the dispatcher
    is woken so that it plans its sleep around them."""
    started = due - step_offset(rt, step_id)
    seed_patients(rt, user_ids, started_at=started, recorded_at=started, steps=[step_id])
    rt.wake_dispatcher()


def wall(moment: datetime) -> float:
    """A datetime as time.time() would give it."""
    return moment.timestamp()
