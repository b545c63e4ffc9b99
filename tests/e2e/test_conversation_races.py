"""Taps, sends and the dispatcher at the same time: answers are never refused, erased or
doubled, and commands repeated in a hurry do one thing."""

from __future__ import annotations

import re

from storage.models import (
    Alert,
    Answer,
    CheckIn,
    CheckInStatus,
    InboxUpdate,
    Infusion,
    Invite,
    OutboxMessage,
)
from tests.utils.harness import ADMIN_ID, COORDINATOR_ID, start_bot
from tests.utils.patients import add_active_patients

PATIENT = 1001


async def test_a_tap_on_a_question_whose_send_was_not_yet_confirmed_counts(bot, fake_bot_api):
    server = fake_bot_api
    # Telegram delivers the question but its answer to the bot is lost: the bot retries.
    server.drop_next("sendMessage", after_delivery=True)
    add_active_patients(bot, [PATIENT])
    await bot.dispatch()
    question = await server.next_message(PATIENT, contains="How bad is your pain right now")
    server.user(PATIENT).press(question, button_text="6")
    await server.next_message(PATIENT, contains="Average pain over the last 24 hours")
    assert [a.value for a in bot.all(Answer)] == ["6"]
    # The unconfirmed send is not repeated once the patient has moved on.
    bot.clock.advance(seconds=5)
    bot.running.sender.wake()
    await server.wait_for(lambda: bot.all(CheckIn)[0].message_id is not None)
    pain_questions = [t for t in server.sent_to(PATIENT) if "pain right now" in t]
    assert len(pain_questions) == 1


async def test_two_done_taps_at_once_keep_the_ticked_answer(bot, fake_bot_api):
    server = fake_bot_api
    add_active_patients(bot, [PATIENT], infusion=False)
    patient = server.user(PATIENT)
    patient.send_text("/report")
    checklist = await server.next_message(PATIENT, contains="Tick all that apply")
    patient.press(checklist, button_text="☐ Seeing/hearing things")
    await server.wait_for(
        lambda: "Done (1 ticked)" in dict(server.message(PATIENT, checklist.message_id).buttons)
    )
    ticked = server.message(PATIENT, checklist.message_id)
    patient.press(ticked, button_text="Done (1 ticked)")
    patient.press(ticked, button_text="Done (1 ticked)")  # before the first is handled
    severity = await server.next_message(PATIENT, contains="How severe is it")
    await server.wait_for(lambda: len(server.callback_answers) == 3)
    assert [a.value for a in bot.all(Answer)] == ['{"hallucinations": null}']
    patient.press(severity, button_text="Severe")
    await server.next_message(PATIENT, contains="clinic")
    await server.wait_for(lambda: "psychotomimetic_severe" in {a.rule_id for a in bot.all(Alert)})
    assert sum("How severe is it" in t for t in server.sent_to(PATIENT)) == 1


async def test_a_tap_racing_the_reminder_counts(bot, fake_bot_api):
    server = fake_bot_api
    add_active_patients(bot, [PATIENT])
    await bot.dispatch()
    baseline = bot.all(CheckIn, CheckIn.step_id == "baseline")[0]
    first = await server.next_message(PATIENT, contains="How bad is your pain right now")
    await server.wait_for(lambda: bot.all(CheckIn, CheckIn.id == baseline.id)[0].message_id)
    # Close the baseline unanswered, then let the evening check-in and its reminder come.
    bot.clock.advance(hours=4)
    await bot.dispatch()
    evening = await server.next_message(PATIENT, contains="Evening check-in")
    bot.clock.advance(hours=2)
    server.user(PATIENT).press(evening, button_text="3")  # as the reminder goes out
    await bot.dispatch()
    await server.next_message(PATIENT, contains="Tick all that apply")
    assert bot.all(CheckIn, CheckIn.id == baseline.id)[0].status == CheckInStatus.MISSED
    assert not server.message(PATIENT, first.message_id).buttons
    assert [a.value for a in bot.all(Answer)] == ["3"]


async def test_a_check_in_answered_in_part_closes_as_partial_without_a_no_answer_alert(
    bot, fake_bot_api
):
    server = fake_bot_api
    add_active_patients(bot, [PATIENT])
    await bot.dispatch()
    bot.clock.advance(hours=4)
    await bot.dispatch()
    evening = await server.next_message(PATIENT, contains="Evening check-in")
    server.user(PATIENT).press(evening, button_text="5")
    await server.next_message(PATIENT, contains="Tick all that apply")
    bot.clock.advance(hours=4, minutes=1)
    await bot.dispatch()
    [closed] = bot.all(CheckIn, CheckIn.step_id == "evening")
    assert closed.status == CheckInStatus.PARTIAL
    assert "missed_early_check_in" not in {a.rule_id for a in bot.all(Alert)}


async def test_infusion_sent_twice_records_one(bot, fake_bot_api):
    server = fake_bot_api
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT], infusion=False)
    admin.send_text("/infusion MRN1001")
    admin.send_text("/infusion MRN1001")
    await server.next_message(ADMIN_ID, contains="Infusion recorded for MRN1001")
    repeat = await server.next_message(ADMIN_ID, contains="MRN1001")
    assert "recorded a moment ago" in repeat.text
    assert len(bot.all(Infusion)) == 1
    await server.wait_for(lambda: server.sent_to(PATIENT))
    assert sum("pain right now" in t for t in server.sent_to(PATIENT)) == 1


async def test_two_coordinators_enrolling_one_patient_keep_the_first_link(fake_bot_api, tmp_path):
    server = fake_bot_api
    bot = await start_bot(
        server, tmp_path, env={"ADMIN_TELEGRAM_IDS": f"{ADMIN_ID},{COORDINATOR_ID}"}
    )
    try:
        first = server.add_user(ADMIN_ID, "Dana", started=True)
        second = server.add_user(COORDINATOR_ID, "Sam", started=True)
        first.send_text("/enroll MRN5")
        second.send_text("/enroll MRN5")
        link = await server.next_message(ADMIN_ID, contains="t.me/")
        told = await server.next_message(COORDINATOR_ID, contains="MRN5")
        assert "already has an open invite link" in told.text and "t.me/" not in told.text
        [invite] = bot.all(Invite)
        token = re.search(r"start=([\w-]+)", link.text).group(1)
        ann = server.add_user(PATIENT, "Ann")
        ann.send_text(f"/start {token}")
        await server.next_message(PATIENT, contains="Do you agree")
        # /reinvite is the deliberate way to replace a lost link.
        second.send_text("/reinvite MRN5")
        await server.next_message(COORDINATOR_ID, contains="New invite for MRN5")
        assert len(bot.all(Invite)) == 2 and invite.id
    finally:
        await bot.stop()


async def test_a_press_made_while_the_bot_was_down_is_stored_at_start(fake_bot_api, tmp_path):
    server = fake_bot_api
    bot = await start_bot(server, tmp_path)
    add_active_patients(bot, [PATIENT])
    await bot.dispatch()
    question = await server.next_message(PATIENT, contains="How bad is your pain right now")
    await server.wait_for(lambda: bot.all(CheckIn)[0].message_id)
    clock = bot.clock
    await bot.stop()
    query_id = server.user(PATIENT).press(question, button_text="7")
    server.make_stale(query_id)  # Telegram: "query is too old" by the time we are back
    again = await start_bot(server, tmp_path, clock=clock)
    try:
        await server.next_message(PATIENT, contains="Average pain over the last 24 hours")
        assert [a.value for a in again.all(Answer)] == ["7"]
        assert {u.outcome for u in again.all(InboxUpdate)} == {"handled"}
    finally:
        await again.stop()


async def test_a_question_that_arrives_after_its_check_in_closed_loses_its_buttons(
    bot, fake_bot_api
):
    server = fake_bot_api
    server.fail_next("sendMessage", 502)  # the first try fails; the retry comes after closing
    add_active_patients(bot, [PATIENT])
    await bot.dispatch()
    await server.wait_for(lambda: server.errors)
    await server.wait_for(lambda: bot.all(OutboxMessage, OutboxMessage.attempts == 1))
    bot.clock.advance(hours=3)
    await bot.dispatch()
    assert bot.all(CheckIn, CheckIn.step_id == "baseline")[0].status == CheckInStatus.MISSED
    bot.running.sender.wake()
    late = await server.next_message(PATIENT, contains="How bad is your pain right now")
    await server.wait_for(lambda: not server.message(PATIENT, late.message_id).buttons)
