"""Sending to Telegram deliberately: retries with backoff, and clear outcomes for the caller.

`RetryAfter` is first retried by the rate limiter; what still comes back is waited out here.
Network errors and timeouts are retried a few times (a timeout may mean the message did
arrive, so a retry can duplicate at most that one message). A blocked bot or an unknown chat
raises Undeliverable, which callers record instead of retrying forever.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

log = logging.getLogger(__name__)

ATTEMPTS = 4
BACKOFF_SECONDS = 0.5
UNDELIVERABLE_REASONS = ("chat not found", "user is deactivated", "peer_id_invalid")


class Undeliverable(Exception):
    """The chat cannot receive messages from the bot (blocked, deleted or never started)."""


async def send(
    bot: Bot,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    silent: bool = False,
) -> Message:
    """Send a message, retrying passing failures; raise Undeliverable for a dead chat."""
    return await _with_retries(
        lambda: bot.send_message(chat_id, text, reply_markup=markup, disable_notification=silent),
        chat_id,
    )


async def edit(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace a message's text and buttons; a message that is unchanged or gone is fine."""
    try:
        await _with_retries(
            lambda: bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, reply_markup=markup
            ),
            chat_id,
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            log.info("could not edit message %s in chat %s: %s", message_id, chat_id, exc.message)
    except Undeliverable:
        log.info("could not edit message %s: chat %s unreachable", message_id, chat_id)


async def edit_buttons(
    bot: Bot, chat_id: int, message_id: int, markup: InlineKeyboardMarkup
) -> None:
    """Redraw a message's buttons (ticks of a checklist)."""
    try:
        await _with_retries(
            lambda: bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=markup
            ),
            chat_id,
        )
    except (BadRequest, Undeliverable) as exc:
        log.debug("buttons not redrawn on message %s: %s", message_id, exc)


async def clear_buttons(bot: Bot, chat_id: int, message_id: int) -> None:
    """Take the buttons off an old message, so that it cannot be tapped again."""
    try:
        await _with_retries(
            lambda: bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id),
            chat_id,
        )
    except (BadRequest, Undeliverable) as exc:
        log.debug("buttons not cleared on message %s: %s", message_id, exc)


async def answer_query(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    """Answer a button press; a query too old to answer (pressed while we were down) is fine."""
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as exc:
        log.debug("callback query not answered: %s", exc.message)
    except NetworkError as exc:
        log.info("callback query not answered: %s", type(exc).__name__)


async def _with_retries(call, chat_id: int):
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await call()
        except Forbidden as exc:
            raise Undeliverable(exc.message) from exc
        except BadRequest as exc:
            if any(reason in exc.message.lower() for reason in UNDELIVERABLE_REASONS):
                raise Undeliverable(exc.message) from exc
            raise
        except RetryAfter as exc:
            if attempt == ATTEMPTS:
                raise
            await asyncio.sleep(_seconds(exc.retry_after))
        except NetworkError as exc:  # includes TimedOut
            if attempt == ATTEMPTS:
                raise
            log.info("send to chat %s failed (%s); retry %d", chat_id, type(exc).__name__, attempt)
            await asyncio.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


def _seconds(retry_after) -> float:
    return retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else retry_after
