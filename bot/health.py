"""`python -m bot health`, the container's health check: is the database reachable, and has
the bot polled Telegram successfully of late (the inbox writes the time down)?"""

from __future__ import annotations

from datetime import datetime, timedelta

from storage import repository as repo
from storage.db import DatabaseUnusable, existing_database, session_scope

# The inbox notes a poll at most every 15 s and a long poll lasts up to 25 s.
HEALTHY_POLL_AGE = timedelta(seconds=120)


class Unhealthy(Exception):
    """The bot is not doing its work; the message says why, in one line."""


def check_health(database_url: str, now: datetime, max_age: timedelta = HEALTHY_POLL_AGE) -> str:
    """One line saying the bot is healthy; raises Unhealthy saying why not."""
    try:
        with existing_database(database_url) as engine, session_scope(engine) as session:
            polled_at = repo.last_poll(session)
    except DatabaseUnusable as exc:
        raise Unhealthy(f"database: {exc}") from None
    if polled_at is None:
        raise Unhealthy("the bot has not fetched updates from Telegram yet")
    age = (now - polled_at).total_seconds()
    if age > max_age.total_seconds():
        raise Unhealthy(
            f"no successful poll of Telegram for {age:.0f} s "
            f"(more than {max_age.total_seconds():.0f} s)"
        )
    return f"healthy: last successful poll of Telegram {age:.0f} s ago"
