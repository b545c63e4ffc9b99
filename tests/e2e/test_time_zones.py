"""A patient's time zone (issue 9): /timezone, /enroll tz=, quiet hours on the new clock,
and a follow-up crossing a daylight-saving change, through the real bot and the fake API.

The harness's clinic is in Europe/London and the clock starts on Tue 24 Nov 2026, 10:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot import locales
from storage.models import AuditEvent, CheckIn, Patient, PatientStatus
from tests.e2e.test_walking_skeleton import PATIENT_ID, answer, answer_baseline, enrol_patient
from tests.utils.checkins import send_answers
from tests.utils.clock import FakeClock
from tests.utils.harness import ADMIN_ID, BotUnderTest, start_bot
from tests.utils.patients import add_active_patients

REF = f"MRN{PATIENT_ID}"


def patient_zone(bot: BotUnderTest) -> str:
    [patient] = bot.all(Patient, Patient.clinic_ref == REF)
    return patient.timezone


def due_times(bot: BotUnderTest) -> dict[str, datetime]:
    return {c.step_id: c.due_at for c in bot.all(CheckIn)}


def sends_to_patient(bot: BotUnderTest, contains: str) -> list[dict]:
    return [
        call
        for call in bot.server.calls("sendMessage")
        if call["chat_id"] == PATIENT_ID and contains in call["text"]
    ]


async def with_infusion(bot: BotUnderTest, start: str = "") -> None:
    """An active patient (in the clinic's zone) and an infusion the admin records."""
    admin = bot.server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT_ID], infusion=False)
    admin.send_text(f"/infusion {REF} {start}".strip())
    await bot.server.next_message(ADMIN_ID, contains=f"Infusion recorded for {REF}")


async def test_the_patient_picks_a_place_or_types_one_and_sees_times_on_that_clock(
    bot, fake_bot_api
):
    server = fake_bot_api
    await with_infusion(bot)
    ann = server.user(PATIENT_ID)
    await bot.dispatch()
    await answer_baseline(server, ann)
    thanks = await send_answers(server, ann)
    assert "Your next check-in is on Tuesday 24 Nov at 14:00." in thanks.text  # London

    ann.send_text("/timezone")
    offer = await server.next_message(PATIENT_ID, contains="I use London time for you")
    assert "(Europe/London): it is Tuesday 24 Nov at 10:00 there now" in offer.text
    assert "I keep quiet from 22:00 to 08:00" in offer.text
    labels = [label for label, _ in offer.buttons]
    assert labels[0] == "✓ London · 10:00"
    assert {"Madrid · 11:00", "Athens · 12:00", "Lisbon · 10:00"} <= set(labels)
    ann.press(offer, button_text="Athens · 12:00")
    done = await server.wait_for(
        lambda: (
            "Done:" in server.message(PATIENT_ID, offer.message_id).text
            and server.message(PATIENT_ID, offer.message_id)
        )
    )
    assert "I now use Athens time for you (Europe/Athens)" in done.text
    assert "It is Tuesday 24 Nov at 12:00 there now." in done.text
    assert "Your next check-in is on Tuesday 24 Nov at 16:00." in done.text
    assert not done.buttons
    assert patient_zone(bot) == "Europe/Athens"

    ann.send_text("/timezone sao paulo")
    typed = await server.next_message(PATIENT_ID, contains="Done:")
    assert "Sao Paulo time for you (America/Sao_Paulo)" in typed.text
    assert "It is Tuesday 24 Nov at 07:00 there now." in typed.text
    assert "Your next check-in is on Tuesday 24 Nov at 11:00." in typed.text
    ann.send_text("/next")
    following = await server.next_message(PATIENT_ID, contains="Nothing is waiting")
    assert "Your next check-in is on Tuesday 24 Nov at 11:00." in following.text
    changes = [e.detail for e in bot.all(AuditEvent) if e.action == "timezone"]
    assert [d.split(";")[0] for d in changes] == ["Europe/Athens", "America/Sao_Paulo"]


async def test_a_check_in_due_at_eleven_at_night_in_the_new_zone_waits_for_its_morning(
    bot, fake_bot_api
):
    server = fake_bot_api
    await with_infusion(bot, "21:00")  # today; next-day check-in at 21:00 tomorrow in London
    planned = due_times(bot)
    assert planned["next_day"] == datetime(2026, 11, 25, 21, 0, tzinfo=UTC)
    ann = server.user(PATIENT_ID)
    ann.send_text("/timezone Athens")  # there, 21:00 UTC is 23:00: quiet hours
    told = await server.next_message(PATIENT_ID, contains="Done:")
    assert "Athens time" in told.text
    moved = due_times(bot)
    assert moved["next_day"] == datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 08:00 in Athens
    assert moved["evening"] == planned["evening"]  # 03:00 there too, but it closes first

    bot.clock.set(datetime(2026, 11, 25, 21, 0, tzinfo=UTC))
    await bot.dispatch()
    assert not sends_to_patient(bot, "Next-day check-in")
    bot.clock.set(datetime(2026, 11, 26, 5, 59, tzinfo=UTC))
    await bot.dispatch()
    assert not sends_to_patient(bot, "Next-day check-in")
    bot.clock.set(datetime(2026, 11, 26, 6, 0, tzinfo=UTC))
    await bot.dispatch()
    await server.next_message(PATIENT_ID, contains="Next-day check-in")
    [question] = sends_to_patient(bot, "Next-day check-in")
    assert not question.get("disable_notification")  # morning: it may ring


async def test_a_hold_for_the_old_zones_morning_is_released_on_the_new_clock(bot, fake_bot_api):
    server = fake_bot_api
    await with_infusion(bot, "06:30")  # 3.5 h ago; next-day check-in 06:30 tomorrow
    assert due_times(bot)["next_day"] == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # London
    server.user(PATIENT_ID).send_text("/timezone Europe/Athens")
    await server.next_message(PATIENT_ID, contains="Done:")
    assert due_times(bot)["next_day"] == datetime(2026, 11, 25, 6, 30, tzinfo=UTC)  # 08:30


async def test_a_check_in_the_new_clock_makes_due_is_named_as_coming_now(bot, fake_bot_api):
    server = fake_bot_api
    await with_infusion(bot, "06:30")  # next-day check-in held for London's 08:00
    bot.clock.set(datetime(2026, 11, 25, 7, 0, tzinfo=UTC))  # 07:00 London: still quiet
    await bot.dispatch()
    assert not sends_to_patient(bot, "Next-day check-in")
    server.user(PATIENT_ID).send_text("/timezone Europe/Athens")  # 09:00 there: due at 08:30
    told = await server.next_message(PATIENT_ID, contains="Done:")
    assert "Your next check-in is on Wednesday 25 Nov at 09:00." in told.text  # now, not later

    await bot.dispatch()
    await server.next_message(PATIENT_ID, contains="Next-day check-in")


async def test_bad_place_names_get_a_clear_answer_and_change_nothing(bot, fake_bot_api):
    server = fake_bot_api
    await with_infusion(bot, "21:00")
    planned = due_times(bot)
    ann = server.user(PATIENT_ID)
    ann.send_text("/timezone Atlantis")
    unknown = await server.next_message(PATIENT_ID, contains="I couldn't find a time zone")
    assert "“Atlantis”" in unknown.text and "/timezone Madrid" in unknown.text
    assert "Nothing was changed." in unknown.text
    ann.send_text("/timezone sao")
    several = await server.next_message(PATIENT_ID, contains="fits more than one place")
    assert "/timezone America/Sao_Paulo" in several.text
    assert "/timezone Africa/Sao_Tome" in several.text
    assert (patient_zone(bot), due_times(bot)) == ("Europe/London", planned)
    assert not [e for e in bot.all(AuditEvent) if e.action == "timezone"]


async def test_an_old_place_button_after_discharge_changes_nothing(bot, fake_bot_api):
    server = fake_bot_api
    add_active_patients(bot, [PATIENT_ID], infusion=False)
    ann = server.user(PATIENT_ID)
    ann.send_text("/timezone")
    offer = await server.next_message(PATIENT_ID, contains="I use London time")
    with bot.session() as session:
        session.get(Patient, bot.all(Patient)[0].id).status = PatientStatus.DISCHARGED
        session.commit()
    ann.press(offer, button_text="Madrid · 11:00")
    await server.wait_for(lambda: server.callback_answers)
    assert server.callback_answers[-1].text == locales.say("en", "zone_stale")
    await server.wait_for(lambda: not server.message(PATIENT_ID, offer.message_id).buttons)
    assert patient_zone(bot) == "Europe/London"
    ann.send_text("/timezone Madrid")
    await server.next_message(PATIENT_ID, contains="Your follow-up is not active")
    stranger = server.add_user(5555, "Eve", started=True)
    stranger.send_text("/timezone Madrid")
    await server.next_message(5555, contains="ask your clinic for an invite link")
    assert patient_zone(bot) == "Europe/London"


async def test_enroll_with_tz_sets_the_patients_zone_and_a_bad_one_creates_nothing(
    bot, fake_bot_api
):
    server = fake_bot_api
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    for bad, why in [
        ("tz=Mars/Olympus", "is not one time zone I know"),
        ("tz=sao", "it could be America/Sao_Paulo, Africa/Sao_Tome"),
        ("tz=Europe/Madrid tz=UTC", "tz= is given twice"),
    ]:
        admin.send_text(f"/enroll MRN002 Bo {bad}")
        refused = await server.next_message(ADMIN_ID, contains=why)
        assert "Usage: /enroll <ref> [display name] [tz=Europe/Madrid]" in refused.text
    assert not bot.all(Patient)

    ann, _ = await enrol_patient(server, admin, ref=REF, name="Ann tz=new_york")
    [patient] = bot.all(Patient)
    assert (patient.display_name, patient.timezone) == ("Ann", "America/New_York")
    admin.send_text(f"/infusion {REF}")
    recorded = await server.next_message(ADMIN_ID, contains="Infusion recorded")
    assert "Evening check-in: Tue 24 Nov 14:00" in recorded.text  # the clinic's clock
    await bot.dispatch()
    await answer_baseline(server, ann)
    thanks = await send_answers(server, ann)
    assert "Your next check-in is on Tuesday 24 Nov at 09:00." in thanks.text  # New York


async def test_enroll_answer_names_the_zone(bot, fake_bot_api):
    server = fake_bot_api
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    admin.send_text("/enroll MRN003 tz=Europe/Madrid")
    enrolled = await server.next_message(ADMIN_ID, contains="Enrolled MRN003")
    assert "Their time zone: Europe/Madrid." in enrolled.text
    admin.send_text("/reinvite MRN003 tz=Lisbon")
    await server.next_message(ADMIN_ID, contains="New invite for MRN003")
    assert bot.all(Patient)[0].timezone == "Europe/Lisbon"


# -- across a daylight-saving change ----------------------------------------------------------


async def test_a_follow_up_across_the_spring_change_keeps_eight_oclock_mornings(
    fake_bot_api, tmp_path
):
    """London springs forward at 01:00 UTC on Sun 28 Mar 2027: 01:00-02:00 does not exist."""
    server = fake_bot_api
    clock = FakeClock(datetime(2027, 3, 27, 12, 0, tzinfo=UTC))
    bot = await start_bot(server, tmp_path, clock=clock)
    try:
        admin = server.add_user(ADMIN_ID, "Dana", started=True)
        add_active_patients(bot, [PATIENT_ID], infusion=False)
        admin.send_text(f"/infusion {REF} 2027-03-28 01:30")
        refused = await server.next_message(ADMIN_ID, contains="does not exist in Europe/London")
        assert "the clocks went forward an hour that night" in refused.text
        assert not bot.all(CheckIn)

        admin.send_text(f"/infusion {REF} 2027-03-27 22:30")
        await server.next_message(ADMIN_ID, contains="Infusion recorded")
        planned = due_times(bot)
        # Evening: 02:30 UTC (03:30 BST), at night but its window closes before 08:00.
        assert planned["evening"] == datetime(2027, 3, 28, 2, 30, tzinfo=UTC)
        # Next day: 23:30 BST waits for 08:00 BST, which is 07:00 UTC after the change.
        assert planned["next_day"] == datetime(2027, 3, 29, 7, 0, tzinfo=UTC)

        ann = server.user(PATIENT_ID)
        clock.set(datetime(2027, 3, 27, 20, 30, tzinfo=UTC))  # the baseline, 2 h before
        await bot.dispatch()
        await answer_baseline(server, ann)
        thanks = await send_answers(server, ann)
        assert "Your next check-in is on Sunday 28 Mar at 03:30." in thanks.text

        clock.set(datetime(2027, 3, 28, 2, 30, tzinfo=UTC))
        await bot.dispatch()
        await answer(server, ann, "Evening check-in", "3")
        [evening] = sends_to_patient(bot, "Evening check-in")
        assert evening.get("disable_notification") is True  # in the night, silently
        await answer(server, ann, "Tick all that apply", "None of these")
        thanks = await send_answers(server, ann)
        assert "Your next check-in is on Monday 29 Mar at 08:00." in thanks.text

        clock.set(datetime(2027, 3, 29, 6, 59, tzinfo=UTC))  # 07:59 BST
        await bot.dispatch()
        assert not sends_to_patient(bot, "Next-day check-in")
        clock.set(datetime(2027, 3, 29, 7, 0, tzinfo=UTC))  # 08:00 BST
        await bot.dispatch()
        await server.next_message(PATIENT_ID, contains="Next-day check-in")
    finally:
        await bot.stop()


async def test_an_infusion_typed_in_the_repeated_hour_is_the_first_and_the_coordinator_is_told(
    fake_bot_api, tmp_path
):
    """New York falls back at 06:00 UTC on Sun 7 Nov 2027: 01:00-02:00 happens twice."""
    server = fake_bot_api
    clock = FakeClock(datetime(2027, 11, 7, 9, 0, tzinfo=UTC))
    bot = await start_bot(
        server, tmp_path, env={"CLINIC_TIMEZONE": "America/New_York"}, clock=clock
    )
    try:
        admin = server.add_user(ADMIN_ID, "Dana", started=True)
        add_active_patients(bot, [PATIENT_ID], infusion=False)
        admin.send_text(f"/infusion {REF} 01:30")
        recorded = await server.next_message(ADMIN_ID, contains="Infusion recorded")
        assert "01:30 came twice on Sun 07 Nov in America/New_York" in recorded.text
        assert "I took the first, 01:30 EDT (05:30 UTC)." in recorded.text
        # 4 h on is 09:30 UTC, 04:30 EST (after the change): it waits for 08:00 EST.
        assert due_times(bot)["evening"] == datetime(2027, 11, 7, 13, 0, tzinfo=UTC)
        server.user(PATIENT_ID).send_text("/next")
        following = await server.next_message(PATIENT_ID, contains="Nothing is waiting")
        assert "Your next check-in is on Sunday 7 Nov at 08:00." in following.text
    finally:
        await bot.stop()
