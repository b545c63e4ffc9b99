"""Flood control: someone sending far more messages than a person types is held back.

Their messages are still stored (the inbox keeps them, marked "throttled") and counted,
but not answered; the first one held back gets one "slow down". Button presses are never
held back: each costs a quick answer only, and a patient ticking a long checklist is fast.
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from dataclasses import dataclass

log = logging.getLogger(__name__)

IDLE_SECONDS = 60.0


@dataclass(frozen=True)
class FloodLimit:
    """More than `updates` from one person within `seconds` is a flood."""

    updates: int = 20
    seconds: float = 10.0


class FloodGuard:
    """Counts each person's updates in a sliding window."""

    def __init__(self, limit: FloodLimit) -> None:
        self._limit = limit
        self._seen: defaultdict[int, deque[float]] = defaultdict(deque)
        self._flooding: dict[int, int] = {}  # person -> updates held back in this flood
        self._swept = 0.0

    def admit(self, user_id: int, now: float) -> bool | None:
        """True: handle it. False: hold it back. None: hold it back, first of a flood."""
        if now - self._swept > IDLE_SECONDS:
            self._forget_idle(now)
        seen = self._seen[user_id]
        while seen and seen[0] <= now - self._limit.seconds:
            seen.popleft()
        seen.append(now)
        if len(seen) <= self._limit.updates:
            held = self._flooding.pop(user_id, None)
            if held:
                log.info("a flood ended: %d updates stored, not answered", held)
            return True
        first = user_id not in self._flooding
        self._flooding[user_id] = self._flooding.get(user_id, 0) + 1
        return None if first else False

    def _forget_idle(self, now: float) -> None:
        """Drop the windows of people who went quiet (keeps memory flat)."""
        self._swept = now
        for user_id in [u for u, seen in self._seen.items() if seen[-1] <= now - IDLE_SECONDS]:
            del self._seen[user_id]
