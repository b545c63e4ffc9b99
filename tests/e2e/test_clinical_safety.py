"""What the bot asks, when it stops, and what it does with words: issue 7, point by point.

Each test drives the real bot (PTB Application, SQLite file, bundled protocol) through the
fake Bot API like a patient and a coordinator would, and asserts on what they and the staff
see and on what is stored. The clock is moved by hand; quiet hours are the protocol's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.protocol import DEFAULT_PROTOCOL_PATH
from storage.models import Alert, Answer, CheckIn, CheckInStatus, Patient, PatientStatus
from tests.e2e.test_walking_skeleton import PATIENT_ID, answer, answer_baseline
from tests.utils.checkins import send_answers, tick_and_done
from tests.utils.clock import FakeClock
from tests.utils.harness import ADMIN_ID, BotUnderTest, start_bot
from tests.utils.outbox import pending_to
from tests.utils.patients import add_active_patients
from tests.utils.protocols import CRISIS_LINE, ON_CALL

REF = f"MRN{PATIENT_ID}"
NONE = "None of these"


async def with_infusion(bot: BotUnderTest, args: str = "") -> str:
    """An active patient and an admin; the admin records an infusion. Returns the answer."""
    server = bot.server
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT_ID], infusion=False)
    admin.send_text(f"/infusion {REF} {args}".strip())
    recorded = await server.next_message(ADMIN_ID, contains=f"Infusion recorded for {REF}")
    return recorded.text


async def answer_all(server, patient, steps: list[tuple[str, str]]) -> None:
    """Tap `button` on each question containing `contains`, in order."""
    for contains, button in steps:
        await answer(server, patient, contains, button)


async def open_report(bot: BotUnderTest, *screener: str) -> None:
    """An active patient sends /report, ticks nothing, and answers the screener so far."""
    bot.server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT_ID], infusion=False)
    ann = bot.server.user(PATIENT_ID)
    ann.send_text("/report")
    questions = ["Tick all that apply", "Yellow skin/eyes", "wished you were dead"]
    questions += ["thoughts of killing yourself", "prepared to do anything to end your life"]
    buttons = [NONE, NONE, *screener]
    await answer_all(bot.server, ann, list(zip(questions, buttons, strict=False)))


async def evening_checklist(bot: BotUnderTest):
    """An infusion, its baseline answered, 4 h on: the evening check-in's side-effect list."""
    server = bot.server
    await with_infusion(bot)
    ann = server.user(PATIENT_ID)
    await answer_baseline(server, ann)
    await next_step(bot, hours=4)
    await answer(server, ann, "Evening check-in", "3")
    return await server.next_message(PATIENT_ID, contains="Tick all that apply")


async def next_step(bot: BotUnderTest, **delta: float) -> None:
    bot.clock.advance(**delta)
    await bot.dispatch()


def alerts_by_rule(bot: BotUnderTest) -> dict[str, str]:
    return {a.rule_id: a.severity for a in bot.all(Alert)}


def check_in(bot: BotUnderTest, step_id: str) -> CheckIn:
    [row] = bot.all(CheckIn, CheckIn.step_id == step_id)
    return row


# -- 1. worse pain never shortens follow-up; relief wearing off reduces it ---------------


async def test_worse_pain_keeps_the_whole_follow_up_and_tells_staff(bot, fake_bot_api):
    server = fake_bot_api
    await with_infusion(bot)
    ann = server.user(PATIENT_ID)
    await answer_baseline(server, ann, pain="6", average="6", mood="6")
    await next_step(bot, hours=4)
    await answer(server, ann, "Evening check-in", "8")
    await answer(server, ann, "Tick all that apply", NONE)
    await send_answers(server, server.user(PATIENT_ID))
    await next_step(bot, hours=20)
    for contains, button in [
        ("Average pain over the last 24 hours", "8"),
        ("Since your infusion", "Much worse"),
        ("interfere", "7"),
        ("sleep quality", "Poor"),
        ("Mood today", "1"),
        ("Tick all that apply", NONE),
        ("Yellow skin/eyes", NONE),
    ]:
        await answer(server, ann, contains, button)
    thanks = await send_answers(server, server.user(PATIENT_ID))

    assert "Your next check-in is on" in thanks.text
    later = ["day_3", "week_1", "week_2", "week_3", "week_4", "week_6", "week_8"]
    for step in later:
        row = check_in(bot, step)
        assert row.status == CheckInStatus.PENDING and not row.safety_only, step
    fired = alerts_by_rule(bot)
    assert fired["pain_worse_twice"] == "review" and fired["mood_much_worse"] == "review"
    assert "relief_wearing_off" not in fired
    staff = await server.next_message(ADMIN_ID, contains="Pain 2 or more points above baseline")
    assert "Pain 8, 8 against baseline 6" in staff.text


async def test_relief_wearing_off_tells_staff_and_keeps_only_the_safety_part(bot, fake_bot_api):
    server = fake_bot_api
    await with_infusion(bot)
    ann = server.user(PATIENT_ID)
    await answer_baseline(server, ann, pain="6", average="6", sleep="Fair", mood="6")
    await next_step(bot, hours=4)
    await answer(server, ann, "Evening check-in", "2")  # a 67 % response
    await answer(server, ann, "Tick all that apply", NONE)
    await send_answers(server, server.user(PATIENT_ID))
    await next_step(bot, hours=20)
    for contains, button in [
        ("Average pain over the last 24 hours", "5"),  # 17 % better: back near baseline
        ("Since your infusion", "Much improved"),
        ("interfere", "3"),
        ("sleep quality", "Good"),
        ("Mood today", "6"),
        ("Tick all that apply", NONE),
        ("Yellow skin/eyes", NONE),
    ]:
        await answer(server, ann, contains, button)
    await send_answers(server, server.user(PATIENT_ID))
    assert "relief_wearing_off" not in alerts_by_rule(bot)  # one check-in is not a trend

    await next_step(bot, hours=48)
    await answer(server, ann, "Day 3 check-in", "5")  # the second one: relief has worn off
    review = await server.next_message(ADMIN_ID, contains="Relief wearing off")
    assert "Follow-up changed" in review.text and "Pain 5, 5 against baseline 6" in review.text
    for contains, button in [
        ("Since your infusion", "Minimally improved"),
        ("interfere", "4"),
        ("Tick all that apply", NONE),
    ]:
        await answer(server, ann, contains, button)
    await send_answers(server, server.user(PATIENT_ID))
    weekly = [c for c in bot.all(CheckIn) if c.step_id.startswith("week_")]
    assert len(weekly) == 6
    assert all(c.safety_only and c.status == CheckInStatus.PENDING for c in weekly)

    # Week 1 asks the safety part only, in its own words ("since your last check-in").
    await next_step(bot, days=4)
    first = await answer(server, ann, "Week 1 check-in · question 1 of", "No")
    assert "wished you were dead" in first.text
    await answer(server, ann, "thoughts of killing yourself", "No")
    await answer(server, ann, "prepared to do anything to end your life", "No")
    checklist = await answer(server, ann, "Since your last check-in, have you had any", NONE)
    assert "Week 1 check-in" in checklist.text
    await answer(server, ann, "Since your last check-in, have you had any", NONE)
    await send_answers(server, server.user(PATIENT_ID))
    asked = {
        a.question_id for a in bot.all(Answer, Answer.check_in_id == check_in(bot, "week_1").id)
    }
    assert asked == {"safety_1", "safety_2", "safety_6", "side_effects", "urine_liver"}


# -- 2. after an emergency nothing more is asked -------------------------------------------


async def test_suicidal_intent_ends_the_report_with_the_emergency_and_crisis_text(
    bot, fake_bot_api
):
    server = fake_bot_api
    await open_report(bot, "No", "Yes")
    ann = server.user(PATIENT_ID)
    crisis = await server.next_message(PATIENT_ID, contains="You can talk to someone right now")
    assert f"call {CRISIS_LINE}" in crisis.text
    await answer(server, ann, "thought about how", "Yes")
    await answer(server, ann, "intention of acting", "Yes")

    emergency = await server.next_message(PATIENT_ID, contains="Call 112 now")
    assert emergency.text.startswith("Call 112 now, or ask someone with you to call")
    assert f"call {CRISIS_LINE}" in emergency.text
    staff = await server.next_message(ADMIN_ID, contains="EMERGENCY alert")
    assert "The check-in stopped at this answer" in staff.text
    await server.wait_for(lambda: check_in(bot, "report").status == CheckInStatus.INTERRUPTED)
    await bot.dispatch()
    assert server.messages(PATIENT_ID)[-1].message_id == emergency.message_id
    assert not any(
        "worked out" in t or "Does this feel urgent" in t for t in server.sent_to(PATIENT_ID)
    )
    assert alerts_by_rule(bot) == {"safety_ideation": "urgent", "safety_high_risk": "emergency"}


async def test_an_emergency_symptom_is_not_followed_by_its_severity_question(bot, fake_bot_api):
    server = fake_bot_api
    checklist = await evening_checklist(bot)
    server.user(PATIENT_ID).press(checklist, button_text="☐ Breathlessness")
    await server.next_message(PATIENT_ID, contains="Call 112 now")
    await server.wait_for(lambda: check_in(bot, "evening").status == CheckInStatus.INTERRUPTED)
    await bot.dispatch()
    assert not any("How severe is it" in t for t in server.sent_to(PATIENT_ID))
    assert alerts_by_rule(bot) == {"breathlessness": "emergency"}


# -- 3. words are never ignored ------------------------------------------------------------


async def test_risk_words_outside_a_check_in_raise_an_emergency_in_the_patients_words(
    bot, fake_bot_api
):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT_ID], infusion=False)
    ann = server.user(PATIENT_ID)
    ann.send_text("I want to kill myself tonight")
    told = await server.next_message(PATIENT_ID, contains="Call 112 now")
    assert f"call {CRISIS_LINE}" in told.text
    staff = await server.next_message(ADMIN_ID, contains="EMERGENCY alert")
    assert "“I want to kill myself tonight” (risk phrase: kill myself)" in staff.text
    ann.send_text("me duele el pecho")
    spanish = await server.next_message(ADMIN_ID, contains="EMERGENCY alert")
    assert "chest pain" in spanish.text
    [suicide, chest] = bot.all(Alert)
    assert (suicide.rule_id, suicide.severity) == ("words_suicide_self_harm", "emergency")
    assert (chest.rule_id, chest.severity) == ("words_chest_pain", "emergency")
    assert suicide.escalate_at is not None and suicide.check_in_id is None


async def test_risk_words_during_a_check_in_end_it(bot, fake_bot_api):
    server = fake_bot_api
    await with_infusion(bot)
    ann = server.user(PATIENT_ID)
    question = await server.next_message(PATIENT_ID, contains="How bad is your pain right now")
    ann.send_text("I took all my tablets")
    await server.next_message(PATIENT_ID, contains="Call 112 now")
    await server.next_message(ADMIN_ID, contains="“I took all my tablets”")
    await server.wait_for(lambda: not server.message(PATIENT_ID, question.message_id).buttons)
    assert check_in(bot, "baseline").status == CheckInStatus.INTERRUPTED
    assert alerts_by_rule(bot) == {"words_overdose": "emergency"}
    assert bot.all(Answer) == []


# -- 4. /report carries the worst news, and an abandoned one still counts ------------------


async def test_a_report_asks_urgency_and_words_and_relays_them(bot, fake_bot_api):
    server = fake_bot_api
    await open_report(bot, "No", "No", "No")
    ann = server.user(PATIENT_ID)
    await answer(server, ann, "Does this feel urgent to you?", "Yes")
    urgent = await server.next_message(PATIENT_ID, contains="will contact you today")
    assert f"on-call line: {ON_CALL}" in urgent.text
    words = await server.next_message(PATIENT_ID, contains="Type it in your own words")
    assert ("Nothing to add", f"n:{words.buttons[0][1].split(':')[1]}:report_words") in [
        (label, data) for label, data in words.buttons
    ]
    ann.send_text("it burns when I pee since yesterday")
    relay = await server.next_message(ADMIN_ID, contains="Message from the patient")
    assert "“it burns when I pee since yesterday”" in relay.text
    await send_answers(server, server.user(PATIENT_ID))
    assert alerts_by_rule(bot) == {"report_feels_urgent": "urgent", "patient_words": "review"}

    # A second report, with nothing to add: no relay.
    ann.send_text("/report")
    for contains, button in [
        ("Tick all that apply", NONE),
        ("Yellow skin/eyes", NONE),
        ("wished you were dead", "No"),
        ("thoughts of killing yourself", "No"),
        ("prepared to do anything to end your life", "No"),
        ("Does this feel urgent to you?", "No"),
        ("Type it in your own words", "Nothing to add"),
    ]:
        await answer(server, ann, contains, button)
    await send_answers(server, server.user(PATIENT_ID))
    filed = await server.next_message(ADMIN_ID, contains="Problem report (nothing in it alerted)")
    assert "Does this feel urgent" not in filed.text and "Feels urgent: No" in filed.text
    assert len(bot.all(Alert)) == 3


async def test_an_abandoned_report_reaches_staff_with_what_it_got(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT_ID], infusion=False)
    ann = server.user(PATIENT_ID)
    ann.send_text("/report")
    checklist = await server.next_message(PATIENT_ID, contains="Tick all that apply")
    await tick_and_done(server, ann, checklist, "Nausea or vomiting")
    await answer(server, ann, "How severe is it: Nausea or vomiting", "Mild")
    await server.next_message(PATIENT_ID, contains="unable to keep fluids down")
    await next_step(bot, minutes=61)
    review = await server.next_message(ADMIN_ID, contains="Problem report left unfinished")
    assert "Answered only: Side effects: Nausea or vomiting (mild)" in review.text
    assert check_in(bot, "report").status == CheckInStatus.PARTIAL


# -- 5. no placeholder ever reaches a patient; the operator is warned -------------------------


async def test_unset_contacts_are_left_out_and_admins_are_warned_at_start(fake_bot_api, tmp_path):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    bot = await start_bot(server, tmp_path, protocol_path=DEFAULT_PROTOCOL_PATH)
    try:
        warning = await server.next_message(ADMIN_ID, contains="Before patients rely on this bot")
        assert "not approved" in warning.text
        assert "the on-call number is not set" in warning.text
        assert "the crisis line is not set" in warning.text
        add_active_patients(bot, [PATIENT_ID], infusion=False)
        ann = server.user(PATIENT_ID)
        ann.send_text("/report")
        await answer(server, ann, "Tick all that apply", NONE)
        await answer(server, ann, "Yellow skin/eyes", NONE)
        await answer(server, ann, "wished you were dead", "Yes")
        crisis = await server.next_message(PATIENT_ID, contains="112")
        assert crisis.text.startswith(
            "If you are in danger or might act on these thoughts, call 112 now."
        )
        for placeholder in ("{", "crisis_line", "to be set", "call .", "call :"):
            assert placeholder not in crisis.text
    finally:
        await bot.stop()


# -- 6. a silent patient is never silent to staff --------------------------------------------


async def test_every_missed_check_in_after_the_second_in_a_row_alerts(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT_ID])
    await bot.dispatch()
    for row in sorted(bot.all(CheckIn), key=lambda c: c.due_at):
        bot.clock.set(row.closes_at)
        await next_step(bot, seconds=1)
    rows = sorted(bot.all(CheckIn), key=lambda c: c.due_at)
    assert all(c.status == CheckInStatus.MISSED for c in rows)
    alerts = bot.all(Alert)
    two_missed = {a.check_in_id for a in alerts if a.rule_id == "two_missed"}
    assert two_missed == {c.id for c in rows[1:]}  # evening to week 8: nine reviews
    early = {a.check_in_id: a.severity for a in alerts if a.rule_id == "missed_early_check_in"}
    assert early == {rows[1].id: "urgent", rows[2].id: "urgent"}
    last = await server.wait_for_message(ADMIN_ID, contains="10 check-ins missed in a row")
    assert "(nothing answered yet)" in last.text


# -- 7. nothing the bot starts arrives with a sound at night ----------------------------------


async def test_a_late_infusion_gets_a_silent_evening_check_in_no_night_reminder_and_a_review(
    fake_bot_api, tmp_path
):
    server = fake_bot_api
    clock = FakeClock(datetime(2026, 11, 24, 19, 30, tzinfo=UTC))  # 19:30 in London
    bot = await start_bot(server, tmp_path, clock=clock)
    try:
        server.add_user(ADMIN_ID, "Dana", started=True)
        add_active_patients(bot, [PATIENT_ID])
        evening = check_in(bot, "evening")
        assert evening.remind_at is None  # 01:30 is quiet and 08:00 is after the 03:30 close
        await bot.dispatch()  # the baseline, written straight to the database, goes out
        await answer_baseline(server, server.user(PATIENT_ID))
        await send_answers(server, server.user(PATIENT_ID))
        await next_step(bot, hours=4)  # 23:30: it cannot wait for the morning
        await server.next_message(PATIENT_ID, contains="Evening check-in")
        [question] = [
            call
            for call in server.calls("sendMessage")
            if call["chat_id"] == PATIENT_ID and "Evening check-in" in call["text"]
        ]
        assert question.get("disable_notification") is True
        sent = len(server.sent_to(PATIENT_ID))
        await next_step(bot, hours=2, minutes=1)  # 01:31
        assert len(server.sent_to(PATIENT_ID)) == sent  # no reminder at night
        await next_step(bot, hours=2)  # 03:31: closed unanswered
        assert alerts_by_rule(bot) == {"missed_early_check_in": "review"}
        # A review raised out of office hours reaches staff when the clinic opens, at 08:00.
        [held] = pending_to(bot, ADMIN_ID)
        assert held.next_attempt_at == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        assert server.sent_to(ADMIN_ID) == []
        bot.clock.set(datetime(2026, 11, 25, 8, 0, 1, tzinfo=UTC))
        bot.running.sender.wake()
        review = await server.next_message(ADMIN_ID, contains="Review alert")
        assert "window mostly at night" in review.text
    finally:
        await bot.stop()


# -- 8. a baseline is from before the infusion, or marked as borrowed ------------------------


async def test_an_infusion_recorded_late_has_no_baseline_check_in(bot, fake_bot_api):
    told = await with_infusion(bot, "07:30")  # 2.5 h ago
    assert "No baseline check-in: the infusion was recorded 150 min after its start" in told
    assert "no earlier baseline" in told
    assert [c.step_id for c in bot.all(CheckIn) if c.step_id == "baseline"] == []
    await bot.dispatch()
    assert not any("Before your infusion" in t for t in fake_bot_api.sent_to(PATIENT_ID))


async def test_a_baseline_taken_in_the_clinic_is_used_by_the_rules(bot, fake_bot_api):
    server = fake_bot_api
    told = await with_infusion(bot, "07:30 pain=6")
    assert "Baseline taken in the clinic recorded (pain 6)" in told
    baseline = check_in(bot, "baseline")
    assert baseline.status == CheckInStatus.ANSWERED
    assert [(a.question_id, a.value) for a in bot.all(Answer)] == [("pain_avg_24h", "6")]
    await next_step(bot, hours=2)  # 11:30, the evening check-in
    await answer(server, server.user(PATIENT_ID), "Evening check-in", "9")
    staff = await server.next_message(ADMIN_ID, contains="Pain 3 or more points above baseline")
    assert "Pain 9 against baseline 6" in staff.text


async def test_a_late_infusion_borrows_the_previous_baseline_and_says_so(bot, fake_bot_api):
    server = fake_bot_api
    await with_infusion(bot)
    ann = server.user(PATIENT_ID)
    await answer_baseline(server, ann, pain="5", average="5")
    await send_answers(server, server.user(PATIENT_ID))
    bot.clock.advance(days=1)
    server.user(ADMIN_ID).send_text(f"/infusion {REF} 09:00")  # an hour ago
    told = await server.next_message(ADMIN_ID, contains="No baseline check-in")
    assert "previous infusion's baseline" in told.text
    await next_step(bot, hours=3)  # 13:00, its evening check-in
    await answer(server, ann, "Evening check-in", "9")
    staff = await server.next_message(ADMIN_ID, contains="Pain 3 or more points above baseline")
    assert "baseline 5 (previous infusion's: this one has none)" in staff.text


# -- 9. the protocol's new questions --------------------------------------------------------


async def test_confusion_asks_whether_they_are_hard_to_wake(bot, fake_bot_api):
    server = fake_bot_api
    checklist = await evening_checklist(bot)
    ann = server.user(PATIENT_ID)
    await tick_and_done(server, ann, checklist, "Confusion")
    await answer(server, ann, "How severe is it: Confusion", "Mild")
    await answer(server, ann, "confused and hard to wake?", "Yes")
    await server.next_message(PATIENT_ID, contains="Call 112 now")
    assert alerts_by_rule(bot) == {"confused_hard_to_wake": "emergency"}


async def test_what_a_patient_writes_in_a_flood_is_still_relayed(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT_ID], infusion=False)
    ann = server.user(PATIENT_ID)
    for n in range(22):
        ann.send_text(f"message {n}")
    ann.send_text("I can't breathe")  # held back by the flood guard, not answered
    await server.next_message(PATIENT_ID, contains="You are sending messages very fast")
    await server.wait_for(lambda: len(bot.all(Alert)) == 20)
    assert {a.rule_id for a in bot.all(Alert)} == {"patient_words"}
    await next_step(bot, seconds=11)
    staff = await server.wait_for_message(ADMIN_ID, contains="EMERGENCY alert")
    assert "I can't breathe" in staff.text and "message 21" in staff.text
    await server.wait_for_message(PATIENT_ID, contains="Call 112 now")
    assert alerts_by_rule(bot)["words_breathing"] == "emergency"


async def test_a_report_in_the_days_after_an_infusion_counts_as_that_step(bot, fake_bot_api):
    server = fake_bot_api
    await with_infusion(bot)
    ann = server.user(PATIENT_ID)
    await answer_baseline(server, ann)
    await next_step(bot, hours=30)  # past the next-day check-in's due time
    ann.send_text("/report")
    checklist = await server.next_message(PATIENT_ID, contains="Tick all that apply")
    await tick_and_done(server, ann, checklist, "Seeing/hearing things")
    await answer(server, ann, "How severe is it", "Mild")
    urgent = await server.next_message(ADMIN_ID, contains="still present at +24 h to day 3")
    assert "URGENT" in urgent.text


async def test_edits_captions_and_a_paused_patients_words_still_reach_staff(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT_ID], infusion=False)
    ann = server.user(PATIENT_ID)
    sent = ann.send_text("all fine today")
    await server.next_message(ADMIN_ID, contains="“all fine today”")
    ann.edit_message(sent["message_id"], "actually I took too many pills")
    edited = await server.next_message(ADMIN_ID, contains="EMERGENCY alert")
    assert "“actually I took too many pills” (risk phrase: too many pills)" in edited.text
    ann.send_document("rash.jpg", b"\xff\xd8", mime_type="image/jpeg", caption="rash on my arm")
    caption = await server.next_message(ADMIN_ID, contains="“rash on my arm”")
    assert "Review alert" in caption.text
    with bot.session() as session:
        patient = session.get(Patient, 1)
        patient.status = PatientStatus.PAUSED
        session.add(patient)
        session.commit()
    ann.send_text("are you still there?")
    paused = await server.next_message(ADMIN_ID, contains="“are you still there?”")
    assert "Message from the patient" in paused.text
    assert [a.rule_id for a in bot.all(Alert)] == [
        "patient_words",
        "words_overdose",
        "patient_words",
        "patient_words",
    ]
