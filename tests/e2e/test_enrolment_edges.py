"""Enrolment's edges: "No thanks" undone with the same link, /start without a link from
each kind of patient, an enrolled patient opening another invite. The coordinator hears."""

from __future__ import annotations

from storage.models import AuditEvent, Invite, Patient, PatientStatus
from tests.e2e.test_patient_state import confirm
from tests.utils.harness import ADMIN_ID
from tests.utils.invites import invite_token
from tests.utils.patients import add_active_patients

PATIENT, NEWCOMER = 1001, 1002


async def test_no_thanks_is_undone_by_opening_the_same_link_again(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    token = await invite_token(server, "/enroll MRN7")
    ann = server.add_user(NEWCOMER, "Ann")
    ann.send_text(f"/start {token}")
    consent = await server.next_message(NEWCOMER, contains="Do you agree")
    assert "You can stop at any time by sending /stop" in consent.text
    ann.press(consent, button_text="No thanks")
    await server.next_message(NEWCOMER, contains="open the invite link again")
    await server.next_message(ADMIN_ID, contains="MRN7 opened the invite and chose not to")
    assert bot.all(Patient)[0].status == PatientStatus.INVITED

    ann.send_text(f"/start {token}")
    again = await server.next_message(NEWCOMER, contains="Do you agree")
    await server.next_message(ADMIN_ID, contains="MRN7 opened the invite again after saying no")
    ann.press(again, button_text="I agree")
    await server.next_message(NEWCOMER, contains="you're all set")
    await server.next_message(ADMIN_ID, contains="MRN7 came back and has joined")
    [patient] = bot.all(Patient)
    assert patient.status == PatientStatus.ACTIVE and patient.telegram_user_id == NEWCOMER
    actions = [e.action for e in bot.all(AuditEvent)]
    assert actions.count("consent_declined") == 1 and actions.count("consent_given") == 1
    # The used link now only says so.
    ann.send_text(f"/start {token}")
    await server.next_message(NEWCOMER, contains="already enrolled")


async def test_start_without_a_link_answers_each_kind_of_patient(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT], infusion=False)
    patient = server.user(PATIENT)
    patient.send_text("/start")
    enrolled = await server.next_message(PATIENT, contains="You're enrolled with the clinic")
    assert "/next shows when the next one is" in enrolled.text

    await confirm(server, f"/pause MRN{PATIENT}")
    await server.next_message(PATIENT, contains="paused your check-ins")
    patient.send_text("/start")
    await server.next_message(PATIENT, contains="Your clinic has paused your check-ins for now")

    await confirm(server, f"/discharge MRN{PATIENT}")
    await server.next_message(PATIENT, contains="Your follow-up with")
    patient.send_text("/start")
    await server.next_message(PATIENT, contains="follow-up with the clinic has ended")
    patient.send_text("/stop")
    await server.next_message(PATIENT, contains="There are no check-ins to stop")
    assert bot.all(Patient)[0].status == PatientStatus.DISCHARGED


async def test_start_shows_the_open_check_in_again(bot, fake_bot_api):
    server = fake_bot_api
    add_active_patients(bot, [PATIENT])
    await bot.dispatch()
    await server.next_message(PATIENT, contains="How bad is your pain")
    server.user(PATIENT).send_text("/start")
    await server.next_message(PATIENT, contains="How bad is your pain")


async def test_an_enrolled_patient_opening_another_invite_changes_nothing(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT], infusion=False)
    token = await invite_token(server, "/enroll MRN8")
    server.user(PATIENT).send_text(f"/start {token}")
    await server.next_message(PATIENT, contains="You are already enrolled with the clinic")
    notice = await server.next_message(ADMIN_ID, contains="The invite for MRN8 was opened by")
    assert f"MRN{PATIENT}, who is already enrolled" in notice.text
    statuses = {p.clinic_ref: p.status for p in bot.all(Patient)}
    assert statuses == {f"MRN{PATIENT}": PatientStatus.ACTIVE, "MRN8": PatientStatus.INVITED}
    assert bot.all(Invite)[0].used_at is None
    # The link still works for the person it was meant for.
    ben = server.add_user(NEWCOMER, "Ben")
    ben.send_text(f"/start {token}")
    await server.next_message(NEWCOMER, contains="Do you agree")
