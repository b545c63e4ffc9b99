"""What the fuzz of the front door found (tests/e2e/test_fuzz.py), each pinned by a test."""

from __future__ import annotations

import logging

from bot import locales, texts
from storage import repository as repo
from storage.models import AuditEvent, Patient, PatientStatus, StaffMember
from tests.utils.harness import ADMIN_ID, COORDINATOR_ID
from tests.utils.patients import add_active_patients

ANN, STRANGER = 1001, 4242


async def answer_of(server, query_id: str):
    return await server.wait_for(
        lambda: next((a for a in server.callback_answers if a.query_id == query_id), None)
    )


async def test_a_stranger_editing_a_message_gets_the_strangers_answer(bot, fake_bot_api):
    server = fake_bot_api
    eve = server.add_user(STRANGER, "Eve")
    sent = eve.send_text("hello")
    await server.next_message(STRANGER)
    eve.edit_message(sent, "hello again")
    assert (await server.next_message(STRANGER)).text == locales.say(
        "en", "stranger", user_id=STRANGER
    )


async def test_forged_staff_buttons_leave_a_patients_question_as_it_was(bot, fake_bot_api):
    server = fake_bot_api
    add_active_patients(bot, [ANN])
    await bot.dispatch()
    question = await server.next_message(ANN, contains="How bad is your pain")
    buttons = list(question.buttons)
    ann = server.user(ANN)
    patient_id = bot.all(Patient)[0].id
    with bot.session() as session:
        member = repo.add_staff_member(
            session, user_id=COORDINATOR_ID, role="coordinator", name="Cleo", now=bot.clock.now()
        )
        session.commit()
        member_id = member.id
    for forged in (f"p:{patient_id}:pause:1", f"r:{member_id}:1", "c:1:1"):
        answer = await answer_of(server, ann.press_forged(question, forged))
        assert answer.text in (
            locales.say("en", "foreign_button"),
            locales.say("en", "consent_stale"),
        ), forged
    await bot.dispatch()
    assert server.message(ANN, question.message_id).buttons == buttons  # still answerable
    assert not server.message(ANN, question.message_id).edits
    assert bot.all(Patient)[0].status == PatientStatus.ACTIVE
    assert bot.all(StaffMember)[0].active
    refused = {e.action for e in bot.all(AuditEvent, AuditEvent.actor_telegram_id == ANN)}
    assert refused == {"refused:pause", "refused:remove_staff"}


async def test_a_change_button_with_a_time_beyond_the_calendar_is_stale(bot, fake_bot_api, caplog):
    server = fake_bot_api
    add_active_patients(bot, [ANN], infusion=False)
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    admin.send_text("/pause MRN1001")
    asked = await server.next_message(ADMIN_ID, contains="MRN1001")
    patient_id = bot.all(Patient)[0].id
    with caplog.at_level(logging.ERROR):
        query = admin.press_forged(asked, f"p:{patient_id}:pause:1:999999999999")
        assert (await answer_of(server, query)).text == texts.STALE_BUTTON
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert bot.all(Patient)[0].status == PatientStatus.ACTIVE


async def test_a_forged_stop_button_naming_nobody_or_someone_else_is_not_for_you(
    bot, fake_bot_api, caplog
):
    server = fake_bot_api
    add_active_patients(bot, [ANN, 1002])
    await bot.dispatch()
    question = await server.next_message(ANN, contains="How bad is your pain")
    ann = server.user(ANN)
    other_id = next(p.id for p in bot.all(Patient) if p.telegram_user_id == 1002)
    with caplog.at_level(logging.ERROR):
        for forged in (f"q:{other_id + 1000}:1", f"q:{other_id}:1"):
            answer = await answer_of(server, ann.press_forged(question, forged))
            assert answer.text == texts.FOREIGN_BUTTON, forged
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert {p.status for p in bot.all(Patient)} == {PatientStatus.ACTIVE}
    assert not server.message(ANN, question.message_id).edits
