"""Telegram's flood limits as sliding windows: overall, per private chat, per group."""

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
    """Telegram's published limits, each a little longer than Telegram counts it, so that
    network jitter between our clock and Telegram's never tips a window over."""

    overall: Window = Window(30, 1.05)
    private_chat: Window = Window(3, 3.2)  # about one a second, with a short burst
    group_chat: Window = Window(20, 61.0)


NO_LIMITS = SendLimits(Window(10**9, 1.0), Window(10**9, 1.0), Window(10**9, 1.0))


class Pacer:
    """Decides when the next message to a chat may go, and remembers what went."""

    def __init__(self, limits: SendLimits) -> None:
        self._limits = limits
        self._sent: defaultdict[object, deque[float]] = defaultdict(deque)
        self._held_until: dict[object, float] = {}

    def wait(self, chat_id: int, now: float, counts: bool = True) -> float:
        """Seconds until a message to `chat_id` may go (0: now).

        Edits do not count against the windows (`counts=False`), but do wait out a hold.
        """
        held = max(self._held(chat_id, now), self._held("overall", now))
        if not counts:
            return held
        per_chat = self._limits.group_chat if chat_id < 0 else self._limits.private_chat
        return max(
            held,
            self._wait("overall", self._limits.overall, now),
            self._wait(chat_id, per_chat, now),
        )

    def record(self, chat_id: int, now: float) -> None:
        """Count one message to `chat_id` sent at `now`."""
        self._sent["overall"].append(now)
        self._sent[chat_id].append(now)

    def hold(self, chat_id: int | None, until: float) -> None:
        """Telegram said "retry after": nothing more to the chat (or at all) until then."""
        key = "overall" if chat_id is None else chat_id
        self._held_until[key] = max(self._held_until.get(key, 0.0), until)

    def _held(self, key: object, now: float) -> float:
        until = self._held_until.get(key)
        if until is None:
            return 0.0
        if until <= now:
            del self._held_until[key]
            return 0.0
        return until - now

    def _wait(self, key: object, window: Window, now: float) -> float:
        sent = self._sent[key]
        while sent and sent[0] <= now - window.seconds:
            sent.popleft()
        if not sent and key != "overall":
            del self._sent[key]
            return 0.0
        if len(sent) < window.limit:
            return 0.0
        return sent[len(sent) - window.limit] + window.seconds - now
