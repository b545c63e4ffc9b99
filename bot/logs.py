"""Logging that never carries the bot token, and libraries kept quiet unless asked.

Our own log lines name internal ids only. Libraries are another matter: at DEBUG, PTB logs
whole updates (names, answers, free text) and request URLs (which contain the token), so
they stay at LIBRARY_LOG_LEVEL (INFO by default) whatever LOG_LEVEL says, httpx at WARNING,
and the token is cut out of every record that reaches a handler.
"""

from __future__ import annotations

import logging
import sys

REDACTED = "[token]"
OUR_LOGGERS = ("bot", "storage", "__main__")
CHATTY_LIBRARIES = ("telegram", "aiohttp", "asyncio")
# httpx logs request URLs (with the token); SQLAlchemy at INFO logs statements with values;
# Alembic at INFO fills the start-up output with its migration steps.
QUIET_LIBRARIES = ("httpx", "httpcore", "sqlalchemy", "alembic")


class RedactToken(logging.Filter):
    """Replaces the token (and its secret half alone) in a record's final message."""

    def __init__(self, token: str) -> None:
        super().__init__()
        secret = token.partition(":")[2]
        self._secrets = [s for s in (token, secret) if len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without the token; never drops a record."""
        if not self._secrets:
            return True
        message = record.getMessage()
        text = message + (record.exc_text or "")
        if any(secret in text for secret in self._secrets):
            for secret in self._secrets:
                message = message.replace(secret, REDACTED)
            record.msg, record.args = message, None
            if record.exc_text:
                for secret in self._secrets:
                    record.exc_text = record.exc_text.replace(secret, REDACTED)
        return True


def configure_logging(level: str, token: str, library_level: str = "INFO") -> None:
    """Plain lines on stderr, at `level` for the bot and `library_level` for libraries."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(level)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(library_level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
