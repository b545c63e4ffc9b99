"""What goes wrong on the way to Telegram stays contained: each failure is recorded on its
message, routed around when it concerns staff, and never stops the other messages."""

from __future__ import annotations

import time

from bot.services.alerts import STAFF_GROUP_SETTING
from storage.models import (
    Alert,
    AlertDelivery,
    AuditEvent,
    BotSetting,
    OutboxMessage,
    OutboxStatus,
)
from tests.fake_bot_api import FakeBotApi, FakeUser
from tests.utils.harness import ADMIN_ID, BotUnderTest, start_bot
from tests.utils.patients import add_active_patients

GROUP = -100500
PATIENT = 1001


async def group_bot(server: FakeBotApi, tmp_path, group_type: bool = True) -> BotUnderTest:
    server.add_group(GROUP, "Staff", supergroup=not group_type)
    return await start_bot(server, tmp_path, env={"STAFF_ALERT_CHAT_ID": str(GROUP)})


async def report_chest_pain(server: FakeBotApi, patient: FakeUser) -> None:
    """The patient reports chest pain with /report: an emergency alert as it is ticked."""
    patient.send_text("/report")
    checklist = await server.next_message(patient.user_id, contains="Tick all that apply")
    patient.press(checklist, button_text="☐ Chest pain")
    await server.next_message(patient.user_id, contains="Call 112 now")


async def test_a_group_without_the_right_to_post_reroutes_alerts_to_admins(fake_bot_api, tmp_path):
    server = fake_bot_api
    bot = await group_bot(server, tmp_path)
    try:
        admin = server.add_user(ADMIN_ID, "Dana", started=True)
        add_active_patients(bot, [PATIENT], infusion=False)
        server.restrict_bot(GROUP)
        lost = await server.next_message(ADMIN_ID, contains="can no longer post alerts")
        assert "may not post" in lost.text
        await report_chest_pain(server, server.user(PATIENT))
        private = await server.next_message(ADMIN_ID, contains="EMERGENCY alert")
        assert "staff group could not take it" in private.text
        assert "may not post there" in private.text
        await server.wait_for(lambda: bot.all(Alert)[0].staff_notified_at)
        [failed] = bot.all(OutboxMessage, OutboxMessage.chat_id == GROUP)
        assert (
            failed.status == OutboxStatus.FAILED
            and "not enough rights" in failed.last_error.lower()
        )
        assert [d.chat_id for d in bot.all(AlertDelivery)] == [ADMIN_ID]
        # The rerouted copy carries the button, and acknowledging it works.
        admin.press(private, button_text="Acknowledge")
        await server.wait_for(
            lambda: "Acknowledged by" in server.message(ADMIN_ID, private.message_id).text
        )
        assert "staff_group_lost" in {e.action for e in bot.all(AuditEvent)}
    finally:
        await bot.stop()


async def test_a_group_upgraded_to_a_supergroup_gets_the_alert_at_its_new_id(
    fake_bot_api, tmp_path
):
    server = fake_bot_api
    bot = await group_bot(server, tmp_path, group_type=True)
    try:
        server.add_user(ADMIN_ID, "Dana", started=True)
        add_active_patients(bot, [PATIENT], infusion=False)
        supergroup = server.migrate_group(GROUP, -1009876543210)
        await report_chest_pain(server, server.user(PATIENT))
        alert = await server.next_message(supergroup.chat_id, contains="EMERGENCY alert")
        assert "MRN1001" in alert.text
        [setting] = bot.all(BotSetting, BotSetting.key == STAFF_GROUP_SETTING)
        assert setting.value == str(supergroup.chat_id)
        [delivery] = await server.wait_for(lambda: bot.all(AlertDelivery))
        assert delivery.chat_id == supergroup.chat_id
        assert server.sent_to(ADMIN_ID) == []  # nothing needed rerouting
    finally:
        await bot.stop()


async def test_a_kicked_bot_tells_admins_and_alerts_reach_them_privately(fake_bot_api, tmp_path):
    server = fake_bot_api
    bot = await group_bot(server, tmp_path)
    try:
        server.add_user(ADMIN_ID, "Dana", started=True)
        add_active_patients(bot, [PATIENT], infusion=False)
        server.kick_bot(GROUP)
        await server.next_message(ADMIN_ID, contains="can no longer post alerts")
        await report_chest_pain(server, server.user(PATIENT))
        private = await server.next_message(ADMIN_ID, contains="EMERGENCY alert")
        assert "removed from the group" in private.text
        # Counted as delivered only through the copy that came back with a message id.
        deliveries = await server.wait_for(lambda: bot.all(AlertDelivery))
        assert [d.chat_id for d in deliveries] == [ADMIN_ID]
    finally:
        await bot.stop()


async def test_a_mistyped_staff_group_id_sends_alerts_to_admins(fake_bot_api, tmp_path):
    server = fake_bot_api
    bot = await start_bot(server, tmp_path, env={"STAFF_ALERT_CHAT_ID": "-4242"})
    try:
        server.add_user(ADMIN_ID, "Dana", started=True)
        add_active_patients(bot, [PATIENT], infusion=False)
        await report_chest_pain(server, server.user(PATIENT))
        private = await server.next_message(ADMIN_ID, contains="EMERGENCY alert")
        assert "check STAFF_ALERT_CHAT_ID" in private.text
    finally:
        await bot.stop()


async def test_a_group_failing_for_over_a_minute_is_routed_around_and_caught_up(
    fake_bot_api, tmp_path
):
    server = fake_bot_api
    bot = await group_bot(server, tmp_path)
    try:
        server.add_user(ADMIN_ID, "Dana", started=True)
        add_active_patients(bot, [PATIENT], infusion=False)
        patient = server.user(PATIENT)
        patient.send_text("/report")
        checklist = await server.next_message(PATIENT, contains="Tick all that apply")
        server.fail_for(60, status=502, chats=[GROUP])
        patient.press(checklist, button_text="☐ Chest pain")
        await server.wait_for_message(PATIENT, contains="Call 112 now")
        # Retried with backoff; after a minute of failures the admins get it privately.
        for attempts in range(1, 4):
            await server.wait_for(lambda n=attempts: group_attempts(bot) >= n)
            assert server.sent_to(ADMIN_ID) == []
            bot.clock.advance(seconds=20)
            bot.running.sender.wake()
        private = await server.wait_for_message(ADMIN_ID, contains="EMERGENCY alert")
        assert "Telegram kept failing" in private.text
        server.outage_over()
        bot.clock.advance(seconds=70)
        bot.running.sender.wake()
        await server.wait_for_message(GROUP, contains="EMERGENCY alert")
        assert len(server.sent_to(ADMIN_ID)) == 1  # rerouted once, not on every failure
        group_row = await server.wait_for(
            lambda: bot.all(
                OutboxMessage, OutboxMessage.chat_id == GROUP, OutboxMessage.message_id.is_not(None)
            )
        )
        assert group_row[0].status == OutboxStatus.SENT and group_row[0].attempts >= 3
    finally:
        await bot.stop()


def group_attempts(bot: BotUnderTest) -> int:
    rows = bot.all(OutboxMessage, OutboxMessage.chat_id == GROUP)
    return rows[0].attempts if rows else 0


async def test_one_refused_message_does_not_hold_up_the_others(fake_bot_api, tmp_path):
    server = fake_bot_api
    bot = await start_bot(server, tmp_path)
    try:
        patients = [2001, 2002, 2003, 2004, 2005]
        add_active_patients(bot, patients)
        server.fail_next("sendMessage", 400, description="Bad Request: can't parse entities")
        await bot.dispatch()
        await server.wait_for(
            lambda: (
                sum(bool(server.sent_to(p)) for p in patients) == 4
                and len(bot.all(OutboxMessage, OutboxMessage.status == OutboxStatus.FAILED)) == 1
            )
        )
        [failed] = bot.all(OutboxMessage, OutboxMessage.status == OutboxStatus.FAILED)
        assert failed.attempts == 1 and "can't parse entities" in failed.last_error.lower()
        await bot.dispatch()  # nothing is retried or sent twice
        assert sum(len(server.sent_to(p)) for p in patients) == 4
    finally:
        await bot.stop()


async def test_telegram_asking_to_wait_is_obeyed_for_that_chat(fake_bot_api, tmp_path):
    server = fake_bot_api
    bot = await start_bot(server, tmp_path)
    try:
        add_active_patients(bot, [PATIENT, PATIENT + 1], infusion=False)
        server.fail_next("sendMessage", 429, retry_after=2)
        server.user(PATIENT).send_text("/report")
        await server.wait_for(lambda: server.rate_limited)
        refused_at = time.monotonic()
        [row] = await server.wait_for(lambda: bot.all(OutboxMessage, OutboxMessage.attempts == 1))
        assert row.status == OutboxStatus.PENDING and row.last_error == "429"
        # Another chat is not held up meanwhile.
        server.user(PATIENT + 1).send_text("/report")
        await server.next_message(PATIENT + 1, contains="Tick all that apply")
        bot.clock.advance(seconds=2)
        bot.running.sender.wake()
        await server.next_message(PATIENT, contains="Tick all that apply")
        assert time.monotonic() - refused_at >= 1.9  # the wait Telegram asked for
        assert len(server.rate_limited) == 1
    finally:
        await bot.stop()
