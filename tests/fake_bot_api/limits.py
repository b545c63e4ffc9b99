"""Flood control: sliding windows over the bot's sends, as Telegram applies them."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from .errors import too_many_requests


@dataclass(frozen=True)
class Window:
    """At most `limit` sends in any `seconds`-long window."""

    limit: int
    seconds: float


@dataclass(frozen=True)
class RateLimits:
    """Telegram's documented limits; the private-chat window tolerates short bursts."""

    private_chat: Window = Window(limit=3, seconds=3.0)
    group_chat: Window = Window(limit=20, seconds=60.0)
    overall: Window = Window(limit=30, seconds=1.0)


class FloodControl:
    """Counts sends and refuses with a 429 the one that would overflow a window."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._sent: defaultdict[object, deque[float]] = defaultdict(deque)

    def admit(self, chat_id: int, is_group: bool) -> None:
        """Count one send to the chat, or raise a 429 naming the seconds until it would fit."""
        per_chat = self._limits.group_chat if is_group else self._limits.private_chat
        windows = [("overall", self._limits.overall), (chat_id, per_chat)]
        now = self._clock()
        wait = max(self._wait(key, window, now) for key, window in windows)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        for key, _ in windows:
            self._sent[key].append(now)

    def _wait(self, key: object, window: Window, now: float) -> float:
        sent = self._sent[key]
        while sent and sent[0] <= now - window.seconds:
            sent.popleft()
        if len(sent) < window.limit:
            return 0.0
        return sent[len(sent) - window.limit] + window.seconds - now
