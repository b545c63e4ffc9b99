"""Coordinators pause, resume and discharge a patient; each is confirmed, audited and told."""

from __future__ import annotations

from storage.models import Alert, AuditEvent, CheckIn, CheckInStatus, Patient, PatientStatus
from tests.utils.harness import ADMIN_ID, add_coordinator
from tests.utils.patients import add_active_patients

PATIENT = 1001
REF = f"MRN{PATIENT}"


def status(bot) -> str:
    return bot.all(Patient)[0].status


async def confirm(server, command: str, button: str = "Yes") -> str:
    """Send the command, press a button under its question; returns the answer it became."""
    admin = server.user(ADMIN_ID)
    admin.send_text(command)
    question = await server.next_message(ADMIN_ID, contains="?")
    admin.press(question, button_text=button)
    await server.wait_for(lambda: "?" not in server.message(ADMIN_ID, question.message_id).text)
    return server.message(ADMIN_ID, question.message_id).text


async def test_pause_skips_check_ins_and_resume_sends_the_open_ones(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT])
    await bot.dispatch()
    await server.next_message(PATIENT, contains="How bad is your pain")
    assert await confirm(server, f"/pause {REF}", button="No") == "Nothing was changed."
    assert status(bot) == PatientStatus.ACTIVE

    assert await confirm(server, f"/pause {REF}") == f"{REF} is paused."
    told = await server.next_message(PATIENT, contains="paused your check-ins")
    assert "write to the clinic team here" in told.text
    assert status(bot) == PatientStatus.PAUSED
    bot.clock.advance(hours=8, minutes=1)  # the evening check-in falls due and closes
    await bot.dispatch()
    [evening] = bot.all(CheckIn, CheckIn.step_id == "evening")
    assert evening.status == CheckInStatus.CANCELLED
    assert not any("Evening check-in" in t for t in server.sent_to(PATIENT))
    assert not bot.all(Alert)  # skipped while paused: no "no answer" alert

    await confirm(server, f"/resume {REF}")
    await server.next_message(PATIENT, contains="started again")
    bot.clock.advance(hours=16)  # the next-day check-in
    await bot.dispatch()
    await server.next_message(PATIENT, contains="Next-day check-in")
    actions = [e.action for e in bot.all(AuditEvent)]
    assert actions.count("pause") == 1 and actions.count("resume") == 1


async def test_a_pause_with_an_end_resumes_by_itself(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT], infusion=False)
    await confirm(server, f"/pause {REF} 2026-11-26 09:00")
    told = await server.next_message(PATIENT, contains="paused your check-ins until")
    assert "until Thursday 26 Nov at 09:00." in told.text
    bot.clock.advance(days=2)
    await bot.dispatch()
    await server.next_message(PATIENT, contains="started again")
    assert status(bot) == PatientStatus.ACTIVE
    server.user(ADMIN_ID).send_text(f"/pause {REF} 2020-01-01")
    await server.next_message(ADMIN_ID, contains="must be in the future")


async def test_discharge_cancels_what_is_left_and_tells_the_patient_kindly(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT])
    await confirm(server, f"/discharge {REF}")
    goodbye = await server.next_message(PATIENT, contains="Your follow-up with")
    assert "Thank you for answering them" in goodbye.text
    assert status(bot) == PatientStatus.DISCHARGED
    assert {c.status for c in bot.all(CheckIn)} == {CheckInStatus.CANCELLED}
    server.user(ADMIN_ID).send_text(f"/discharge {REF}")
    await server.next_message(ADMIN_ID, contains="is discharged, so they cannot be")
    server.user(ADMIN_ID).send_text("/resume NOPE")
    await server.next_message(ADMIN_ID, contains="No patient with reference NOPE")


async def test_discharge_takes_the_buttons_off_a_question_on_show(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT])
    await bot.dispatch()
    baseline = await server.next_message(PATIENT, contains="How bad is your pain")
    await confirm(server, f"/discharge {REF}")
    await server.next_message(PATIENT, contains="Your follow-up with")
    await server.wait_for(lambda: not server.message(PATIENT, baseline.message_id).buttons)
    assert {c.status for c in bot.all(CheckIn)} == {CheckInStatus.CANCELLED}


async def test_two_coordinators_confirming_at_once_discharge_once(bot, fake_bot_api):
    server = fake_bot_api
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    coordinator = add_coordinator(bot)
    add_active_patients(bot, [PATIENT])
    questions = []
    for person in (admin, coordinator):
        person.send_text(f"/discharge {REF}")
        questions.append(await server.next_message(person.user_id, contains="?"))
    admin.press(questions[0], button_text="Yes")
    coordinator.press(questions[1], button_text="Yes")  # before the first is handled
    await server.next_message(PATIENT, contains="Your follow-up with")
    await server.wait_for(lambda: len(server.callback_answers) == 2)
    await bot.dispatch()
    assert [e.action for e in bot.all(AuditEvent)].count("discharge") == 1
    assert sum("Your follow-up with" in t for t in server.sent_to(PATIENT)) == 1
