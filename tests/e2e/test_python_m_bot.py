"""`python -m bot` in a subprocess, pointed at the fake Bot API by TELEGRAM_BASE_URL."""

import signal
import subprocess
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import repository as repo
from storage.db import open_database, session_scope
from tests.fake_bot_api import FakeBotApi
from tests.utils.checkins import NONE_OF_THESE, SEND, SUMMARY, THANKS, press_answer
from tests.utils.databases import database_url, on_postgres
from tests.utils.environment import clean_environment
from tests.utils.invites import invite_link
from tests.utils.protocols import approved_protocol, fast_protocol
from tests.utils.subprocess_bot import Database, run_python_m_bot

ROOT = Path(__file__).resolve().parents[2]
ADMIN_ID, PATIENT_ID = 7001, 7002
REFUSED_TOKEN = "123456:refused-token-for-tests-only-xyz"
FREE_TEXT = "my knees ache and I slept badly"


def bot_env(server, tmp_path: Path, **extra: str) -> dict[str, str]:
    settings = dict(
        TELEGRAM_BOT_TOKEN=server.token,
        TELEGRAM_BASE_URL=server.base_url,
        TELEGRAM_BASE_FILE_URL=server.base_file_url,
        DATABASE_URL=database_url(tmp_path / "bot.sqlite"),
        ADMIN_TELEGRAM_IDS=str(ADMIN_ID),
        # A reminder 2 s after the evening check-in would race the test's tap on it.
        PROTOCOL_FILE=str(fast_protocol(tmp_path, reminder_seconds=90)),
        DISPATCH_INTERVAL_SECONDS="1",
    )
    return clean_environment(**{**settings, **extra})


def test_help_lists_the_commands_and_exits_0(tmp_path):
    result = run_python_m_bot(tmp_path, clean_environment(), "--help")
    assert result.returncode == 0, result.stderr
    for command in ("run", "check", "health", "--version"):
        assert command in result.stdout


def test_version_is_the_installed_package_version(tmp_path):
    result = run_python_m_bot(tmp_path, clean_environment(), "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"python -m bot {version('infusion-followup-bot')}"


def test_the_followup_bot_console_script_runs_the_same_cli(tmp_path):
    script = Path(sys.executable).parent / "followup-bot"
    result = subprocess.run(
        [script, "check", "--help"], cwd=tmp_path, env=clean_environment(), capture_output=True
    )
    assert result.returncode == 0, result.stderr
    assert b"--strict" in result.stdout and b"--connect" in result.stdout


def test_an_unknown_command_is_a_usage_error(tmp_path):
    result = run_python_m_bot(tmp_path, clean_environment(), "serve")
    assert result.returncode == 2
    assert "invalid choice: 'serve'" in result.stderr


def test_python_m_bot_without_a_token_says_what_to_do(tmp_path):
    result = run_python_m_bot(tmp_path, clean_environment())
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: TELEGRAM_BOT_TOKEN: is not set; put the token from @BotFather in .env "
        "(see .env.example)"
    ]


def test_a_broken_protocol_names_the_file_and_key(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text(
        (ROOT / "bot" / "default_protocol.toml")
        .read_text()
        .replace('window = "2h"', 'window = "2 hours"')
    )
    result = run_python_m_bot(tmp_path, clean_environment(PROTOCOL_FILE=str(broken)), "check")
    assert result.returncode == 1
    assert str(broken) in result.stderr and "steps[0] (baseline).window" in result.stderr
    assert "Traceback" not in result.stderr


def test_python_m_bot_check_prints_schedule_and_rules(tmp_path):
    result = run_python_m_bot(tmp_path, clean_environment(), "check")
    assert result.returncode == 0, result.stderr
    for expected in (
        f"database: {tmp_path / 'data' / 'followup.sqlite'}",
        "baseline",
        "evening",
        "+4h",
        "week_8",
        "emergency chest_pain",
        "urgent    missed_early_check_in",
        "review    relief_wearing_off",
    ):
        assert expected in result.stdout
    assert not (tmp_path / "data").exists()  # checking creates nothing


def test_check_connect_says_what_the_database_holds(tmp_path):
    url = database_url(tmp_path / "bot.sqlite")
    env = clean_environment(DATABASE_URL=url)
    before = run_python_m_bot(tmp_path, env, "check", "--connect")
    assert before.returncode == 0, before.stderr
    expected = "connected; no tables yet" if on_postgres() else "no database file yet"
    assert f"database state: {expected}" in before.stdout
    open_database(url).dispose()
    after = run_python_m_bot(tmp_path, env, "check", "--connect")
    assert after.returncode == 0, after.stderr
    assert "database state: connected; schema up to date (revision " in after.stdout


def warnings_of(output: str) -> list[str]:
    """The lines under check's "Warnings:" heading."""
    return output.split("Warnings:\n", 1)[1].splitlines() if "Warnings:\n" in output else []


def test_check_lists_the_warnings_and_strict_fails_on_them(tmp_path):
    result = run_python_m_bot(tmp_path, clean_environment(), "check")
    assert result.returncode == 0, result.stderr
    warnings = warnings_of(result.stdout)
    assert any("is not approved" in w for w in warnings)
    assert any(w.startswith("  - nobody receives alerts") for w in warnings)
    strict = run_python_m_bot(tmp_path, clean_environment(), "check", "--strict")
    assert strict.returncode == 1
    assert strict.stdout == result.stdout
    assert strict.stderr.strip() == (
        f"error: {len(warnings)} warning(s), and --strict makes each one an error"
    )


def test_check_strict_passes_a_configuration_ready_for_patients(tmp_path):
    env = clean_environment(
        PROTOCOL_FILE=str(approved_protocol(tmp_path)), ADMIN_TELEGRAM_IDS=str(ADMIN_ID)
    )
    result = run_python_m_bot(tmp_path, env, "check", "--strict")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("Warnings: none")


def test_check_connect_counts_the_staff_the_database_knows(tmp_path):
    url = database_url(tmp_path / "bot.sqlite")
    env = clean_environment(DATABASE_URL=url, PROTOCOL_FILE=str(approved_protocol(tmp_path)))
    engine = open_database(url)
    with session_scope(engine) as session:
        repo.add_staff_member(
            session, user_id=ADMIN_ID, role="clinician", name=None, now=datetime.now(UTC)
        )
    engine.dispose()
    offline = run_python_m_bot(tmp_path, env, "check")
    assert [w for w in warnings_of(offline.stdout) if "nobody receives alerts" in w]
    connected = run_python_m_bot(tmp_path, env, "check", "--connect")
    assert connected.returncode == 0, connected.stderr
    assert connected.stdout.rstrip().endswith("Warnings: none")


def test_check_connect_fails_in_one_line_when_the_server_is_not_there(tmp_path):
    url = f"postgresql+psycopg://followup@/followup?host={tmp_path / 'no-server-here'}"
    result = run_python_m_bot(tmp_path, clean_environment(DATABASE_URL=url), "check", "--connect")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: DATABASE_URL: cannot read postgresql+psycopg://followup@/")


def test_a_token_telegram_refuses_gets_one_line_without_the_token(tmp_path):
    with FakeBotApi(token="999:another-token-the-fake-does-not-know").start_in_thread() as handle:
        env = bot_env(handle.server, tmp_path, TELEGRAM_BOT_TOKEN=REFUSED_TOKEN)
        result = run_python_m_bot(tmp_path, env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: TELEGRAM_BOT_TOKEN was refused by Telegram"
    )
    assert REFUSED_TOKEN.split(":")[1] not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) <= 3, result.stderr  # database, stopping, error


@pytest.mark.timeout(90)
def test_whole_loop_with_the_bot_in_a_subprocess(tmp_path):
    with FakeBotApi().start_in_thread() as handle:
        server = handle.server
        admin = handle.call(server.add_user, ADMIN_ID, "Dana", started=True)
        log_file = tmp_path / "bot.log"
        with log_file.open("w") as log:
            # At DEBUG, our lines and the libraries' (LIBRARY_LOG_LEVEL stays INFO) together.
            process = subprocess.Popen(
                [sys.executable, "-m", "bot"],
                cwd=tmp_path,
                env=bot_env(server, tmp_path, LOG_LEVEL="DEBUG"),
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
            try:
                run_loop(handle, server, admin)
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=15)
                print(log_file.read_text()[-4000:])  # shown by pytest when the test fails
        output = log_file.read_text()
        assert "DEBUG" in output and process.returncode == 0
        # Neither the token nor anything about the patient is in the log.
        for secret in (server.token, server.token.split(":")[1], "MRN77", "Zebediah", "Dana"):
            assert secret not in output
        assert FREE_TEXT not in output and "Your answer" not in output
    database = Database(tmp_path / "bot.sqlite")
    with database.engine.connect() as connection:
        alerts = connection.execute(
            text("SELECT rule_id, acknowledged_by FROM alert ORDER BY id")
        ).all()
    database.close()
    assert alerts == [("patient_words", None), ("chest_pain", ADMIN_ID)]


def run_loop(handle, server, admin):
    def next_message(chat_id, contains, timeout=20):
        return handle.call(server.next_message, chat_id, contains, timeout=timeout)

    def tap(user, chat_id, contains, button, message=None):
        message = message or next_message(chat_id, contains)
        handle.call(press_answer, user, message, button)
        return message

    def first_since(chat_id, first, contains, timeout=20):
        """The first bot message at or after `first` (by id) that contains `contains`, even
        if one that next_message returned came after it."""
        return handle.call(
            server.wait_for,
            lambda: next(
                (
                    m
                    for m in server.messages(chat_id)
                    if m.message_id >= first and contains in (m.text or "")
                ),
                None,
            ),
            timeout,
        )

    handle.call(admin.send_text, "/enroll MRN77")
    _, token = invite_link(next_message(ADMIN_ID, "t.me/").text)
    patient = handle.call(server.add_user, PATIENT_ID, "Zebediah")
    handle.call(patient.send_text, f"/start {token}")
    tap(patient, PATIENT_ID, "Do you agree", "I agree")
    next_message(ADMIN_ID, "MRN77 has joined")
    handle.call(patient.send_text, FREE_TEXT)
    next_message(PATIENT_ID, "has gone to the clinic team")
    relayed = next_message(ADMIN_ID, "Message from the patient")
    assert FREE_TEXT in relayed.text  # staff read the words; the log never does
    handle.call(admin.send_text, "/infusion MRN77")
    baseline = tap(patient, PATIENT_ID, "How bad is your pain right now", "7")
    tap(patient, PATIENT_ID, "Average pain over the last 24 hours", "7")
    tap(patient, PATIENT_ID, "sleep quality", "Poor")
    tap(patient, PATIENT_ID, "Mood today", "4")
    tap(patient, PATIENT_ID, "Yellow skin/eyes", NONE_OF_THESE)
    tap(patient, PATIENT_ID, SUMMARY, SEND)
    next_message(PATIENT_ID, THANKS)
    # The evening check-in is due 4 s after the infusion in the fast protocol: on a busy
    # machine it can arrive while the baseline is still being answered, before the thanks.
    evening = first_since(PATIENT_ID, baseline.message_id, "Evening check-in")
    tap(patient, PATIENT_ID, "Evening check-in", "3", message=evening)
    checklist = next_message(PATIENT_ID, "Tick all that apply")
    handle.call(patient.press, checklist, button_text="☐ Chest pain")
    next_message(PATIENT_ID, "Call 112 now")
    alert = next_message(ADMIN_ID, "EMERGENCY alert")
    handle.call(admin.press, alert, button_text="Acknowledge")
    handle.call(
        server.wait_for,
        lambda: "Acknowledged by" in server.message(ADMIN_ID, alert.message_id).text,
        10,
    )
