"""Shared fixtures: the fake Bot API server, the bot under test, a clean environment.

No test sees the developer's settings: every variable `.env.example` lists is unset for each
test, and each test runs in an empty folder of its own, so no `.env` is found either.
TEST_DATABASE_URL is kept: it chooses the database server (tests/utils/databases.py).
"""

import os

import pytest

os.environ.setdefault("PTB_TIMEDELTA", "true")

from tests.fake_bot_api.fixtures import fake_bot_api  # noqa: E402, F401
from tests.utils import databases  # noqa: E402
from tests.utils.environment import CONFIGURATION_VARIABLES  # noqa: E402


@pytest.fixture(autouse=True)
def hermetic(monkeypatch, tmp_path_factory):
    """No bot setting in the environment, and an empty current directory."""
    for name in CONFIGURATION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    yield
    databases.drop_created()
