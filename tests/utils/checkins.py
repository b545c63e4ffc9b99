"""Answering a check-in like a patient: the taps that the buttons of a question call for."""

from __future__ import annotations

from tests.fake_bot_api import BotMessage
from tests.fake_bot_api.people import FakeUser

NONE_OF_THESE = "None of these"  # an answer: tick the exclusive box, then Done
NONE_BOX = "☐ None of these"
DONE = "Done"
SEND = "✅ Send"
SUMMARY = "· your answers"
THANKS = "Thank you, your answers are saved"


def press_answer(patient: FakeUser, question: BotMessage, button: str) -> None:
    """Tap `button` on the question; "None of these" on a checklist is its box, then Done.

    The taps are queued at once: the bot handles one chat's updates in order, and Done's
    button is the same before and after the box is drawn ticked.
    """
    if button == NONE_OF_THESE:
        patient.press(question, button_text=NONE_BOX)
        patient.press(question, button_text=DONE)
        return
    patient.press(question, button_text=button)


async def send_answers(server, patient: FakeUser) -> BotMessage:
    """Wait for the check-in's summary, tap Send, and return the thank-you that follows."""
    summary = await server.next_message(patient.user_id, contains=SUMMARY)
    patient.press(summary, button_text=SEND)
    return await server.next_message(patient.user_id, contains=THANKS)


async def tick_and_done(server, patient: FakeUser, checklist: BotMessage, box: str) -> None:
    """Tick one box of the checklist, wait until its Done counts it, and press Done."""
    done = "Done (1 ticked)"
    patient.press(checklist, button_text=f"☐ {box}")
    await server.wait_for(
        lambda: done in dict(server.message(patient.chat_id, checklist.message_id).buttons)
    )
    patient.press(checklist, button_text=done)
