"""Figure 5: a big database. 100,000 patients with 1,000,000 check-ins (quick: 10,000 /
100,000) against 1,000 / 10,000:

- a dispatcher wake-up when a normal batch of check-ins is due: finding and claiming the batch
  (storage.repository.claim_due_check_ins and its commit, what the target names), and the
  whole wake-up (bot.delivery.dispatcher.run_due_work, which also queues each check-in's
  first question and runs the other steps), and storage.repository.next_wakeup: p99 in ms
  at both sizes;
- `python -m bot` against the fake with the big database: its resident memory once settled
  against the same with an empty database, and the time from start to its first getUpdates.

Rows are bulk-inserted with SQL: one infusion of the bundled protocol per patient, started
in the last three weeks at half past an hour; in the past 85 % answered and the rest missed
(or still open, while the window is), in the future pending. The wake-ups are measured on
the hour, between those half-hours, with BATCH check-ins due every 2 s, so that both sizes
do the same work: first the whole wake-ups, then (on batches of their own) the claims alone.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import func, select

from bot.config import Settings, load_settings
from bot.core.protocol import load_protocol
from bot.core.schedule import plan_infusion
from bot.delivery.dispatcher import BATCH as DISPATCH_BATCH
from bot.delivery.dispatcher import run_due_work
from bot.runtime import Runtime
from storage import repository as repo
from storage.db import make_engine, migrate
from storage.models import OutboxMessage
from tests.benchmarks.common import (
    UTC_ZONE,
    ThreadedFake,
    count,
    daytime_protocol,
    figure,
    ms,
    percentile,
    ratio,
)
from tests.fake_bot_api import TEST_TOKEN
from tests.utils.clock import FakeClock
from tests.utils.harness import ADMIN_ID

CHECK_INS_PER_PATIENT = 10  # one infusion of the bundled protocol
BIG_QUICK, BIG_FULL, SMALL = 10_000, 100_000, 1_000
BATCH = 10
WAKEUPS_QUICK, WAKEUPS_FULL = 100, 200
WARMUP = 5
SPACING = timedelta(seconds=2)  # 2 x (WARMUP + WAKEUPS_FULL) batches end before the half hour
HISTORY_HOURS = 21 * 24
ANSWERED_SHARE = 0.85
ANSWERED_WITHIN = timedelta(hours=2)  # most answer a check-in within two hours of it
WAKEUP_TARGET_MS = 10.0
SAME_TARGET = 1.5  # "about the same at both sizes"
RSS_TARGET_MB = 20.0
START_TARGET_S = 3.0
SETTLE_SECONDS = 2.0
START_WAIT_SECONDS = 60.0
FIRST_USER = 1_000_000
CHUNK = 50_000


def timestamp(moment: datetime) -> str:
    """How SQLAlchemy stores an aware UTC datetime in SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class Plan:
    """The bundled protocol's steps as offsets from the infusion start (no quiet hours)."""

    def __init__(self, protocol_path: Path) -> None:
        protocol = load_protocol(protocol_path)
        self.version = protocol.version
        origin = datetime(2026, 6, 1, 0, 30, tzinfo=UTC)
        self.steps = [
            (
                p.step_id,
                p.due_at - origin,
                p.closes_at - origin,
                p.remind_at - origin if p.remind_at else None,
                protocol.step(p.step_id).questions[0],
            )
            for p in plan_infusion(protocol, origin, origin, UTC_ZONE)
        ]
        assert len(self.steps) == CHECK_INS_PER_PATIENT


PATIENT_COLUMNS = (
    "patient (id, clinic_ref, telegram_user_id, chat_id, timezone, status, consent_at, "
    "consent_version, enrolled_by, created_at)"
)
INFUSION_COLUMNS = (
    "infusion (id, patient_id, number, started_at, recorded_at, recorded_by, protocol_version)"
)
CHECK_IN_COLUMNS = (
    "checkin (id, patient_id, infusion_id, step_id, status, due_at, closes_at, remind_at, "
    "sent_at, reminded_at, completed_at, current_question, message_id)"
)


def check_in(
    row_id: int,
    patient: int,
    step: str,
    status: str,
    times: tuple[str, str, str | None],
    sent: str | None = None,
    reminded: str | None = None,
    completed: str | None = None,
    question: str | None = None,
) -> tuple:
    """One CHECK_IN_COLUMNS row (the patient's one infusion has the patient's id)."""
    message_id = row_id if question else None
    identity = (row_id, patient, patient, step, status)
    return (*identity, *times, sent, reminded, completed, question, message_id)


def check_in_rows(plan: Plan, now: datetime, patients: int, rng: random.Random) -> Iterator[tuple]:
    """Every check-in of every patient: answered or missed when its window has closed;
    answered, or sent and not answered yet, while it is open; pending when it is due later."""
    cached: dict[tuple[int, int], tuple] = {}
    row_id = 0
    for patient in range(1, patients + 1):
        hours_ago = rng.randrange(HISTORY_HOURS)
        for index, (step, due_off, closes_off, remind_off, first) in enumerate(plan.steps):
            key = (hours_ago, index)
            if key not in cached:
                start = now - timedelta(hours=hours_ago, minutes=30)
                due, closes = start + due_off, start + closes_off
                remind = start + remind_off if remind_off is not None else None
                texts = (timestamp(due), timestamp(closes), _text(remind))
                cached[key] = (due, closes, remind, texts)
            due, closes, remind, times = cached[key]
            row_id += 1
            if closes <= now:
                if rng.random() < ANSWERED_SHARE:
                    done = timestamp(due + timedelta(minutes=10))
                    yield check_in(row_id, patient, step, "answered", times, times[0], None, done)
                else:
                    yield check_in(row_id, patient, step, "missed", times, times[0])
            elif due <= now - ANSWERED_WITHIN and rng.random() < ANSWERED_SHARE:
                done = timestamp(due + timedelta(minutes=10))
                yield check_in(row_id, patient, step, "answered", times, times[0], None, done)
            elif due <= now:
                reminded = times[2] if remind is not None and remind <= now else None
                yield check_in(
                    row_id, patient, step, "sent", times, times[0], reminded, None, first
                )
            else:
                yield check_in(row_id, patient, step, "pending", times)


def _text(moment: datetime | None) -> str | None:
    return timestamp(moment) if moment is not None else None


def batch_rows(now: datetime, patients: int, batches: int, first_id: int, rng: random.Random):
    """BATCH evening check-ins due at each of the measured wake-ups."""
    row_id = first_id
    for number in range(1, batches + 1):
        due = now + number * SPACING
        times = (timestamp(due), timestamp(due + timedelta(hours=4)), None)
        for patient in rng.sample(range(1, patients + 1), BATCH):
            row_id += 1
            yield check_in(row_id, patient, "evening", "pending", times)


def build_database(path: Path, patients: int, now: datetime, batches: int, plan: Plan) -> None:
    """A migrated database holding `patients` active patients and their check-ins."""
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    rng = random.Random(patients)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    consent = timestamp(now - timedelta(days=30))
    ids = range(1, patients + 1)
    user = FIRST_USER
    people = (
        (
            p,
            f"MRN{p}",
            user + p,
            user + p,
            "UTC",
            "active",
            consent,
            plan.version,
            ADMIN_ID,
            consent,
        )
        for p in ids
    )
    _insert(connection, PATIENT_COLUMNS, people)
    infusions = ((p, p, 1, consent, consent, ADMIN_ID, plan.version) for p in ids)
    _insert(connection, INFUSION_COLUMNS, infusions)
    _insert(connection, CHECK_IN_COLUMNS, check_in_rows(plan, now, patients, rng))
    first_batch_id = patients * CHECK_INS_PER_PATIENT
    _insert(connection, CHECK_IN_COLUMNS, batch_rows(now, patients, batches, first_batch_id, rng))
    connection.commit()
    connection.close()


def _insert(connection: sqlite3.Connection, into: str, rows: Iterator[tuple]) -> None:
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            _flush(connection, into, chunk)
            chunk = []
    if chunk:
        _flush(connection, into, chunk)


def _flush(connection: sqlite3.Connection, into: str, rows: list[tuple]) -> None:
    marks = ", ".join("?" * len(rows[0]))
    connection.executemany(f"INSERT INTO {into} VALUES ({marks})", rows)


async def time_wakeups(path: Path, now: datetime, times: int, protocol: Path):
    """Seconds taken by each whole run_due_work with a batch due, by each claim of a batch
    alone (in its own transaction), and by each next_wakeup."""
    settings = offline_settings(path)
    engine = make_engine(settings.database_url)
    clock = FakeClock(now)
    rt = Runtime(settings, load_protocol(protocol), engine, clock)
    wakeups, claims, lookups = [], [], []
    batches = iter(range(1, 2 * (WARMUP + times) + 1))
    # `python -m bot` ran on this database first and may have queued its start-up notices.
    queued_before = outbox_count(rt)
    try:
        for number in range(WARMUP + times):
            clock.set(now + next(batches) * SPACING)
            began = time.perf_counter()
            await run_due_work(rt)
            took = time.perf_counter() - began
            with rt.session() as session:
                began = time.perf_counter()
                repo.next_wakeup(session)
                looked = time.perf_counter() - began
            if number >= WARMUP:
                wakeups.append(took)
                lookups.append(looked)
        queued = outbox_count(rt) - queued_before
        for number in range(WARMUP + times):
            clock.set(now + next(batches) * SPACING)
            began = time.perf_counter()
            with rt.session() as session:
                claimed = repo.claim_due_check_ins(session, clock.now(), DISPATCH_BATCH)
            took = time.perf_counter() - began
            if len(claimed) != BATCH:
                raise RuntimeError(f"a claim took {len(claimed)} check-ins, not {BATCH}")
            if number >= WARMUP:
                claims.append(took)
    finally:
        engine.dispose()
    if queued != BATCH * (WARMUP + times):
        raise RuntimeError(f"the wake-ups queued {queued} questions, not {BATCH} each")
    return wakeups, claims, lookups


def outbox_count(rt: Runtime) -> int:
    """How many messages the outbox holds."""
    with rt.session() as session:
        return session.exec(select(func.count()).select_from(OutboxMessage)).one()


def offline_settings(path: Path) -> Settings:
    """Settings for the dispatcher alone, which never talks to Telegram."""
    return load_settings({"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "DATABASE_URL": f"sqlite:///{path}"})


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def settled_rss(pid: int) -> float:
    """Read the memory every half second until two readings agree within half a MB."""
    last = rss_mb(pid)
    for _ in range(10):
        time.sleep(0.5)
        current = rss_mb(pid)
        if abs(current - last) < 0.5:
            return current
        last = current
    return last


def python_m_bot(directory: Path, database: Path) -> tuple[float, float]:
    """Start `python -m bot` on `database` against the fake; (seconds to its first
    getUpdates, settled RSS in MB)."""
    with ThreadedFake() as fake:
        fake.add_users([ADMIN_ID])
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
        env.update(
            TELEGRAM_BOT_TOKEN=fake.server.token,
            TELEGRAM_BASE_URL=fake.server.base_url,
            TELEGRAM_BASE_FILE_URL=fake.server.base_file_url,
            DATABASE_URL=f"sqlite:///{database}",
            ADMIN_TELEGRAM_IDS=str(ADMIN_ID),
        )
        env.pop("PROTOCOL_FILE", None)
        log = (directory / f"{database.stem}.log").open("w")
        began = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"], cwd=directory, env=env, stdout=log, stderr=log
        )
        try:
            deadline = began + START_WAIT_SECONDS
            while fake.server.first_get_updates is None and time.perf_counter() < deadline:
                if process.poll() is not None:
                    break
                time.sleep(0.005)
            if fake.server.first_get_updates is None:
                raise RuntimeError(f"python -m bot did not start; see {log.name}")
            startup = fake.server.first_get_updates - began
            time.sleep(SETTLE_SECONDS)
            memory = settled_rss(process.pid)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
    return startup, memory


def run(quick: bool) -> list[str]:
    """Measure and return the figure lines."""
    big = BIG_QUICK if quick else BIG_FULL
    wakeups = WAKEUPS_QUICK if quick else WAKEUPS_FULL
    # The data's "now" is tomorrow on the hour: nothing is due for the real clock of
    # `python -m bot`, and the measured wake-ups fall between the data's half-hours.
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as name:
        directory = Path(name)
        protocol = daytime_protocol(directory)
        plan = Plan(protocol)
        sizes = {}
        for patients in (SMALL, big):
            path = directory / f"scale_{patients}.sqlite"
            build_database(path, patients, now, 2 * (WARMUP + wakeups), plan)
            sizes[patients] = path
        start_empty, rss_empty = python_m_bot(directory, directory / "empty.sqlite")
        start_big, rss_big = python_m_bot(directory, sizes[big])
        timings = {p: asyncio.run(time_wakeups(sizes[p], now, wakeups, protocol)) for p in sizes}
    label = f"{count(big)} patients / {count(big * CHECK_INS_PER_PATIENT)} check-ins"
    small = f"{count(SMALL)} / {count(SMALL * CHECK_INS_PER_PATIENT)}"
    lines = []
    measured = (
        "dispatcher wake-up (batch of 10 due): whole run_due_work, questions queued",
        "dispatcher wake-up (batch of 10 due): finding and claiming the batch",
        "next_wakeup",
    )
    for index, what in enumerate(measured):
        value = ms(percentile(timings[big][index], 99))
        reference = ms(percentile(timings[SMALL][index], 99))
        same = ratio(value, reference) <= SAME_TARGET
        # The 10 ms is for finding and claiming the batch; the whole step also
        # writes its ten questions, which costs the same at any size (the ratio).
        whole = index == 0
        lines.append(
            figure(
                f"scale ({label}): {what} p99",
                value,
                "ms",
                ratio=ratio(value, reference),
                reference=f"{reference:.1f} ms at {small}",
                target=f"ratio <= {SAME_TARGET}"
                if whole
                else f"<= {WAKEUP_TARGET_MS:.0f} ms and ratio <= {SAME_TARGET}",
                ok=same if whole else value <= WAKEUP_TARGET_MS and same,
            )
        )
    lines.append(
        figure(
            f"scale ({label}): RSS of python -m bot",
            rss_big,
            "MB",
            ratio=ratio(rss_big, rss_empty),
            reference=f"{rss_empty:.1f} MB with an empty database, {rss_big - rss_empty:+.1f} MB",
            target=f"< {RSS_TARGET_MB:.0f} MB more",
            ok=rss_big - rss_empty < RSS_TARGET_MB,
        )
    )
    lines.append(
        figure(
            f"scale ({label}): python -m bot start to first getUpdates",
            start_big,
            "s",
            ratio=ratio(start_big, start_empty),
            reference=f"{start_empty:.2f} s with an empty database",
            target=f"<= {START_TARGET_S:.0f} s",
            ok=start_big <= START_TARGET_S,
        )
    )
    return lines
