"""/mydata: a patient reads what the clinic holds about them, page by page, and nobody else."""

from __future__ import annotations

from datetime import timedelta

from bot import locales, texts
from storage import repository as repo
from storage.models import Alert, AuditEvent, Patient
from tests.e2e.test_reviewing_answers import report_words_question, required_words_protocol
from tests.e2e.test_walking_skeleton import PATIENT_ID
from tests.utils.checkins import NONE_OF_THESE, SEND, SUMMARY, THANKS, press_answer, send_answers
from tests.utils.harness import ADMIN_ID, start_bot
from tests.utils.patients import add_active_patients

ANN, BEN, STRANGER = 1001, 1002, 4242
BASELINE = [
    ("How bad is your pain right now", "7"),
    ("Average pain over the last 24 hours", "6"),
    ("sleep quality", "Fair"),
    ("Mood today", "5"),
    ("Yellow skin/eyes", "None of these"),
]


async def answer_baseline(server, user_id: int, pain: str) -> None:
    """The patient answers the baseline check-in just sent, pain first."""
    user = server.user(user_id)
    for contains, button in [(BASELINE[0][0], pain), *BASELINE[1:]]:
        question = await server.next_message(user_id, contains=contains)
        press_answer(user, question, button)
    await send_answers(server, user)


async def send_report_with_words(server, user_id: int, words: str) -> None:
    """/report, every question answered No / None of these, then `words` typed."""
    user = server.user(user_id)
    user.send_text("/report")
    while True:
        question = await server.next_message(user_id, where=lambda m: bool(m.buttons))
        labels = [label for label, _ in question.buttons]
        if "Nothing to add" in labels:
            user.send_text(words)
            break
        press_answer(user, question, "No" if "No" in labels else NONE_OF_THESE)
    await send_answers(server, user)


async def two_infusions(bot, server) -> None:
    """Ann: consented, two infusions (the second with a dose), both baselines answered, a
    report in her words, and one alert."""
    add_active_patients(bot, [ANN])
    with bot.session() as session:
        ann = repo.patient_by_telegram_id(session, ANN)
        ann.display_name, ann.consent_at = "Ann", bot.clock.now() - timedelta(hours=1)
        ann.consent_version = bot.runtime.protocol.version
        session.add(ann)
        session.commit()
    await bot.dispatch()
    await answer_baseline(server, ANN, pain="7")
    server.add_user(ADMIN_ID, "Dana", started=True)
    bot.clock.advance(days=3)
    server.user(ADMIN_ID).send_text("/infusion MRN1001 35mg")
    await server.next_message(ADMIN_ID, contains="MRN1001")
    await bot.dispatch()
    await answer_baseline(server, ANN, pain="4")
    await send_report_with_words(server, ANN, "my knees ache at night")
    server.user(ANN).send_text("I feel odd")  # words outside a check-in: a review alert
    await server.wait_for(lambda: bot.all(Alert))


async def test_a_patient_sees_their_infusions_answers_and_alerts(bot, fake_bot_api):
    server = fake_bot_api
    await two_infusions(bot, server)
    server.user(ANN).send_text("/mydata")
    shown = await server.next_message(ANN, contains="What the clinic holds about you")
    text = shown.text
    assert "Your reference: MRN1001" in text and "Your name here: Ann" in text
    version = bot.runtime.protocol.version
    assert (
        f"Consent: you agreed on Tuesday 24 Nov at 09:00 (consent text version {version})" in text
    )
    assert "Your infusions: 2" in text
    assert "Infusion 1: Tuesday 24 Nov at 10:00\n" in text
    assert "Infusion 2: Friday 27 Nov at 10:00, dose 35mg" in text
    assert "Infusion 1, Before your infusion (Tuesday 24 Nov at 10:00):\n  Pain now: 7/10" in text
    assert "Infusion 2, Before your infusion (Friday 27 Nov at 10:00):\n  Pain now: 4/10" in text
    assert "  Sleep quality: Fair" in text
    assert "  Urine and liver: None of these" in text  # worded as in the summary
    assert "Problem report (Friday 27 Nov at 10:00):" in text
    assert "  Anything else, in words: “my knees ache at night”" in text
    alerts = bot.all(Alert)
    assert "Alerts raised about you" in text and "· review" in text
    for alert in alerts:  # date and severity only: never the rule or what staff read
        assert alert.description not in text
    assert "I feel odd" not in text
    assert len(text) < 4096 and not shown.buttons  # one page: no buttons
    audit = bot.all(AuditEvent, AuditEvent.action == "mydata:viewed own data")
    assert [(a.actor_telegram_id, a.detail) for a in audit] == [(ANN, None)]


async def test_a_skipped_answer_reads_as_in_the_summary(fake_bot_api, tmp_path):
    server = fake_bot_api
    bot = await start_bot(server, tmp_path, protocol_path=required_words_protocol(tmp_path))
    try:
        add_active_patients(bot, [PATIENT_ID], infusion=False)
        patient = server.user(PATIENT_ID)
        words = await report_words_question(server, patient)
        patient.press(words, button_text="Skip this question")
        summary = await server.next_message(PATIENT_ID, contains=SUMMARY)
        assert "• Anything else, in words: (skipped)" in summary.text
        patient.press(summary, button_text=SEND)
        await server.next_message(PATIENT_ID, contains=THANKS)
        patient.send_text("/mydata")
        shown = await server.next_message(PATIENT_ID, contains="What the clinic holds about you")
        assert "  Anything else, in words: (skipped)\n" in shown.text
    finally:
        await bot.stop()


async def test_long_data_is_paged_and_only_its_patient_turns_the_pages(bot, fake_bot_api):
    server = fake_bot_api
    add_active_patients(bot, [ANN, BEN])
    await bot.dispatch()
    await answer_baseline(server, ANN, pain="7")
    for _ in range(3):  # long words fill several pages
        await send_report_with_words(server, ANN, "ache " * 390)
    ann, ben = server.user(ANN), server.user(BEN)
    ann.send_text("/mydata")
    first = await server.next_message(ANN, contains="What the clinic holds about you")
    assert "page 1 of 3" in first.text and len(first.text) <= texts.MESSAGE_LIMIT
    assert [label for label, _ in first.buttons] == ["▶"]
    ann.press(first, button_text="▶")
    await server.wait_for(lambda: "page 2 of 3" in server.message(ANN, first.message_id).text)
    page_two = server.message(ANN, first.message_id)
    assert [label for label, _ in page_two.buttons] == ["◀", "▶"]
    assert "ache ache" in page_two.text and len(page_two.text) <= texts.MESSAGE_LIMIT
    ann.press(first, button_text="▶")
    await server.wait_for(lambda: "page 3 of 3" in server.message(ANN, first.message_id).text)
    last = server.message(ANN, first.message_id)
    assert [label for label, _ in last.buttons] == ["◀"] and "Alerts raised" in last.text

    # Ben forges Ann's page button in his own chat: refused, and nothing of Ann's reaches him.
    ben.send_text("/mydata")
    his = await server.next_message(BEN, contains="Your reference: MRN1002")
    ann_patient_id = bot.all(Patient, Patient.telegram_user_id == ANN)[0].id
    before = server.sent_to(BEN)
    query = ben.press_forged(his, f"m:{ann_patient_id}:1")
    answer = await server.wait_for(
        lambda: next((a for a in server.callback_answers if a.query_id == query), None)
    )
    assert answer.text == locales.say("en", "mydata_foreign_page")
    assert server.sent_to(BEN) == before
    assert "MRN1001" not in server.message(BEN, his.message_id).text

    # A page that no longer exists (the data shrank, or forged data) gets a clear answer.
    query = ann.press_forged(first, f"m:{ann_patient_id}:7")
    stale = await server.wait_for(
        lambda: next((a for a in server.callback_answers if a.query_id == query), None)
    )
    assert stale.text == locales.say("en", "mydata_stale_page")
    assert "page 3 of 3" in server.message(ANN, first.message_id).text


async def test_strangers_and_staff_are_refused(bot, fake_bot_api):
    server = fake_bot_api
    add_active_patients(bot, [ANN], infusion=False)
    stranger = server.add_user(STRANGER, "Eve", started=True)
    stranger.send_text("/mydata")
    refusal = await server.next_message(STRANGER)
    assert refusal.text == locales.say("en", "stranger", user_id=STRANGER)
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    admin.send_text("/mydata")
    assert (await server.next_message(ADMIN_ID)).text == texts.NOT_YOUR_ROLE
    ann_patient_id = bot.all(Patient)[0].id
    query = stranger.press_forged(refusal, f"m:{ann_patient_id}:0")
    answer = await server.wait_for(
        lambda: next((a for a in server.callback_answers if a.query_id == query), None)
    )
    assert answer.text == locales.say("en", "mydata_foreign_page")
    assert server.sent_to(STRANGER) == [locales.say("en", "stranger", user_id=STRANGER)]
    assert not bot.all(AuditEvent, AuditEvent.action == "mydata:viewed own data")
