"""A patient stops with /stop and comes back with /start; one who blocked the bot and
unblocks it is back too. Staff hear of each once; nothing stopped turns into a missed alert."""

from __future__ import annotations

from storage.models import (
    Alert,
    AuditEvent,
    CheckIn,
    CheckInStatus,
    OutboxMessage,
    OutboxStatus,
    Patient,
    PatientStatus,
)
from tests.e2e.test_patient_state import confirm
from tests.utils.harness import ADMIN_ID, start_bot
from tests.utils.patients import add_active_patients

PATIENT = 1001
REF = f"MRN{PATIENT}"


def status(bot) -> str:
    return bot.all(Patient)[0].status


def statuses(bot) -> dict[str, str]:
    return {c.step_id: c.status for c in bot.all(CheckIn)}


async def baseline_sent(bot, server):
    """An active patient whose infusion's baseline question was delivered; returns it."""
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT])
    await bot.dispatch()
    return await server.next_message(PATIENT, contains="How bad is your pain")


def release_the_blocked_notice(bot) -> None:
    """The "cannot be delivered" notice waits a few seconds for others of its kind, and the
    staff chat's later notices wait behind it."""
    bot.clock.advance(seconds=11)
    bot.running.sender.wake()


async def ask_stop(server):
    """The patient sends /stop; returns the question with its buttons."""
    server.user(PATIENT).send_text("/stop")
    question = await server.next_message(PATIENT, contains="Do you want to stop")
    assert [label for label, _ in question.buttons] == ["Yes, stop", "No, keep going"]
    return question


async def test_stop_asks_first_ends_check_ins_without_alerts_and_start_brings_back_the_open_ones(
    bot, fake_bot_api
):
    server = fake_bot_api
    baseline = await baseline_sent(bot, server)
    patient = server.user(PATIENT)

    question = await ask_stop(server)
    patient.press(question, button_text="No, keep going")
    await server.wait_for(lambda: "go on" in server.message(PATIENT, question.message_id).text)
    assert status(bot) == PatientStatus.ACTIVE
    assert set(statuses(bot).values()) == {CheckInStatus.SENT, CheckInStatus.PENDING}

    question = await ask_stop(server)
    patient.press(question, button_text="Yes, stop")
    told = await server.next_message(PATIENT, contains="Your check-ins have stopped")
    assert "send /start" in told.text
    notice = await server.next_message(ADMIN_ID, contains=f"{REF} sent /stop")
    assert "10 cancelled" in notice.text
    assert status(bot) == PatientStatus.STOPPED
    assert set(statuses(bot).values()) == {CheckInStatus.STOPPED}
    await server.wait_for(lambda: not server.message(PATIENT, baseline.message_id).buttons)

    # A stopped patient's words still reach staff.
    patient.send_text("my knee is sore")
    await server.next_message(ADMIN_ID, contains="my knee is sore")
    bot.clock.advance(hours=8, minutes=1)  # the evening check-in's window comes and goes
    await bot.dispatch()
    assert not any("Evening check-in" in t for t in server.sent_to(PATIENT))
    assert statuses(bot)["evening"] == CheckInStatus.STOPPED
    assert [a.rule_id for a in bot.all(Alert)] == ["patient_words"]  # no missed-check-in alert

    patient.send_text("/start")
    welcome = await server.next_message(PATIENT, contains="Welcome back")
    assert "Your next check-in is on Wednesday 25 Nov at 10:00" in welcome.text
    await server.next_message(ADMIN_ID, contains=f"{REF} came back with /start")
    assert status(bot) == PatientStatus.ACTIVE
    after = statuses(bot)
    # Closed while stopped: stay stopped, without alerts. Still open: pending again.
    assert after["baseline"] == after["evening"] == CheckInStatus.STOPPED
    assert after["next_day"] == after["week_8"] == CheckInStatus.PENDING
    bot.clock.advance(hours=16)
    await bot.dispatch()
    await server.next_message(PATIENT, contains="Next-day check-in")
    actions = [e.action for e in bot.all(AuditEvent)]
    assert actions.count("patient_stopped") == 1 and actions.count("patient_rejoined") == 1
    assert [a.rule_id for a in bot.all(Alert)] == ["patient_words"]


async def test_start_brings_back_a_check_in_that_was_open_when_the_patient_stopped(
    bot, fake_bot_api
):
    server = fake_bot_api
    baseline = await baseline_sent(bot, server)
    server.user(PATIENT).press(baseline, button_text="6")
    await server.next_message(PATIENT, contains="Average pain over the last 24 hours")
    server.user(PATIENT).press(await ask_stop(server), button_text="Yes, stop")
    await server.next_message(PATIENT, contains="Your check-ins have stopped")
    server.user(PATIENT).send_text("/start")
    await server.next_message(PATIENT, contains="Welcome back")
    again = await server.next_message(PATIENT, contains="Average pain over the last 24 hours")
    assert "question 2 of" in again.text  # the answer given before /stop still counts
    assert statuses(bot)["baseline"] == CheckInStatus.SENT


async def test_two_yes_taps_at_once_stop_once(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT])
    question = await ask_stop(server)
    server.user(PATIENT).press(question, button_text="Yes, stop")
    server.user(PATIENT).press(question, button_text="Yes, stop")  # before the first is handled
    await server.next_message(PATIENT, contains="Your check-ins have stopped")
    await server.wait_for(lambda: len(server.callback_answers) == 2)
    await server.next_message(ADMIN_ID, contains="sent /stop")
    assert [e.action for e in bot.all(AuditEvent)].count("patient_stopped") == 1
    assert sum("Your check-ins have stopped" in t for t in server.sent_to(PATIENT)) == 1
    assert sum("sent /stop" in t for t in server.sent_to(ADMIN_ID)) == 1
    # A stopped patient who sends /stop again is told how to come back.
    server.user(PATIENT).send_text("/stop")
    await server.next_message(PATIENT, contains="already stopped. Send /start")


async def test_a_check_in_on_its_way_when_the_patient_stops_is_not_sent(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT])
    question = await ask_stop(server)
    server.fail_next("sendMessage", 502)  # the baseline question's first try fails
    await bot.dispatch()
    await server.wait_for(lambda: bot.all(OutboxMessage, OutboxMessage.attempts == 1))
    server.user(PATIENT).press(question, button_text="Yes, stop")
    await server.next_message(PATIENT, contains="Your check-ins have stopped")
    bot.clock.advance(seconds=30)  # the retry is due
    bot.running.sender.wake()
    server.user(PATIENT).send_text("/help")
    await server.next_message(PATIENT, contains="/stop - stop the check-ins")
    assert not any("How bad is your pain" in t for t in server.sent_to(PATIENT))
    [row] = bot.all(OutboxMessage, OutboxMessage.check_in_id.is_not(None))
    assert row.status == OutboxStatus.FAILED
    assert statuses(bot)["baseline"] == CheckInStatus.STOPPED


async def test_a_patient_who_unblocks_the_bot_is_back_and_staff_hear_it_once(bot, fake_bot_api):
    server = fake_bot_api
    await baseline_sent(bot, server)
    server.block(PATIENT)
    await server.wait_for(lambda: status(bot) == PatientStatus.BLOCKED)
    server.unblock(PATIENT)
    server.unblock(PATIENT)  # a second sign of it, as when the patient also writes
    shown = await server.next_message(PATIENT, contains="To go on with your check-in")
    assert "How bad is your pain" in shown.text
    server.user(PATIENT).send_text("/start")  # writing again is a sign too
    await server.next_message(PATIENT, contains="How bad is your pain")
    release_the_blocked_notice(bot)
    await server.next_message(ADMIN_ID, contains="cannot be delivered")
    await server.next_message(ADMIN_ID, contains="can be reached again")
    assert status(bot) == PatientStatus.ACTIVE
    assert sum("can be reached again" in t for t in server.sent_to(ADMIN_ID)) == 1
    assert [e.action for e in bot.all(AuditEvent)].count("patient_unblocked") == 1


async def test_a_patient_who_writes_after_being_marked_blocked_is_back_as_they_were(
    fake_bot_api, tmp_path
):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    bot = await start_bot(server, tmp_path)
    add_active_patients(bot, [PATIENT])
    server.user(PATIENT).press(await ask_stop(server), button_text="Yes, stop")
    await server.next_message(PATIENT, contains="Your check-ins have stopped")
    server.block(PATIENT)
    await server.wait_for(lambda: status(bot) == PatientStatus.BLOCKED)
    clock = bot.clock
    await bot.stop()
    server.unblock(PATIENT)
    server.drop_pending_updates()  # the unblock was never seen (down for over a day)
    bot = await start_bot(server, tmp_path, clock=clock)
    try:
        server.user(PATIENT).send_text("hello again")
        release_the_blocked_notice(bot)
        notice = await server.next_message(ADMIN_ID, contains="can be reached again")
        assert "their follow-up is stopped" in notice.text
        await server.wait_for_message(ADMIN_ID, contains="hello again")  # an alert: first
        assert status(bot) == PatientStatus.STOPPED  # what they had chosen before the block
    finally:
        await bot.stop()


async def test_a_paused_patient_who_stops_and_starts_again_is_still_paused(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT])
    await confirm(server, f"/pause {REF} 2026-11-26 09:00")
    await server.next_message(PATIENT, contains="paused your check-ins until")
    server.user(PATIENT).press(await ask_stop(server), button_text="Yes, stop")
    await server.next_message(PATIENT, contains="Your check-ins have stopped")

    server.user(PATIENT).send_text("/start")
    await server.next_message(PATIENT, contains="Your clinic has paused your check-ins for now")
    notice = await server.next_message(ADMIN_ID, contains=f"{REF} came back with /start")
    assert "the clinic's pause still holds" in notice.text
    [patient] = bot.all(Patient)
    assert patient.status == PatientStatus.PAUSED
    assert patient.paused_until.isoformat() == "2026-11-26T09:00:00+00:00"
    assert not any("Welcome back" in t for t in server.sent_to(PATIENT))
    bot.clock.advance(days=2)  # the pause's end still resumes them
    await bot.dispatch()
    await server.next_message(PATIENT, contains="started again")
    assert status(bot) == PatientStatus.ACTIVE
