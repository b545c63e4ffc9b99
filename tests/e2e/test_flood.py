"""One person flooding the bot slows nobody else down, and gets one "slow down"."""

from __future__ import annotations

import time

from bot import locales
from bot.delivery.pacing import SendLimits
from storage.models import InboxUpdate
from tests.fake_bot_api import FakeBotApi
from tests.utils.harness import ADMIN_ID, start_bot
from tests.utils.patients import add_active_patients

PATIENT, STRANGER = 1001, 6666


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
