"""Telegram's flood limits as sliding windows: overall, per private chat, per group.

Telegram counts a message when it arrives, somewhere between our sending it and its answer
coming back. So a message counts from the moment it is sent (while in flight) and then at
the moment its answer came back: whatever arrived within a window at Telegram is then
certainly within the window here, however long the network took.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """At most `limit` messages in any `seconds`-long span."""

    limit: int
    seconds: float


@dataclass(frozen=True)
class SendLimits:
    """Telegram's published limits, with a little slack for clock differences."""

    overall: Window = Window(30, 1.0)
    private_chat: Window = Window(3, 3.05)  # about one a second, with a short burst
    group_chat: Window = Window(20, 60.5)


NO_LIMITS = SendLimits(Window(10**9, 1.0), Window(10**9, 1.0), Window(10**9, 1.0))
IN_FLIGHT_RECHECK = 0.05  # a window full of messages in flight: look again this soon
OVERALL = "overall"


class Pacer:
    """Decides when the next message to a chat may go, and remembers what went."""

    def __init__(self, limits: SendLimits) -> None:
        self._limits = limits
        self._done: defaultdict[object, deque[float]] = defaultdict(deque)
        self._in_flight: defaultdict[object, int] = defaultdict(int)
        self._held_until: dict[object, float] = {}

    def wait(self, chat_id: int, now: float, counts: bool = True) -> float:
        """Seconds until a message to `chat_id` may go (0: now).

        Edits do not count against the windows (`counts=False`), but do wait out a hold.
        """
        held = max(self._held(chat_id, now), self._held(OVERALL, now))
        if not counts:
            return held
        return max(
            held,
            self._wait(OVERALL, self._limits.overall, now),
            self._wait(chat_id, self._window(chat_id), now),
        )

    def sending(self, chat_id: int) -> None:
        """A message to `chat_id` is on its way."""
        for key in (OVERALL, chat_id):
            self._in_flight[key] += 1

    def sent(self, chat_id: int, now: float) -> None:
        """Its answer came back at `now` (delivered or not, Telegram counted it)."""
        for key in (OVERALL, chat_id):
            self._in_flight[key] -= 1
            if not self._in_flight[key]:
                del self._in_flight[key]
            self._done[key].append(now)

    def hold(self, chat_id: int | None, until: float) -> None:
        """Telegram said "retry after": nothing more to the chat (or at all) until then."""
        key = OVERALL if chat_id is None else chat_id
        self._held_until[key] = max(self._held_until.get(key, 0.0), until)

    def _window(self, chat_id: int) -> Window:
        return self._limits.group_chat if chat_id < 0 else self._limits.private_chat

    def _held(self, key: object, now: float) -> float:
        until = self._held_until.get(key)
        if until is None:
            return 0.0
        if until <= now:
            del self._held_until[key]
            return 0.0
        return until - now

    def _wait(self, key: object, window: Window, now: float) -> float:
        done = self._done.get(key)
        while done and done[0] <= now - window.seconds:
            done.popleft()
        if done is not None and not done:
            del self._done[key]
            done = None
        in_flight = self._in_flight.get(key, 0)
        if len(done or ()) + in_flight < window.limit:
            return 0.0
        if done is None or len(done) + in_flight - window.limit >= len(done):
            return IN_FLIGHT_RECHECK
        # Enough of the finished ones must age out of the window.
        return done[len(done) + in_flight - window.limit] + window.seconds - now
