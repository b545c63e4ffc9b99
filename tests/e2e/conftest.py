"""The bot under test, started for a test and stopped after it."""

import pytest

from tests.utils.harness import start_bot


@pytest.fixture
async def bot(fake_bot_api, tmp_path):
    """The real bot polling the fake Bot API, with the bundled protocol and a fake clock."""
    running = await start_bot(fake_bot_api, tmp_path)
    yield running
    await running.stop()
