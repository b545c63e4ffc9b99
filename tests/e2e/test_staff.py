"""The staff side: first contact, staff invites and removal, acknowledging by number."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from storage import repository as repo
from storage.models import Alert, AuditEvent, StaffMember
from tests.utils.checkins import press_answer
from tests.utils.clock import FakeClock
from tests.utils.harness import ADMIN_ID, start_bot
from tests.utils.invites import invite_token
from tests.utils.outbox import pending_to
from tests.utils.patients import add_active_patients

NEW_STAFF, PATIENT, GROUP = 3003, 1001, -100500


async def test_a_stranger_is_told_their_id_for_the_operator(bot, fake_bot_api):
    stranger = fake_bot_api.add_user(4242, "Eve")
    stranger.send_text("/start")
    answer = await fake_bot_api.next_message(4242, contains="ask your clinic for an invite link")
    assert "give them this id to be added as staff: 4242" in answer.text


async def test_an_admin_invites_staff_who_then_work_and_can_be_removed(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    token = await invite_token(server, "/invite_staff coordinator", "new coordinator")
    cleo = server.add_user(NEW_STAFF, "Cleo")
    cleo.send_text(f"/start {token}")
    welcome = await server.next_message(NEW_STAFF, contains="you are now clinic staff")
    assert "as coordinator" in welcome.text and "/enroll" in welcome.text
    await server.next_message(ADMIN_ID, contains="Cleo joined as coordinator")
    scope = {"type": "chat", "chat_id": NEW_STAFF}
    await server.wait_for(lambda: server.commands(scope))
    assert "enroll" in [c["command"] for c in server.commands(scope)]
    cleo.send_text("/enroll MRN9 Ann")
    await server.next_message(NEW_STAFF, contains="t.me/")

    # The link was single-use; a coordinator may not invite or list staff.
    other = server.add_user(3004, "Mal")
    other.send_text(f"/start {token}")
    await server.next_message(3004, contains="already been used")
    cleo.send_text("/invite_staff admin")
    await server.next_message(NEW_STAFF, contains="Your role does not include that command")
    assert [m.telegram_user_id for m in bot.all(StaffMember)] == [NEW_STAFF]

    server.user(ADMIN_ID).send_text("/staff")
    listing = await server.next_message(ADMIN_ID, contains="Clinic staff (2)")
    assert f"{ADMIN_ID} · admin (ADMIN_TELEGRAM_IDS)" in listing.text
    assert f"Cleo · {NEW_STAFF} · coordinator" in listing.text

    server.user(ADMIN_ID).send_text("/remove_staff @cleo")
    question = await server.next_message(ADMIN_ID, contains="Remove Cleo")
    server.user(ADMIN_ID).press(question, button_text="Keep")
    await server.wait_for(
        lambda: "Nothing was changed" in server.message(ADMIN_ID, question.message_id).text
    )
    server.user(ADMIN_ID).send_text(f"/remove_staff {NEW_STAFF}")
    question = await server.next_message(ADMIN_ID, contains="Remove Cleo")
    server.user(ADMIN_ID).press(question, button_text="Remove")
    await server.next_message(NEW_STAFF, contains="no longer clinic staff")
    await server.wait_for(lambda: not server.commands(scope))  # back to the patients' menu
    cleo.send_text("/enroll MRN10")
    await server.next_message(NEW_STAFF, contains="ask your clinic for an invite link")
    assert not bot.all(StaffMember)[0].active
    actions = [e.action for e in bot.all(AuditEvent)]
    for action in ("invite_staff", "staff_joined", "remove_staff", "refused:enroll"):
        assert action in actions, action


async def test_admins_from_the_environment_and_oneself_cannot_be_removed(bot, fake_bot_api):
    admin = fake_bot_api.add_user(ADMIN_ID, "Dana", started=True)
    admin.send_text(f"/remove_staff {ADMIN_ID}")
    await fake_bot_api.next_message(ADMIN_ID, contains="ADMIN_TELEGRAM_IDS")
    admin.send_text("/remove_staff @nobody")
    await fake_bot_api.next_message(ADMIN_ID, contains="No staff member '@nobody'")
    admin.send_text("/invite_staff janitor")
    await fake_bot_api.next_message(ADMIN_ID, contains="Usage: /invite_staff")


async def test_a_patient_cannot_become_staff(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT], infusion=False)
    token = await invite_token(server, "/invite_staff clinician", "new clinician")
    server.user(PATIENT).send_text(f"/start {token}")
    await server.next_message(PATIENT, contains="cannot also be clinic staff")
    assert bot.all(StaffMember) == []


async def test_alerts_are_numbered_and_ack_takes_the_number_in_the_group(fake_bot_api, tmp_path):
    server = fake_bot_api
    group = server.add_group(GROUP, "Staff")
    bot = await start_bot(server, tmp_path, env={"STAFF_ALERT_CHAT_ID": str(GROUP)})
    try:
        admin = server.add_user(ADMIN_ID, "Dana", started=True)
        add_active_patients(bot, [PATIENT], infusion=False)
        server.user(PATIENT).send_text("my back hurts")
        [alert] = await server.wait_for(lambda: bot.all(Alert))
        message = await server.next_message(GROUP, contains=f"Review alert #{alert.id}")
        stranger = server.add_user(4242, "Eve")
        group.send_text(stranger, f"/ack {alert.id}")
        group.send_text(admin, "/ack 999")
        await server.next_message(GROUP, contains="There is no alert #999")
        group.send_text(admin, "/ack 99999999999")  # no alert can have it (nor can the database)
        await server.next_message(GROUP, contains="/ack <alert number>")
        assert bot.all(Alert)[0].acknowledged_at is None  # the stranger changed nothing
        group.send_text(admin, f"/ack #{alert.id}")
        await server.next_message(GROUP, contains="Acknowledged. Thank you.")
        await server.wait_for(
            lambda: "Acknowledged by Dana" in server.message(GROUP, message.message_id).text
        )
        admin.send_text(f"/ack {alert.id}")
        again = await server.next_message(ADMIN_ID, contains="Already acknowledged by Dana")
        assert "at " in again.text
    finally:
        await bot.stop()


async def test_one_answer_setting_off_several_rules_is_one_staff_message(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT], infusion=False)
    server.user(PATIENT).send_text("/report")
    checklist = await server.next_message(PATIENT, contains="Tick all that apply")
    server.user(PATIENT).press(checklist, button_text="☐ Seeing/hearing things")
    await server.wait_for(
        lambda: "Done (1 ticked)" in dict(server.message(PATIENT, checklist.message_id).buttons)
    )
    server.user(PATIENT).press(checklist, button_text="Done (1 ticked)")
    severity = await server.next_message(PATIENT, contains="How severe is it")
    server.user(PATIENT).press(severity, button_text="Severe")
    # The Done raised a review (hallucinations, in a report); the severity raised two more
    # (urgent: severe; review: a severe side effect), in one message headed by the urgent one.
    message = await server.next_message(ADMIN_ID, contains="URGENT alert")
    alerts = await server.wait_for(lambda: len(bot.all(Alert)) == 3 and bot.all(Alert))
    assert message.text.count("Also #") == 1 and f"Also #{alerts[2].id} (review)" in message.text
    assert sum("alert #" in t for t in server.sent_to(ADMIN_ID)) == 2
    server.user(ADMIN_ID).send_text(f"/ack {alerts[2].id}")
    await server.next_message(ADMIN_ID, contains="Acknowledged. Thank you.")
    await server.wait_for(lambda: [bool(a.acknowledged_at) for a in bot.all(Alert)] == [0, 1, 1])


async def test_an_unacknowledged_emergency_escalates_after_its_time_across_a_restart(
    fake_bot_api, tmp_path
):
    server = fake_bot_api
    bot = await start_bot(server, tmp_path)
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT], infusion=False)
    server.user(PATIENT).send_text("I have chest pain")
    first = await server.next_message(ADMIN_ID, contains="EMERGENCY alert")
    [alert] = bot.all(Alert)
    assert alert.escalate_at == alert.created_at + timedelta(minutes=5)  # the protocol's time
    clock = bot.clock
    await bot.stop()
    clock.advance(minutes=4)
    bot = await start_bot(server, tmp_path, clock=clock)
    try:
        await bot.dispatch()
        assert not any("escalated" in t for t in server.sent_to(ADMIN_ID))
        assert bot.all(Alert)[0].escalated_at is None  # what dispatch writes, unlike the sends
        clock.advance(minutes=1, seconds=1)
        await bot.dispatch()
        again = await server.next_message(ADMIN_ID, contains="Not acknowledged within 5 min")
        assert f"EMERGENCY alert #{alert.id}" in again.text and again.message_id != first.message_id
        assert bot.all(Alert)[0].escalated_at is not None
    finally:
        await bot.stop()


async def test_out_of_hours_the_on_call_clinician_is_alerted_and_reviews_wait(
    fake_bot_api, tmp_path
):
    server = fake_bot_api
    clock = FakeClock(datetime(2026, 11, 24, 19, 0, tzinfo=UTC))  # Tuesday 19:00 in London
    bot = await start_bot(server, tmp_path, clock=clock)
    try:
        admin = server.add_user(ADMIN_ID, "Dana", started=True)
        with bot.session() as session:
            repo.add_staff_member(
                session, user_id=NEW_STAFF, role="clinician", name="Cid", now=clock.now()
            )
            session.commit()
        cid = server.add_user(NEW_STAFF, "Cid", started=True)
        cid.send_text("/oncall me")
        await server.next_message(NEW_STAFF, contains="On call out of hours: Cid")
        admin.send_text("/staff")
        await server.next_message(ADMIN_ID, contains="On call out of hours: Cid")
        add_active_patients(bot, [PATIENT, PATIENT + 1], infusion=False)

        server.user(PATIENT).send_text("I can't breathe")  # an emergency: on call gets it too
        await server.next_message(NEW_STAFF, contains="EMERGENCY alert")
        await server.next_message(ADMIN_ID, contains="EMERGENCY alert")
        await report_feeling_urgent(server, PATIENT)
        closed = await server.next_message(PATIENT, contains="The clinic is closed now")
        assert "when it opens, Wednesday 25 Nov at 08:00." in closed.text
        await server.next_message(NEW_STAFF, contains="URGENT alert")

        server.user(PATIENT + 1).send_text("my knees ache")
        server.user(PATIENT).send_text("slept badly")
        await server.wait_for(lambda: len(bot.all(Alert)) == 4)
        opening = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        held = [m for m in pending_to(bot, ADMIN_ID) if m.alert_id]
        assert held and {m.next_attempt_at for m in held} == {opening}
        assert not any("Review alert" in t for t in server.sent_to(ADMIN_ID))
        clock.set(datetime(2026, 11, 25, 8, 0, 1, tzinfo=UTC))
        bot.running.sender.wake()
        digest = await server.next_message(ADMIN_ID, contains="from outside office hours (2)")
        assert "“my knees ache”" in digest.text and "“slept badly”" in digest.text
        # Without a staff group every staff member gets alerts: Cid too, one digest as well.
        cids = await server.next_message(NEW_STAFF, contains="from outside office hours (2)")
        admin.press(digest, button_text="Acknowledge")
        # The acknowledgement shows on every staff member's copy, Cid's too.
        await server.wait_for(
            lambda: "Acknowledged by Dana" in server.message(NEW_STAFF, cids.message_id).text
        )
        reviews = [a for a in bot.all(Alert) if a.severity == "review"]
        await server.wait_for(
            lambda: all(
                a.acknowledged_at for a in bot.all(Alert) if a.id in {r.id for r in reviews}
            )
        )
    finally:
        await bot.stop()


async def test_a_snoozed_rule_is_recorded_but_not_sent_and_emergencies_never_snooze(
    fake_bot_api, tmp_path
):
    server = fake_bot_api
    bot = await start_bot(server, tmp_path)
    try:
        admin = server.add_user(ADMIN_ID, "Dana", started=True)
        add_active_patients(bot, [PATIENT], infusion=False)
        admin.send_text(f"/snooze MRN{PATIENT} words_chest_pain 1d")
        await server.next_message(ADMIN_ID, contains="Emergency rules cannot be snoozed")
        admin.send_text(f"/snooze MRN{PATIENT} patient_words 2h")
        done = await server.next_message(ADMIN_ID, contains="will not alert for MRN1001 until")
        assert "Tue 24 Nov 12:00" in done.text
        server.user(PATIENT).send_text("just saying hello")
        await server.next_message(PATIENT, contains="has gone to the clinic team")
        [alert] = await server.wait_for(lambda: bot.all(Alert))
        assert alert.acknowledged_name == "snoozed" and alert.acknowledged_by == ADMIN_ID
        admin.send_text(f"/patient MRN{PATIENT}")
        summary = await server.next_message(ADMIN_ID, contains="Snoozed: patient_words until")
        assert "acknowledged" in summary.text
        assert not any("Review alert #" in t for t in server.sent_to(ADMIN_ID))
        bot.clock.advance(hours=2, seconds=1)
        server.user(PATIENT).send_text("hello again")
        await server.next_message(ADMIN_ID, contains="Review alert #")
        for bad in (
            "MRN1001 no_such_rule 1d",
            "MRN1001 patient_words 90d",
            "NOPE patient_words 1d",
        ):
            admin.send_text(f"/snooze {bad}")
            answer = await server.next_message(ADMIN_ID)
            assert "will not alert" not in answer.text
        assert [e.action for e in bot.all(AuditEvent)].count("snooze") == 1
    finally:
        await bot.stop()


async def test_out_of_hours_a_patient_reads_the_opening_time_on_their_own_clock(
    fake_bot_api, tmp_path
):
    server = fake_bot_api
    clock = FakeClock(datetime(2026, 11, 24, 19, 0, tzinfo=UTC))  # Tuesday 19:00 in London
    bot = await start_bot(server, tmp_path, clock=clock)
    try:
        server.add_user(ADMIN_ID, "Dana", started=True)
        add_active_patients(bot, [PATIENT], infusion=False)
        with bot.session() as session:
            repo.patient_by_ref(session, f"MRN{PATIENT}").timezone = "America/New_York"
            session.commit()
        await report_feeling_urgent(server, PATIENT)
        closed = await server.next_message(PATIENT, contains="The clinic is closed now")
        # The clinic opens at 08:00 in London: 03:00 in New York.
        assert "when it opens, Wednesday 25 Nov at 03:00." in closed.text
    finally:
        await bot.stop()


@contextmanager
def statements_run(bot) -> Iterator[list[str]]:
    """The SQL the bot runs meanwhile, lower-cased, to tell which tables it reads."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement.lower())

    engine = bot.runtime.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reads_of(statements: list[str], table: str) -> list[str]:
    return [s for s in statements if f"from {table}" in s]


async def test_an_answer_that_sets_nothing_off_reads_no_snoozes_and_no_staff(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT])
    await bot.dispatch()
    question = await server.next_message(PATIENT, contains="How bad is your pain")
    with statements_run(bot) as statements:
        press_answer(server.user(PATIENT), question, "2")
        await server.next_message(PATIENT, contains="Average pain")
    assert not bot.all(Alert)
    assert reads_of(statements, "snooze") == []
    assert reads_of(statements, "staffmember") == []


async def test_one_alert_looks_up_the_staff_chats_once(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT], infusion=False)
    with statements_run(bot) as statements:
        server.user(PATIENT).send_text("I have chest pain")
        await server.next_message(ADMIN_ID, contains="EMERGENCY alert")
    staff_lists = [s for s in reads_of(statements, "staffmember") if ".active" in s]
    assert len(staff_lists) == 1


async def test_escalation_with_nothing_due_reads_no_staff(bot, fake_bot_api):
    with statements_run(bot) as statements:
        await bot.dispatch()
    assert reads_of(statements, "staffmember") == []


async def report_feeling_urgent(server, patient_id: int) -> None:
    """The patient files a /report that names no symptom but feels urgent to them."""
    server.user(patient_id).send_text("/report")
    for contains, button in [
        ("Tick all that apply", "None of these"),
        ("Yellow skin/eyes", "None of these"),
        ("wished you were dead", "No"),
        ("thoughts of killing yourself", "No"),
        ("prepared to do anything", "No"),
        ("Does this feel urgent", "Yes"),
    ]:
        question = await server.next_message(patient_id, contains=contains)
        press_answer(server.user(patient_id), question, button)
