"""Alerts never wait behind routine messages, and those that queue for one staff chat go out
together, each still acknowledged on its own."""

from __future__ import annotations

import asyncio

import pytest

from bot.delivery.pacing import SendLimits
from storage.models import Alert, AlertDelivery, OutboxMessage
from tests.fake_bot_api import FakeBotApi, methods
from tests.utils.harness import ADMIN_ID, BotUnderTest, start_bot
from tests.utils.patients import add_active_patients

PATIENTS = [1001, 1002, 1003, 1004]
WORDS = ["my back hurts", "my knee hurts", "I have chest pain", "my arm is sore"]
GROUP = -100500
DUE = list(range(2001, 2121))  # four seconds of check-ins at 30 messages a second


def staff_rows(bot: BotUnderTest, chat_id: int = ADMIN_ID) -> list[OutboxMessage]:
    return bot.all(OutboxMessage, OutboxMessage.chat_id == chat_id)


async def hold_staff_chat_while(
    bot: BotUnderTest, server: FakeBotApi, words: list[str], chat_id: int = ADMIN_ID
) -> None:
    """The staff chat fails, so that the first patient's alert waits out a backoff and the
    others queue behind it; then the first alert's backoff is over."""
    server.fail_for(60, status=502, chats=[chat_id])
    first, *others = PATIENTS
    server.user(first).send_text(words[0])
    await server.wait_for(lambda: [r.attempts for r in staff_rows(bot, chat_id)] == [1])
    for user_id, text in zip(others, words[1:], strict=True):
        server.user(user_id).send_text(text)
    await server.wait_for(lambda: len(staff_rows(bot, chat_id)) == len(PATIENTS))
    bot.clock.advance(minutes=2)


def answer_again(bot: BotUnderTest, server: FakeBotApi) -> None:
    server.outage_over()
    bot.running.sender.wake()


def heading(message) -> str:
    """The first line of a staff message, without its emoji."""
    return message.text.splitlines()[0].split(" ", 1)[1]


def staff_alert_messages(server: FakeBotApi) -> list:
    return [m for m in server.user(ADMIN_ID).messages() if " alert #" in m.text]


async def test_alerts_waiting_for_a_staff_chat_share_a_message_and_each_keeps_its_button(
    bot, fake_bot_api
):
    server = fake_bot_api
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, PATIENTS, infusion=False)
    await hold_staff_chat_while(bot, server, WORDS)
    answer_again(bot, server)
    await server.wait_for(lambda: len(staff_alert_messages(server)) == 2)
    alone, together = staff_alert_messages(server)
    first, back, chest, arm = sorted(bot.all(Alert), key=lambda a: a.patient_id)
    assert heading(alone) == f"Review alert #{first.id}" and len(alone.buttons) == 1
    # The emergency heads the message; every alert is there as it would read alone.
    assert heading(together) == f"EMERGENCY alert #{chest.id}"
    for alert, ref in ((back, "MRN1002"), (chest, "MRN1003"), (arm, "MRN1004")):
        assert f"alert #{alert.id}\nPatient: {ref}" in together.text
    assert [label for label, _ in together.buttons] == [
        f"Acknowledge #{chest.id}",
        f"Acknowledge #{back.id}",
        f"Acknowledge #{arm.id}",
    ]
    await server.wait_for(lambda: all(a.staff_notified_at for a in bot.all(Alert)))
    assert sorted(r.status for r in staff_rows(bot)) == ["combined", "combined", "sent", "sent"]
    carried = bot.all(AlertDelivery, AlertDelivery.message_id == together.message_id)
    assert sorted(d.alert_id for d in carried) == sorted([back.id, chest.id, arm.id])

    admin.press(together, button_text=f"Acknowledge #{back.id}")
    await server.wait_for(lambda: len(server.message(ADMIN_ID, together.message_id).buttons) == 2)
    edited = server.message(ADMIN_ID, together.message_id)
    assert edited.text.count("Acknowledged by Dana") == 1
    assert [a.id for a in bot.all(Alert) if a.acknowledged_at] == [back.id]  # only that one
    admin.send_text(f"/ack {chest.id}")  # by number, as its button would
    await server.wait_for(
        lambda: (
            [label for label, _ in server.message(ADMIN_ID, together.message_id).buttons]
            == [f"Acknowledge #{arm.id}"]
        )
    )
    assert not bot.all(Alert, Alert.id == arm.id)[0].acknowledged_at
    admin.press(together, button_text=f"Acknowledge #{arm.id}")
    await server.wait_for(lambda: not server.message(ADMIN_ID, together.message_id).buttons)
    assert server.message(ADMIN_ID, together.message_id).text.count("Acknowledged by Dana") == 3
    assert not bot.all(Alert, Alert.id == first.id)[0].acknowledged_at
    assert len(staff_alert_messages(server)) == 2  # nothing was sent twice


async def test_a_backlog_too_long_for_one_message_is_split_and_no_alert_is_lost(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, PATIENTS, infusion=False)
    long_words = [f"patient {n}: " + "my back hurts and I cannot sleep. " * 38 for n in range(4)]
    await hold_staff_chat_while(bot, server, long_words)
    answer_again(bot, server)
    await server.wait_for(
        lambda: all(a.staff_notified_at for a in bot.all(Alert)) and len(bot.all(Alert)) == 4
    )
    messages = staff_alert_messages(server)
    assert all(len(m.text) <= 4096 for m in messages)
    assert len(messages) == 3  # the first alone, then two that fit together, then the last
    shown = [
        alert.id
        for alert in bot.all(Alert)
        for message in messages
        if f"alert #{alert.id}\n" in message.text
    ]
    assert sorted(shown) == sorted(a.id for a in bot.all(Alert))  # each exactly once


async def test_a_backlog_the_staff_group_refuses_reaches_the_admins_with_every_button(
    fake_bot_api, tmp_path
):
    server = fake_bot_api
    server.add_group(GROUP, "Staff")
    bot = await start_bot(server, tmp_path, env={"STAFF_ALERT_CHAT_ID": str(GROUP)})
    try:
        admin = server.add_user(ADMIN_ID, "Dana", started=True)
        add_active_patients(bot, PATIENTS, infusion=False)
        await hold_staff_chat_while(bot, server, WORDS, GROUP)
        server.fail_for(60, status=400, chats=[GROUP])  # now the group refuses everything
        bot.running.sender.wake()
        await server.wait_for(lambda: len(staff_alert_messages(server)) == 2)
        alone, together = staff_alert_messages(server)
        first, back, chest, arm = sorted(bot.all(Alert), key=lambda a: a.patient_id)
        assert all("the staff group could not take it" in m.text for m in (alone, together))
        assert [label for label, _ in together.buttons] == [
            f"Acknowledge #{chest.id}",
            f"Acknowledge #{back.id}",
            f"Acknowledge #{arm.id}",
        ]
        admin.press(together, button_text=f"Acknowledge #{chest.id}")
        await server.wait_for(lambda: [a.id for a in bot.all(Alert) if a.acknowledged_at])
        assert [a.id for a in bot.all(Alert) if a.acknowledged_at] == [chest.id]
        await server.wait_for(
            lambda: len(server.message(ADMIN_ID, together.message_id).buttons) == 2
        )
    finally:
        await bot.stop()


async def test_an_emergency_raised_behind_a_burst_of_check_ins_goes_out_before_them(tmp_path):
    async with FakeBotApi(enforce_limits=True) as server:
        bot = await start_bot(server, tmp_path, limits=SendLimits())
        try:
            server.add_user(ADMIN_ID, "Dana", started=True)
            add_active_patients(bot, DUE)
            add_active_patients(bot, [PATIENTS[0]], infusion=False)
            await bot.dispatch()
            await server.wait_for(lambda: sum(bool(server.sent_to(p)) for p in DUE) >= 30)
            server.user(PATIENTS[0]).send_text("I have chest pain")
            await server.wait_for(lambda: all(server.sent_to(p) for p in DUE), timeout=20)
            sends = [c.params["chat_id"] for c in server.requests if c.method == "sendMessage"]
            # Both the patient's "call 112" and the staff alert overtook the check-ins
            # still waiting for Telegram's 30 a second.
            last_check_in = max(i for i, chat in enumerate(sends) if chat in DUE)
            assert sends.index(PATIENTS[0]) < last_check_in
            assert sends.index(ADMIN_ID) < last_check_in
            assert "Call 112 now" in server.sent_to(PATIENTS[0])[0]
            assert server.rate_limited == []
        finally:
            await bot.stop()


def hold_sends_containing(monkeypatch: pytest.MonkeyPatch, words: str):
    """The fake keeps the first sendMessage whose text holds `words` unanswered until the
    test releases it: a message on its way. Returns (arrived, release) events."""
    name, send = methods.lookup("sendMessage")
    arrived, release = asyncio.Event(), asyncio.Event()

    async def held(world, call):
        if words in call.params.get("text", "") and not arrived.is_set():
            arrived.set()
            await release.wait()
        return await send(world, call)

    monkeypatch.setitem(methods._REGISTRY, name.lower(), (name, held))
    return arrived, release


async def test_an_alert_acknowledged_while_its_message_is_on_its_way_loses_its_button(
    bot, fake_bot_api, monkeypatch
):
    server = fake_bot_api
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, PATIENTS, infusion=False)
    await hold_staff_chat_while(bot, server, WORDS)
    arrived, release = hold_sends_containing(monkeypatch, "EMERGENCY alert")
    answer_again(bot, server)
    await asyncio.wait_for(arrived.wait(), 10)  # the combined message is being sent
    first, back, chest, arm = sorted(bot.all(Alert), key=lambda a: a.patient_id)
    admin.send_text(f"/ack {chest.id}")
    await server.wait_for(lambda: bot.all(Alert, Alert.id == chest.id)[0].acknowledged_at)
    release.set()
    await server.wait_for(lambda: len(staff_alert_messages(server)) == 2)
    together = staff_alert_messages(server)[1]
    assert f"Acknowledge #{chest.id}" in [label for label, _ in together.buttons]  # as sent
    await server.wait_for(
        lambda: (
            [label for label, _ in server.message(ADMIN_ID, together.message_id).buttons]
            == [f"Acknowledge #{back.id}", f"Acknowledge #{arm.id}"]
        )
    )
    edited = server.message(ADMIN_ID, together.message_id)
    assert edited.text.count("Acknowledged by Dana") == 1
    assert [a.id for a in bot.all(Alert) if a.acknowledged_at] == [chest.id]
    assert len(staff_alert_messages(server)) == 2  # nothing was sent twice


async def test_alerts_rerouted_to_the_admins_each_keep_the_reason(fake_bot_api, tmp_path):
    server = fake_bot_api
    server.add_group(GROUP, "Staff")
    bot = await start_bot(server, tmp_path, env={"STAFF_ALERT_CHAT_ID": str(GROUP)})
    try:
        server.add_user(ADMIN_ID, "Dana", started=True)
        add_active_patients(bot, PATIENTS, infusion=False)
        server.restrict_bot(GROUP)  # the group refuses every alert
        server.fail_for(60, status=502, chats=[ADMIN_ID])  # and the admin's copies queue up

        def copies():
            return [r for r in staff_rows(bot) if r.purpose == "alert"]

        for number, (user_id, text) in enumerate(zip(PATIENTS, WORDS, strict=True), 1):
            server.user(user_id).send_text(text)  # refused by the group alone, not combined
            await server.wait_for(lambda n=number: len(copies()) == n)
        server.outage_over()
        bot.clock.advance(minutes=2)
        bot.running.sender.wake()
        await server.wait_for(lambda: all(a.staff_notified_at for a in bot.all(Alert)))
        shown = staff_alert_messages(server)
        for alert in bot.all(Alert):
            (message,) = [m for m in shown if f"alert #{alert.id}\n" in m.text]
            # the reason it came privately stands with the alert it explains
            reason = message.text.index("the staff group could not take it")
            assert reason < message.text.index(f"alert #{alert.id}\n")
    finally:
        await bot.stop()
