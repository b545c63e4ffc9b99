"""Coordinators move or cancel a patient's latest infusion: asked first, done once, audited,
told to the patient. Infusions keep their own numbers per patient."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.models import (
    Alert,
    AuditEvent,
    CheckIn,
    CheckInStatus,
    Infusion,
    Patient,
)
from tests.e2e.test_patient_state import confirm
from tests.e2e.test_stop_and_rejoin import ask_stop, baseline_sent
from tests.utils.harness import ADMIN_ID, COORDINATOR_ID, add_coordinator
from tests.utils.patients import add_active_patients

PATIENT = 1001
REF = f"MRN{PATIENT}"


def at(hour: int, minute: int = 0, day: int = 24) -> datetime:
    """A moment of the fake clock's day (London is on UTC in November)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def due(bot, step: str) -> datetime:
    return bot.all(CheckIn, CheckIn.step_id == step)[-1].due_at


def state(bot) -> list[tuple]:
    """What a refused change must leave as it was."""
    rows = [(i.id, i.started_at, i.cancelled_at) for i in bot.all(Infusion)]
    rows += [(c.id, c.status, c.due_at) for c in bot.all(CheckIn)]
    return rows + [(e.action,) for e in bot.all(AuditEvent) if not e.action.startswith("view")]


async def record(server, command: str) -> str:
    server.user(ADMIN_ID).send_text(command)
    return (await server.next_message(ADMIN_ID, contains="Infusion recorded")).text


async def test_infusion_edit_moves_its_check_ins_and_tells_the_patient(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT], infusion=False)
    assert "(infusion #1)" in await record(server, f"/infusion {REF}")
    await bot.dispatch()
    baseline = await server.next_message(PATIENT, contains="How bad is your pain")
    assert due(bot, "evening") == at(14)

    answer = await confirm(server, f"/infusion_edit {REF} 11:00")
    assert f"{REF}'s infusion #1 now starts Tue 24 Nov 11:00" in answer
    assert "• Evening check-in: Tue 24 Nov 15:00" in answer
    told = await server.next_message(PATIENT, contains="corrected the time of your 1st infusion")
    assert "Your next check-in is on Tuesday 24 Nov at 10:00" in told.text  # the baseline, again
    assert [i.started_at for i in bot.all(Infusion)] == [at(11)]
    assert due(bot, "evening") == at(15) and due(bot, "next_day") == at(11, day=25)
    # The baseline question sent for the old time is withdrawn and asked afresh.
    await server.wait_for(lambda: not server.message(PATIENT, baseline.message_id).buttons)
    await bot.dispatch()
    again = await server.next_message(PATIENT, contains="How bad is your pain")
    assert again.message_id != baseline.message_id
    [moved] = [e for e in bot.all(AuditEvent) if e.action == "infusion_moved"]
    assert moved.detail.startswith("infusion #1:") and moved.actor_telegram_id == ADMIN_ID
    bot.clock.advance(hours=4, minutes=30)  # 14:30: the old evening time has passed
    await bot.dispatch()
    assert not any("Evening check-in" in t for t in server.sent_to(PATIENT))


async def test_an_infusion_whose_check_ins_were_answered_or_missed_does_not_move(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT])
    bot.clock.advance(hours=8, minutes=1)  # the evening check-in is missed
    await bot.dispatch()
    await server.wait_for(lambda: bot.all(Alert))
    before = state(bot)
    server.user(ADMIN_ID).send_text(f"/infusion_edit {REF} 08:00")
    refusal = await server.next_message(ADMIN_ID, contains="cannot be moved")
    assert "/infusion_cancel" in refusal.text and not refusal.buttons
    assert state(bot) == before


async def test_infusion_cancel_confirmed_twice_at_once_cancels_once(bot, fake_bot_api):
    server = fake_bot_api
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT])
    await bot.dispatch()
    baseline = await server.next_message(PATIENT, contains="How bad is your pain")
    admin.send_text(f"/infusion_cancel {REF}")
    question = await server.next_message(ADMIN_ID, contains="Cancel")
    assert "10 check-ins still to come" in question.text
    admin.press(question, button_text="Yes")
    admin.press(question, button_text="Yes")  # before the first is handled
    told = await server.next_message(PATIENT, contains="cancelled the check-ins of your 1st")
    assert "write to the clinic team" in told.text
    await server.wait_for(lambda: len(server.callback_answers) == 2)
    answer = server.message(ADMIN_ID, question.message_id).text
    assert answer == f"{REF}'s infusion #1 is cancelled; 10 check-ins will not be sent."
    assert {c.status for c in bot.all(CheckIn)} == {CheckInStatus.CANCELLED}
    assert [e.action for e in bot.all(AuditEvent)].count("infusion_cancelled") == 1
    assert sum("cancelled the check-ins" in t for t in server.sent_to(PATIENT)) == 1
    await server.wait_for(lambda: not server.message(PATIENT, baseline.message_id).buttons)
    bot.clock.advance(hours=30)
    await bot.dispatch()
    assert not bot.all(Alert)  # cancelled check-ins are never "missed"
    admin.send_text(f"/infusion_cancel {REF}")
    await server.next_message(ADMIN_ID, contains="infusion #1 is cancelled. Nothing was changed")
    admin.send_text(f"/patient {REF}")
    summary = await server.next_message(ADMIN_ID, contains="Infusion #1 of 1")
    assert "· cancelled Tue 24 Nov 10:00" in summary.text


async def test_bad_input_is_answered_and_changes_nothing(bot, fake_bot_api):
    server = fake_bot_api
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT], infusion=False)
    add_active_patients(bot, [PATIENT + 1])
    cases = {
        "/infusion_edit NOPE 11:00": "No patient with reference NOPE",
        f"/infusion_cancel {REF}": f"{REF} has no infusion recorded",
        f"/infusion_edit {REF} 11:00": f"{REF} has no infusion recorded",
        f"/infusion_edit MRN{PATIENT + 1} 25:99": "is not a valid date and time",
        f"/infusion_edit MRN{PATIENT + 1} tomorrow": "is not a start time",
        f"/infusion_edit MRN{PATIENT + 1} 2026-11-24": "a date needs a time too",
        f"/infusion_edit MRN{PATIENT + 1} 2026-11-01 10:00": "more than 3 days ago",
        f"/infusion_edit MRN{PATIENT + 1}": "the new start time is missing",
        f"/infusion_edit MRN{PATIENT + 1} 10:00": "already starts then",
        "/infusion_edit": "Usage: /infusion_edit",
        "/infusion_cancel": "Usage: /infusion_cancel",
    }
    before = state(bot)
    for command, expected in cases.items():
        admin.send_text(command)
        answer = await server.next_message(ADMIN_ID)
        assert expected in answer.text, (command, answer.text)
        assert not answer.buttons
    assert state(bot) == before


async def test_a_stale_confirm_from_another_coordinator_changes_nothing(bot, fake_bot_api):
    server = fake_bot_api
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    coordinator = add_coordinator(bot)
    add_active_patients(bot, [PATIENT])
    admin.send_text(f"/infusion_edit {REF} 11:00")
    stale = await server.next_message(ADMIN_ID, contains="Move")
    coordinator.send_text(f"/infusion_edit {REF} 12:00")
    fresh = await server.next_message(COORDINATOR_ID, contains="Move")
    coordinator.press(fresh, button_text="Yes")
    await server.wait_for(
        lambda: "now starts" in server.message(COORDINATOR_ID, fresh.message_id).text
    )
    before = state(bot)
    answers = len(server.callback_answers)
    admin.press(stale, button_text="Yes")
    await server.wait_for(lambda: len(server.callback_answers) > answers)
    assert "changed since you asked" in server.callback_answers[-1].text
    await server.wait_for(lambda: not server.message(ADMIN_ID, stale.message_id).buttons)
    assert state(bot) == before
    assert [i.started_at for i in bot.all(Infusion)] == [at(12)]


async def test_two_infusions_recorded_at_once_keep_their_own_numbers(bot, fake_bot_api):
    server = fake_bot_api
    admin = server.add_user(ADMIN_ID, "Dana", started=True)
    coordinator = add_coordinator(bot)
    add_active_patients(bot, [PATIENT], infusion=False)
    admin.send_text(f"/infusion {REF} 08:00")
    coordinator.send_text(f"/infusion {REF} 09:50 pain=4")  # at the same time
    await server.next_message(ADMIN_ID, contains="Infusion recorded")
    await server.next_message(COORDINATOR_ID, contains="Infusion recorded")
    infusions = bot.all(Infusion)
    assert sorted(i.number for i in infusions) == [1, 2]
    second = max(infusions, key=lambda i: i.number)
    # The second's check-ins are the ones to come: an answer there names infusion #2.
    bot.clock.advance(hours=4)
    await bot.dispatch()
    evening = await server.next_message(PATIENT, contains="Evening check-in")
    server.user(PATIENT).press(evening, button_text="10")
    alert = await server.next_message(ADMIN_ID, contains="URGENT alert")
    assert f"(infusion #{second.number})" in alert.text
    admin.send_text(f"/patient {REF}")
    summary = await server.next_message(ADMIN_ID, contains="Infusion #1 of 2")
    assert "Infusion #2 of 2" in summary.text
    details = [e.detail for e in bot.all(AuditEvent) if e.action == "record_infusion"]
    assert sorted(details) == ["infusion #1", "infusion #2"]
    assert bot.all(Patient)[0].status == "active"


async def test_a_sent_check_in_whose_new_window_has_closed_is_closed_quietly(bot, fake_bot_api):
    server = fake_bot_api
    server.add_user(ADMIN_ID, "Dana", started=True)
    add_active_patients(bot, [PATIENT])
    await bot.dispatch()
    baseline = await server.next_message(PATIENT, contains="How bad is your pain")
    answer = await confirm(server, f"/infusion_edit {REF} 09:00")
    assert "now starts Tue 24 Nov 09:00" in answer
    await server.next_message(PATIENT, contains="Your next check-in is on Tuesday 24 Nov at 13:00")
    # Pain "before" an infusion that started an hour ago cannot be asked any more.
    [closed] = bot.all(CheckIn, CheckIn.step_id == "baseline")
    assert closed.status == CheckInStatus.CANCELLED
    await server.wait_for(lambda: not server.message(PATIENT, baseline.message_id).buttons)
    bot.clock.advance(hours=1)
    await bot.dispatch()
    assert not bot.all(Alert)


async def stopped_after_the_baseline(bot, server) -> None:
    """The patient was asked the baseline question, then sent /stop."""
    await baseline_sent(bot, server)
    server.user(PATIENT).press(await ask_stop(server), button_text="Yes, stop")
    await server.next_message(PATIENT, contains="Your check-ins have stopped")


async def test_check_ins_of_a_stopped_patient_move_with_the_infusion(bot, fake_bot_api):
    server = fake_bot_api
    await stopped_after_the_baseline(bot, server)
    answer = await confirm(server, f"/infusion_edit {REF} 11:00")
    assert "• Evening check-in: Tue 24 Nov 15:00" in answer
    assert due(bot, "evening") == at(15)
    assert {c.status for c in bot.all(CheckIn)} == {CheckInStatus.STOPPED}  # still stopped

    server.user(PATIENT).send_text("/start")
    welcome = await server.next_message(PATIENT, contains="Welcome back")
    assert "Your next check-in is on Tuesday 24 Nov at 10:00" in welcome.text  # the baseline
    await bot.dispatch()
    await server.next_message(PATIENT, contains="How bad is your pain")  # asked afresh
    bot.clock.advance(hours=4, minutes=30)  # 14:30: the old evening time has passed
    await bot.dispatch()
    assert not any("Evening check-in" in t for t in server.sent_to(PATIENT))
    bot.clock.advance(minutes=31)
    await bot.dispatch()
    await server.next_message(PATIENT, contains="Evening check-in")


async def test_check_ins_of_a_stopped_patient_are_cancelled_with_the_infusion(bot, fake_bot_api):
    server = fake_bot_api
    await stopped_after_the_baseline(bot, server)
    server.user(ADMIN_ID).send_text(f"/infusion_cancel {REF}")
    question = await server.next_message(ADMIN_ID, contains="?")
    assert "Its 10 check-ins still to come are cancelled" in question.text
    server.user(ADMIN_ID).press(question, button_text="Yes")
    await server.wait_for(lambda: {c.status for c in bot.all(CheckIn)} == {CheckInStatus.CANCELLED})

    server.user(PATIENT).send_text("/start")
    await server.next_message(PATIENT, contains="Welcome back")
    notice = await server.next_message(ADMIN_ID, contains=f"{REF} came back with /start")
    assert "(0 whose window is still open resume)" in notice.text
    assert {c.status for c in bot.all(CheckIn)} == {CheckInStatus.CANCELLED}


async def test_a_new_infusion_takes_the_buttons_off_the_previous_ones_question(bot, fake_bot_api):
    server = fake_bot_api
    baseline = await baseline_sent(bot, server)
    bot.clock.advance(minutes=11)
    assert "(infusion #2)" in await record(server, f"/infusion {REF}")
    await server.wait_for(lambda: not server.message(PATIENT, baseline.message_id).buttons)
    first = bot.all(Infusion)[0]
    assert {c.status for c in bot.all(CheckIn, CheckIn.infusion_id == first.id)} == {
        CheckInStatus.CANCELLED
    }
