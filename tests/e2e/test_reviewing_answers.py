"""Changing answers before sending, "None of these", skipping free text (issue 9).

Each test drives the real bot through the fake Bot API like a patient would and asserts on
what the patient sees (the summary, its buttons, the questions asked again) and on what is
stored (answers, what they replaced, alerts, the check-in's status).
"""

from __future__ import annotations

import json
from pathlib import Path

from bot import keyboards, locales
from bot.core.protocol import DEFAULT_PROTOCOL_PATH
from storage import repository as repo
from storage.models import (
    Alert,
    Answer,
    AuditEvent,
    CheckIn,
    CheckInStatus,
    OutboxMessage,
    OutboxStatus,
)
from tests.e2e.test_walking_skeleton import PATIENT_ID, answer, answer_baseline
from tests.utils.checkins import DONE, NONE_BOX, NONE_OF_THESE, SEND, SUMMARY, THANKS
from tests.utils.harness import ADMIN_ID, BotUnderTest, start_bot
from tests.utils.patients import add_active_patients
from tests.utils.protocols import signed

STRANGER_ID = 4242


def answers(bot: BotUnderTest, step_id: str) -> dict[str, str]:
    """The stored answers of the patient's check-in of that step, as stored (JSON)."""
    [row] = bot.all(CheckIn, CheckIn.step_id == step_id)
    return {a.question_id: a.value for a in bot.all(Answer, Answer.check_in_id == row.id)}


def status(bot: BotUnderTest, step_id: str) -> CheckInStatus:
    [row] = bot.all(CheckIn, CheckIn.step_id == step_id)
    return row.status


def labels(message) -> list[str]:
    return [label for label, _ in message.buttons]


async def reply_to(bot: BotUnderTest, query_id: str) -> str | None:
    """The text the bot answered a button press with."""
    server = bot.server
    found = await server.wait_for(
        lambda: next((a for a in server.callback_answers if a.query_id == query_id), None)
    )
    return found.text


async def all_sent(bot: BotUnderTest) -> None:
    """Wait until everything the bot queued has gone out."""
    pending = OutboxMessage.status == OutboxStatus.PENDING
    await bot.server.wait_for(lambda: not bot.all(OutboxMessage, pending))


async def baseline_summary(bot: BotUnderTest):
    """An active patient answers the baseline (6, 6, Fair, 5, none); returns its summary."""
    bot.server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT_ID])
    await bot.dispatch()
    await answer_baseline(bot.server, bot.server.user(PATIENT_ID))
    return await bot.server.next_message(PATIENT_ID, contains=SUMMARY)


async def evening_checklist(bot: BotUnderTest, pain: str = "3"):
    """The baseline sent, 4 h on: pain answered in the evening check-in; its checklist."""
    server = bot.server
    summary = await baseline_summary(bot)
    server.user(PATIENT_ID).press(summary, button_text=SEND)
    await server.next_message(PATIENT_ID, contains=THANKS)
    bot.clock.advance(hours=4)
    await bot.dispatch()
    await answer(server, server.user(PATIENT_ID), "Evening check-in", pain)
    return await server.next_message(PATIENT_ID, contains="Tick all that apply")


async def evening_summary(bot: BotUnderTest, pain: str = "3"):
    """The evening check-in answered with `pain` and no side effect; returns its summary."""
    checklist = await evening_checklist(bot, pain)
    patient = bot.server.user(PATIENT_ID)
    patient.press(checklist, button_text=NONE_BOX)
    patient.press(checklist, button_text=DONE)
    return await bot.server.next_message(PATIENT_ID, contains=SUMMARY)


async def ticked(bot: BotUnderTest, message, *wanted: str) -> list[str]:
    """Wait until the checklist shows exactly these boxes ticked; returns its labels."""
    server = bot.server

    def now_ticked() -> list[str] | None:
        shown = labels(server.message(PATIENT_ID, message.message_id))
        boxes = [label[2:] for label in shown if label.startswith(keyboards.TICKED)]
        return shown if boxes == list(wanted) else None

    return await server.wait_for(now_ticked)


async def mild_headache_summary(bot: BotUnderTest):
    """The evening check-in answered with a mild headache (nothing sudden, no weakness);
    returns its summary."""
    server = bot.server
    checklist = await evening_checklist(bot)
    patient = server.user(PATIENT_ID)
    patient.press(checklist, button_text="☐ Headache")
    await ticked(bot, checklist, "Headache")
    patient.press(checklist, button_text="Done (1 ticked)")
    await answer(server, patient, "How severe is it: Headache?", "Mild")
    await answer(server, patient, "start suddenly and very severely", "No")
    await answer(server, patient, "new weakness, loss of vision", "No")
    return await server.next_message(PATIENT_ID, contains=SUMMARY)


# -- 1. the summary, Send, and changing an answer -------------------------------------------


async def test_the_summary_shows_every_answer_and_send_finishes_the_check_in(bot, fake_bot_api):
    server = fake_bot_api
    summary = await baseline_summary(bot)

    assert summary.text.startswith(
        "Before your infusion · your answers\n\n"
        "• Pain now: 6/10\n"
        "• Average pain (24 h): 6/10\n"
        "• Sleep quality: Fair\n"
        "• Mood: 5/10\n"
        "• Urine and liver: None of these\n\n"
        "Your answers are saved. Tap Send to finish, or tap one to change it."
    )
    assert labels(summary) == [
        "✅ Send",
        "Change: Pain now",
        "Change: Average pain (24 h)",
        "Change: Sleep quality",
        "Change: Mood",
        "Change: Urine and liver",
    ]
    # Every answer is stored already; the check-in waits for Send.
    assert answers(bot, "baseline") == {
        "pain_now": "6",
        "pain_avg_24h": "6",
        "sleep": '"3"',
        "mood": "5",
        "urine_liver": "{}",
    }
    assert status(bot, "baseline") == CheckInStatus.IN_PROGRESS
    assert not any(THANKS in text for text in server.sent_to(PATIENT_ID))

    server.user(PATIENT_ID).press(summary, button_text=SEND)
    thanks = await server.next_message(PATIENT_ID, contains=THANKS)
    assert "Your next check-in is on" in thanks.text
    sent = server.message(PATIENT_ID, summary.message_id)
    assert sent.text.endswith("✓ Sent") and "• Mood: 5/10" in sent.text and not sent.buttons
    [baseline] = bot.all(CheckIn, CheckIn.step_id == "baseline")
    assert baseline.status == CheckInStatus.ANSWERED
    assert baseline.completed_at == bot.clock.now()


async def test_changing_the_second_answer_asks_it_again_then_shows_the_summary(bot, fake_bot_api):
    server = fake_bot_api
    summary = await baseline_summary(bot)
    patient = server.user(PATIENT_ID)

    patient.press(summary, button_text="Change: Average pain (24 h)")
    again = await server.next_message(PATIENT_ID, contains="Average pain over the last 24 hours")
    assert again.text.startswith("Before your infusion · question 2 of 5")
    changing = await server.wait_for(lambda: server.message(PATIENT_ID, summary.message_id))
    await server.wait_for(lambda: not server.message(PATIENT_ID, summary.message_id).buttons)
    assert "Changing your answer: Average pain (24 h)" in changing.text
    patient.press(again, button_text="8")

    new_summary = await server.next_message(PATIENT_ID, contains=SUMMARY)
    assert "• Average pain (24 h): 8/10" in new_summary.text
    assert "• Pain now: 6/10" in new_summary.text and "• Mood: 5/10" in new_summary.text
    # Nothing else was asked between the changed question and the summary.
    after = [m.text for m in server.messages(PATIENT_ID) if m.message_id > again.message_id]
    assert after == [new_summary.text]
    [changed] = bot.all(Answer, Answer.question_id == "pain_avg_24h")
    assert (changed.value, changed.changed_from) == ("8", "6")
    [audited] = bot.all(AuditEvent, AuditEvent.action == "answer_changed")
    assert audited.detail.endswith("pain_avg_24h was 6")

    patient.press(new_summary, button_text=SEND)
    await server.next_message(PATIENT_ID, contains=THANKS)
    assert status(bot, "baseline") == CheckInStatus.ANSWERED


async def test_a_changed_answer_is_checked_again_and_its_alert_stays(bot, fake_bot_api):
    server = fake_bot_api
    summary = await evening_summary(bot, pain="3")
    patient = server.user(PATIENT_ID)
    assert {a.rule_id for a in bot.all(Alert)} == set()

    patient.press(summary, button_text="Change: Pain now")
    await answer(server, patient, "How bad is your pain right now", "10")
    told = await server.next_message(PATIENT_ID, contains="will contact you today")
    staff = await server.next_message(ADMIN_ID, contains="URGENT alert")
    assert "Rule: Pain 9-10 after the infusion" in staff.text
    new_summary = await server.next_message(PATIENT_ID, contains=SUMMARY)
    assert new_summary.message_id > told.message_id
    assert "• Pain now: 10/10" in new_summary.text
    raised = {a.rule_id for a in bot.all(Alert)}
    assert "pain_severe" in raised

    # Changed back, the answer is stored as given; the alert raised is never withdrawn.
    patient.press(new_summary, button_text="Change: Pain now")
    await answer(server, patient, "How bad is your pain right now", "2")
    last = await server.next_message(PATIENT_ID, contains=SUMMARY)
    assert "• Pain now: 2/10" in last.text
    assert {a.rule_id for a in bot.all(Alert)} == raised
    assert all(a.acknowledged_at is None for a in bot.all(Alert))
    [pain] = bot.all(Answer, Answer.question_id == "pain_now", Answer.value == "2")
    assert pain.changed_from == "10"


async def test_a_changed_checklist_adds_and_drops_its_follow_up_questions(bot, fake_bot_api):
    server = fake_bot_api
    summary = await mild_headache_summary(bot)
    patient = server.user(PATIENT_ID)
    assert "• Side effects: Headache (mild)\n• Sudden severe headache: No\n" in summary.text
    assert "Change: Weakness, vision or speech" in labels(summary)

    patient.press(summary, button_text="Change: Side effects")
    again = await server.next_message(PATIENT_ID, contains="Tick all that apply")
    await ticked(bot, again, "Headache")  # asked again as it was answered
    patient.press(again, button_text="☑ Headache")
    await ticked(bot, again)
    patient.press(again, button_text="☐ Nausea or vomiting")
    await ticked(bot, again, "Nausea or vomiting")
    patient.press(again, button_text="Done (1 ticked)")
    await answer(server, patient, "How severe is it: Nausea or vomiting?", "Moderate")
    await answer(server, patient, "unable to keep fluids down", "No")

    new_summary = await server.next_message(PATIENT_ID, contains=SUMMARY)
    assert "• Side effects: Nausea or vomiting (moderate)" in new_summary.text
    assert "• Cannot keep fluids down: No" in new_summary.text
    assert "headache" not in new_summary.text.lower()
    assert set(answers(bot, "evening")) == {"pain_now", "side_effects", "fluids_not_kept_down"}
    [side_effects] = bot.all(Answer, Answer.question_id == "side_effects")
    assert json.loads(side_effects.changed_from) == {"headache": "mild"}
    dropped = [e.detail for e in bot.all(AuditEvent, AuditEvent.action == "answer_dropped")]
    assert [d.split(": ")[1] for d in dropped] == [
        'headache_sudden was "no"',
        'headache_neuro was "no"',
    ]


async def test_a_checklist_done_again_unchanged_keeps_its_severities(bot, fake_bot_api):
    server = fake_bot_api
    summary = await mild_headache_summary(bot)
    patient = server.user(PATIENT_ID)

    patient.press(summary, button_text="Change: Side effects")
    again = await server.next_message(PATIENT_ID, contains="Tick all that apply")
    await ticked(bot, again, "Headache")
    patient.press(again, button_text="Done (1 ticked)")

    # Nothing changed: no severity asked again, straight back to the same summary.
    new_summary = await server.next_message(PATIENT_ID, contains=SUMMARY)
    after = [m.text for m in server.messages(PATIENT_ID) if m.message_id > again.message_id]
    assert after == [new_summary.text]
    assert "• Side effects: Headache (mild)\n• Sudden severe headache: No\n" in new_summary.text
    [side_effects] = bot.all(Answer, Answer.question_id == "side_effects")
    assert json.loads(side_effects.value) == {"headache": "mild"}
    assert side_effects.changed_from is None
    assert bot.all(AuditEvent, AuditEvent.action == "answer_changed") == []
    assert status(bot, "evening") == CheckInStatus.IN_PROGRESS


async def test_an_emergency_ticked_while_changing_a_checklist_keeps_the_other_severities(
    bot, fake_bot_api
):
    server = fake_bot_api
    summary = await mild_headache_summary(bot)
    patient = server.user(PATIENT_ID)
    patient.press(summary, button_text="Change: Side effects")
    again = await server.next_message(PATIENT_ID, contains="Tick all that apply")
    await ticked(bot, again, "Headache")
    patient.press(again, button_text="☐ Chest pain")

    await server.next_message(PATIENT_ID, contains="Call 112 now")
    assert json.loads(answers(bot, "evening")["side_effects"]) == {
        "headache": "mild",
        "chest_pain": None,
    }


async def test_an_emergency_given_while_changing_ends_the_check_in_with_no_summary(
    bot, fake_bot_api
):
    server = fake_bot_api
    summary = await evening_summary(bot)
    patient = server.user(PATIENT_ID)
    patient.press(summary, button_text="Change: Side effects")
    again = await server.next_message(PATIENT_ID, contains="Tick all that apply")
    await ticked(bot, again, "None of these")
    patient.press(again, button_text="☐ Chest pain")

    emergency = await server.next_message(PATIENT_ID, contains="Call 112 now")
    await server.next_message(ADMIN_ID, contains="EMERGENCY alert")
    await all_sent(bot)
    assert status(bot, "evening") == CheckInStatus.INTERRUPTED
    # The emergency text is the last thing sent: no summary after it.
    after = [m.text for m in server.messages(PATIENT_ID) if m.message_id > again.message_id]
    assert after == [emergency.text]
    assert json.loads(answers(bot, "evening")["side_effects"]) == {"chest_pain": None}


async def test_a_check_in_left_at_its_summary_is_answered_when_its_window_closes(bot, fake_bot_api):
    server = fake_bot_api
    summary = await evening_summary(bot)
    count = len(server.messages(PATIENT_ID))

    bot.clock.advance(hours=2)  # the evening reminder's time: every answer is in, no nudge
    await bot.dispatch()
    bot.clock.advance(hours=2, minutes=1)  # the window closes
    await bot.dispatch()

    await all_sent(bot)
    assert not server.message(PATIENT_ID, summary.message_id).buttons
    [evening] = bot.all(CheckIn, CheckIn.step_id == "evening")
    assert evening.status == CheckInStatus.ANSWERED and evening.completed_at == bot.clock.now()
    assert bot.all(Alert) == []  # no "no answer" alert
    assert len(server.messages(PATIENT_ID)) == count  # no reminder, no thank-you


async def test_next_shows_a_check_in_left_at_its_summary_again(bot, fake_bot_api):
    server = fake_bot_api
    summary = await baseline_summary(bot)
    patient = server.user(PATIENT_ID)
    patient.send_text("/next")
    again = await server.next_message(PATIENT_ID, contains=SUMMARY)
    assert again.message_id != summary.message_id
    assert labels(again)[0] == SEND and "• Mood: 5/10" in again.text
    await server.wait_for(lambda: not server.message(PATIENT_ID, summary.message_id).buttons)
    patient.press(again, button_text=SEND)
    await server.next_message(PATIENT_ID, contains=THANKS)
    assert status(bot, "baseline") == CheckInStatus.ANSWERED


async def test_a_tap_and_an_idle_dispatcher_turn_skip_needless_database_work(
    bot, fake_bot_api, monkeypatch
):
    server = fake_bot_api
    checklist = await evening_checklist(bot)
    patient = server.user(PATIENT_ID)
    patient.press(checklist, button_text=NONE_BOX)
    await ticked(bot, checklist, "None of these")
    [evening] = bot.all(CheckIn, CheckIn.step_id == "evening")
    calls: list[tuple] = []
    for name in ("answers_of", "has_alerts", "set_update_outcome"):
        real = getattr(repo, name)

        def counted(session, *args, _real=real, _name=name):
            calls.append((_name, *args))
            return _real(session, *args)

        monkeypatch.setattr(repo, name, counted)

    patient.press(checklist, button_text=DONE)  # the last answer: completion rules run
    await server.next_message(PATIENT_ID, contains=SUMMARY)
    # The evening's answers read once; no completion rule matched, so no alert lookup.
    assert [c for c in calls if c[1] == evening.id] == [("answers_of", evening.id)]
    await bot.dispatch()  # nothing held back: nothing to mark relayed
    assert "set_update_outcome" not in [c[0] for c in calls]


# -- 2. "None of these" is an exclusive box --------------------------------------------------


async def test_none_of_these_is_exclusive_and_done_with_nothing_ticked_asks_to_choose(
    bot, fake_bot_api
):
    server = fake_bot_api
    checklist = await evening_checklist(bot)
    patient = server.user(PATIENT_ID)
    assert labels(checklist)[-3:] == [NONE_BOX, "Done", "↩ Change last answer"]

    patient.press(checklist, button_text="☐ Headache")
    await ticked(bot, checklist, "Headache")
    patient.press(checklist, button_text=NONE_BOX)
    shown = await ticked(bot, checklist, "None of these")
    assert "☐ Headache" in shown and "Done" in shown
    patient.press(checklist, button_text="☐ Dizziness")
    shown = await ticked(bot, checklist, "Dizziness")
    assert NONE_BOX in shown and "Done (1 ticked)" in shown
    assert shown[-1] == "↩ Change last answer"  # a redrawn checklist keeps its way back
    patient.press(checklist, button_text="☑ Dizziness")
    await ticked(bot, checklist)

    asked = await reply_to(bot, patient.press(checklist, button_text="Done"))
    assert asked == locales.say("en", "tick_something")
    assert 'tick "None of these"' in asked
    assert "side_effects" not in answers(bot, "evening")
    assert labels(server.message(PATIENT_ID, checklist.message_id))  # still there to answer

    patient.press(checklist, button_text=NONE_BOX)
    patient.press(checklist, button_text="Done")
    summary = await server.next_message(PATIENT_ID, contains=SUMMARY)
    assert "• Side effects: None of these" in summary.text
    assert "✓ Your answer: None of these" in server.message(PATIENT_ID, checklist.message_id).text
    assert answers(bot, "evening")["side_effects"] == "{}"
    assert bot.all(Alert) == []


async def test_a_tick_and_none_of_these_tapped_at_once_keep_one_clear_answer(bot, fake_bot_api):
    server = fake_bot_api
    checklist = await evening_checklist(bot)
    patient = server.user(PATIENT_ID)
    patient.press(checklist, button_text="☐ Headache")
    patient.press(checklist, button_text=NONE_BOX)  # before the first is handled
    patient.press(checklist, button_text="Done")
    summary = await server.next_message(PATIENT_ID, contains=SUMMARY)
    assert "• Side effects: None of these" in summary.text
    assert answers(bot, "evening")["side_effects"] == "{}"


# -- 3. every free-text question can be skipped ------------------------------------------------


REPORT_UNTIL_WORDS = [
    ("Tick all that apply", NONE_OF_THESE),
    ("Yellow skin/eyes", NONE_OF_THESE),
    ("wished you were dead", "No"),
    ("thoughts of killing yourself", "No"),
    ("prepared to do anything to end your life", "No"),
    ("Does this feel urgent to you?", "No"),
]


async def report_words_question(server, patient):
    """The patient sends /report and answers up to its free-text question; returns it."""
    patient.send_text("/report")
    for contains, button in REPORT_UNTIL_WORDS:
        await answer(server, patient, contains, button)
    return await server.next_message(PATIENT_ID, contains="Type it in your own words")


def required_words_protocol(tmp_path) -> Path:
    """The default protocol with the report's free-text question not optional."""
    protocol = signed(DEFAULT_PROTOCOL_PATH.read_text(encoding="utf-8"))
    protocol = protocol.replace("optional = true\n", "", 1)  # the report's words, required
    path = tmp_path / "required_words.toml"
    path.write_text(protocol, encoding="utf-8")
    return path


async def test_a_free_text_question_that_is_not_optional_can_be_skipped(fake_bot_api, tmp_path):
    server = fake_bot_api
    bot = await start_bot(server, tmp_path, protocol_path=required_words_protocol(tmp_path))
    try:
        assert not bot.runtime.protocol.questions["report_words"].optional
        add_active_patients(bot, [PATIENT_ID], infusion=False)
        patient = server.user(PATIENT_ID)
        words = await report_words_question(server, patient)
        assert labels(words)[0] == "Skip this question"
        patient.press(words, button_text="Skip this question")

        summary = await server.next_message(PATIENT_ID, contains=SUMMARY)
        assert "• Anything else, in words: (skipped)" in summary.text
        assert "✓ Your answer: (skipped)" in server.message(PATIENT_ID, words.message_id).text
        assert answers(bot, "report")["report_words"] == "null"  # a skip, not a text
        assert "patient_words" not in {a.rule_id for a in bot.all(Alert)}
    finally:
        await bot.stop()


async def report_with_nothing_to_add(bot: BotUnderTest):
    """An active patient sends /report, answers it to the end with nothing to add; returns
    the summary."""
    server = bot.server
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT_ID], infusion=False)
    words = await report_words_question(server, server.user(PATIENT_ID))
    server.user(PATIENT_ID).press(words, button_text="Nothing to add")
    return await server.next_message(PATIENT_ID, contains=SUMMARY)


async def test_nothing_to_add_is_stored_as_a_skip_and_typed_words_as_text(bot, fake_bot_api):
    server = fake_bot_api
    skipped = await report_with_nothing_to_add(bot)
    patient = server.user(PATIENT_ID)
    assert "• Anything else, in words: (nothing added)" in skipped.text
    patient.press(skipped, button_text=SEND)
    await server.next_message(PATIENT_ID, contains=THANKS)

    await report_words_question(server, patient)
    patient.send_text("my back is stiff")
    written = await server.next_message(PATIENT_ID, contains=SUMMARY)
    assert "• Anything else, in words: my back is stiff" in written.text

    stored = [a.value for a in bot.all(Answer, Answer.question_id == "report_words")]
    assert stored == ["null", '"my back is stiff"']
    patient.send_text("/mydata")  # the patient reads the skip as such, never as words
    mine = await server.next_message(PATIENT_ID, contains="What the clinic holds about you")
    assert "Anything else, in words: (nothing added)" in mine.text
    assert "Anything else, in words: “my back is stiff”" in mine.text


# -- 4. races and bad input on the summary -----------------------------------------------------


async def test_two_send_taps_at_once_send_once(bot, fake_bot_api):
    server = fake_bot_api
    summary = await baseline_summary(bot)
    patient = server.user(PATIENT_ID)
    first = patient.press(summary, button_text=SEND)
    second = patient.press(summary, button_text=SEND)  # before the first is handled
    await server.next_message(PATIENT_ID, contains=THANKS)
    assert await reply_to(bot, first) == locales.say("en", "answer_saved")
    assert await reply_to(bot, second) == locales.say("en", "summary_closed")
    assert sum(THANKS in text for text in server.sent_to(PATIENT_ID)) == 1
    assert status(bot, "baseline") == CheckInStatus.ANSWERED


async def test_taps_on_a_summary_already_left_change_nothing(bot, fake_bot_api):
    server = fake_bot_api
    summary = await baseline_summary(bot)
    patient = server.user(PATIENT_ID)
    before = answers(bot, "baseline")
    # A change, then another change and Send on the same summary before its buttons go.
    chosen = patient.press(summary, button_text="Change: Pain now")
    other = patient.press(summary, button_text="Change: Mood")
    send = patient.press(summary, button_text=SEND)
    again = await server.next_message(PATIENT_ID, contains="How bad is your pain right now")
    assert await reply_to(bot, chosen) is None
    assert await reply_to(bot, other) == locales.say("en", "summary_out_of_date")
    assert await reply_to(bot, send) == locales.say("en", "summary_out_of_date")
    assert sum("Mood today" in text for text in server.sent_to(PATIENT_ID)) == 1
    assert answers(bot, "baseline") == before
    assert status(bot, "baseline") == CheckInStatus.IN_PROGRESS

    # The question asked again is answered as before: the summary comes back.
    patient.press(again, button_text="6")
    back = await server.next_message(PATIENT_ID, contains=SUMMARY)
    assert "• Pain now: 6/10" in back.text and answers(bot, "baseline") == before
    assert bot.all(AuditEvent, AuditEvent.action == "answer_changed") == []


async def test_a_summary_tap_after_the_check_in_closed_changes_nothing(bot, fake_bot_api):
    server = fake_bot_api
    summary = await baseline_summary(bot)
    patient = server.user(PATIENT_ID)
    # The window closes; the edit taking the buttons off never reaches the phone.
    server.fail_next("editMessageReplyMarkup", status=502, times=5)
    bot.clock.advance(hours=2, minutes=1)
    await bot.dispatch()
    await server.wait_for(lambda: status(bot, "baseline") == CheckInStatus.ANSWERED)
    before = answers(bot, "baseline")
    count = len(server.messages(PATIENT_ID))

    assert await reply_to(bot, patient.press(summary, button_text=SEND)) == locales.say(
        "en", "summary_closed"
    )
    closed = patient.press(summary, button_text="Change: Mood")
    assert await reply_to(bot, closed) == locales.say("en", "summary_closed")
    assert answers(bot, "baseline") == before
    assert len(server.messages(PATIENT_ID)) == count  # no question, no thank-you
    assert not any(THANKS in text for text in server.sent_to(PATIENT_ID))


async def test_someone_else_tapping_a_summary_changes_nothing(bot, fake_bot_api):
    server = fake_bot_api
    summary = await baseline_summary(bot)
    stranger = server.add_user(STRANGER_ID, "Eve", started=True)
    # A forged press: someone else's client sends the patient's button data.
    query = server.press(PATIENT_ID, stranger, summary.message_id, SEND, None)
    assert await reply_to(bot, query) == locales.say("en", "foreign_button")
    assert status(bot, "baseline") == CheckInStatus.IN_PROGRESS
    assert server.messages(STRANGER_ID) == []
    assert server.message(PATIENT_ID, summary.message_id).buttons


async def test_a_report_left_at_its_summary_reaches_staff_once_and_closes_answered(
    bot, fake_bot_api
):
    server = fake_bot_api
    await report_with_nothing_to_add(bot)
    # The report reaches staff at its last answer, not at Send.
    filed = await server.next_message(ADMIN_ID, contains="Problem report (nothing in it alerted)")
    assert "Anything else, in words: skipped" in filed.text

    bot.clock.advance(hours=1, minutes=1)  # the report's window closes without Send
    await bot.dispatch()
    await all_sent(bot)
    assert status(bot, "report") == CheckInStatus.ANSWERED
    assert [a.rule_id for a in bot.all(Alert)] == ["report_filed"]  # not "unfinished"
