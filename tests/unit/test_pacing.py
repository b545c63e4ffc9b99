"""Telegram's send limits as the sender applies them, on a hand-driven clock."""

import random

from bot.delivery.flood import FloodGuard, FloodLimit
from bot.delivery.pacing import Pacer, SendLimits

PRIVATE, GROUP = 1001, -100500


def run(pacer: Pacer, chats: list[int], seconds: float, latency=lambda: 0.02, step=0.005):
    """Send to the chats round-robin whenever the pacer allows; each send arrives at
    Telegram after a random part of its latency. Returns the arrival times."""
    arrivals, answers, now, turn = [], [], 0.0, 0
    while now < seconds:
        for answer_at, chat in [a for a in answers if a[0] <= now]:
            pacer.sent(chat, answer_at)
            answers.remove((answer_at, chat))
        chat = chats[turn % len(chats)]
        if pacer.wait(chat, now) == 0:
            pacer.sending(chat)
            took = latency()
            arrivals.append((now + took * random.random(), chat))
            answers.append((now + took, chat))
            turn += 1
        now = round(now + step, 6)
    return arrivals


def most_in_any_window(arrivals, seconds: float, chat=None) -> int:
    times = sorted(t for t, c in arrivals if chat is None or c == chat)
    return max(
        (sum(1 for t in times if start <= t < start + seconds) for start in times), default=0
    )


def test_the_overall_limit_holds_at_telegram_however_slow_the_network():
    random.seed(7)
    for latency in (lambda: 0.01, lambda: random.uniform(0.05, 0.4)):
        arrivals = run(Pacer(SendLimits()), list(range(1, 500)), 5, latency)
        assert most_in_any_window(arrivals, 1.0) <= 30
        assert len(arrivals) >= 0.8 * 30 * 5  # and close to the limit when it is fast


def test_a_private_chat_gets_a_short_burst_then_about_one_a_second():
    arrivals = run(Pacer(SendLimits()), [PRIVATE], 10)
    assert most_in_any_window(arrivals, 3.0) <= 3
    assert 8 <= len(arrivals) <= 12


def test_a_group_gets_at_most_twenty_a_minute():
    arrivals = run(Pacer(SendLimits()), [GROUP], 119, step=0.05)
    assert most_in_any_window(arrivals, 60.0) <= 20 and len(arrivals) == 40


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
