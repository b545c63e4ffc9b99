"""`.env` and a relative SQLite path are both found from the current directory, wherever the
package itself lives (an editable install in a checkout, a regular one in site-packages, or
here a copy in a folder of its own that has a `.env` of its own)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bot.__main__ import main
from tests.utils.environment import CONFIGURATION_VARIABLES, ROOT, clean_environment

TOKEN = "123456:" + "T" * 35


def package_copy(tmp_path: Path) -> Path:
    """The bot's packages in a folder of their own, with a `.env` beside them."""
    source = tmp_path / "installed"
    for package in ("bot", "storage"):
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    (source / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nDATABASE_URL=sqlite:///beside-the-package.sqlite\n"
    )
    return source


def check_with(source: Path, cwd: Path, **settings: str) -> str:
    """What `python -m bot check` prints, run from `cwd` with the packages in `source`."""
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        cwd=cwd,
        env=clean_environment(PYTHONPATH=str(source), **settings),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert f"protocol file: {source}" in result.stdout  # the copy ran, not the checkout
    return result.stdout


def test_a_dotenv_beside_the_package_is_never_read(tmp_path):
    source = package_copy(tmp_path)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    output = check_with(source, cwd)
    assert "token: not set" in output
    assert f"database: {cwd / 'data' / 'followup.sqlite'}" in output


def test_dotenv_and_a_relative_database_path_come_from_the_current_directory(tmp_path):
    source = package_copy(tmp_path)
    cwd = tmp_path / "clinic"
    cwd.mkdir()
    (cwd / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nDATABASE_URL=sqlite:///records/clinic.sqlite\n"
    )
    output = check_with(source, cwd)
    assert "token: set" in output
    assert f"database: {cwd / 'records' / 'clinic.sqlite'}" in output
    assert TOKEN not in output


def test_the_environment_wins_over_dotenv(tmp_path):
    source = package_copy(tmp_path)
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite:///from-dotenv.sqlite\n")
    output = check_with(source, tmp_path, DATABASE_URL="sqlite:///from-environment.sqlite")
    assert f"database: {tmp_path / 'from-environment.sqlite'}" in output


def test_tests_see_no_bot_setting_and_no_dotenv(capsys):
    """The suite's own guard (tests/conftest.py): a developer's settings never leak in."""
    assert not CONFIGURATION_VARIABLES & os.environ.keys()
    assert not (Path.cwd() / ".env").exists()
    assert main(["check"]) == 0
    assert "token: not set" in capsys.readouterr().out
