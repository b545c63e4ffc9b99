"""Pytest fixtures for the fake Bot API; import them into a conftest.py or a test module."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .server import TEST_TOKEN, FakeBotApi


@pytest_asyncio.fixture(name="fake_bot_api")
async def fake_bot_api() -> AsyncIterator[FakeBotApi]:
    """A started fake Bot API for TEST_TOKEN, stopped after the test."""
    async with FakeBotApi(token=TEST_TOKEN) as server:
        yield server
