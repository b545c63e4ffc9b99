"""/next (issue 9): what is open now, where the patient left off, and when the next one is.

An unfinished check-in picks up at its first unanswered question and keeps every answer.
"""

from __future__ import annotations

import json

from storage.models import Answer, CheckIn, CheckInStatus
from tests.e2e.test_walking_skeleton import PATIENT_ID, answer
from tests.utils.harness import BotUnderTest
from tests.utils.patients import add_active_patients

AVERAGE = "Average pain over the last 24 hours"
SLEEP = "sleep quality"


def stored_answers(bot: BotUnderTest) -> dict[str, object]:
    return {a.question_id: json.loads(a.value) for a in bot.all(Answer)}


async def test_next_with_nothing_planned_says_so_kindly(bot, fake_bot_api):
    add_active_patients(bot, [PATIENT_ID], infusion=False)
    fake_bot_api.user(PATIENT_ID).send_text("/next")
    told = await fake_bot_api.next_message(PATIENT_ID, contains="Nothing is waiting")
    assert "no more check-ins are planned" in told.text
    assert "send /report" in told.text
    assert "Feeling very unwell? Call emergency services now" in told.text


async def test_next_resumes_a_partly_answered_check_in_at_its_next_question(bot, fake_bot_api):
    server = fake_bot_api
    add_active_patients(bot, [PATIENT_ID])
    await bot.dispatch()
    ann = server.user(PATIENT_ID)
    await answer(server, ann, "How bad is your pain right now", "7")
    left = await server.next_message(PATIENT_ID, contains=AVERAGE)

    ann.send_text("/next")
    shown = await server.next_message(PATIENT_ID, contains="Still open: Before your infusion.")
    assert "After it, the next one is on Tuesday 24 Nov at 14:00." in shown.text
    assert "Here is where you left off:" in shown.text and AVERAGE in shown.text
    assert "question 2 of" in shown.text and shown.buttons
    await server.wait_for(lambda: not server.message(PATIENT_ID, left.message_id).buttons)
    ann.press(shown, button_text="5")
    await server.next_message(PATIENT_ID, contains=SLEEP)
    assert stored_answers(bot) == {"pain_now": 7, "pain_avg_24h": 5}


async def test_next_after_going_back_continues_at_the_first_unanswered_question(bot, fake_bot_api):
    server = fake_bot_api
    add_active_patients(bot, [PATIENT_ID])
    await bot.dispatch()
    ann = server.user(PATIENT_ID)
    await answer(server, ann, "How bad is your pain right now", "7")
    await answer(server, ann, AVERAGE, "5")
    sleep = await server.next_message(PATIENT_ID, contains=SLEEP)
    ann.press(sleep, button_text="↩ Change last answer")
    await server.next_message(PATIENT_ID, contains=AVERAGE)  # asked again, then left

    ann.send_text("/next")
    shown = await server.next_message(PATIENT_ID, contains="Still open")
    assert SLEEP in shown.text and "question 3 of" in shown.text
    assert stored_answers(bot) == {"pain_now": 7, "pain_avg_24h": 5}  # nothing lost
    ann.press(shown, button_text="Good")
    await server.next_message(PATIENT_ID, contains="Mood today")
    assert stored_answers(bot)["sleep"] == "4"  # "Good", the fourth of five
    [baseline] = bot.all(CheckIn, CheckIn.step_id == "baseline")
    assert baseline.status == CheckInStatus.IN_PROGRESS


async def test_next_with_none_open_tells_when_the_next_one_is(bot, fake_bot_api):
    add_active_patients(bot, [PATIENT_ID])  # the baseline is due now, not yet sent
    bot.clock.advance(hours=1)  # it closed unanswered 30 min after the start
    await bot.dispatch()
    fake_bot_api.user(PATIENT_ID).send_text("/next")
    told = await fake_bot_api.next_message(PATIENT_ID, contains="Nothing is waiting")
    assert "Your next check-in is on Tuesday 24 Nov at 14:00." in told.text
