"""What staff see when they ask: /alerts, /patients, /patient and /audit, in private only."""

from __future__ import annotations

from storage.models import Alert
from tests.utils.checkins import press_answer, send_answers
from tests.utils.harness import ADMIN_ID, COORDINATOR_ID, start_bot
from tests.utils.patients import add_active_patients

FIRST = 2001
GROUP = -100500


async def seeded_clinic(bot, server, count: int = 25) -> list[int]:
    """`count` patients with an infusion; the first answers its baseline and evening."""
    server.add_user(ADMIN_ID, "Dana", started=True)
    ids = list(range(FIRST, FIRST + count))
    add_active_patients(bot, ids)
    await bot.dispatch()
    first = server.user(FIRST)
    for contains, button in [
        ("How bad is your pain right now", "6"),
        ("Average pain over the last 24 hours", "6"),
        ("sleep quality", "Fair"),
        ("Mood today", "5"),
        ("Yellow skin/eyes", "None of these"),
    ]:
        question = await server.next_message(FIRST, contains=contains)
        press_answer(first, question, button)
    await send_answers(server, first)
    bot.clock.advance(hours=4)
    await bot.dispatch()
    evening = await server.next_message(FIRST, contains="Evening check-in")
    first.press(evening, button_text="9")  # urgent: pain 9-10, and 3 above baseline
    await server.next_message(FIRST, contains="Tick all that apply")
    server.user(FIRST + 1).send_text("my knees ache")
    await server.wait_for(lambda: len(bot.all(Alert)) == 3)
    bot.clock.advance(hours=5)  # the others' baselines and evenings close unanswered
    await bot.dispatch()
    return ids


async def test_alerts_patients_and_patient_views(bot, fake_bot_api):
    server = fake_bot_api
    await seeded_clinic(bot, server)
    admin = server.user(ADMIN_ID)

    admin.send_text("/alerts")
    listing = await server.next_message(ADMIN_ID, contains="Open alerts:")
    assert "oldest first" in listing.text and "page 1 of" in listing.text
    lines = [line for line in listing.text.splitlines() if line.startswith("#")]
    assert len(lines) == 10 and "MRN2001" in lines[0] and "Pain 9-10" in lines[0]
    first_number = lines[0].split()[0].removeprefix("#")
    admin.press(listing, button_text=f"✅ #{first_number}")
    await server.wait_for(lambda: bot.all(Alert, Alert.id == int(first_number))[0].acknowledged_at)
    admin.press(listing, button_text="Next ›")
    await server.wait_for(lambda: "page 2 of" in server.message(ADMIN_ID, listing.message_id).text)

    admin.send_text("/patients")
    patients = await server.next_message(ADMIN_ID, contains="Patients: 25")
    assert "page 1 of 2" in patients.text
    # Acknowledging its message acknowledged both alerts the evening answer raised.
    assert "MRN2001 · active · last answer 5 h ago · 2/2 answered\n" in patients.text
    admin.press(patients, button_text="Next ›")
    await server.wait_for(lambda: "MRN2025" in server.message(ADMIN_ID, patients.message_id).text)
    admin.send_text("/patients alerts")
    with_alerts = await server.next_message(ADMIN_ID, contains="Patients with open alerts: 2")
    assert "MRN2002" in with_alerts.text
    admin.send_text("/patients silent")
    silent = await server.next_message(ADMIN_ID, contains="Silent patients: 24")
    assert "MRN2001" not in silent.text

    admin.send_text("/patient MRN2001")
    summary = await server.next_message(ADMIN_ID, contains="MRN2001 · active")
    assert "Pain against baseline: 6 ▇ 9" in summary.text
    assert "Before your infusion ✓" in summary.text
    assert "Evening check-in ◐" in summary.text
    assert "Next-day check-in (pending" in summary.text
    assert "Pain 9-10 after the infusion · 5 h ago · acknowledged" in summary.text
    admin.send_text("/patient NOPE")
    await server.next_message(ADMIN_ID, contains="No patient with reference NOPE")
    admin.send_text("/patients everyone")
    await server.next_message(ADMIN_ID, contains="Usage: /patients [silent|alerts]")


async def test_views_are_private_and_audit_is_for_admins(fake_bot_api, tmp_path):
    server = fake_bot_api
    group = server.add_group(GROUP, "Staff")
    bot = await start_bot(
        server,
        tmp_path,
        env={"STAFF_ALERT_CHAT_ID": str(GROUP), "ADMIN_TELEGRAM_IDS": f"{ADMIN_ID}"},
    )
    try:
        admin = server.add_user(ADMIN_ID, "Dana", started=True)
        add_active_patients(bot, [FIRST], infusion=False)
        group.send_text(admin, "/alerts")
        await server.next_message(GROUP, contains="private chat")
        admin.send_text("/audit")
        trail = await server.next_message(ADMIN_ID, contains="Audit")
        assert "newest first" in trail.text or "nothing recorded" in trail.text
        admin.send_text("/enroll MRN7 Zoe")
        await server.next_message(ADMIN_ID, contains="t.me/")
        admin.send_text("/audit MRN7")
        mrn7 = await server.next_message(ADMIN_ID, contains="Audit of MRN7")
        assert f"by {ADMIN_ID} · enroll · MRN7" in mrn7.text
        admin.send_text("/patient MRN7")
        await server.next_message(ADMIN_ID, contains="MRN7 (Zoe) · invited")
        admin.send_text("/audit MRN7")
        again = await server.next_message(ADMIN_ID, contains="Audit of MRN7")
        assert f"by {ADMIN_ID} · view:patient · MRN7" in again.text
        stranger = server.add_user(4242, "Eve")
        stranger.send_text("/audit")
        await server.next_message(4242, contains="ask your clinic")
    finally:
        await bot.stop()


async def test_a_coordinator_may_not_read_the_audit(fake_bot_api, tmp_path):
    server = fake_bot_api
    bot = await start_bot(server, tmp_path)
    try:
        with bot.session() as session:
            from storage import repository as repo

            repo.add_staff_member(
                session,
                user_id=COORDINATOR_ID,
                role="coordinator",
                name="Cleo",
                now=bot.clock.now(),
            )
            session.commit()
        cleo = server.add_user(COORDINATOR_ID, "Cleo", started=True)
        cleo.send_text("/audit")
        await server.next_message(COORDINATOR_ID, contains="Your role does not include")
        cleo.send_text("/patients")
        await server.next_message(COORDINATOR_ID, contains="Patients: 0")
    finally:
        await bot.stop()
