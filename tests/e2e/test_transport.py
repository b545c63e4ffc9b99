"""The bot's HTTP client (bot.delivery.transport) against the fake Bot API: PTB's answers and
exceptions come out as with PTB's own client."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.delivery.transport import AiohttpRequest
from tests.fake_bot_api import FakeBotApi

# Imported under another name so test parameters do not shadow it; pytest registers it as
# "fake_bot_api" all the same.
from tests.fake_bot_api.fixtures import fake_bot_api as _fake_bot_api_fixture  # noqa: F401

ANN = 1001


def bot_on(server: FakeBotApi, request: AiohttpRequest | None = None) -> Bot:
    """A PTB Bot for the fake that makes every call, getUpdates too, with AiohttpRequest."""
    request = request or AiohttpRequest(4)
    return server.make_bot(request=request, get_updates_request=request)


@pytest.mark.asyncio
@pytest.mark.timeout(10)
async def test_calls_updates_and_documents_go_through(fake_bot_api: FakeBotApi) -> None:
    ann = fake_bot_api.add_user(ANN, started=True)
    ann.send_text("hello")
    async with bot_on(fake_bot_api) as bot:
        [update] = await bot.get_updates()
        sent = await bot.send_message(ANN, "Ünïcode & spaces = fine")
        await bot.send_document(ANN, document=b"day,pain\n1,3\n", filename="report.csv")
    assert update.message.text == "hello"
    assert sent.text == "Ünïcode & spaces = fine"
    assert fake_bot_api.sent_to(ANN)[0] == "Ünïcode & spaces = fine"
    [document] = fake_bot_api.documents(ANN)
    assert (document.filename, document.data) == ("report.csv", b"day,pain\n1,3\n")


@pytest.mark.asyncio
@pytest.mark.timeout(10)
async def test_telegram_errors_are_ptbs_exceptions(fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.add_user(ANN, started=True)
    fake_bot_api.fail_next("sendMessage", status=429, retry_after=3)
    fake_bot_api.fail_next("sendMessage", status=502)
    fake_bot_api.drop_next("sendMessage")
    async with bot_on(fake_bot_api) as bot:
        with pytest.raises(RetryAfter):
            await bot.send_message(ANN, "too fast")
        with pytest.raises(NetworkError):
            await bot.send_message(ANN, "bad gateway")
        with pytest.raises(NetworkError):
            await bot.send_message(ANN, "dropped")
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.send_message(ANN + 1, "nobody")
        fake_bot_api.block(ANN)
        with pytest.raises(Forbidden):
            await bot.send_message(ANN, "blocked")
    assert fake_bot_api.sent_to(ANN) == []


@pytest.mark.asyncio
@pytest.mark.timeout(10)
async def test_a_call_left_unanswered_times_out_and_a_long_poll_does_not(
    fake_bot_api: FakeBotApi,
) -> None:
    fake_bot_api.add_user(ANN, started=True)
    async with bot_on(fake_bot_api, AiohttpRequest(4, read_timeout=0.3)) as bot:
        began = time.monotonic()
        assert await bot.get_updates(timeout=1) == ()  # 1 s, longer than the read timeout
        polled = time.monotonic() - began
        fake_bot_api.fail_for(30, timeout=True)
        began = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.send_message(ANN, "lost")
        waited = time.monotonic() - began
        fake_bot_api.outage_over()
        await bot.send_message(ANN, "back")
    assert polled >= 0.9
    assert 0.25 <= waited < 2
    assert fake_bot_api.sent_to(ANN) == ["back"]


@pytest.mark.asyncio
@pytest.mark.timeout(10)
async def test_nobody_listening_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest(1)
    bot = Bot("1:x", base_url=f"http://127.0.0.1:{port}/bot", request=request)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await bot.send_message(ANN, "anyone?")
        assert not isinstance(raised.value, TimedOut)
    finally:
        await request.shutdown()


@pytest.mark.asyncio
@pytest.mark.timeout(10)
async def test_more_calls_than_connections_wait_their_turn(fake_bot_api: FakeBotApi) -> None:
    fake_bot_api.add_user(ANN, started=True)
    async with bot_on(fake_bot_api, AiohttpRequest(2)) as bot:
        await asyncio.gather(*(bot.send_message(ANN, f"n{i}") for i in range(20)))
    assert sorted(fake_bot_api.sent_to(ANN)) == sorted(f"n{i}" for i in range(20))
