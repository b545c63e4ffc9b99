"""The transactional outbox as stored: what is written to go out, and when it may."""

from __future__ import annotations

from storage.models import OutboxMessage, OutboxStatus
from tests.utils.harness import BotUnderTest


def pending_to(bot: BotUnderTest, chat_id: int) -> list[OutboxMessage]:
    """The messages written for the chat and not yet sent, oldest first."""
    return bot.all(
        OutboxMessage,
        OutboxMessage.chat_id == chat_id,
        OutboxMessage.status == OutboxStatus.PENDING,
    )
