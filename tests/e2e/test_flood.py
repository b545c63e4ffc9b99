"""One person flooding the bot slows nobody else down, and gets one "slow down"."""

from __future__ import annotations

import time

import pytest

from bot import locales
from bot.delivery import inbox
from bot.delivery.flood import FloodLimit
from bot.delivery.pacing import SendLimits
from storage.models import InboxUpdate, OutboxMessage
from tests.fake_bot_api import FakeBotApi
from tests.utils.harness import ADMIN_ID, start_bot
from tests.utils.patients import add_active_patients

PATIENT, STRANGER = 1001, 6666
SLOW_DOWN = locales.say("en", "slow_down")


@pytest.fixture
def an_hour_long_flood_window(monkeypatch):
    """The flood guard's 20 updates counted over an hour, not ten seconds: on a slow machine
    the first of a test's messages would otherwise leave the window before the last came."""
    monkeypatch.setattr(inbox, "FloodLimit", lambda: FloodLimit(seconds=3600))


async def test_a_flood_from_a_stranger_does_not_delay_an_emergency(tmp_path):
    async with FakeBotApi(enforce_limits=True) as server:
        bot = await start_bot(server, tmp_path, limits=SendLimits())
        try:
            server.add_user(ADMIN_ID, "Dana", started=True)
            add_active_patients(bot, [PATIENT], infusion=False)
            stranger = server.add_user(STRANGER, "Eve")
            patient = server.user(PATIENT)
            patient.send_text("/report")
            checklist = await server.next_message(PATIENT, contains="Tick all that apply")
            for n in range(200):
                stranger.send_text(f"hello {n}")
            started = time.monotonic()
            patient.press(checklist, button_text="☐ Chest pain")  # an emergency as ticked
            await server.next_message(PATIENT, contains="Call 112 now")
            await server.next_message(ADMIN_ID, contains="EMERGENCY alert")
            # Before: 197 s behind the stranger's replies. Now it does not wait for them.
            assert time.monotonic() - started < 5
            assert server.rate_limited == []
            await server.wait_for(
                lambda: (
                    len(bot.all(InboxUpdate, InboxUpdate.chat_id == STRANGER)) == 200
                    and all(u.handled_at for u in bot.all(InboxUpdate))
                )
            )
            outcomes = [u.outcome for u in bot.all(InboxUpdate, InboxUpdate.chat_id == STRANGER)]
            assert outcomes.count("throttled") >= 150
            await server.wait_for(
                lambda: locales.say("en", "slow_down") in server.sent_to(STRANGER), 10
            )
            assert server.sent_to(STRANGER).count(locales.say("en", "slow_down")) == 1
        finally:
            await bot.stop()


@pytest.mark.usefixtures("an_hour_long_flood_window")
async def test_a_flood_tripping_after_its_first_twenty_were_handled_still_gets_one_slow_down(
    bot, fake_bot_api
):
    server = fake_bot_api
    stranger = server.add_user(STRANGER, "Eve")
    for n in range(20):  # as many as a person may send in ten seconds: each is handled
        stranger.send_text(f"hello {n}")
    await server.wait_for(
        lambda: len(bot.all(InboxUpdate)) == 20 and all(u.handled_at for u in bot.all(InboxUpdate))
    )
    for n in range(20, 25):  # all of this batch is held back: nothing of it to let go
        stranger.send_text(f"hello {n}")
    await server.wait_for(lambda: SLOW_DOWN in server.sent_to(STRANGER))
    outcomes = [u.outcome for u in bot.all(InboxUpdate)]
    assert outcomes.count("throttled") == 5
    assert server.sent_to(STRANGER).count(SLOW_DOWN) == 1


@pytest.mark.usefixtures("an_hour_long_flood_window")
async def test_a_flood_in_a_group_is_held_back_without_a_slow_down_there(bot, fake_bot_api):
    server = fake_bot_api
    group = server.add_group(-100777, "Chatty")
    stranger = server.add_user(STRANGER, "Eve")
    for n in range(30):
        group.send_text(stranger, f"hello {n}")
    await server.wait_for(
        lambda: len(bot.all(InboxUpdate)) == 30 and all(u.handled_at for u in bot.all(InboxUpdate))
    )
    assert [u.outcome for u in bot.all(InboxUpdate)].count("throttled") == 10
    # The group's 20 were let go after the flood, and a slow-down would have been queued then.
    assert SLOW_DOWN not in [m.text for m in bot.all(OutboxMessage)]
