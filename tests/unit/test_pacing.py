"""Telegram's send limits as the sender applies them, on a hand-driven clock."""

from bot.delivery.pacing import Pacer, SendLimits, Window
from bot.delivery.processor import FloodGuard, FloodLimit

PRIVATE, GROUP = 1001, -100500


def sends_in(pacer: Pacer, chat_id: int, seconds: float, step: float = 0.01) -> list[float]:
    """Send to the chat whenever the pacer allows, for `seconds`; returns the send times."""
    sent, now = [], 0.0
    while now < seconds:
        if pacer.wait(chat_id, now) == 0:
            pacer.record(chat_id, now)
            sent.append(now)
        now = round(now + step, 6)
    return sent


def test_a_private_chat_gets_a_short_burst_then_about_one_a_second():
    sent = sends_in(Pacer(SendLimits()), PRIVATE, 10)
    assert sent[:3] == [0.0, 0.01, 0.02]  # one per step of the loop: a burst
    assert 9 <= len(sent) <= 12  # bursts of 3 every 3.2 s: under one a second on average
    assert all(
        sum(1 for t in sent if start <= t < start + 3.0) <= 3 for start in sent
    )  # never more than Telegram's 3 in any 3 s


def test_a_group_gets_at_most_twenty_a_minute():
    sent = sends_in(Pacer(SendLimits()), GROUP, 120, step=0.5)
    assert len(sent) == 40 and sent[20] >= 61.0


def test_the_overall_limit_spans_chats():
    pacer = Pacer(SendLimits(overall=Window(30, 1.05)))
    for chat in range(30):
        assert pacer.wait(chat, 0.0) == 0
        pacer.record(chat, 0.0)
    assert 1.0 <= pacer.wait(99, 0.5) + 0.5 <= 1.06


def test_a_hold_stops_sends_and_edits_to_that_chat_only():
    pacer = Pacer(SendLimits())
    pacer.hold(PRIVATE, 5.0)
    assert pacer.wait(PRIVATE, 1.0) == 4.0
    assert pacer.wait(PRIVATE, 1.0, counts=False) == 4.0
    assert pacer.wait(PRIVATE + 1, 1.0) == 0
    assert pacer.wait(PRIVATE, 5.0) == 0


def test_a_flood_is_noticed_once_and_ends_when_the_sender_slows_down():
    guard = FloodGuard(FloodLimit(updates=3, seconds=10))
    verdicts = [guard.admit(7, t) for t in (0, 1, 2, 3, 4, 5)]
    assert verdicts == [True, True, True, None, False, False]
    assert guard.admit(8, 5) is True  # someone else is not affected
    assert guard.admit(7, 30) is True
