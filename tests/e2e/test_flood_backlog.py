"""A flood waiting at Telegram is read to its end before the flooder's own updates are handled,
so that whoever wrote after the flood is not kept waiting behind it."""

from __future__ import annotations

from bot import locales
from storage.models import InboxUpdate, OutboxMessage
from tests.fake_bot_api import FakeBotApi
from tests.utils.harness import start_bot
from tests.utils.patients import add_active_patients

PATIENT, STRANGER = 1001, 6666
FLOOD = 150  # more than one getUpdates batch (100)


async def test_a_press_after_a_flood_is_handled_before_the_floods_admitted_messages(tmp_path):
    async with FakeBotApi() as server:
        bot = await start_bot(server, tmp_path)
        try:
            add_active_patients(bot, [PATIENT], infusion=False)
            stranger = server.add_user(STRANGER, "Eve")
            patient = server.user(PATIENT)
            patient.send_text("/report")
            checklist = await server.next_message(PATIENT, contains="Tick all that apply")
            for n in range(FLOOD):
                stranger.send_text(f"hello {n}")
            patient.press(checklist, button_text="☐ Chest pain")
            await server.wait_for(
                lambda: (
                    len(bot.all(InboxUpdate, InboxUpdate.chat_id == STRANGER)) == FLOOD
                    and all(u.handled_at for u in bot.all(InboxUpdate))
                )
            )
            rows = bot.all(OutboxMessage)
            # What the press queued: every message to the patient after the checklist itself.
            pressed = [r.id for r in rows if r.chat_id == PATIENT][1:]
            answered = [
                r.id for r in rows if r.text == locales.say("en", "stranger", user_id=STRANGER)
            ]
            # The flood's first 20 are still answered (within the limit), but after the press.
            assert pressed and len(answered) == 20
            assert max(pressed) < min(answered)
            outcomes = [u.outcome for u in bot.all(InboxUpdate, InboxUpdate.chat_id == STRANGER)]
            assert outcomes.count("handled") == 20
            assert outcomes.count("throttled") == FLOOD - 20
        finally:
            await bot.stop()


async def test_updates_held_back_in_a_flood_are_handled_after_a_restart(tmp_path):
    """Held-back updates live in memory only until they are let go; the inbox has them all,
    so a stop in between loses none and answers none twice."""
    async with FakeBotApi() as server:
        bot = await start_bot(server, tmp_path)
        stranger = server.add_user(STRANGER, "Eve")
        for n in range(FLOOD):
            stranger.send_text(f"hello {n}")
        try:
            await server.wait_for(
                lambda: len(bot.all(InboxUpdate, InboxUpdate.chat_id == STRANGER)) == FLOOD
            )
        finally:
            await bot.stop()  # at once: the admitted ones are most likely still held back
        bot = await start_bot(server, tmp_path, clock=bot.clock)
        try:
            await server.wait_for(lambda: all(u.handled_at for u in bot.all(InboxUpdate)))
            refusal = locales.say("en", "stranger", user_id=STRANGER)
            await server.wait_for(
                lambda: len([r for r in bot.all(OutboxMessage) if r.text == refusal]) == 20
            )
            outcomes = [u.outcome for u in bot.all(InboxUpdate, InboxUpdate.chat_id == STRANGER)]
            assert outcomes.count("handled") == 20
            assert outcomes.count("throttled") == FLOOD - 20
        finally:
            await bot.stop()
