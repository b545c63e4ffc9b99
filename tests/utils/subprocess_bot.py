"""`python -m bot` as a child process against the fake Bot API, for stop, crash and outage tests.

The fake runs in a thread (`FakeBotApi().start_in_thread()`); everything that touches it goes
through `handle.call`, so the helpers here are plain synchronous code.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from bot.keyboards import Action, BadCallback, Callback
from storage import repository as repo
from storage.db import make_engine, migrate, session_scope
from tests.fake_bot_api import BotMessage, ServerThread
from tests.utils.databases import database_url
from tests.utils.environment import clean_environment
from tests.utils.protocols import fast_protocol

READY_SECONDS = 20.0
_FILE_CAPS = "-dac_override,-dac_read_search,-fowner"
CHECK_IN_ACTIONS = frozenset({Action.ANSWER, Action.TOGGLE, Action.DONE, Action.SEVERITY})


def patient_ref(user_id: int) -> str:
    """The clinic reference of a seeded patient."""
    return f"MRN{user_id}"


# -- configuration ------------------------------------------------------------------------


def protocol_file(
    directory: Path,
    *,
    window_seconds: int = 120,
    steps: dict[str, dict[str, str]] | None = None,
) -> Path:
    """The fast protocol (hours become seconds), with some steps' durations replaced.

    `steps` maps a step id to {"offset" | "window" | "reminder": "10s"}.
    """
    path = fast_protocol(directory, window_seconds)
    text = path.read_text(encoding="utf-8")
    for step_id, fields in (steps or {}).items():
        start = text.index(f'id = "{step_id}"')
        end = text.find("[[", start)
        end = len(text) if end < 0 else end
        block = text[start:end]
        for key, value in fields.items():
            block, found = re.subn(
                rf'^{key} = "[^"]*"', f'{key} = "{value}"', block, count=1, flags=re.M
            )
            if not found:
                raise ValueError(f"step {step_id} has no {key}")
        text = text[:start] + block + text[end:]
    path.write_text(text, encoding="utf-8")
    return path


def bot_env(
    server, database: Path, protocol: Path, admin_ids: Iterable[int], **extra: str
) -> dict[str, str]:
    """The child's environment: the fake's URLs, the test's database, the admins, the protocol."""
    return clean_environment(
        TELEGRAM_BOT_TOKEN=server.token,
        TELEGRAM_BASE_URL=server.base_url,
        TELEGRAM_BASE_FILE_URL=server.base_file_url,
        DATABASE_URL=database_url(database),
        ADMIN_TELEGRAM_IDS=",".join(str(i) for i in admin_ids),
        PROTOCOL_FILE=str(protocol),
        CLINIC_TIMEZONE="UTC",
        DISPATCH_INTERVAL_SECONDS="3600",
        LOG_LEVEL="INFO",
        **extra,
    )


def seed_active_patients(database: Path, user_ids: Iterable[int], enrolled_by: int) -> None:
    """Patients MRN<id> who joined and consented already (Telegram user id = chat id)."""
    engine = make_engine(database_url(database))
    try:
        migrate(engine)
        now = datetime.now(UTC)
        with session_scope(engine) as session:
            for user_id in user_ids:
                patient = repo.create_patient(
                    session,
                    clinic_ref=patient_ref(user_id),
                    display_name=None,
                    timezone="UTC",
                    enrolled_by=enrolled_by,
                    now=now,
                )
                invite = repo.create_invite(
                    session,
                    token_hash=secrets.token_hex(32),
                    kind="patient",
                    created_by=enrolled_by,
                    now=now,
                    expires_at=now + timedelta(days=7),
                    patient_id=patient.id,
                )
                repo.link_patient(
                    session,
                    invite=invite,
                    user_id=user_id,
                    chat_id=user_id,
                    now=now,
                    consent_version="seeded by the test",
                )
    finally:
        engine.dispose()


class Database:
    """Reads the bot's database (while the bot runs, or after it is gone)."""

    def __init__(self, path: Path) -> None:
        self.engine = make_engine(database_url(path))

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def all(self, model, *where) -> list:
        with self.session() as session:
            # In id order: PostgreSQL, unlike SQLite, returns rows in no particular order.
            key = model.__table__.primary_key.columns
            return list(session.exec(select(model).where(*where).order_by(*key)))

    def close(self) -> None:
        self.engine.dispose()


def sleep_until(moment: datetime, margin: float = 0.3) -> None:
    """Sleep until `moment` (UTC) has passed by `margin` seconds."""
    delay = (moment - datetime.now(UTC)).total_seconds() + margin
    if delay > 0:
        time.sleep(delay)


# -- the process --------------------------------------------------------------------------

# Run as root, a child given this prefix loses root's right to ignore file permissions, so that
# an unwritable folder or a read-only file is what it is for anyone else.
WITHOUT_ROOT_FILE_ACCESS = (
    ["setpriv", f"--inh-caps={_FILE_CAPS}", f"--bounding-set={_FILE_CAPS}", "--"]
    if os.geteuid() == 0
    else []
)


def run_python_m_bot(
    cwd: Path, env: dict[str, str], *args: str, timeout: float = 30, as_root: bool = True
) -> subprocess.CompletedProcess:
    """`python -m bot [args]` to its end, its output captured; `as_root=False` runs it
    without root's power over file permissions."""
    prefix = [] if as_root else WITHOUT_ROOT_FILE_ACCESS
    return subprocess.run(
        [*prefix, sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class BotProcess:
    """`python -m bot` in a child process; every start appends its output to one log file."""

    def __init__(self, handle: ServerThread, cwd: Path, env: dict[str, str]) -> None:
        self.handle = handle
        self.server = handle.server
        self.cwd = cwd
        self.env = env
        self.log_path = cwd / "bot.log"
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.starts = 0

    def start(self, wait_ready: bool = True) -> None:
        """Start the bot; with `wait_ready`, return once it polls for updates."""
        polls = self._polls()
        with open(self.log_path, "ab") as log:
            log.write(f"---- start {self.starts + 1}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot"],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.started_at = time.monotonic()
        self.starts += 1
        if wait_ready:
            self.wait_ready(polls)

    def wait_ready(self, polls_before: int, timeout: float = READY_SECONDS) -> float:
        """Wait for the bot's first getUpdates; returns the seconds since the start."""
        deadline = self.started_at + timeout
        while self._polls() <= polls_before:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"the bot exited with {self.process.returncode}:\n{self.log()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot did not poll within {timeout}s:\n{self.log()}")
            time.sleep(0.02)
        return time.monotonic() - self.started_at

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """kill -9."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 10.0) -> tuple[int | None, float]:
        """SIGTERM; returns the exit code (None if still running after `timeout`) and seconds."""
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            code = None
        return code, time.monotonic() - began

    def ensure_stopped(self) -> None:
        """Kill the bot if a failed test left it running."""
        if self.alive:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _polls(self) -> int:
        return self.handle.call(
            lambda: sum(1 for call in self.server.requests if call.method == "getUpdates")
        )


# -- simulated patients -------------------------------------------------------------------


@dataclass(frozen=True)
class Press:
    """One button press a simulated patient made (the fake accepted it)."""

    user_id: int
    message_id: int
    label: str
    data: str
    query_id: str
    at: float

    @property
    def callback(self) -> Callback:
        return Callback.decode(self.data)


@dataclass
class Answerer:
    """Simulated patients who answer every check-in question they are shown, from a thread.

    Each looks at the newest of the bot's messages in their chat that has buttons and, once per
    state of that message, taps: the first button; on a checklist, the item `tick(user_id)`
    names (the first item when None or absent), then Done; on a severity question, the first.
    """

    handle: ServerThread
    user_ids: list[int]
    tick: Callable[[int], str | None] = lambda user_id: None
    interval: float = 0.05
    presses: list[Press] = field(default_factory=list)
    _acted: set[tuple[int, int, int]] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _error: BaseException | None = None

    def start(self) -> Answerer:
        self._thread = threading.Thread(target=self._run, name="answerer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop pressing; raises what went wrong in the thread, if anything did."""
        self.halt()
        if self._error is not None:
            raise self._error

    def halt(self) -> None:
        """Stop pressing (for cleanup after a failure)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.handle.call(self._step)
                self._stop.wait(self.interval)
        except BaseException as exc:  # reported by stop()
            self._error = exc

    def _step(self) -> None:
        """Runs on the fake's loop: look and press in one go."""
        server = self.handle.server
        for user_id in self.user_ids:
            message = newest_with_buttons(server.messages(user_id))
            if message is None:
                continue
            state = (user_id, message.message_id, len(message.edits))
            if state in self._acted:
                continue
            self._acted.add(state)
            label, data = self._choose(user_id, message)
            query_id = server.user(user_id).press(message, callback_data=data)
            self.presses.append(
                Press(user_id, message.message_id, label, data, query_id, time.monotonic())
            )

    def _choose(self, user_id: int, message: BotMessage) -> tuple[str, str]:
        buttons = [(label, data) for label, data in message.buttons if data]
        done = [b for b in buttons if b[0].startswith("Done (")]
        if done:
            return done[0]
        items = [b for b in buttons if b[0].startswith("☐ ")]
        if items:
            wanted = f"☐ {self.tick(user_id)}"
            return next((b for b in items if b[0] == wanted), items[0])
        return buttons[0]


class Typist:
    """Someone typing a numbered command steadily from a thread: `text(n)` for n = 1, 2, ..."""

    def __init__(self, handle: ServerThread, user, text: Callable[[int], str], every: float):
        self.handle, self.user, self.text, self.every = handle, user, text, every
        self.sent: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="typist", daemon=True)

    def start(self) -> Typist:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            text = self.text(len(self.sent) + 1)
            self.handle.call(self.user.send_text, text)
            self.sent.append(text)
            self._stop.wait(self.every)


def newest_with_buttons(messages: list[BotMessage]) -> BotMessage | None:
    """The newest message that has callback buttons."""
    for message in reversed(messages):
        if any(data for _, data in message.buttons):
            return message
    return None


def check_in_of(markup: dict | None) -> int | None:
    """The check-in a question message's buttons belong to."""
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            try:
                callback = Callback.decode(button.get("callback_data"))
            except BadCallback:
                continue
            if callback.action in CHECK_IN_ACTIONS:
                return callback.record_id
    return None


def versions(message: BotMessage) -> list[tuple[str, dict | None]]:
    """Every version of a message, oldest first, as (text, markup)."""
    return [(v.text or "", v.reply_markup) for v in message.edits] + [
        (message.text or "", message.reply_markup)
    ]


def labels(markup: dict | None) -> list[str]:
    """The labels of a markup's inline buttons."""
    return [b["text"] for row in (markup or {}).get("inline_keyboard", []) for b in row]


def first_version(message: BotMessage) -> tuple[str, dict | None]:
    """A message's text and markup as sent, before any edit."""
    if message.edits:
        return message.edits[0].text or "", message.edits[0].reply_markup
    return message.text or "", message.reply_markup


def repeated_questions(server, chat_ids: Iterable[int]) -> tuple[Counter, Counter]:
    """Question messages sent again, per check-in: (right after themselves, anywhere later).

    Runs on the fake's loop (through handle.call).
    """
    in_a_row: Counter = Counter()
    anywhere: Counter = Counter()
    for chat_id in chat_ids:
        previous = None
        seen: set[str] = set()
        for message in server.messages(chat_id, include_deleted=True):
            text, markup = first_version(message)
            check_in = check_in_of(markup)
            if check_in is not None:
                if text == previous:
                    in_a_row[check_in] += 1
                if text in seen:
                    anywhere[check_in] += 1
                seen.add(text)
            previous = text
    return in_a_row, anywhere
