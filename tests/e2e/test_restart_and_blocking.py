"""The database is the schedule: restarts catch up; a blocked patient is marked and staff told."""

import gc

from storage.models import (
    Alert,
    CheckIn,
    CheckInStatus,
    OutboxMessage,
    Patient,
    PatientStatus,
)
from tests.e2e.test_walking_skeleton import PATIENT_ID, answer_baseline, enrol_patient
from tests.utils.checkins import send_answers
from tests.utils.harness import ADMIN_ID, start_bot


async def enrol_and_answer_baseline(server, bot):
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    ann, _ = await enrol_patient(server, admin)
    admin.send_text("/infusion MRN001")
    await answer_baseline(server, ann, pain="5", average="5")
    await send_answers(server, ann)
    return ann


async def test_a_restart_sends_what_is_due_and_closes_what_was_missed(fake_bot_api, tmp_path):
    server = fake_bot_api
    first = await start_bot(server, tmp_path)
    await enrol_and_answer_baseline(server, first)
    clock = first.clock
    await first.stop()

    clock.advance(hours=5)  # evening check-in fell due while the bot was down
    second = await start_bot(server, tmp_path, clock=clock)
    await second.dispatch()
    evening = await server.next_message(PATIENT_ID, contains="Evening check-in")
    await second.dispatch()  # a second run sends nothing twice
    assert sum("Evening check-in" in m.text for m in server.messages(PATIENT_ID)) == 1
    await second.stop()

    clock.advance(hours=4)  # past the evening window
    third = await start_bot(server, tmp_path, clock=clock)
    try:
        await third.dispatch()
        alert = await server.next_message(ADMIN_ID, contains="URGENT alert")
        assert "Evening check-in: No answer" in alert.text
        [check_in] = third.all(CheckIn, CheckIn.step_id == "evening")
        assert check_in.status == CheckInStatus.MISSED
        assert [a.rule_id for a in third.all(Alert)] == ["missed_early_check_in"]
        await server.wait_for(lambda: not server.message(PATIENT_ID, evening.message_id).buttons)
    finally:
        await third.stop()


async def test_a_blocked_patient_is_marked_and_staff_are_told(fake_bot_api, tmp_path):
    server = fake_bot_api
    bot = await start_bot(server, tmp_path)
    try:
        await enrol_and_answer_baseline(server, bot)
        server.block(PATIENT_ID)
        bot.clock.advance(hours=4)
        await bot.dispatch()
        # A notice that can wait waits a few seconds for others of its kind.
        await server.wait_for(lambda: bot.all(Patient)[0].status == PatientStatus.BLOCKED)
        bot.clock.advance(seconds=11)
        bot.running.sender.wake()
        notice = await server.next_message(ADMIN_ID, contains="cannot be delivered")
        assert "MRN001" in notice.text
        [patient] = bot.all(Patient)
        assert patient.status == PatientStatus.BLOCKED
        sends = len(server.calls("sendMessage"))
        blocked_at = bot.clock.now()
        bot.clock.advance(hours=20)
        await bot.dispatch()
        # The dispatcher only writes outbox rows: none for the patient, and what fell due
        # meanwhile waits (checked in the database, as the sender delivers later).
        assert not bot.all(
            OutboxMessage,
            OutboxMessage.chat_id == PATIENT_ID,
            OutboxMessage.created_at >= blocked_at,
        )
        fell_due = bot.all(CheckIn, CheckIn.due_at > blocked_at, CheckIn.due_at <= bot.clock.now())
        assert fell_due and {c.status for c in fell_due} == {CheckInStatus.PENDING}
        patient_sends = [
            c
            for c in server.calls("sendMessage")[sends:]
            if str(c.get("chat_id")) == str(PATIENT_ID)
        ]
        assert patient_sends == []
    finally:
        await bot.stop()


async def test_what_start_up_built_is_kept_out_of_the_collectors_full_passes(
    fake_bot_api, tmp_path
):
    gc.unfreeze()  # whatever an earlier test's start froze
    bot = await start_bot(fake_bot_api, tmp_path)
    try:
        # modules, mappers, the protocol and PTB's objects: about 150,000
        assert gc.get_freeze_count() > 20_000
    finally:
        await bot.stop()
