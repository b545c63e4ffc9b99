"""`python -m bot health`, the container's health check: the database answers and the bot
polled Telegram successfully of late (the inbox writes the time down)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from storage import repository as repo
from storage.db import open_database, session_scope
from tests.fake_bot_api import FakeBotApi
from tests.utils.databases import database_url
from tests.utils.environment import clean_environment
from tests.utils.subprocess_bot import (
    BotProcess,
    Database,
    bot_env,
    protocol_file,
    run_python_m_bot,
)

ADMIN_ID = 7101


def health(tmp_path, env):
    return run_python_m_bot(tmp_path, env, "health")


def wait_until_healthy(tmp_path, env, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while (result := health(tmp_path, env)).returncode != 0:
        assert time.monotonic() < deadline, result.stderr
        time.sleep(0.2)
    return result


def test_healthy_while_the_bot_polls_and_not_once_its_last_poll_is_old(tmp_path):
    database = tmp_path / "bot.sqlite"
    with FakeBotApi().start_in_thread() as handle:
        env = bot_env(handle.server, database, protocol_file(tmp_path), [ADMIN_ID])
        bot = BotProcess(handle, tmp_path, env)
        try:
            bot.start()
            result = wait_until_healthy(tmp_path, env)
            assert bot.terminate()[0] == 0
        finally:
            bot.ensure_stopped()
    assert result.stdout.startswith("healthy: last successful poll of Telegram ")
    stored = Database(database)
    with session_scope(stored.engine) as session:
        polled_at = repo.last_poll(session)
        repo.record_last_poll(session, datetime.now(UTC) - timedelta(minutes=10))
    stored.close()
    assert abs(datetime.now(UTC) - polled_at) < timedelta(seconds=30)
    result = health(tmp_path, env)
    assert result.returncode == 1
    assert result.stderr.startswith("unhealthy: no successful poll of Telegram for 6")
    assert result.stderr.strip().endswith(" s (more than 120 s)")


def test_unhealthy_before_the_first_poll(tmp_path):
    url = database_url(tmp_path / "bot.sqlite")
    open_database(url).dispose()
    result = health(tmp_path, clean_environment(DATABASE_URL=url))
    assert result.returncode == 1
    assert result.stderr.strip() == "unhealthy: the bot has not fetched updates from Telegram yet"


def test_unhealthy_without_a_database_and_none_is_made(tmp_path):
    path = tmp_path / "data" / "bot.sqlite"
    result = health(tmp_path, clean_environment(DATABASE_URL=f"sqlite:///{path}"))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"unhealthy: database: there is no database file at {path} yet"
    )
    assert not path.parent.exists()


def test_unhealthy_when_the_database_server_does_not_answer(tmp_path):
    url = f"postgresql+psycopg://followup@/followup?host={tmp_path}"
    result = health(tmp_path, clean_environment(DATABASE_URL=url))
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("unhealthy: database: cannot read postgresql+psycopg://followup@/")
