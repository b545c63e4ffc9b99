"""Blocked patients do not eat the staff group's 20-a-minute limit or hold up anyone's check-in."""

from __future__ import annotations

import time

from bot.delivery.pacing import SendLimits
from storage.models import Alert, Patient, PatientStatus
from tests.fake_bot_api import FakeBotApi
from tests.utils.harness import ADMIN_ID, start_bot
from tests.utils.patients import add_active_patients

GROUP = -100500


async def test_unreachable_patients_share_one_notice_and_delay_nobody(tmp_path):
    async with FakeBotApi(enforce_limits=True) as server:
        group = server.add_group(GROUP, "Staff", supergroup=True)
        bot = await start_bot(
            server, tmp_path, env={"STAFF_ALERT_CHAT_ID": str(GROUP)}, limits=SendLimits()
        )
        try:
            admin = server.add_user(ADMIN_ID, "Dana", started=True)
            patients = list(range(3001, 3031))
            blocked = patients[:10]
            add_active_patients(bot, patients)
            for user_id in blocked:
                server.block(user_id)
            started = time.monotonic()
            await bot.dispatch()
            reachable = [p for p in patients if p not in blocked]
            await server.wait_for(lambda: all(server.sent_to(p) for p in reachable))
            assert time.monotonic() - started < 3  # 20 messages at 30/s, nothing in the way
            await server.wait_for(
                lambda: (
                    {p.status for p in bot.all(Patient, Patient.telegram_user_id < 3011)}
                    == {PatientStatus.BLOCKED}
                )
            )
            bot.clock.advance(seconds=11)
            bot.running.sender.wake()
            notice = await server.next_message(GROUP, contains="cannot be delivered")
            assert "10 patients" in notice.text
            assert all(f"MRN{p}" in notice.text for p in blocked)
            assert len(server.sent_to(GROUP)) == 1 and server.rate_limited == []
            group.press(admin, notice, button_text="Acknowledge")
            await server.wait_for(
                lambda: "Acknowledged by" in server.message(GROUP, notice.message_id).text
            )
            alerts = bot.all(Alert, Alert.rule_id == "patient_unreachable")
            assert len(alerts) == 10 and all(a.acknowledged_by == ADMIN_ID for a in alerts)
        finally:
            await bot.stop()
