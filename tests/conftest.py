"""Shared fixtures: the fake Bot API server and the bot under test."""

import os

os.environ.setdefault("PTB_TIMEDELTA", "true")

from tests.fake_bot_api.fixtures import fake_bot_api  # noqa: E402, F401
