"""The whole loop, driven like people would: enrol, consent, infusion, check-ins, alert, ack."""

from sqlmodel import select

from storage.models import (
    Alert,
    AlertDelivery,
    Answer,
    AuditEvent,
    CheckIn,
    CheckInStatus,
    Invite,
    Patient,
    PatientStatus,
)
from tests.utils.checkins import press_answer, send_answers
from tests.utils.harness import ADMIN_ID, start_bot
from tests.utils.invites import invite_link
from tests.utils.protocols import ON_CALL

PATIENT_ID = 1001


async def enrol_patient(server, admin, ref="MRN001", name="Ann"):
    """Coordinator enrols, patient opens the link and agrees; returns the patient handle."""
    admin.send_text(f"/enroll {ref} {name}")
    answer = await server.next_message(ADMIN_ID, contains="t.me/")
    bot_name, token = invite_link(answer.text)
    assert bot_name == "infusion_test_bot"
    assert len(token) >= 22  # at least 128 bits in URL-safe base64
    ann = server.add_user(PATIENT_ID, "Ann")
    ann.send_text(f"/start {token}")
    consent = await server.next_message(PATIENT_ID, contains="Do you agree")
    assert "112" in consent.text and "not watched around the clock" in consent.text
    ann.press(consent, button_text="I agree")
    await server.next_message(PATIENT_ID, contains="you're all set")
    await server.next_message(ADMIN_ID, contains=f"{ref} has joined")
    return ann, token


async def answer(server, patient, contains, button):
    """Wait for the question containing `contains` and tap `button` on it."""
    question = await server.next_message(PATIENT_ID, contains=contains)
    press_answer(patient, question, button)
    return question


async def answer_baseline(server, patient, pain="6", average="6", sleep="Fair", mood="5"):
    """Answer the baseline check-in (no urine or liver problem); returns its first question."""
    first = await answer(server, patient, "How bad is your pain right now", pain)
    await answer(server, patient, "Average pain over the last 24 hours", average)
    await answer(server, patient, "sleep quality", sleep)
    await answer(server, patient, "Mood today", mood)
    await answer(server, patient, "Yellow skin/eyes", "None of these")
    return first


async def test_enrolment_to_acknowledged_alert(bot, fake_bot_api):
    server = fake_bot_api
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    ann, token = await enrol_patient(server, admin)

    with bot.session() as session:
        patient = session.exec(select(Patient)).one()
        assert patient.status == PatientStatus.ACTIVE
        assert patient.telegram_user_id == PATIENT_ID
        assert patient.consent_version == bot.runtime.protocol.version
        invite = session.exec(select(Invite)).one()
        assert invite.used_at is not None and token not in invite.token_hash

    admin.send_text("/infusion MRN001")
    recorded = await server.next_message(ADMIN_ID, contains="Infusion recorded for MRN001")
    assert "10 check-ins scheduled" in recorded.text

    # Baseline, sent at once.
    first = await answer_baseline(server, ann)
    done = await send_answers(server, ann)
    assert "next check-in" in done.text
    assert "Feeling very unwell? Call emergency services now" in done.text
    answered_first = server.message(PATIENT_ID, first.message_id)
    assert "Your answer: 6/10" in answered_first.text and not answered_first.buttons

    # Evening check-in at +4 h.
    bot.clock.advance(hours=4)
    await bot.dispatch()
    await answer(server, ann, "Evening check-in · question 1 of", "2")
    checklist = await server.next_message(PATIENT_ID, contains="Tick all that apply")
    # Chest pain counts the moment it is ticked: no "Done", no severity, nothing more asked.
    ann.press(checklist, button_text="☐ Chest pain")

    emergency = await server.next_message(PATIENT_ID, contains="Call 112 now")
    assert emergency.text.startswith("Call 112 now, or ask someone with you to call.")
    assert "Feeling very unwell" in emergency.text
    alert_message = await server.next_message(ADMIN_ID, contains="EMERGENCY alert")
    assert "Patient: MRN001 (Ann)" in alert_message.text
    assert "Rule: Chest pain" in alert_message.text
    assert "Answered: Side effects: Chest pain" in alert_message.text
    assert "The check-in stopped at this answer" in alert_message.text
    assert "@" not in alert_message.text
    answered_checklist = await server.wait_for(
        lambda: (
            "Your answer: Chest pain" in server.message(PATIENT_ID, checklist.message_id).text
            and server.message(PATIENT_ID, checklist.message_id)
        )
    )
    assert not answered_checklist.buttons

    admin.press(alert_message, button_text="Acknowledge")
    await server.wait_for(
        lambda: "Acknowledged by" in server.message(ADMIN_ID, alert_message.message_id).text
    )
    assert not server.message(ADMIN_ID, alert_message.message_id).buttons

    alerts = bot.all(Alert)
    assert [(a.rule_id, a.severity) for a in alerts] == [("chest_pain", "emergency")]
    assert alerts[0].acknowledged_by == ADMIN_ID and alerts[0].acknowledged_at is not None
    assert alerts[0].staff_notified_at is not None and alerts[0].patient_told_at is not None
    # The emergency text was the last message the patient got.
    assert server.messages(PATIENT_ID)[-1].message_id == emergency.message_id
    evening = bot.all(CheckIn, CheckIn.step_id == "evening")[0]
    assert evening.status == CheckInStatus.INTERRUPTED
    with bot.session() as session:
        stored = {
            a.question_id: a.value
            for a in session.exec(select(Answer).where(Answer.check_in_id == evening.id))
        }
    assert stored == {"pain_now": "2", "side_effects": '{"chest_pain": null}'}
    actions = {e.action for e in bot.all(AuditEvent)}
    assert {"enroll", "consent_given", "record_infusion", "acknowledge"} <= actions
    assert len(bot.all(AlertDelivery)) == 1


async def test_alerts_go_to_the_staff_group_and_escalate_when_unacknowledged(
    fake_bot_api, tmp_path
):
    server = fake_bot_api
    group = server.add_group(-100500, "Staff")
    bot = await start_bot(server, tmp_path, env={"STAFF_ALERT_CHAT_ID": "-100500"})
    try:
        admin = server.add_user(ADMIN_ID, "Dana", started=True)
        ann, _ = await enrol_patient(server, admin)
        admin.send_text("/infusion MRN001")
        await answer_baseline(server, ann, pain="4", average="4", sleep="Good", mood="6")
        bot.clock.advance(hours=4)
        await bot.dispatch()
        # Pain 9 is urgent after the infusion; it is also 5 points above baseline.
        await answer(server, ann, "How bad is your pain right now", "9")
        urgent = await server.next_message(PATIENT_ID, contains="will contact you today")
        assert f"on-call line: {ON_CALL}" in urgent.text
        # Both rules the answer set off are in one message.
        staff_alert = await server.next_message(group.chat_id, contains="URGENT alert")
        assert "Pain 9-10" in staff_alert.text and "Pain 3 or more" in staff_alert.text
        assert {a.rule_id for a in bot.all(Alert)} == {"pain_severe", "pain_much_worse"}

        bot.clock.advance(minutes=31)
        await bot.dispatch()
        escalated = await server.next_message(ADMIN_ID, contains="escalated")
        assert "URGENT alert" in escalated.text
        assert all(a.escalated_at is not None for a in bot.all(Alert))

        # A stranger in the group cannot acknowledge; staff can, and every copy updates.
        stranger = server.add_user(4242, "Eve")
        group.press(stranger, staff_alert, button_text="Acknowledge")
        await server.wait_for(
            lambda: any("Only clinic staff" in (c.text or "") for c in server.callback_answers)
        )
        assert all(a.acknowledged_at is None for a in bot.all(Alert))
        admin.press(escalated, button_text="Acknowledge")
        await server.wait_for(
            lambda: "Acknowledged by" in server.message(ADMIN_ID, escalated.message_id).text
        )
    finally:
        await bot.stop()


async def test_strangers_and_bad_input_change_nothing(bot, fake_bot_api):
    server = fake_bot_api
    stranger = server.add_user(5555, "Eve")
    stranger.send_text("/enroll MRN9")
    refusal = await server.next_message(5555, contains="ask your clinic for an invite link")
    stranger.send_text("/start not-a-real-token-at-all")
    await server.next_message(5555, contains="not valid")
    stranger.send_text("hello")
    await server.next_message(5555, contains="ask your clinic")
    assert refusal is not None
    assert bot.all(Patient) == []
    assert [e.action for e in bot.all(AuditEvent)] == ["refused:enroll"]

    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    admin.send_text("/enroll b@d!")
    await server.next_message(ADMIN_ID, contains="Usage: /enroll")
    admin.send_text("/infusion NOPE1")
    await server.next_message(ADMIN_ID, contains="No patient with reference NOPE1")
    admin.send_text("/infusion MRN1 25:99")
    await server.next_message(ADMIN_ID, contains="Usage: /infusion")
    admin.send_text("/frobnicate")
    await server.next_message(ADMIN_ID, contains="/help")
    assert bot.all(Patient) == []


async def test_used_tokens_and_foreign_buttons_are_refused(bot, fake_bot_api):
    server = fake_bot_api
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    ann, token = await enrol_patient(server, admin)
    mallory = server.add_user(6666, "Mal")
    mallory.send_text(f"/start {token}")
    await server.next_message(6666, contains="already been used")

    admin.send_text("/infusion MRN001")
    question = await server.next_message(PATIENT_ID, contains="How bad is your pain right now")
    # Text where a button is expected: relayed to staff in the patient's words, not taken
    # as an answer; the question comes again.
    ann.send_text("seven")
    await server.next_message(PATIENT_ID, contains="has gone to the clinic team")
    await server.next_message(PATIENT_ID, contains="To go on with your check-in")
    relayed = await server.next_message(ADMIN_ID, contains="Message from the patient")
    assert "“seven”" in relayed.text
    ann.send_sticker()
    await server.next_message(PATIENT_ID, contains="can't read that")
    assert bot.all(Answer) == []
    # The old message lost its buttons when the question was shown again.
    assert not server.message(PATIENT_ID, question.message_id).buttons
    current = server.messages(PATIENT_ID)[-2]
    ann.press(current, button_text="3")
    await server.next_message(PATIENT_ID, contains="Average pain over the last 24 hours")
    assert [a.value for a in bot.all(Answer)] == ["3"]
