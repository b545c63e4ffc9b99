"""What an operator sees when `python -m bot` cannot start: one line naming what is wrong,
and a non-zero exit; or, while Telegram cannot be reached, one line per attempt until it can."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.db import open_database
from tests.fake_bot_api import FakeBotApi
from tests.fake_bot_api.server import TEST_TOKEN
from tests.utils.environment import clean_environment
from tests.utils.harness import start_bot
from tests.utils.subprocess_bot import run_python_m_bot

# A log line of the bot's at INFO or WARNING: no traceback, no error, nothing unformatted.
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING) [\w.]+: ")
# Nothing listens on port 9 (discard) of this machine's loopback.
UNREACHABLE = "http://127.0.0.1:9/bot"
# `python -m bot` as if psycopg were not installed: importing it fails as it would then.
WITHOUT_PSYCOPG = (
    "import sys; sys.modules['psycopg'] = None; from bot.__main__ import main; sys.exit(main())"
)


def start_env(database_url: str, base_url: str = UNREACHABLE) -> dict[str, str]:
    return clean_environment(
        TELEGRAM_BOT_TOKEN=TEST_TOKEN, TELEGRAM_BASE_URL=base_url, DATABASE_URL=database_url
    )


def assert_one_line_naming_database_url(result: subprocess.CompletedProcess, problem: str):
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: DATABASE_URL: ") and problem in lines[0], lines[0]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("garbage", "is not a database URL"),
        ("mysql+nosuchdriver://bot@db/followup", "unknown kind of database"),
        ("postgresql+pg8000://bot@db/followup", "needs the Python package pg8000"),
        ("sqlite:///{tmp}", "is a folder, not a database file"),
        ("sqlite:///{tmp}/a-file/followup.sqlite", "a-file is a file"),
    ],
)
def test_a_bad_database_url_is_one_line(tmp_path, url, problem):
    (tmp_path / "a-file").write_text("")
    result = run_python_m_bot(tmp_path, start_env(url.format(tmp=tmp_path)))
    assert_one_line_naming_database_url(result, problem)


def test_the_postgres_url_of_env_example_without_psycopg_says_what_to_install(tmp_path):
    env = start_env("postgresql+psycopg://followup:secret@db/followup")
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_PSYCOPG],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert_one_line_naming_database_url(
        result, "needs the Python package psycopg, which is not installed; install the postgres "
    )


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("followup.sqlite", "unable to open database file"),
        ("data/followup.sqlite", "Permission denied"),  # its folder cannot be made
    ],
)
def test_a_folder_the_bot_cannot_write_is_one_line(tmp_path, path, problem):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o555)
    result = run_python_m_bot(tmp_path, start_env(f"sqlite:///{folder / path}"), as_root=False)
    assert_one_line_naming_database_url(result, problem)


def test_a_read_only_database_file_is_one_line(tmp_path):
    database = tmp_path / "followup.sqlite"
    open_database(f"sqlite:///{database}").dispose()
    database.chmod(0o444)
    result = run_python_m_bot(tmp_path, start_env(f"sqlite:///{database}"), as_root=False)
    assert_one_line_naming_database_url(result, "attempt to write a readonly database")


# -- Telegram out of reach ---------------------------------------------------------------


class LoggedBot:
    """`python -m bot` in the background, its output in a file the test reads as it goes."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.log_path = tmp_path / "bot.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, stdout=log, stderr=log
            )

    def lines(self) -> list[str]:
        return self.log_path.read_text().splitlines()

    def wait_for(self, count: int, text: str, timeout: float = 20) -> None:
        """Wait until `count` lines of the output contain `text`."""
        deadline = time.monotonic() + timeout
        while sum(text in line for line in self.lines()) < count:
            assert self.process.poll() is None, "\n".join(self.lines())
            assert time.monotonic() < deadline, "\n".join(self.lines())
            time.sleep(0.05)

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(15)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_while_telegram_cannot_be_reached_the_bot_says_so_and_retries_until_it_can(tmp_path):
    port = free_port()
    bot = LoggedBot(
        tmp_path,
        start_env(f"sqlite:///{tmp_path / 'bot.sqlite'}", f"http://127.0.0.1:{port}/bot"),
    )
    try:
        bot.wait_for(2, "cannot reach Telegram")
        with FakeBotApi(port=port).start_in_thread() as handle:
            bot.wait_for(1, "bot started as @")
            handle.call(handle.server.wait_for, lambda: handle.server.requests, 10)
            assert bot.terminate() == 0
    finally:
        bot.kill()
    lines = bot.lines()
    attempts = [line for line in lines if "cannot reach Telegram" in line]
    assert "retrying in 1 s" in attempts[0] and "retrying in 2 s" in attempts[1]
    assert all(line.count("\n") == 0 and "Connect" in line for line in attempts)
    connected = next(i for i, line in enumerate(lines) if "Application started" in line)
    # Before it connects: where the data is, then one line per attempt; nothing else.
    assert lines[:connected] == [lines[0], *attempts] and "database: " in lines[0]
    assert all(LOG_LINE.match(line) for line in lines) and "alembic" not in "\n".join(lines)


def test_a_stop_signal_ends_the_waiting_for_telegram(tmp_path):
    bot = LoggedBot(tmp_path, start_env(f"sqlite:///{tmp_path / 'bot.sqlite'}"))
    try:
        bot.wait_for(1, "cannot reach Telegram")
        began = time.monotonic()
        assert bot.terminate() == 0
        assert time.monotonic() - began < 10
    finally:
        bot.kill()
    # No traceback, no error about connections left open.
    assert all(LOG_LINE.match(line) for line in bot.lines()), "\n".join(bot.lines())


async def test_the_bot_works_while_the_menus_are_still_being_published(fake_bot_api, tmp_path):
    """Publishing the menus (one call per staff member) must not hold back the start."""
    server = fake_bot_api
    server.fail_for(3600, methods=["setMyCommands"], timeout=True)  # each call hangs
    starting = asyncio.create_task(start_bot(server, tmp_path))
    try:
        server.add_user(4242, "Eve").send_text("/start")
        await server.next_message(4242, contains="ask your clinic for an invite link")
        assert not starting.done()  # the first menu is still waiting for an answer
    finally:
        server.outage_over()
        await (await starting).stop()
